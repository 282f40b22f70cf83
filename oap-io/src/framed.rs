//! Raw frames over a stream, for tools, tests and peers that want to speak
//! OAP/1 frame by frame instead of through a `Connection`.

use std::collections::VecDeque;
use std::io;

use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use oap_core::frame::{Frame, FrameEncoder, StreamDecoder};

/// Reads and writes whole frames on `S`.
///
/// Reading is bounded like any decoder here (at most `max_frame + 6`
/// bytes buffered). Writing checks nothing beyond the encoder's
/// `max_frame`, so a test can play a hostile peer by raising it.
#[derive(Debug)]
pub struct FramedStream<S> {
    io: S,
    decoder: StreamDecoder,
    encoder: FrameEncoder,
    frames: VecDeque<Frame>,
    buf: Box<[u8]>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> FramedStream<S> {
    /// Frames on `io` with the default 1 MiB `max_frame` both ways.
    pub fn new(io: S) -> Self {
        Self::with_max_frame(io, oap_core::limits::DEFAULT_MAX_FRAME)
    }

    /// Frames on `io` with `max_frame` both ways.
    pub fn with_max_frame(io: S, max_frame: u32) -> Self {
        Self {
            io,
            decoder: StreamDecoder::with_max_frame(max_frame),
            encoder: FrameEncoder::with_max_frame(max_frame),
            frames: VecDeque::new(),
            buf: vec![0; 64 * 1024].into_boxed_slice(),
        }
    }

    /// Sends one frame and flushes.
    pub async fn send(&mut self, frame: &Frame) -> io::Result<()> {
        let bytes = self
            .encoder
            .to_bytes(frame.typ, &frame.payload)
            .map_err(io::Error::other)?;
        self.io.write_all(&bytes).await?;
        self.io.flush().await
    }

    /// Sends raw bytes (which need not be valid frames) and flushes.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.io.write_all(bytes).await?;
        self.io.flush().await
    }

    /// Closes the sending half (TCP `shutdown(SHUT_WR)`); frames can still
    /// be received.
    pub async fn close_write(&mut self) -> io::Result<()> {
        self.io.close().await
    }

    /// The next frame; `None` at a clean end of stream. A malformed stream
    /// or one cut inside a frame is an `InvalidData` error.
    pub async fn recv(&mut self) -> io::Result<Option<Frame>> {
        loop {
            if let Some(f) = self.frames.pop_front() {
                return Ok(Some(f));
            }
            let n = self.io.read(&mut self.buf).await?;
            if n == 0 {
                self.decoder
                    .finish()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                return Ok(None);
            }
            let mut input = &self.buf[..n];
            while let Some(f) = self
                .decoder
                .feed(&mut input)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                self.frames.push_back(f);
            }
        }
    }

    /// The stream back.
    pub fn into_inner(self) -> S {
        self.io
    }
}
