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

/// [`Recv`] borrowing the event from the ring, so that the async receiver clones it
/// straight into its own return value instead of moving an owned `Recv` through two
/// result types (each move copies the whole event enum).
#[derive(Debug)]
pub(crate) enum RecvRef<'a> {
    Event(&'a KernelEvent),
    Lagged { missed: u64 },
    Empty,
}

impl RecvRef<'_> {
    pub(crate) fn to_owned(&self) -> Recv {
        match *self {
            Self::Event(event) => Recv::Event(event.clone()),
            Self::Lagged { missed } => Recv::Lagged { missed },
            Self::Empty => Recv::Empty,
        }
    }
}

/// The subscriber id is not (or no longer) registered with this core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("unknown subscriber {0:?}")]
pub struct UnknownSubscriber(pub super::core::SubId);
