//! Bounded, sequence-numbered event ring: publishing overwrites the oldest event.

use std::fmt;

use crate::KernelEvent;

/// Where a sequence number stands relative to the retained window.
#[derive(Debug, PartialEq, Eq)]
pub enum Slot<'a> {
    /// The event was overwritten; `oldest` is the first sequence still retained.
    Overwritten {
        /// Oldest retained sequence number.
        oldest: u64,
    },
    /// The event is retained.
    Present(&'a KernelEvent),
    /// Nothing has been published at this sequence number yet.
    NotYet,
}

/// A ring of at most `capacity` events, each with a sequence number one above the last.
///
/// A `Vec` that fills up to `capacity` and is then overwritten in place at `head`, rather
/// than a `VecDeque`: a full ring's push is one assignment (dropping the old event where
/// it lies) instead of moving the oldest event out and the new one in.
pub struct Ring {
    /// Retained events, oldest at `head`. Shorter than `capacity` only before the ring
    /// first fills (or after `clear`), and then `head` is 0, so `events.len()` is always
    /// the number retained.
    events: Vec<KernelEvent>,
    /// Index of the oldest retained event.
    head: usize,
    capacity: usize,
    /// Sequence number the next pushed event will get.
    next_seq: u64,
}

impl Ring {
    /// An empty ring; `capacity` must already be validated (see [`super::capacity`]).
    pub fn new(capacity: usize) -> Self {
        Self {
            events: Vec::with_capacity(capacity),
            head: 0,
            capacity,
            next_seq: 0,
        }
    }

    /// Appends `event`, dropping the oldest one if the ring is full. Returns its sequence.
    pub fn push(&mut self, event: KernelEvent) -> u64 {
        if self.events.len() < self.capacity {
            self.events.push(event);
        } else {
            self.events[self.head] = event;
            self.head = if self.head + 1 == self.capacity {
                0
            } else {
                self.head + 1
            };
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Looks up the event with sequence number `seq`.
    pub fn get(&self, seq: u64) -> Slot<'_> {
        let oldest = self.oldest_seq();
        if seq < oldest {
            Slot::Overwritten { oldest }
        } else if seq >= self.next_seq {
            Slot::NotYet
        } else {
            // In range, and the window is at most `capacity` (a usize) long.
            let offset = usize::try_from(seq - oldest).unwrap_or(usize::MAX);
            // Wrap with a compare, not `%`: a division costs more than the whole lookup.
            let index = self.head.saturating_add(offset);
            let index = if index < self.events.len() {
                index
            } else {
                index - self.events.len()
            };
            self.events.get(index).map_or(Slot::NotYet, Slot::Present)
        }
    }

    /// Drops every retained event; sequence numbers keep counting.
    pub fn clear(&mut self) {
        self.events.clear();
        self.head = 0;
    }

    /// Sequence number of the oldest retained event (equals [`Self::next_seq`] when empty).
    pub fn oldest_seq(&self) -> u64 {
        self.next_seq - self.events.len() as u64
    }

    /// Sequence number the next published event will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Number of retained events (never above [`Self::capacity`]).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is retained.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Maximum number of retained events.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Retained events, oldest first.
    fn iter(&self) -> impl Iterator<Item = &KernelEvent> {
        let (newer, older) = self.events.split_at(self.head);
        older.iter().chain(newer)
    }
}

/// Logical contents only (oldest first, no `head`): the model checker fingerprints states
/// by their `Debug` text, and two rings holding the same events are the same state
/// wherever their oldest slot happens to sit.
impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Events<'a>(&'a Ring);
        impl fmt::Debug for Events<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.iter()).finish()
            }
        }
        f.debug_struct("Ring")
            .field("events", &Events(self))
            .field("capacity", &self.capacity)
            .field("next_seq", &self.next_seq)
            .finish()
    }
}
