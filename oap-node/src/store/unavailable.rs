//! The error a store reports when it cannot answer now.

use std::fmt;
use std::io;

/// The store could not be reached or did not answer in time (a network
/// store's outage, a timeout). Nothing of the request was kept, and the
/// same request may succeed later: the gateway answers it with the
/// retryable ERROR `unavailable`. Reported inside an [`io::Error`]; find it
/// with [`StoreUnavailable::find`]. An [`io::Error`] of kind
/// [`io::ErrorKind::TimedOut`] means the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUnavailable {
    /// What failed, for the log (never sent to peers at length).
    pub reason: String,
}

impl StoreUnavailable {
    /// The error to return from a store call.
    pub fn into_io(self) -> io::Error {
        io::Error::other(self)
    }

    /// Whether `e` says the store is unavailable for now.
    pub fn is(e: &io::Error) -> bool {
        e.kind() == io::ErrorKind::TimedOut || Self::find(e).is_some()
    }

    /// The unavailability `e` reports, if that is what it reports.
    pub fn find(e: &io::Error) -> Option<&StoreUnavailable> {
        e.get_ref()?.downcast_ref::<StoreUnavailable>()
    }
}

impl fmt::Display for StoreUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the store is unavailable: {}", self.reason)
    }
}

impl std::error::Error for StoreUnavailable {}
