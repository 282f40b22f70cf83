//! [`RequestMap`]: per-request state of one connection, keyed by
//! [`RequestId`] and ordered by it.

use std::fmt;
use std::hash::{Hash, Hasher};

use super::RequestId;

/// A removal compacts the map once it holds more than twice its live
/// entries plus this many: slack, so that a map of a few requests never
/// compacts.
const SLACK: usize = 8;

/// Entries a map keeps room for once it is empty.
const IDLE_ROOM: usize = 4;

/// A map from [`RequestId`] to `V`, iterated in id order, for the state an
/// endpoint keeps per open request.
///
/// Built for how requests come and go on a connection: ids are allocated
/// in increasing order (a well-behaved peer's too) and requests mostly end
/// in the order they began.
/// - An insert of the largest id yet and a removal of the oldest are
///   amortized O(1). A lookup among consecutive ids is one look, else a
///   binary search.
/// - Entries live in one vector, so a map of a few dozen requests costs a
///   fraction of a `BTreeMap`'s node allocations and shifts.
/// - A removal leaves a hole, not a shift. Holes at either end are passed
///   over at once; once the map holds more than twice its live entries (a
///   long-lived subscription at the front, say), it compacts.
/// - An empty map keeps room for a few entries only, so an idle connection
///   does not hold the room of its busiest moment.
/// - Ids out of order (a peer's choice) still work: such an insert shifts
///   the entries after it, at most the connection's `max_inflight`.
#[derive(Clone)]
pub struct RequestMap<V> {
    /// Sorted by id from `head` on; `None` is a removed entry not yet
    /// dropped. Before `head`: entries removed from the front, dropped at
    /// the next compaction.
    entries: Vec<(RequestId, Option<V>)>,
    head: usize,
    live: usize,
}

impl<V> Default for RequestMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> RequestMap<V> {
    /// An empty map; allocates nothing until the first insert.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
            head: 0,
            live: 0,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn slots(&self) -> &[(RequestId, Option<V>)] {
        &self.entries[self.head..]
    }

    fn slots_mut(&mut self) -> &mut [(RequestId, Option<V>)] {
        &mut self.entries[self.head..]
    }

    /// Where `id` is in [`Self::slots`], or where it would go.
    fn position(&self, id: RequestId) -> Result<usize, usize> {
        let slots = self.slots();
        let Some(&(first, _)) = slots.first() else {
            return Err(0);
        };
        // Ids allocated one after another sit at their distance from the
        // first (holes keep their ids): one look instead of a search.
        let guess = usize::try_from(id.0.wrapping_sub(first.0)).unwrap_or(usize::MAX);
        match slots.get(guess) {
            Some((k, _)) if *k == id => Ok(guess),
            // A new request's id, past every other: the insert appends.
            _ if slots.last().is_some_and(|(last, _)| *last < id) => Err(slots.len()),
            _ => slots.binary_search_by_key(&id, |(k, _)| *k),
        }
    }

    /// The value of `id`.
    pub fn get(&self, id: &RequestId) -> Option<&V> {
        let i = self.position(*id).ok()?;
        self.slots()[i].1.as_ref()
    }

    /// The value of `id`, mutably.
    pub fn get_mut(&mut self, id: &RequestId) -> Option<&mut V> {
        let i = self.position(*id).ok()?;
        self.slots_mut()[i].1.as_mut()
    }

    /// Whether `id` has a value.
    pub fn contains_key(&self, id: &RequestId) -> bool {
        self.get(id).is_some()
    }

    /// Sets the value of `id`; returns the one it replaced.
    pub fn insert(&mut self, id: RequestId, value: V) -> Option<V> {
        match self.position(id) {
            Ok(i) => {
                let old = self.slots_mut()[i].1.replace(value);
                if old.is_none() {
                    self.live += 1;
                }
                old
            }
            Err(i) => {
                self.entries.insert(self.head + i, (id, Some(value)));
                self.live += 1;
                None
            }
        }
    }

    /// Removes `id`; returns its value.
    pub fn remove(&mut self, id: &RequestId) -> Option<V> {
        let i = self.position(*id).ok()?;
        let value = self.slots_mut()[i].1.take()?;
        self.live -= 1;
        while self.slots().first().is_some_and(|(_, v)| v.is_none()) {
            self.head += 1;
        }
        while self.slots().last().is_some_and(|(_, v)| v.is_none()) {
            self.entries.pop();
        }
        if self.live == 0 {
            // An idle connection keeps room for a few requests, not for
            // its busiest moment.
            self.entries.clear();
            self.entries.shrink_to(IDLE_ROOM);
            self.head = 0;
        } else if self.entries.len() > 2 * self.live + SLACK {
            self.entries.drain(..self.head);
            self.head = 0;
            self.entries.retain(|(_, v)| v.is_some());
        }
        Some(value)
    }

