//! A peer that speaks raw frames, for hostile and legacy clients.

use std::io;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use oap_core::frame::{Frame, FrameEncoder, FrameType, StreamDecoder};
use oap_core::payload::{ControlPayload, ErrorEnvelope};
use oap_io::BoxStream;

/// Frames in and out over a stream, nothing else.
pub struct RawPeer {
    stream: BoxStream,
    decoder: StreamDecoder,
    pending: Vec<Frame>,
}

impl RawPeer {
    /// Wraps a connected stream.
    pub fn new(stream: BoxStream) -> Self {
        Self {
            stream,
            decoder: StreamDecoder::with_max_frame(u32::MAX),
            pending: Vec::new(),
        }
    }

    /// Sends raw bytes.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Sends a frame (no size check: the peer may be hostile on purpose).
    pub async fn send(&mut self, typ: FrameType, payload: &[u8]) -> io::Result<()> {
        let bytes = FrameEncoder::with_max_frame(u32::MAX)
            .to_bytes(typ, payload)
            .map_err(io::Error::other)?;
        self.send_raw(&bytes).await
    }

    /// Sends a control payload.
    pub async fn send_control<P: ControlPayload>(&mut self, p: &P) -> io::Result<()> {
        self.send(P::FRAME_TYPE, &p.encode()).await
    }

    /// The next frame; `None` at end of stream.
    pub async fn recv(&mut self) -> io::Result<Option<Frame>> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if !self.pending.is_empty() {
                return Ok(Some(self.pending.remove(0)));
            }
            let n = self.stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            let mut input = &buf[..n];
            while let Some(f) = self.decoder.feed(&mut input).map_err(io::Error::other)? {
                self.pending.push(f);
            }
        }
    }

    /// Reads frames until an ERROR and returns it (`None`: stream ended).
    pub async fn recv_error(&mut self) -> io::Result<Option<ErrorEnvelope>> {
        while let Some(f) = self.recv().await? {
            if f.typ == FrameType::Error {
                return ErrorEnvelope::decode(&f.payload)
                    .map(Some)
                    .map_err(io::Error::other);
            }
        }
        Ok(None)
    }

    /// Reads until the stream ends, returning the frames seen.
    pub async fn recv_until_eof(&mut self) -> io::Result<Vec<Frame>> {
        let mut out = Vec::new();
        while let Some(f) = self.recv().await? {
            out.push(f);
        }
        Ok(out)
    }
}
