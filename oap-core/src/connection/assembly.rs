//! Reassembly and verification of one incoming object.

use std::hash::{Hash, Hasher};

use super::Violation;
use crate::object_id::{ObjectHasher, ObjectId};
use crate::payload::DataHeader;

/// An object whose DATA frames are arriving.
#[derive(Debug)]
pub(crate) struct Assembly {
    obj: ObjectId,
    total_len: u64,
    next_offset: u64,
    e2e: bool,
    hasher: ObjectHasher,
}

/// Everything that decides how the object goes on, for
/// [`Connection::model_fingerprint`](super::Connection::model_fingerprint):
/// the hasher by the digest of the bytes it has seen, since two objects
/// with equal offsets but different bytes so far end differently.
impl Hash for Assembly {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let Self {
            obj,
            total_len,
            next_offset,
            e2e,
            hasher,
        } = self;
        (obj, total_len, next_offset, e2e, hasher.finalize()).hash(h);
    }
}

/// What a DATA frame did to the object it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// More bytes are expected.
    Partial,
    /// The last byte arrived and the digest matches.
    Verified { obj: ObjectId, len: u64, e2e: bool },
    /// The last byte arrived and the digest does not match.
    DigestMismatch { obj: ObjectId },
}

impl Assembly {
    /// Starts an object with its first frame's header. `None` for the
    /// whole-object form (no `total_len`): the frame's body is all of it.
    pub(super) fn begin(header: &DataHeader, body_len: u64) -> Result<Self, Violation> {
        if header.offset_or_zero() != 0 {
            return Err(Violation::FirstDataNotAtZero);
        }
        Ok(Self {
            obj: header.obj,
            total_len: header.total_len.unwrap_or(body_len),
            next_offset: 0,
            e2e: header.e2e,
            hasher: ObjectHasher::new(),
        })
    }

    pub(super) fn obj(&self) -> ObjectId {
        self.obj
    }

    pub(super) fn total_len(&self) -> u64 {
        self.total_len
    }

    /// Offset the next body starts at.
    pub(super) fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// Feeds the next frame of this object.
    pub(super) fn push(&mut self, header: &DataHeader, body: &[u8]) -> Result<Progress, Violation> {
        if header.obj != self.obj {
            return Err(Violation::ObjectInterleaved);
        }
        if header.total_len.unwrap_or(self.total_len) != self.total_len {
            return Err(Violation::TotalLenChanged);
        }
        if header.e2e != self.e2e {
            return Err(Violation::E2eChanged);
        }
        if header.offset_or_zero() != self.next_offset {
            return Err(Violation::OffsetGap);
        }
        let end = self.next_offset.checked_add(body.len() as u64);
        if end.is_none_or(|e| e > self.total_len) {
            return Err(Violation::PastTotalLen);
        }
        self.hasher.update(body);
        self.next_offset += body.len() as u64;
        if self.next_offset < self.total_len {
            return Ok(Progress::Partial);
        }
        // The digest comparison is constant time (blake3::Hash's Eq).
        Ok(if self.hasher.finalize().matches(&self.obj) {
            Progress::Verified {
                obj: self.obj,
                len: self.total_len,
                e2e: self.e2e,
            }
        } else {
            Progress::DigestMismatch { obj: self.obj }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(obj: ObjectId, offset: u64, total: u64) -> DataHeader {
        DataHeader {
            offset: Some(offset),
            total_len: Some(total),
            ..DataHeader::for_object(obj)
        }
    }

    #[test]
    fn verifies_only_when_every_byte_matches() {
        let data = b"0123456789";
        let obj = ObjectId::of(data);
        let mut a = Assembly::begin(&hdr(obj, 0, 10), 4).expect("begin");
        assert_eq!(a.push(&hdr(obj, 0, 10), &data[..4]), Ok(Progress::Partial));
        assert_eq!(
            a.push(&hdr(obj, 4, 10), b"45678X"),
            Ok(Progress::DigestMismatch { obj })
        );

        let mut a = Assembly::begin(&hdr(obj, 0, 10), 4).expect("begin");
        a.push(&hdr(obj, 0, 10), &data[..4]).expect("first");
        assert_eq!(
            a.push(&hdr(obj, 4, 10), &data[4..]),
            Ok(Progress::Verified {
                obj,
                len: 10,
                e2e: false
            })
        );
    }

    #[test]
    fn refuses_gaps_overlaps_overruns_and_changes() {
        let obj = ObjectId::of(b"0123456789");
        let fresh = || {
            let mut a = Assembly::begin(&hdr(obj, 0, 10), 4).expect("begin");
            a.push(&hdr(obj, 0, 10), b"0123").expect("first");
            a
        };
        assert!(fresh().push(&hdr(obj, 5, 10), b"5").is_err(), "gap");
        assert!(fresh().push(&hdr(obj, 3, 10), b"3").is_err(), "overlap");
        assert!(
            fresh().push(&hdr(obj, 4, 10), b"4567890").is_err(),
            "overrun"
        );
        assert!(
            fresh().push(&hdr(obj, 4, 11), b"4").is_err(),
            "total_len changed"
        );
        let other = ObjectId::of(b"other");
        assert!(
            fresh().push(&hdr(other, 4, 10), b"4").is_err(),
            "interleaved object"
        );
        assert!(
            Assembly::begin(&hdr(obj, 4, 10), 1).is_err(),
            "must start at 0"
        );
    }
}