    /// Entries in id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&RequestId, &V)> {
        self.slots()
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    }

    /// Entries in id order, values mutably.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&RequestId, &mut V)> {
        self.slots_mut()
            .iter_mut()
            .filter_map(|(k, v)| v.as_mut().map(|v| (&*k, v)))
    }

    /// Ids in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &RequestId> {
        self.iter().map(|(k, _)| k)
    }

    /// Values in id order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    /// Values in id order, mutably.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> {
        self.iter_mut().map(|(_, v)| v)
    }
}

impl<V: fmt::Debug> fmt::Debug for RequestMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Equal maps hash equally, whatever holes they hold.
impl<V: Hash> Hash for RequestMap<V> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.live);
        for entry in self.iter() {
            entry.hash(state);
        }
    }
}

impl<V: PartialEq> PartialEq for RequestMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.live == other.live && self.iter().eq(other.iter())
    }
}

impl<V: Eq> Eq for RequestMap<V> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64, u32),
        Remove(u64),
    }

    fn op(ids: u64) -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..ids, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            (0..ids).prop_map(Op::Remove),
        ]
    }

    /// The map behaves as a `BTreeMap` would.
    fn check(ops: &[Op]) {
        let mut map = RequestMap::new();
        let mut model = BTreeMap::new();
        for op in ops {
            match *op {
                Op::Insert(k, v) => {
                    assert_eq!(map.insert(RequestId(k), v), model.insert(RequestId(k), v));
                }
                Op::Remove(k) => {
                    assert_eq!(map.remove(&RequestId(k)), model.remove(&RequestId(k)));
                }
            }
            assert_eq!(map.len(), model.len());
            assert!(map.iter().eq(model.iter()));
            // Holes never outgrow the live entries for long.
            assert!(map.entries.len() <= 2 * map.len() + SLACK + 1);
        }
        for k in 0..70 {
            let id = RequestId(k);
            assert_eq!(map.get(&id), model.get(&id));
            assert_eq!(map.contains_key(&id), model.contains_key(&id));
        }
    }

    proptest! {
        #[test]
        fn matches_a_btree_map(ops in prop::collection::vec(op(64), 0..300)) {
            check(&ops);
        }

        /// How requests usually come and go: increasing ids, ended
        /// roughly in order, one long-lived request kept open.
        #[test]
        fn matches_a_btree_map_in_the_usual_order(
            ends in prop::collection::vec(0..4u64, 1..200)
        ) {
            let mut ops = vec![Op::Insert(0, 0)];
            for (id, lag) in (1..).zip(&ends) {
                ops.push(Op::Insert(id, *lag as u32));
                // Never request 0, the long-lived one.
                ops.push(Op::Remove(id.saturating_sub(*lag).max(1)));
            }
            check(&ops);
        }
    }

    #[test]
    fn a_long_lived_request_at_the_front_does_not_keep_holes() {
        let mut map = RequestMap::new();
        map.insert(RequestId(0), ());
        map.insert(RequestId(1), ());
        for k in 2..10_000 {
            map.insert(RequestId(k), ());
            map.remove(&RequestId(k - 1));
        }
        assert_eq!(map.len(), 2);
        assert!(map.entries.len() <= 2 * map.len() + SLACK + 1);
    }

    #[test]
    fn an_emptied_map_keeps_room_for_a_few_entries_only() {
        let mut map = RequestMap::new();
        for k in 0..100 {
            map.insert(RequestId(k), [0u8; 64]);
        }
        for k in 0..100 {
            map.remove(&RequestId(k));
        }
        assert!(map.is_empty());
        assert!(map.entries.capacity() <= IDLE_ROOM);
    }

    #[test]
    fn equal_maps_hash_equally_whatever_their_holes() {
        use std::hash::DefaultHasher;
        let mut a = RequestMap::new();
        let mut b = RequestMap::new();
        for k in 0..5 {
            a.insert(RequestId(k), k);
        }
        for k in [0, 2, 4] {
            b.insert(RequestId(k), k);
        }
        a.remove(&RequestId(1));
        a.remove(&RequestId(3));
        assert_eq!(a, b);
        let hash = |m: &RequestMap<u64>| {
            let mut h = DefaultHasher::new();
            m.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&a), hash(&b));
    }
}
