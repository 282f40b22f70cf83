//! Incremental hashing for objects that arrive in pieces.

use super::ObjectId;

/// Streaming BLAKE3 hasher producing an [`ObjectId`].
///
/// Feed the object's bytes in order with [`ObjectHasher::update`]; the result
/// equals [`ObjectId::of`] over the concatenation.
#[derive(Debug, Clone, Default)]
pub struct ObjectHasher {
    inner: blake3::Hasher,
    len: u64,
}

impl ObjectHasher {
    /// A hasher that has seen no bytes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next piece of the object.
    pub fn update(&mut self, bytes: &[u8]) -> &mut Self {
        self.inner.update(bytes);
        self.len += bytes.len() as u64;
        self
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no bytes have been hashed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The id of everything hashed so far (the hasher can keep going).
    pub fn finalize(&self) -> ObjectId {
        ObjectId(self.inner.finalize())
    }
}
