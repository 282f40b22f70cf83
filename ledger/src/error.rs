//! Settlement errors.

use thiserror::Error;

/// Which usage counter an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Bytes received from the tenant.
    In,
    /// Bytes sent to the tenant.
    Out,
}

/// Why a settlement was refused. A refused settlement changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LedgerError {
    /// The charge or the tenant's running total would exceed `u64::MAX` micro-credits.
    #[error("credit arithmetic overflow for tenant {tenant:?}")]
    Overflow {
        /// The tenant being settled.
        tenant: String,
    },
    /// A cumulative usage counter went backwards (e.g. the process restarted and its
    /// counters reset). Call [`crate::Ledger::rebase`] once the cause is understood.
    #[error("{direction:?} counter for tenant {tenant:?} went back from {settled} to {observed}")]
    CounterRegressed {
        /// The tenant being settled.
        tenant: String,
        /// Which counter.
        direction: Direction,
        /// Value at the previous settlement.
        settled: u64,
        /// Value read now.
        observed: u64,
    },
}
