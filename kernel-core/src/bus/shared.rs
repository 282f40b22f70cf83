//! State shared by every `Bus` handle and `Receiver`: the core behind a mutex, plus one
//! waker slot per waiting receiver.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use prometheus_client::metrics::counter::Counter;

use super::core::{BusCore, SubId};
use super::filter::Filter;
use crate::KernelEvent;

/// Mutable part, always accessed under the lock so that "check for an event" and
/// "register my waker" are atomic with respect to publish: no wake-up can be lost.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) core: BusCore,
    /// One slot per receiver currently parked in `recv`; a re-poll replaces its own slot,
    /// so receivers never overwrite each other's wakers.
    pub(crate) wakers: HashMap<SubId, Parked>,
    /// Live `Bus` handles; the bus closes when this reaches zero.
    pub(crate) senders: usize,
}

/// A receiver parked in `recv`: whom to wake, and for which events.
#[derive(Debug)]
pub(crate) struct Parked {
    pub(crate) waker: Waker,
    /// The receiver's filter (`None`: every event wakes it).
    pub(crate) filter: Option<Filter>,
    /// Scratch for `publish`: the event being published is one the filter turns down.
    declines: bool,
}

impl Parked {
    pub(crate) fn new(waker: Waker, filter: Option<Filter>) -> Self {
        Self {
            waker,
            filter,
            declines: false,
        }
    }
}

impl State {
    /// Takes every parked waker; the caller wakes them after releasing the lock.
    pub(crate) fn take_wakers(&mut self) -> Wakers {
        let mut wakers = Wakers::default();
        self.wakers.drain().for_each(|(_, p)| wakers.push(p.waker));
        wakers
    }

    /// Publishes `event`; returns the receiver count and the wakers of the parked
    /// receivers it concerns, for the caller to wake after releasing the lock.
    ///
    /// A parked receiver whose filter turns the event down stays parked, and the event is
    /// read for it at once: parked, it had read everything before, so the event is its
    /// next. It thus never falls behind while asleep, however many such events pass (a
    /// gateway's shutdown watcher, which sleeps through every connection's `Health`).
    pub(crate) fn publish(&mut self, event: KernelEvent) -> (usize, Wakers) {
        let mut declined = false;
        for parked in self.wakers.values_mut() {
            parked.declines = parked.filter.as_ref().is_some_and(|f| !f.accepts(&event));
            declined |= parked.declines;
        }
        let receivers = self.core.publish(event);
        if !declined {
            return (receivers, self.take_wakers());
        }
        let mut wakers = Wakers::default();
        let core = &mut self.core;
        self.wakers.retain(|id, parked| {
            if parked.declines {
                let _read_for_it = core.try_recv_hinted(*id, &mut 0);
                return true;
            }
            wakers.push(std::mem::replace(&mut parked.waker, Waker::noop().clone()));
            false
        });
        (receivers, wakers)
    }
}

/// `bus_lagged_total` and `bus_missed_events_total`.
pub(crate) type LagCounters = (Counter, Counter);

#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// `bus_lagged_total` and `bus_missed_events_total`, when the bus reports to `Metrics`.
    pub(crate) lag_counters: Option<LagCounters>,
}

impl Shared {
    pub(crate) fn new(core: BusCore, lag_counters: Option<LagCounters>) -> Self {
        Self {
            state: Mutex::new(State {
                core,
                wakers: HashMap::new(),
                senders: 1,
            }),
            lag_counters,
        }
    }

    /// Locks the state. A panic while holding the lock cannot leave the core half
    /// updated (its methods do not panic mid-way), so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn count_lag(&self, missed: u64) {
        if let Some((lagged, missed_total)) = &self.lag_counters {
            lagged.inc();
            missed_total.inc_by(missed);
        }
    }
}

/// Wakers taken under the lock, to wake once it is released. The first is
/// held inline: a bus often has a single receiver parked (a gateway's
/// shutdown watcher), and each publish, one per connection's `Health`,
/// would otherwise allocate a vector for it.
#[derive(Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    pub(crate) fn wake_all(self) {
        for waker in self.first.into_iter().chain(self.rest) {
            waker.wake();
        }
    }
}
