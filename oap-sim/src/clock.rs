//! A virtual clock: time only moves when the simulation says so.

use std::time::{Duration, Instant};

/// Virtual time, as an offset from a fixed origin.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
    elapsed: Duration,
}

impl Clock {
    /// A clock at its origin. The origin is the only real instant ever
    /// taken; from then on time is whatever the simulation sets.
    pub fn new(origin: Instant) -> Self {
        Self {
            origin,
            elapsed: Duration::ZERO,
        }
    }

    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        self.origin + self.elapsed
    }

    /// Virtual time since the origin.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Jumps forward to `t` (never backward).
    pub fn advance_to(&mut self, t: Instant) {
        let e = t.saturating_duration_since(self.origin);
        self.elapsed = self.elapsed.max(e);
    }
}
