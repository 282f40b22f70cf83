//! Ring capacity limits.

use thiserror::Error;

/// Capacity used by [`Bus::default`](super::Bus) and recommended for active nodes.
pub const DEFAULT_CAPACITY: usize = 64;
/// Smallest accepted capacity: below this, ordinary bursts already lag every subscriber.
pub const MIN_CAPACITY: usize = 8;
/// Largest accepted capacity; the ring allocates all of it up front, so an absurd value
/// must be refused rather than abort the process on allocation.
pub const MAX_CAPACITY: usize = 1 << 20;

/// A capacity outside [`MIN_CAPACITY`]`..=`[`MAX_CAPACITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("bus capacity {requested} is outside {MIN_CAPACITY}..={MAX_CAPACITY}")]
pub struct CapacityError {
    /// The capacity that was asked for.
    pub requested: usize,
}

/// Checks `requested` against the limits.
pub fn check(requested: usize) -> Result<usize, CapacityError> {
    if (MIN_CAPACITY..=MAX_CAPACITY).contains(&requested) {
        Ok(requested)
    } else {
        Err(CapacityError { requested })
    }
}

/// Brings `requested` into the accepted range (used by the infallible constructors).
pub fn clamp(requested: usize) -> usize {
    requested.clamp(MIN_CAPACITY, MAX_CAPACITY)
}
