//! What one receive attempt on the bus core can yield.

use thiserror::Error;

use crate::KernelEvent;

/// Outcome of [`BusCore::try_recv`](super::core::BusCore::try_recv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recv {
    /// The next event for this subscriber.
    Event(KernelEvent),
    /// The subscriber fell behind and `missed` events were overwritten before it read
    /// them. It is reported once per gap; the next receive yields the oldest retained event.
    Lagged {
        /// Number of events this subscriber will never see.
        missed: u64,
    },
    /// Nothing new for this subscriber.
    Empty,
}

/// The subscriber id is not (or no longer) registered with this core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("unknown subscriber {0:?}")]
pub struct UnknownSubscriber(pub super::core::SubId);
