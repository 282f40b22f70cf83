//! Decoding frames out of a caller-owned buffer or slice.

use bytes::{Buf, BytesMut};

use super::{DecodeError, Frame, FrameHeader, FrameRef};
use crate::limits::{DEFAULT_MAX_FRAME, HEADER_LEN};

/// Incremental OAP/1 frame decoder.
///
/// The decoder holds no bytes itself: the caller appends what it reads to a
/// [`BytesMut`] and calls [`FrameDecoder::decode`] until it returns
/// `Ok(None)`, exactly as with tokio-util's `Decoder`. Each call removes at
/// most one whole frame from the buffer; a partial frame is left in place.
///
/// Errors are permanent: after the first error every call returns it again.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_frame: u32,
    failed: Option<DecodeError>,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A decoder with the default `max_frame` of 1 MiB.
    pub fn new() -> Self {
        Self::with_max_frame(DEFAULT_MAX_FRAME)
    }

    /// A decoder that refuses payloads longer than `max_frame` bytes.
    pub fn with_max_frame(max_frame: u32) -> Self {
        Self {
            max_frame,
            failed: None,
        }
    }

    /// The largest payload this decoder accepts.
    pub fn max_frame(&self) -> u32 {
        self.max_frame
    }

    /// Changes `max_frame` for every header not yet parsed (used once the
    /// HELLO exchange has settled the negotiated value).
    pub fn set_max_frame(&mut self, max_frame: u32) {
        self.max_frame = max_frame;
    }

    /// The error this decoder has latched, if any.
    pub fn error(&self) -> Option<DecodeError> {
        self.failed
    }

    /// Removes one whole frame from the front of `src`.
    ///
    /// Returns `Ok(None)` when `src` holds less than a frame; in that case it
    /// reserves room for the rest of the frame (its length is already
    /// validated, so the reservation is bounded by `max_frame`). The payload
    /// of the returned frame shares `src`'s allocation: no copy.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        let Some(hdr) = self.peek_header(src)? else {
            return Ok(None);
        };
        let total = hdr.frame_len();
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        let payload = src.split_to(hdr.len as usize).freeze();
        Ok(Some(Frame {
            typ: hdr.typ,
            payload,
        }))
    }

    /// Like [`FrameDecoder::decode`], for when the stream has ended: bytes
    /// left over that do not form a whole frame are an error.
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(self.latch(DecodeError::Truncated {
                buffered: src.len(),
            })),
        }
    }

    /// Decodes one frame from the front of `src` without copying.
    ///
    /// Returns how many bytes the frame occupied (0 when no whole frame is
    /// available or on error) and the frame, whose payload borrows `src`.
    /// The caller drops the consumed bytes before the next call.
    pub fn decode_slice<'a>(
        &mut self,
        src: &'a [u8],
    ) -> (usize, Result<Option<FrameRef<'a>>, DecodeError>) {
        let hdr = match self.peek_header(src) {
            Ok(Some(h)) => h,
            Ok(None) => return (0, Ok(None)),
            Err(e) => return (0, Err(e)),
        };
        let total = hdr.frame_len();
        match src.get(HEADER_LEN..total) {
            Some(payload) => (
                total,
                Ok(Some(FrameRef {
                    typ: hdr.typ,
                    payload,
                })),
            ),
            None => (0, Ok(None)),
        }
    }

    /// Validates the header at the front of `src`, if all 6 bytes are there.
    pub(super) fn peek_header(&mut self, src: &[u8]) -> Result<Option<FrameHeader>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let Some(head) = src.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        FrameHeader::parse(*head, self.max_frame)
            .map(Some)
            .map_err(|e| self.latch(e))
    }

    pub(super) fn latch(&mut self, e: DecodeError) -> DecodeError {
        self.failed = Some(e);
        e
    }
}
