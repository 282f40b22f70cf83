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
//!
//! The `runtime` feature (on by default) adds the two pieces that do touch a clock or a
//! signal, [`wait_for_ctrl_c`] and [`sub::recv_with_timeout`]; without it the crate
//! depends on neither `ctrlc` nor `async-io`.
//!
//! A health event on the bus, read by a subscriber and applied to the
//! health table:
//!
//! ```
//! use kernel_core::{Bus, HealthState, KernelEvent};
//!
//! let bus = Bus::new(16);
//! let mut rx = bus.subscribe();
//! bus.publish(KernelEvent::Health { service: "storage".into(), ok: true });
//! let event = rx.try_recv()?;
//! let health = HealthState::new();
//! health.apply(&event);
//! assert_eq!(health.get("storage"), Some(true));
//! # Ok::<(), kernel_core::bus::TryRecvError>(())
//! ```

pub mod bus;
pub mod config;
pub mod event;
pub mod health;
pub mod metrics;
#[cfg(feature = "runtime")]
pub mod signal;
#[cfg(feature = "runtime")]
pub mod sub;
pub mod supervisor;

pub use bus::Bus;
pub use config::Config;
pub use event::KernelEvent;
pub use health::HealthState;
pub use metrics::Metrics;
#[cfg(feature = "runtime")]
pub use signal::wait_for_ctrl_c;
