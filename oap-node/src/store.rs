//! Object stores: content-addressed, written only after verification,
//! read as streams.
//!
//! A put streams into a [`Staging`] while the object's digest is still
//! unknown to be right; only [`Staging::commit`], called once the
//! connection reported the object verified, makes it visible. Dropping a
//! staging without committing leaves nothing behind.
//!
//! A get opens an [`ObjectReader`] and reads it piece by piece, only as
//! far as the request's credit allows, so serving an object holds about
//! one window of it whatever its size. A store whose bytes can rot after
//! commit (files on disk, a network store) verifies them as they stream
//! and fails the read that would complete a corrupted object with a
//! [`CorruptObject`] error instead of handing out its last bytes.

mod corrupt;
mod dir;
mod mem;
mod slab;
mod unavailable;

pub use corrupt::CorruptObject;
pub use dir::DirStore;
pub use mem::MemStore;
pub use unavailable::StoreUnavailable;

use std::io;

use bytes::Bytes;
use oap_core::ObjectId;

/// Where objects live.
pub trait ObjectStore: Send + Sync + 'static {
    /// Starts receiving object `obj` of `total_len` bytes.
    fn begin(&self, obj: ObjectId, total_len: u64) -> io::Result<Box<dyn Staging>>;

    /// Starts receiving object `obj` unless the store has it already
    /// (`None`: putting a stored object again costs no second copy; the
    /// put's bytes are dropped). The default asks
    /// [`ObjectStore::contains`], then [`ObjectStore::begin`]; a store that
    /// can tell in one call (one round trip) overrides it.
    fn begin_if_absent(
        &self,
        obj: ObjectId,
        total_len: u64,
    ) -> io::Result<Option<Box<dyn Staging>>> {
        if self.contains(&obj) {
            return Ok(None);
        }
        self.begin(obj, total_len).map(Some)
    }

    /// Opens object `obj` for reading (`None`: not stored). A store whose
    /// bytes can change after [`Staging::commit`] (files on disk) must
    /// verify them as they are read (see [`ObjectReader::read`]).
    fn open(&self, obj: &ObjectId) -> io::Result<Option<Box<dyn ObjectReader>>>;

    /// Whether `obj` is stored (`false` too when the store cannot tell
    /// now: the caller then stores it again, which is safe).
    fn contains(&self, obj: &ObjectId) -> bool;

    /// Whether the store can serve now, for readiness probes (`/readyz`).
    /// A store that is always there (memory) says yes, the default; a
    /// network store asks its service, within its timeout.
    ///
    /// # Errors
    /// Why the store cannot serve.
    fn check(&self) -> io::Result<()> {
        Ok(())
    }

    /// Whether the store's calls can wait on something slow (a disk's
    /// read, an fsync, a network round trip). The gateway then makes every
    /// call of this trait and of its stagings and readers on the runtime's
    /// blocking pool instead of the connection's task, which serves every
    /// request of the connection and shares its thread with other
    /// connections; one request has at most one such call running at a
    /// time. In-memory stores say no (the default), which spares small
    /// requests a hop to another thread.
    fn blocks(&self) -> bool {
        false
    }

    /// Whether [`Staging::write`] (and [`ObjectStore::begin_if_absent`])
    /// can wait for long, on a store that [blocks](ObjectStore::blocks).
    /// The default follows [`ObjectStore::blocks`]. A store whose writes
    /// land in a cache (files: the page cache) says no: the gateway then
    /// writes on the connection's task and sends only commits to the
    /// blocking pool, which measured 10–25% faster for large puts than a
    /// hop to the pool per batch (`docs/PERFORMANCE.md`).
    fn writes_block(&self) -> bool {
        self.blocks()
    }
}

/// An object being received.
pub trait Staging: Send {
    /// Appends the next bytes. They are shared, not copied: a store that
    /// keeps them for a while (an upload's part) may hold `bytes` itself.
    fn write(&mut self, bytes: Bytes) -> io::Result<()>;

    /// Makes the object visible under its id. Call only after the
    /// connection verified it.
    fn commit(self: Box<Self>) -> io::Result<()>;
}

/// A stored object being read, front to back.
pub trait ObjectReader: Send {
    /// The object's length in bytes.
    fn len(&self) -> u64;

    /// Bytes not read yet.
    fn remaining(&self) -> u64;

    /// Whether the object is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next bytes: at least one and at most `max` while any remain,
    /// none at the end. The read that would reach the end of an object
    /// whose bytes do not match its id fails instead with an
    /// [`io::Error`] of kind [`io::ErrorKind::InvalidData`] carrying a
    /// [`CorruptObject`], so the last bytes of a corrupted object are
    /// never handed out.
    fn read(&mut self, max: usize) -> io::Result<Bytes>;
}

/// Reads the whole object `obj` into memory (`None`: not stored). For
/// tests and small objects: the gateway streams instead.
pub fn read_all(store: &dyn ObjectStore, obj: &ObjectId) -> io::Result<Option<Bytes>> {
    let Some(mut reader) = store.open(obj)? else {
        return Ok(None);
    };
    let mut out = bytes::BytesMut::new();
    while reader.remaining() > 0 {
        out.extend_from_slice(&reader.read(1 << 20)?);
    }
    Ok(Some(out.freeze()))
}
