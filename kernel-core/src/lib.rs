//! Sans-IO microkernel core of the RustyOnions services plane.
//!
//! The frozen public API is exactly the root re-exports below: [`Bus`], [`KernelEvent`],
//! [`Metrics`], [`HealthState`], [`Config`] and [`wait_for_ctrl_c`]. Everything else lives
//! in the public modules. See `docs/kernel.md` for the lag semantics, the supervisor
//! policy, configuration keys and the metrics list.
//!
//! The bus core ([`bus::core`]) and the [`supervisor`] never read a clock, spawn or
//! sleep: time is passed in as [`std::time::Instant`] values, so they are deterministic
//! and can be driven by tests, simulations and fuzzers.

pub mod bus;
pub mod config;
pub mod event;
pub mod health;
pub mod metrics;
pub mod signal;
pub mod sub;
pub mod supervisor;

pub use bus::Bus;
pub use config::Config;
pub use event::KernelEvent;
pub use health::HealthState;
pub use metrics::Metrics;
pub use signal::wait_for_ctrl_c;
