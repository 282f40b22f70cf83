//! Small objects packed side by side into shared megabyte buffers, as
//! memcached's slabs do.
//!
//! A small object that arrives gets its own allocation of its own size.
//! Kept for good in the in-memory store, each one is new memory the
//! process never had. glibc hands a worker thread's heap that memory one
//! page at a time, with a system call per page (`mprotect`) besides the
//! page's fault: measured at 3.0–3.3 µs per 4 KiB page against 1.7–2.0
//! µs for the fault alone (`docs/PERFORMANCE.md`). A slab takes a
//! megabyte at once, and the objects packed into it share it: stored
//! objects cost their faults only, and the buffers they arrived in go
//! back to the allocator for the next ones.
//!
//! A packed object keeps its slab alive. That costs nothing in a store
//! that never deletes, as the in-memory one; a store that deleted would
//! have to compact its slabs instead.

use bytes::{Bytes, BytesMut};

/// Size of one slab.
const SLAB_LEN: usize = 1 << 20;

/// The largest object packed. Larger ones are kept in the buffer they
/// came in: their allocation is many pages at once already, and a slab
/// loses at most this much room when it fills up (under 2% of it).
pub(super) const PACKED_MAX: usize = 16 << 10;

/// The slab small objects are packed into now.
#[derive(Debug, Default)]
pub(super) struct Slab {
    /// The current slab's room not yet handed out.
    room: BytesMut,
}

impl Slab {
    /// `bytes`, kept: a copy packed into the slab when it is small
    /// ([`PACKED_MAX`] or less, and not empty), `bytes` itself otherwise.
    /// A full slab is left to the objects in it and a new one begun.
    pub(super) fn keep(&mut self, bytes: Bytes) -> Bytes {
        if bytes.is_empty() || bytes.len() > PACKED_MAX {
            return bytes;
        }
        if self.room.capacity() < bytes.len() {
            self.room = BytesMut::with_capacity(SLAB_LEN);
        }
        self.room.extend_from_slice(&bytes);
        self.room.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small objects share a slab and read back as they were; a full
    /// slab starts another; large and empty ones are kept as they came.
    #[test]
    fn small_objects_share_slabs_and_read_back() {
        let mut slab = Slab::default();
        let object = |i: usize| Bytes::from(vec![u8::try_from(i % 251).unwrap(); 1000 + i % 7]);
        let kept: Vec<(Bytes, Bytes)> = (0..2_000)
            .map(|i| (object(i), slab.keep(object(i))))
            .collect();
        for (given, stored) in &kept {
            assert_eq!(given, stored);
        }
        // Neighbours in one slab are adjacent in memory; 2,000 objects of
        // about 1 KiB need two slabs, so exactly one pair is not.
        let adjacent = kept
            .windows(2)
            .filter(|w| w[0].1.as_ptr().wrapping_add(w[0].1.len()) == w[1].1.as_ptr())
            .count();
        assert_eq!(adjacent, kept.len() - 2);

        let large = Bytes::from(vec![7u8; PACKED_MAX + 1]);
        assert_eq!(slab.keep(large.clone()).as_ptr(), large.as_ptr());
        assert!(slab.keep(Bytes::new()).is_empty());
    }
}
