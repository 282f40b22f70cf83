//! Encoding frames, with the same bounds the peer's decoder enforces.

use bytes::{BufMut, BytesMut};

use super::{EncodeError, Frame, FrameHeader, FrameType};
use crate::limits::{DEFAULT_MAX_FRAME, HEADER_LEN};

/// OAP/1 frame encoder.
///
/// Refuses any payload above its `max_frame`, so this side never emits a
/// frame the peer must reject. Set `max_frame` to the negotiated value once
/// the HELLO exchange is done.
#[derive(Debug, Clone, Copy)]
pub struct FrameEncoder {
    max_frame: u32,
}

impl Default for FrameEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameEncoder {
    /// An encoder with the default `max_frame` of 1 MiB.
    pub fn new() -> Self {
        Self::with_max_frame(DEFAULT_MAX_FRAME)
    }

    /// An encoder that refuses payloads longer than `max_frame`.
    pub fn with_max_frame(max_frame: u32) -> Self {
        Self { max_frame }
    }

    /// The largest payload this encoder emits.
    pub fn max_frame(&self) -> u32 {
        self.max_frame
    }

    /// Changes `max_frame` for later frames.
    pub fn set_max_frame(&mut self, max_frame: u32) {
        self.max_frame = max_frame;
    }

    /// The 6 header bytes for a payload of `payload_len` bytes.
    ///
    /// Use it to write header and payload separately (a vectored write), so
    /// a large body is never copied into a frame buffer.
    pub fn header(&self, typ: FrameType, payload_len: usize) -> Result<[u8; 6], EncodeError> {
        FrameHeader::for_payload(typ, payload_len, self.max_frame).map(FrameHeader::to_bytes)
    }

    /// Appends a whole frame to `dst`.
    pub fn encode(
        &self,
        typ: FrameType,
        payload: &[u8],
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let head = self.header(typ, payload.len())?;
        dst.reserve(HEADER_LEN + payload.len());
        dst.put_slice(&head);
        dst.put_slice(payload);
        Ok(())
    }

    /// Appends `frame` to `dst`.
    pub fn encode_frame(&self, frame: &Frame, dst: &mut BytesMut) -> Result<(), EncodeError> {
        self.encode(frame.typ, &frame.payload, dst)
    }

    /// Writes a whole frame into the front of `out` and returns its length.
    ///
    /// On [`EncodeError::BufferTooSmall`] nothing is written and the error
    /// says how many bytes are needed, so the caller can grow and retry.
    pub fn encode_to_slice(
        &self,
        typ: FrameType,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let head = self.header(typ, payload.len())?;
        let needed = HEADER_LEN + payload.len();
        let Some(dst) = out.get_mut(..needed) else {
            return Err(EncodeError::BufferTooSmall { needed });
        };
        let (h, p) = dst.split_at_mut(HEADER_LEN);
        h.copy_from_slice(&head);
        p.copy_from_slice(payload);
        Ok(needed)
    }

    /// Encodes a frame into a fresh buffer.
    pub fn to_bytes(&self, typ: FrameType, payload: &[u8]) -> Result<BytesMut, EncodeError> {
        let mut dst = BytesMut::new();
        self.encode(typ, payload, &mut dst)?;
        Ok(dst)
    }
}
