//! Object addressing: `b3:<64 lowercase hex>`, the BLAKE3-256 of the
//! plaintext object.
//!
//! A full [`ObjectId`] is the only thing that verifies bytes. A truncated
//! [`ObjectIdPrefix`] may route a request, never vouch for content.

mod hasher;
mod parse;
mod prefix;

pub use hasher::ObjectHasher;
use parse::HEX_PAIRS;
pub use parse::ObjectIdError;
pub(crate) use parse::decode_digest;
pub use prefix::ObjectIdPrefix;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// The scheme prefix of every object id.
pub const SCHEME: &str = "b3:";

/// Length of the hex digest in an object id.
pub const HEX_LEN: usize = 64;

/// A BLAKE3-256 object id.
///
/// Displays and serialises as `b3:<64 lowercase hex>`; parsing accepts only
/// that form (see [`ObjectIdError`] for what is refused and why).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ObjectId(blake3::Hash);

impl Hash for ObjectId {
    /// Feeds the hasher the digest's first eight bytes, not all 32 and
    /// their length: they are spread evenly already, and the maps keyed
    /// by ids hash them at every lookup (a store's index, a put's
    /// checks), where SipHash over 40 bytes cost twice as much. A peer
    /// that grinds contents for ids to collide in a map must still find
    /// ids equal in 64 bits, against a keyed hasher.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let [a, b, c, d, e, f, g, h, ..] = *self.0.as_bytes();
        state.write_u64(u64::from_le_bytes([a, b, c, d, e, f, g, h]));
    }
}

impl ObjectId {
    /// The id of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(blake3::hash(data))
    }

    /// Wraps a raw 32-byte digest.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(blake3::Hash::from_bytes(bytes))
    }

    /// The raw 32-byte digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Whether `data` hashes to this id. The digest comparison is constant
    /// time, so a forger learns nothing from how long a rejection takes.
    pub fn verify(&self, data: &[u8]) -> bool {
        blake3::hash(data) == self.0
    }

    /// Constant-time comparison with a digest computed elsewhere (e.g. by an
    /// [`ObjectHasher`]).
    pub fn matches(&self, other: &ObjectId) -> bool {
        self.0 == other.0
    }

    /// The 64 lowercase hex digits, without the scheme.
    pub fn to_hex(&self) -> String {
        self.0.to_hex().to_string()
    }

    /// The id as text, `b3:` and 64 lowercase hex digits, on the stack:
    /// the one writer of it, for `Display`, serde and the JSON fast paths.
    pub(crate) fn text(&self) -> Text {
        let mut text = [0u8; TEXT_LEN];
        let (scheme, hex) = text.split_at_mut(SCHEME.len());
        scheme.copy_from_slice(SCHEME.as_bytes());
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.as_bytes()) {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(*byte)]);
        }
        Text(text)
    }
}

/// Length of an id as text: `b3:` and 64 hex digits.
pub(crate) const TEXT_LEN: usize = SCHEME.len() + HEX_LEN;

/// An id as text ([`ObjectId::text`]): ASCII by construction.
pub(crate) struct Text([u8; TEXT_LEN]);

impl Text {
    /// The bytes, `b3:<64 lowercase hex>`.
    pub(crate) fn as_bytes(&self) -> &[u8; TEXT_LEN] {
        &self.0
    }

    /// The same as a string.
    pub(crate) fn as_str(&self) -> &str {
        // Only `b3:` and hex digits are ever written: always ASCII.
        std::str::from_utf8(&self.0).unwrap_or(SCHEME)
    }
}

/// Byte-wise order, so ids can key ordered maps. Not constant time: compare
/// digests for verification with [`ObjectId::matches`] or `==`.
impl Ord for ObjectId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialOrd for ObjectId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Written in one piece: each get's START carries an id as text, and
/// `to_string` through two writes grew its `String` twice.
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

impl FromStr for ObjectId {
    type Err = ObjectIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = parse::strip_scheme(s)?;
        if hex.len() != HEX_LEN {
            return Err(ObjectIdError::WrongLength { len: hex.len() });
        }
        let mut out = [0u8; 32];
        parse::decode_hex(hex, &mut out)?;
        Ok(Self::from_bytes(out))
    }
}

/// Serialised from a stack buffer: ids go into every DATA header, and
/// formatting through `Display` costs an allocation and a per-digit write.
impl serde::Serialize for ObjectId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text().as_str())
    }
}

/// Parsed from the borrowed string where the format allows, without an
/// intermediate `String`.
impl<'de> serde::Deserialize<'de> for ObjectId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ObjectId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object id \"b3:<64 lowercase hex>\"")
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<ObjectId, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}
