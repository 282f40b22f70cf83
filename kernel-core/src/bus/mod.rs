//! The kernel event bus.
//!
//! Two layers, one concern per file:
//! - the sans-IO core ([`core::BusCore`] over [`ring::Ring`]): deterministic, no locks,
//!   no clock, no wakers; drive it directly in simulations and fuzzers;
//! - the async layer ([`Bus`], [`Receiver`]): the core behind a `std::sync::Mutex`, with
//!   one waker slot per parked receiver. It depends on no runtime.
//!
//! Lag semantics: every event gets a sequence number; each receiver has a cursor. When a
//! receiver's cursor points at an overwritten event, its next receive yields
//! `Lagged { missed }` exactly once (where `missed` is the number of overwritten events it
//! never saw) and moves the cursor to the oldest retained event. Lag is a normal outcome.
//!
//! Filtered receivers ([`Bus::subscribe_filtered`]) are the async layer's: the core
//! delivers them every event, and the layer reads for them, without waking them, the ones
//! their filter turns down.
//!
//! With the `model` feature, `bus::model` provides a reference model of the core and a
//! checker that runs an operation sequence against both.

pub mod capacity;
pub mod core;
pub mod error;
mod filter;
mod handle;
#[cfg(feature = "model")]
pub mod model;
pub mod outcome;
mod receiver;
pub mod ring;
mod shared;

pub use capacity::{CapacityError, DEFAULT_CAPACITY, MAX_CAPACITY, MIN_CAPACITY};
pub use error::{RecvError, TryRecvError};
pub use handle::{Bus, BusStats};
pub use receiver::Receiver;
