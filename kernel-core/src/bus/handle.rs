//! `Bus`: the cloneable, runtime-neutral publishing handle.

use std::sync::Arc;

use super::capacity::{self, CapacityError, DEFAULT_CAPACITY};
use super::core::BusCore;
use super::filter::Filter;
use super::receiver::Receiver;
use super::shared::{LagCounters, Shared, Wakers};
use crate::{KernelEvent, Metrics};

/// Bounded broadcast bus of [`KernelEvent`]s, usable from any executor.
///
/// Publishing never blocks and never waits for receivers: when a receiver is more than
/// `capacity` events behind, the oldest events are overwritten and that receiver's next
/// receive reports [`RecvError::Lagged`](super::RecvError::Lagged) once.
///
/// Cloning gives another handle to the same bus. When the last handle is dropped,
/// receivers drain what is retained and then get [`RecvError::Closed`](super::RecvError::Closed).
#[derive(Debug)]
pub struct Bus {
    shared: Arc<Shared>,
}

/// Counters describing a bus at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusStats {
    /// Maximum number of retained events.
    pub capacity: usize,
    /// Events retained right now (never above `capacity`).
    pub retained: usize,
    /// Live receivers.
    pub receivers: usize,
    /// `Lagged` outcomes handed out so far.
    pub lagged_total: u64,
    /// Events missed so far, summed over receivers.
    pub missed_total: u64,
}

impl Bus {
    /// A bus retaining `capacity` events. Capacities below
    /// [`MIN_CAPACITY`](super::MIN_CAPACITY) (or above `MAX_CAPACITY`) are clamped; use
    /// [`Bus::try_new`] to get an error instead. Lags are not reported to any `Metrics`;
    /// use [`Bus::with_metrics`] for that.
    pub fn new(capacity: usize) -> Self {
        Self::build(capacity::clamp(capacity), None)
    }

    /// Like [`Bus::new`] but refuses an out-of-range capacity.
    ///
    /// # Errors
    /// [`CapacityError`] when `capacity` is outside `MIN_CAPACITY..=MAX_CAPACITY`.
    pub fn try_new(capacity: usize) -> Result<Self, CapacityError> {
        Ok(Self::build(capacity::check(capacity)?, None))
    }

    /// Like [`Bus::new`], and every lag any receiver observes increments `metrics`'
    /// `bus_lagged_total` (and `bus_missed_events_total` by the number missed).
    pub fn with_metrics(capacity: usize, metrics: &Metrics) -> Self {
        Self::build(capacity::clamp(capacity), Some(metrics.bus_lag_counters()))
    }

    fn build(capacity: usize, lag_counters: Option<LagCounters>) -> Self {
        Self {
            shared: Arc::new(Shared::new(BusCore::new_clamped(capacity), lag_counters)),
        }
    }

    /// A receiver that will see every event published after this call.
    pub fn subscribe(&self) -> Receiver {
        self.subscribe_with(None)
    }

    /// A receiver of the events published after this call that `accepts` returns `true`
    /// for; the others are not delivered to it and never wake it.
    ///
    /// For a task that waits on a rare event among frequent ones (a shutdown watcher on a
    /// gateway's bus, which carries a `Health` per connection): it is neither woken nor
    /// left behind by the events it does not want, so it cannot lag while it sleeps. It
    /// lags like any receiver when it falls behind while awake; `Lagged` then counts the
    /// events of every kind it missed. `accepts` runs under the bus's lock on every
    /// publish while the receiver waits: keep it to a `matches!` or a comparison.
    pub fn subscribe_filtered(
        &self,
        accepts: impl Fn(&KernelEvent) -> bool + Send + Sync + 'static,
    ) -> Receiver {
        self.subscribe_with(Some(Filter::new(accepts)))
    }

    fn subscribe_with(&self, filter: Option<Filter>) -> Receiver {
        let id = self.shared.lock().core.subscribe();
        Receiver::new(Arc::clone(&self.shared), id, filter)
    }

    /// Publishes `event` and returns the number of receivers it was delivered to (0 means
    /// nobody was subscribed and the event was dropped). Wakes every waiting receiver.
    #[must_use = "the receiver count tells whether anyone got the event; use publish_lossy to ignore it"]
    pub fn publish(&self, event: KernelEvent) -> usize {
        let (receivers, wakers) = self.shared.lock().publish(event);
        wakers.wake_all();
        receivers
    }

    /// Publishes `event`, ignoring whether anyone is subscribed.
    pub fn publish_lossy(&self, event: KernelEvent) {
        let _receivers = self.publish(event);
    }

    /// Number of live receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().core.receiver_count()
    }

    /// Maximum number of retained events.
    pub fn capacity(&self) -> usize {
        self.shared.lock().core.capacity()
    }

    /// A snapshot of the bus counters (for tests, admin pages and load checks).
    pub fn stats(&self) -> BusStats {
        let state = self.shared.lock();
        BusStats {
            capacity: state.core.capacity(),
            retained: state.core.retained(),
            receivers: state.core.receiver_count(),
            lagged_total: state.core.lagged_total(),
            missed_total: state.core.missed_total(),
        }
    }
}

impl Default for Bus {
    /// A bus with [`DEFAULT_CAPACITY`] (64).
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl Clone for Bus {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let wakers = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            if state.senders == 0 {
                state.take_wakers()
            } else {
                Wakers::default()
            }
        };
        // Parked receivers must observe `Closed` instead of waiting forever.
        wakers.wake_all();
    }
}
