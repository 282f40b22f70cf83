//! Deterministic simulation of an OAP/1 client and server.
//!
//! Two real [`oap_core::connection::Connection`]s talk through simulated
//! links under a virtual clock that jumps from deadline to deadline. A
//! seeded [`FaultPlan`] splits, coalesces and delays the byte stream and —
//! to play a broken or malicious peer — drops, duplicates, reorders,
//! truncates or corrupts whole frames. After every step the simulation
//! checks the protocol's invariants; a failure names its seed so it can be
//! replayed with [`Simulation::run`].
//!
//! The model is quinn-proto's `Pair`: no threads, no sockets, no real time,
//! so every run is reproducible from `(seed, scenario)`.
//!
//! One seeded run over a network that splits, coalesces and delays bytes,
//! with the tightest limits:
//!
//! ```
//! use oap_sim::{PutResult, scenarios};
//!
//! let report = scenarios::small_limits(7).run().expect("no invariant broke");
//! assert!(!report.client.results.is_empty());
//! assert!(report.client.results.values().all(|r| *r == PutResult::Stored));
//! ```

mod apps;
mod checker;
mod clock;
mod faults;
mod link;
pub mod scenarios;
mod simulation;
pub mod wire;

pub use apps::{ClientApp, PutResult, ServerApp};
pub use checker::InvariantViolation;
pub use clock::Clock;
pub use faults::FaultPlan;
pub use simulation::{Report, Scenario, Simulation};
