//! The common encode/decode path of JSON control payloads.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{PayloadError, json};
use crate::frame::{Frame, FrameType};

/// A JSON payload of one control frame type.
pub trait ControlPayload: Serialize + DeserializeOwned {
    /// The frame type that carries this payload.
    const FRAME_TYPE: FrameType;

    /// Parses a payload with the size and nesting bounds applied.
    fn decode(payload: &[u8]) -> Result<Self, PayloadError> {
        json::from_slice_bounded(payload)
    }

    /// Serialises to JSON bytes.
    fn encode(&self) -> Bytes {
        // Serialising these plain structs cannot fail: no maps with
        // non-string keys, no custom serialisers that error.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Appends the bytes [`ControlPayload::encode`] returns to `dst`, for a
    /// caller that assembles frames in a buffer it reuses: the fast paths
    /// (START, ACK, END) then allocate nothing of their own.
    fn encode_into(&self, dst: &mut Vec<u8>) {
        dst.extend_from_slice(&self.encode());
    }

    /// The frame carrying this payload.
    fn to_frame(&self) -> Frame {
        Frame::new(Self::FRAME_TYPE, self.encode())
    }
}
