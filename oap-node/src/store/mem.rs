//! The in-memory store, the default.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::pieces::Pieces;

use super::slab::Slab;
use super::{ObjectReader, ObjectStore, Staging};

/// Objects in a hash map in memory (a lookup is one probe, not a walk
/// down a tree of 32-byte keys: measured at 6% of the gateway's CPU
/// with 200,000 objects stored, in `oap-bench --case churn`), keyed by a
/// seeded foldhash of the ids' first eight bytes. Objects of 16 KiB or
/// less are packed side by side into shared 1 MiB buffers; nothing is
/// ever deleted.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    objects: Arc<Mutex<Objects>>,
}

#[derive(Debug, Default)]
struct Objects {
    /// foldhash, not std's SipHash: a lookup hashes 8 bytes of an id
    /// (`ObjectId`'s `Hash`), which SipHash took about a hundred
    /// instructions for, two or three times per small put. Each map has
    /// its own random seed; ids that collide in it would have to be
    /// BLAKE3 digests ground against a seed the peer never sees.
    by_id: HashMap<ObjectId, Bytes, foldhash::fast::RandomState>,
    slab: Slab,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of objects stored.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Objects> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct MemStaging {
    store: MemStore,
    obj: ObjectId,
    /// An object that arrives in one piece (a small object's one DATA
    /// frame) is staged as it came, without a copy; the commit packs a
    /// small one into the slab.
    pieces: Pieces,
}

impl ObjectStore for MemStore {
    fn begin(&self, obj: ObjectId, total_len: u64) -> io::Result<Box<dyn Staging>> {
        // The length is the peer's claim: cap the reservation, grow as
        // bytes actually arrive.
        let reserve = usize::try_from(total_len.min(1 << 20)).unwrap_or(0);
        Ok(Box::new(MemStaging {
            store: self.clone(),
            obj,
            pieces: Pieces::with_reserve(reserve),
        }))
    }

    fn open(&self, obj: &ObjectId) -> io::Result<Option<Box<dyn ObjectReader>>> {
        // No second hash here: the bytes were verified before `commit`,
        // and `Bytes` cannot change afterwards. (The directory store, whose
        // files can, re-verifies.) Reading slices the shared buffer.
        let bytes = self.lock().by_id.get(obj).cloned();
        Ok(bytes.map(|b| {
            Box::new(MemReader {
                len: b.len() as u64,
                rest: b,
            }) as _
        }))
    }

    fn contains(&self, obj: &ObjectId) -> bool {
        self.lock().by_id.contains_key(obj)
    }
}

impl Staging for MemStaging {
    fn write(&mut self, bytes: Bytes) -> io::Result<()> {
        self.pieces.push(bytes);
        Ok(())
    }

    fn commit(self: Box<Self>) -> io::Result<()> {
        let bytes = self.pieces.freeze();
        let mut objects = self.store.lock();
        let kept = objects.slab.keep(bytes);
        objects.by_id.insert(self.obj, kept);
        Ok(())
    }
}

/// A stored object's shared bytes, handed out in slices.
struct MemReader {
    len: u64,
    rest: Bytes,
}

impl ObjectReader for MemReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn remaining(&self) -> u64 {
        self.rest.len() as u64
    }

    fn read(&mut self, max: usize) -> io::Result<Bytes> {
        Ok(self.rest.split_to(max.min(self.rest.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(store: &MemStore, pieces: &[&[u8]]) -> Vec<u8> {
        let whole: Vec<u8> = pieces.concat();
        let obj = ObjectId::of(&whole);
        let mut staging = store.begin(obj, whole.len() as u64).expect("begin");
        for piece in pieces {
            staging.write(Bytes::copy_from_slice(piece)).expect("write");
        }
        staging.commit().expect("commit");
        let mut reader = store.open(&obj).expect("open").expect("stored");
        let mut got = Vec::new();
        while reader.remaining() > 0 {
            got.extend_from_slice(&reader.read(7).expect("read"));
        }
        got
    }

    /// One piece is kept as it came; two or more are assembled; none is
    /// the empty object. Each reads back as written.
    #[test]
    fn objects_read_back_whatever_the_pieces() {
        let store = MemStore::new();
        assert_eq!(stage(&store, &[]), b"");
        assert_eq!(stage(&store, &[b"one piece"]), b"one piece");
        assert_eq!(stage(&store, &[b"two ", b"pieces"]), b"two pieces");
        assert_eq!(stage(&store, &[b"a", b"", b"bc", b"def"]), b"abcdef");
        assert_eq!(store.len(), 4);
    }
}
