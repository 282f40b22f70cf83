//! The bus core with up to three subscribers and the smallest capacity.

use kernel_core::KernelEvent;
use kernel_core::bus::MIN_CAPACITY;
use kernel_core::bus::core::{BusCore, SubId};
use kernel_core::bus::model::Model;
use kernel_core::bus::outcome::Recv;

use crate::{System, fingerprint_of};

/// Subscribers that may exist at once.
pub const MAX_SUBSCRIBERS: usize = 3;
/// Publishes per path: enough to overrun the ring (capacity 8) and lag.
pub const MAX_PUBLISHES: u64 = MIN_CAPACITY as u64 + 3;

/// One bus operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusAction {
    /// Add a subscriber.
    Subscribe,
    /// Drop the subscriber at this index.
    Unsubscribe(usize),
    /// Publish the next event.
    Publish,
    /// Receive once on the subscriber at this index.
    Recv(usize),
}

/// Per-subscriber accounting kept by the checker.
#[derive(Debug, Clone, Copy)]
struct Account {
    id: SubId,
    published: u64,
    received: u64,
    missed: u64,
    last_was_lag: bool,
}

/// `BusCore` and the reference model in lock step.
#[derive(Debug)]
pub struct BusSystem {
    core: BusCore,
    model: Model,
    subs: Vec<Account>,
    published: u64,
    subscribed: usize,
    unsubscribed: usize,
}

impl System for BusSystem {
    type Action = BusAction;
    /// Sizes are fixed: [`MAX_SUBSCRIBERS`], [`MAX_PUBLISHES`], the
    /// smallest capacity.
    type Params = ();

    fn init((): &()) -> Self {
        let core = BusCore::new_clamped(MIN_CAPACITY);
        let model = Model::new(core.capacity());
        Self {
            core,
            model,
            subs: Vec::new(),
            published: 0,
            subscribed: 0,
            unsubscribed: 0,
        }
    }

    fn actions(&self) -> Vec<BusAction> {
        let mut v = Vec::new();
        if self.subs.len() < MAX_SUBSCRIBERS && self.subscribed < MAX_SUBSCRIBERS + 1 {
            v.push(BusAction::Subscribe);
        }
        if self.published < MAX_PUBLISHES {
            v.push(BusAction::Publish);
        }
        for i in 0..self.subs.len() {
            v.push(BusAction::Recv(i));
            if self.unsubscribed < 1 {
                v.push(BusAction::Unsubscribe(i));
            }
        }
        v
    }

    fn apply(&mut self, action: &BusAction) -> Result<(), String> {
        match *action {
            BusAction::Subscribe => {
                let (a, b) = (self.core.subscribe(), self.model.subscribe());
                if a != SubId(b) {
                    return Err(format!("subscriber ids differ: {a:?} vs {b}"));
                }
                self.subscribed += 1;
                self.subs.push(Account {
                    id: a,
                    published: 0,
                    received: 0,
                    missed: 0,
                    last_was_lag: false,
                });
            }
            BusAction::Unsubscribe(i) => {
                let acc = self.subs.remove(i);
                if !self.core.unsubscribe(acc.id) {
                    return Err(format!("core forgot {:?}", acc.id));
                }
                self.model.unsubscribe(acc.id.0);
                self.unsubscribed += 1;
            }
            BusAction::Publish => {
                let event = KernelEvent::ConfigUpdated {
                    version: self.published,
                };
                self.published += 1;
                let (a, b) = (self.core.publish(event.clone()), self.model.publish(event));
                if a != b || a != self.subs.len() {
                    return Err(format!("receiver counts: core {a}, model {b}"));
                }
                for s in &mut self.subs {
                    s.published += 1;
                    s.last_was_lag = false;
                }
            }
            BusAction::Recv(i) => {
                let acc = &mut self.subs[i];
                let got = self
                    .core
                    .try_recv(acc.id)
                    .map_err(|e| format!("core: {e}"))?;
                let want = self.model.recv(acc.id.0);
                if got != want {
                    return Err(format!("core {got:?} but model {want:?}"));
                }
                match got {
                    Recv::Event(_) => {
                        acc.received += 1;
                        acc.last_was_lag = false;
                    }
                    Recv::Lagged { missed } => {
                        if acc.last_was_lag {
                            return Err("lag reported twice for one gap".into());
                        }
                        if missed == 0 {
                            return Err("lag of zero events".into());
                        }
                        acc.missed += missed;
                        acc.last_was_lag = true;
                    }
                    Recv::Empty => {
                        if acc.received + acc.missed != acc.published {
                            return Err(format!(
                                "drained subscriber accounts {} + {} of {} events",
                                acc.received, acc.missed, acc.published
                            ));
                        }
                    }
                }
            }
        }
        if self.core.retained() > self.core.capacity() {
            return Err(format!("core retains {} events", self.core.retained()));
        }
        let (lag, missed) = (self.core.lagged_total(), self.core.missed_total());
        if (lag, missed) != (self.model.lagged_total, self.model.missed_total) {
            return Err("lag totals differ from the model".into());
        }
        Ok(())
    }

    fn fingerprint(&self) -> u64 {
        // The budgets are part of the state: they decide what is enabled.
        fingerprint_of(&format!(
            "{:?}|{:?}|{}|{}|{}",
            self.core, self.subs, self.published, self.subscribed, self.unsubscribed
        ))
    }

    /// Every subscriber, drained, sees each event it was owed exactly once:
    /// as an event or inside exactly one `Lagged` count, within
    /// `capacity + 1` receives.
    fn liveness(mut self) -> Result<(), String> {
        for i in 0..self.subs.len() {
            let mut steps = 0;
            loop {
                steps += 1;
                if steps > self.core.capacity() + 2 {
                    return Err(format!("subscriber {i} never drains"));
                }
                self.apply(&BusAction::Recv(i))?;
                if self.core.pending(self.subs[i].id) == Some(0) {
                    break;
                }
            }
            let a = self.subs[i];
            if a.received + a.missed != a.published {
                return Err(format!(
                    "subscriber {i}: {} received + {} missed != {} published",
                    a.received, a.missed, a.published
                ));
            }
        }
        Ok(())
    }
}
