//! Token-economics hook: settles per-tenant usage into credits, and keeps
//! each tenant's stored bytes against its byte quota ([`StorageLedger`],
//! persisted by a [`UsageJournal`]).
//!
//! Money never touches floating point: [`Credits`] are integer micro-credits, weights are
//! micro-credits per byte, and every operation is checked, failing with
//! [`LedgerError::Overflow`] instead of wrapping.
//!
//! The ledger reads usage through the [`UsageRead`] trait, so it does not depend on the
//! kernel. With the `accounting-adapter` feature, kernel-core's
//! `metrics::accounting::TenantCounters` implement it, and
//! `Ledger::integrate_accounting` settles straight from them.
//!
//! Settling a tenant's usage, then only what it used since:
//!
//! ```
//! use ledger::{Credits, InMemoryUsage, Ledger, Weights};
//!
//! let mut ledger = Ledger::new(Weights {
//!     alpha_out_per_byte: Credits::from_micros(2),
//!     beta_in_per_byte: Credits::from_micros(1),
//! });
//! let mut usage = InMemoryUsage::new();
//! usage.set("acme", 1_000, 3_000); // bytes in, bytes out
//! let first = ledger.settle_with(&usage, "acme")?;
//! assert_eq!(first.charge, Credits::from_micros(3_000 * 2 + 1_000));
//! usage.set("acme", 1_000, 3_500);
//! let second = ledger.settle_with(&usage, "acme")?;
//! assert_eq!(second.charge, Credits::from_micros(500 * 2));
//! assert_eq!(second.total, Credits::from_micros(8_000));
//! # Ok::<(), ledger::LedgerError>(())
//! ```

#[cfg(feature = "accounting-adapter")]
pub mod accounting;
pub mod credits;
pub mod error;
pub mod journal;
pub mod ledger;
pub mod storage;
pub mod usage;

pub use credits::Credits;
pub use error::LedgerError;
pub use journal::UsageJournal;
pub use ledger::{Account, Ledger, Settlement, Weights};
pub use storage::{StorageAccount, StorageError, StorageLedger};
pub use usage::{InMemoryUsage, UsageRead};
