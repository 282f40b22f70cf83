//! `Filter`: which events a receiver of `Bus::subscribe_filtered` takes.

use std::fmt;
use std::sync::Arc;

use crate::KernelEvent;

/// A receiver's filter, shared by the receiver and its waker slot while it is parked.
#[derive(Clone)]
pub(crate) struct Filter(Arc<dyn Fn(&KernelEvent) -> bool + Send + Sync>);

impl Filter {
    pub(crate) fn new(accepts: impl Fn(&KernelEvent) -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(accepts))
    }

    /// Whether the receiver takes `event`.
    pub(crate) fn accepts(&self, event: &KernelEvent) -> bool {
        (self.0)(event)
    }
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Filter")
    }
}
