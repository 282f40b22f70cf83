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
    /// caller that assembles frames in a buffer it reuses: nothing is
    /// allocated but `dst`'s growth (the fast paths of HELLO, START, ACK and
    /// END write by hand; the rest serialise straight into `dst`).
    fn encode_into(&self, dst: &mut Vec<u8>) {
        // As infallible as `encode`; writing into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *dst, self);
    }

    /// The frame carrying this payload.
    fn to_frame(&self) -> Frame {
        Frame::new(Self::FRAME_TYPE, self.encode())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::ControlPayload;
    use crate::payload::fast_test_support::assert_encode_into_appends;
    use crate::payload::{ErrorCode, ErrorEnvelope, Hello};

    fn text() -> impl Strategy<Value = String> {
        // Escapes, multi-byte characters and plain ASCII alike.
        prop_oneof![any::<String>(), "[a-z0-9/._-]{0,12}"]
    }

    proptest! {
        /// The default `encode_into`, which serialises straight into the
        /// buffer, appends the very bytes `encode` returns.
        #[test]
        fn encode_into_appends_what_encode_returns(
            hello in text(),
            max_frame in any::<Option<u32>>(),
            credit in any::<Option<u64>>(),
            tenant in proptest::option::of(text()),
            token in proptest::option::of(text()),
            message in text(),
        ) {
            let hello = Hello {
                hello: hello.into(),
                max_frame,
                max_inflight: max_frame.map(|n| n / 2),
                credit,
                app_proto_id: None,
                tenant,
                token,
            };
            assert_encode_into_appends(&hello, &hello.encode())?;
            let error = ErrorEnvelope::new(ErrorCode::Busy, message);
            assert_encode_into_appends(&error, &error.encode())?;
        }
    }
}
