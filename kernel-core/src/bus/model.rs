//! Reference model of [`BusCore`] and a lock-step checker (feature `model`).
//!
//! The model keeps *every* published event in a `Vec` and derives the retained window
//! arithmetically, which is obviously correct and obviously slow. [`check`] runs the same
//! [`Op`] sequence against the model and the real core and reports the first divergence.
//! The proptest in `tests/bus_model.rs` drives it; fuzz targets can map bytes to `Op`s.

use std::collections::BTreeMap;

use super::core::{BusCore, SubId};
use super::outcome::Recv;
use crate::KernelEvent;

/// One step of a scenario. Subscriber indices are taken modulo the number of live
/// subscribers (in subscription order), so every `Op` sequence is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Add a subscriber.
    Subscribe,
    /// Drop the `n`-th live subscriber.
    Unsubscribe(usize),
    /// Publish `ConfigUpdated { version }`.
    Publish(u64),
    /// Receive once on the `n`-th live subscriber.
    Recv(usize),
}

/// The obviously-correct bus.
#[derive(Debug)]
pub struct Model {
    capacity: usize,
    /// Every event published while someone was subscribed.
    log: Vec<KernelEvent>,
    /// Live subscribers in subscription order: (id, index into `log` read next).
    cursors: BTreeMap<u64, usize>,
    next_id: u64,
    /// `Lagged` outcomes handed out.
    pub lagged_total: u64,
    /// Events reported missed.
    pub missed_total: u64,
}

impl Model {
    /// An empty model retaining `capacity` events (use an accepted capacity).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            log: Vec::new(),
            cursors: BTreeMap::new(),
            next_id: 0,
            lagged_total: 0,
            missed_total: 0,
        }
    }

    /// Subscribes; returns the new id (same numbering as [`BusCore`]).
    pub fn subscribe(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.cursors.insert(id, self.log.len());
        id
    }

    /// Unsubscribes `id`.
    pub fn unsubscribe(&mut self, id: u64) {
        self.cursors.remove(&id);
    }

    /// Publishes; returns the receiver count.
    pub fn publish(&mut self, event: KernelEvent) -> usize {
        if !self.cursors.is_empty() {
            self.log.push(event);
        }
        self.cursors.len()
    }

    /// Receives for `id`, which must be live.
    pub fn recv(&mut self, id: u64) -> Recv {
        let oldest = self.log.len().saturating_sub(self.capacity);
        let Some(cursor) = self.cursors.get_mut(&id) else {
            return Recv::Empty;
        };
        if *cursor < oldest {
            let missed = (oldest - *cursor) as u64;
            *cursor = oldest;
            self.lagged_total += 1;
            self.missed_total += missed;
            Recv::Lagged { missed }
        } else if let Some(event) = self.log.get(*cursor) {
            *cursor += 1;
            Recv::Event(event.clone())
        } else {
            Recv::Empty
        }
    }

    /// Live subscriber ids in subscription order.
    pub fn live(&self) -> Vec<u64> {
        self.cursors.keys().copied().collect()
    }
}

/// The first point where the core and the model disagreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the offending op in the sequence.
    pub step: usize,
    /// The op.
    pub op: Op,
    /// What differed.
    pub detail: String,
}

/// Runs `ops` against a fresh [`BusCore`] and [`Model`] of `capacity` in lock step.
///
/// # Errors
/// The first [`Divergence`] found (outcomes, receiver counts, lag totals, or the core
/// retaining more than `capacity` events).
pub fn check(capacity: usize, ops: &[Op]) -> Result<(), Divergence> {
    let mut core = BusCore::new_clamped(capacity);
    let mut model = Model::new(core.capacity());
    for (step, &op) in ops.iter().enumerate() {
        let fail = |detail: String| Divergence { step, op, detail };
        let live = model.live();
        let pick = |n: usize| live.get(n % live.len().max(1)).copied();
        match op {
            Op::Subscribe => {
                let (a, b) = (core.subscribe(), model.subscribe());
                if a != SubId(b) {
                    return Err(fail(format!("ids differ: core {a:?}, model {b}")));
                }
            }
            Op::Unsubscribe(n) => {
                if let Some(id) = pick(n) {
                    if !core.unsubscribe(SubId(id)) {
                        return Err(fail(format!("core did not know subscriber {id}")));
                    }
                    model.unsubscribe(id);
                }
            }
            Op::Publish(version) => {
                let event = KernelEvent::ConfigUpdated { version };
                let (a, b) = (core.publish(event.clone()), model.publish(event));
                if a != b {
                    return Err(fail(format!("receiver counts differ: core {a}, model {b}")));
                }
            }
            Op::Recv(n) => {
                if let Some(id) = pick(n) {
                    let a = core
                        .try_recv(SubId(id))
                        .map_err(|e| fail(format!("core: {e}")))?;
                    let b = model.recv(id);
                    if a != b {
                        return Err(fail(format!("outcomes differ: core {a:?}, model {b:?}")));
                    }
                }
            }
        }
        if core.retained() > core.capacity() {
            return Err(fail(format!("core retains {} events", core.retained())));
        }
        if core.receiver_count() != model.cursors.len() {
            return Err(fail("receiver counts differ".into()));
        }
        if (core.lagged_total(), core.missed_total()) != (model.lagged_total, model.missed_total) {
            return Err(fail("lag totals differ".into()));
        }
    }
    Ok(())
}
