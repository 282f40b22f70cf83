//! Object stores: content-addressed, written only after verification.
//!
//! A put streams into a [`Staging`] while the object's digest is still
//! unknown to be right; only [`Staging::commit`], called once the
//! connection reported the object verified, makes it visible. Dropping a
//! staging without committing leaves nothing behind.

mod dir;
mod mem;

pub use dir::DirStore;
pub use mem::MemStore;

use std::io;

use bytes::Bytes;
use oap_core::ObjectId;

/// Where objects live.
pub trait ObjectStore: Send + Sync + 'static {
    /// Starts receiving object `obj` of `total_len` bytes.
    fn begin(&self, obj: ObjectId, total_len: u64) -> io::Result<Box<dyn Staging>>;

    /// The object's bytes (`None`: not stored, or the stored bytes no
    /// longer match `obj`). A store whose bytes can change after
    /// [`Staging::commit`] (files on disk) must verify them again here.
    fn get(&self, obj: &ObjectId) -> io::Result<Option<Bytes>>;

    /// Whether `obj` is stored.
    fn contains(&self, obj: &ObjectId) -> bool;

    /// Whether [`ObjectStore::get`] and [`Staging::commit`] can wait on
    /// something slow (a disk's read, an fsync). The gateway then runs
    /// them on the runtime's blocking pool instead of the connection's
    /// task, which serves every request of the connection and shares its
    /// thread with other connections. In-memory stores say no (the
    /// default), which spares small requests a hop to another thread.
    fn blocks(&self) -> bool {
        false
    }
}

/// An object being received.
pub trait Staging: Send {
    /// Appends the next bytes.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Makes the object visible under its id. Call only after the
    /// connection verified it.
    fn commit(self: Box<Self>) -> io::Result<()>;
}
