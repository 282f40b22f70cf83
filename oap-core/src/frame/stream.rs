//! A decoder that owns a bounded buffer, for hosts that push arbitrary chunks.

use std::hash::{Hash, Hasher};

use bytes::BytesMut;

use super::{DecodeError, DecodedFrame, Frame, FrameDecoder, FrameHeader};
use crate::limits::HEADER_LEN;

/// Incremental decoder with its own buffer, fed arbitrary chunks of input.
///
/// It takes from each input only the bytes that belong to the frame being
/// assembled, so its buffer never holds more than `max_frame + 6` bytes no
/// matter how much the caller pushes at once. The caller loops:
///
/// ```
/// # use oap_core::frame::StreamDecoder;
/// # let bytes_read: &[u8] = &[1, 4, 0, 0, 0, 0];
/// let mut dec = StreamDecoder::default();
/// let mut input = bytes_read;
/// while let Some(frame) = dec.feed(&mut input)? {
///     println!("{}", frame.typ);
/// }
/// assert!(input.is_empty()); // all bytes taken, partial frame kept inside
/// # Ok::<(), oap_core::frame::DecodeError>(())
/// ```
///
/// `feed` returns `Ok(None)` only once `input` is exhausted; at end of stream
/// call [`StreamDecoder::finish`] to learn whether a frame was cut short.
#[derive(Debug, Clone, Default)]
pub struct StreamDecoder {
    decoder: FrameDecoder,
    buf: BytesMut,
    header: Option<FrameHeader>,
}

impl StreamDecoder {
    /// A stream decoder that refuses payloads above `max_frame`.
    pub fn with_max_frame(max_frame: u32) -> Self {
        Self {
            decoder: FrameDecoder::with_max_frame(max_frame),
            ..Self::default()
        }
    }

    /// Hashes everything that decides what this decoder returns next: its
    /// limit, a latched error, the partial frame and its parsed header.
    /// Part of [`Connection::model_fingerprint`].
    ///
    /// [`Connection::model_fingerprint`]: crate::connection::Connection::model_fingerprint
    pub(crate) fn model_fingerprint<H: Hasher>(&self, h: &mut H) {
        let Self {
            decoder,
            buf,
            header,
        } = self;
        (decoder.max_frame(), decoder.error(), &buf[..], header).hash(h);
    }

    /// The largest payload accepted.
    pub fn max_frame(&self) -> u32 {
        self.decoder.max_frame()
    }

    /// Changes `max_frame` for every header not yet parsed.
    pub fn set_max_frame(&mut self, max_frame: u32) {
        self.decoder.set_max_frame(max_frame);
    }

    /// Bytes currently held for an incomplete frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Takes bytes from the front of `input` (advancing it) until one frame
    /// is complete or `input` is empty.
    pub fn feed(&mut self, input: &mut &[u8]) -> Result<Option<Frame>, DecodeError> {
        Ok(self.feed_ref(input)?.map(DecodedFrame::into_owned))
    }

    /// Like [`StreamDecoder::feed`], but a frame that lies whole in `input`
    /// (and nothing is held from earlier input) is handed out borrowed
    /// from it: no copy and no allocation. Only a frame split across
    /// inputs is assembled in the decoder's buffer. The limits and errors
    /// are the same on both paths: `feed` is this, made owned.
    pub fn feed_ref<'a>(
        &mut self,
        input: &mut &'a [u8],
    ) -> Result<Option<DecodedFrame<'a>>, DecodeError> {
        if let Some(e) = self.decoder.error() {
            return Err(e);
        }
        if self.buf.is_empty() {
            let src: &'a [u8] = input;
            let (used, frame) = self.decoder.decode_slice(src);
            if let Some(frame) = frame? {
                *input = &src[used..];
                return Ok(Some(DecodedFrame::Borrowed(frame)));
            }
        }
        loop {
            let want = match self.header {
                Some(h) => h.frame_len(),
                None => HEADER_LEN,
            };
            let take = (want - self.buf.len()).min(input.len());
            let (head, rest) = input.split_at(take);
            self.buf.extend_from_slice(head);
            *input = rest;
            if self.buf.len() < want {
                return Ok(None);
            }
            if self.header.is_none() {
                let Some(h) = self.decoder.peek_header(&self.buf)? else {
                    return Ok(None);
                };
                self.buf.reserve(h.len as usize);
                self.header = Some(h);
                continue;
            }
            self.header = None;
            return Ok(self.decoder.decode(&mut self.buf)?.map(DecodedFrame::Owned));
        }
    }

    /// Frees the buffer if no partial frame is in it and it holds more than
    /// `keep` bytes of room: after a large frame, an idle connection should
    /// not keep a frame-sized buffer. (Frames already handed out keep their
    /// own bytes alive; only the spare room is given up.)
    pub fn release_if_idle(&mut self, keep: usize) {
        if self.buf.is_empty() && self.buf.capacity() > keep {
            self.buf = BytesMut::new();
        }
    }

    /// Declares end of stream: an error if a frame was left incomplete.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        if let Some(e) = self.decoder.error() {
            return Err(e);
        }
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.decoder.latch(DecodeError::Truncated {
                buffered: self.buf.len(),
            }))
        }
    }
}
