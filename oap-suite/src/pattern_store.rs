//! Objects that are never held: a store and a reader whose bytes are a
//! pattern computed from the offset, so a test can move objects far
//! larger than any buffer and measure what the transfer alone holds.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use oap_core::ObjectId;
use oap_core::object_id::ObjectHasher;
use oap_node::ObjectStore;
use oap_node::store::{ObjectReader, Staging};

/// Byte `offset` of the pattern with `salt` (the suite's `pattern`, at any
/// offset).
fn byte_at(offset: u64, salt: u8) -> u8 {
    (offset as u8).wrapping_mul(131) ^ salt
}

/// Fills `buf` with the pattern from `offset` on.
fn fill(buf: &mut [u8], offset: u64, salt: u8) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = byte_at(offset + i as u64, salt);
    }
}

/// The id of the `len`-byte pattern with `salt`, hashed piece by piece.
pub fn pattern_id(len: u64, salt: u8) -> ObjectId {
    let mut hasher = ObjectHasher::new();
    let mut buf = vec![0; 1 << 20];
    let mut at = 0;
    while at < len {
        let n = (len - at).min(buf.len() as u64) as usize;
        fill(&mut buf[..n], at, salt);
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    hasher.finalize()
}

/// An `AsyncRead` of the `len`-byte pattern with `salt`.
pub struct PatternReader {
    at: u64,
    len: u64,
    salt: u8,
}

impl PatternReader {
    /// The pattern's first `len` bytes.
    pub fn new(len: u64, salt: u8) -> Self {
        Self { at: 0, len, salt }
    }
}

impl futures_io::AsyncRead for PatternReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = (self.len - self.at).min(buf.len() as u64) as usize;
        fill(&mut buf[..n], self.at, self.salt);
        self.at += n as u64;
        Poll::Ready(Ok(n))
    }
}

/// A store of pattern objects: a put is checked byte by byte against the
/// pattern and only its length is kept; a get generates the bytes again.
#[derive(Clone)]
pub struct PatternStore {
    salt: u8,
    lens: Arc<Mutex<BTreeMap<ObjectId, u64>>>,
}

impl PatternStore {
    /// A store for patterns with `salt`.
    pub fn new(salt: u8) -> Self {
        Self {
            salt,
            lens: Arc::default(),
        }
    }

    fn lens(&self) -> std::sync::MutexGuard<'_, BTreeMap<ObjectId, u64>> {
        self.lens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct PatternStaging {
    store: PatternStore,
    obj: ObjectId,
    at: u64,
}

impl ObjectStore for PatternStore {
    fn begin(&self, obj: ObjectId, _total_len: u64) -> io::Result<Box<dyn Staging>> {
        Ok(Box::new(PatternStaging {
            store: self.clone(),
            obj,
            at: 0,
        }))
    }

    fn open(&self, obj: &ObjectId) -> io::Result<Option<Box<dyn ObjectReader>>> {
        let salt = self.salt;
        Ok(self
            .lens()
            .get(obj)
            .map(|&len| Box::new(PatternObject { len, at: 0, salt }) as _))
    }

    fn contains(&self, obj: &ObjectId) -> bool {
        self.lens().contains_key(obj)
    }
}

impl Staging for PatternStaging {
    fn write(&mut self, bytes: bytes::Bytes) -> io::Result<()> {
        let salt = self.store.salt;
        let at = self.at;
        if bytes
            .iter()
            .enumerate()
            .any(|(i, b)| *b != byte_at(at + i as u64, salt))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not the pattern",
            ));
        }
        self.at += bytes.len() as u64;
        Ok(())
    }

    fn commit(self: Box<Self>) -> io::Result<()> {
        self.store.lens().insert(self.obj, self.at);
        Ok(())
    }
}

struct PatternObject {
    len: u64,
    at: u64,
    salt: u8,
}

impl ObjectReader for PatternObject {
    fn len(&self) -> u64 {
        self.len
    }

    fn remaining(&self) -> u64 {
        self.len - self.at
    }

    fn read(&mut self, max: usize) -> io::Result<Bytes> {
        let n = (self.len - self.at).min(max as u64) as usize;
        let mut buf = BytesMut::zeroed(n);
        fill(&mut buf, self.at, self.salt);
        self.at += n as u64;
        Ok(buf.freeze())
    }
}
