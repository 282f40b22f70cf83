//! Errors of the async receiver API.

use thiserror::Error;

/// Why [`Receiver::recv`](super::Receiver::recv) returned no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RecvError {
    /// A normal outcome, not a failure: the receiver fell behind and `missed` events were
    /// overwritten. Reported once per gap; call `recv` again to continue from the oldest
    /// retained event.
    #[error("receiver lagged and missed {missed} events")]
    Lagged {
        /// Number of events this receiver will never see.
        missed: u64,
    },
    /// Every [`Bus`](super::Bus) handle was dropped and all retained events were read.
    #[error("bus closed")]
    Closed,
}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TryRecvError {
    /// Nothing new yet.
    #[error("no event available")]
    Empty,
    /// See [`RecvError::Lagged`].
    #[error("receiver lagged and missed {missed} events")]
    Lagged {
        /// Number of events this receiver will never see.
        missed: u64,
    },
    /// See [`RecvError::Closed`].
    #[error("bus closed")]
    Closed,
}
