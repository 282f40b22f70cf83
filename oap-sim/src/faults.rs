//! What the simulated network does to the bytes.

use std::time::Duration;

/// Seeded fault plan for one direction of a link.
///
/// Byte-level effects (`max_segment`, `max_delay`) are what any TCP stream
/// does and must never break a connection. Frame-level effects model a
/// broken or hostile peer: the connection may fail requests or close, but
/// must never panic, accept a corrupted object, or hang past its timeouts.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// Largest segment a write is split into (0: writes arrive whole;
    /// segments due together arrive coalesced).
    pub max_segment: usize,
    /// Largest delivery delay of a segment (order is always kept).
    pub max_delay: Duration,
    /// Probability that a frame is dropped.
    pub drop: f64,
    /// Probability that a frame is sent twice.
    pub duplicate: f64,
    /// Probability that a frame is held back behind the next one.
    pub reorder: f64,
    /// Probability that a frame is cut short (desynchronising the stream).
    pub truncate: f64,
    /// Probability that one byte of a frame is flipped.
    pub corrupt: f64,
}

impl FaultPlan {
    /// A perfect link: every write arrives whole, at once.
    pub fn reliable() -> Self {
        Self {
            max_segment: 0,
            max_delay: Duration::ZERO,
            drop: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            truncate: 0.0,
            corrupt: 0.0,
        }
    }

    /// A real network: writes split anywhere, coalesced and delayed, but
    /// every byte delivered in order.
    pub fn network() -> Self {
        Self {
            max_segment: 1500,
            max_delay: Duration::from_millis(20),
            ..Self::reliable()
        }
    }

    /// A network that also mangles frames with probability `p` each way.
    pub fn hostile(p: f64) -> Self {
        Self {
            drop: p,
            duplicate: p,
            reorder: p,
            truncate: p / 4.0,
            corrupt: p,
            ..Self::network()
        }
    }

    /// Whether any frame-level fault is enabled.
    pub fn mangles_frames(&self) -> bool {
        self.drop + self.duplicate + self.reorder + self.truncate + self.corrupt > 0.0
    }
}
