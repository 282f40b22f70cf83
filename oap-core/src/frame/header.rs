//! The fixed 6-byte header and its validation.

use super::{DecodeError, EncodeError, FrameType};
use crate::limits::{HEADER_LEN, OAP_VERSION};

/// A validated frame header: a known type and a payload length within
/// `max_frame`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// Frame type.
    pub typ: FrameType,
    /// Payload length in bytes.
    pub len: u32,
}

impl FrameHeader {
    /// Validates the 6 header bytes against `max_frame`.
    ///
    /// All three checks happen here, from the header alone, so a hostile
    /// length is refused before a single payload byte is buffered.
    pub fn parse(bytes: [u8; HEADER_LEN], max_frame: u32) -> Result<Self, DecodeError> {
        if bytes[0] != OAP_VERSION {
            return Err(DecodeError::BadVersion(bytes[0]));
        }
        let typ = FrameType::from_u8(bytes[1]).ok_or(DecodeError::UnknownType(bytes[1]))?;
        let len = u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]);
        if len > max_frame {
            return Err(DecodeError::TooLarge {
                len,
                max: max_frame,
            });
        }
        Ok(Self { typ, len })
    }

    /// Builds a header for an outgoing payload of `len` bytes, refusing what
    /// the peer would have to reject.
    pub fn for_payload(typ: FrameType, len: usize, max_frame: u32) -> Result<Self, EncodeError> {
        match u32::try_from(len) {
            Ok(l) if l <= max_frame => Ok(Self { typ, len: l }),
            _ => Err(EncodeError::TooLarge {
                len,
                max: max_frame,
            }),
        }
    }

    /// The wire bytes of this header.
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let l = self.len.to_be_bytes();
        [OAP_VERSION, self.typ.as_u8(), l[0], l[1], l[2], l[3]]
    }

    /// Header plus payload length.
    pub fn frame_len(self) -> usize {
        HEADER_LEN + self.len as usize
    }
}
