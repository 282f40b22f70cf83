//! A peer that speaks raw frames, for hostile and legacy clients: a thin
//! layer of conveniences over [`oap_io::FramedStream`].

use std::io;

use oap_core::frame::{Frame, FrameType};
use oap_core::payload::{ControlPayload, ErrorEnvelope};
use oap_io::{BoxStream, FramedStream};

/// Frames in and out over a stream, nothing else. No size limits either
/// way: the peer may be hostile on purpose.
pub struct RawPeer {
    framed: FramedStream<BoxStream>,
}

impl RawPeer {
    /// Wraps a connected stream.
    pub fn new(stream: BoxStream) -> Self {
        Self {
            framed: FramedStream::with_max_frame(stream, u32::MAX),
        }
    }

    /// Wraps frames already set up (e.g. from `Client::into_io`).
    pub fn from_framed(framed: FramedStream<BoxStream>) -> Self {
        Self { framed }
    }

    /// Sends raw bytes.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.framed.send_raw(bytes).await
    }

    /// Sends a frame.
    pub async fn send(&mut self, typ: FrameType, payload: &[u8]) -> io::Result<()> {
        self.framed
            .send(&Frame::new(typ, bytes::Bytes::copy_from_slice(payload)))
            .await
    }

    /// Sends a control payload.
    pub async fn send_control<P: ControlPayload>(&mut self, p: &P) -> io::Result<()> {
        self.framed.send(&p.to_frame()).await
    }

    /// Closes the sending half (half-close); frames can still be received.
    pub async fn close_write(&mut self) -> io::Result<()> {
        self.framed.close_write().await
    }

    /// The next frame; `None` at end of stream.
    pub async fn recv(&mut self) -> io::Result<Option<Frame>> {
        self.framed.recv().await
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

    /// Reads frames up to and including the first END (or to the end of
    /// the stream), returning them; a read error ends the list too.
    pub async fn recv_until_eof_or_end(&mut self) -> Vec<oap_core::frame::Frame> {
        let mut out = Vec::new();
        while let Ok(Some(f)) = self.recv().await {
            let end = f.typ == FrameType::End;
            out.push(f);
            if end {
                break;
            }
        }
        out
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
