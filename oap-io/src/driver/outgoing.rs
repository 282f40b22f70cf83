//! What the driver has taken from the connection and not yet written:
//! one buffer of frame bytes and, after it, at most one large DATA body
//! written as it is (see `Connection::poll_transmit`).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_io::AsyncWrite;
use oap_core::connection::Connection;

/// The write buffer's room kept once written out while no request is
/// open; a larger buffer is given back whole.
const IDLE_WRITE_ROOM: usize = 4 * 1024;

/// The same while requests are open: a batch of answers for every request
/// in flight fits, so a busy connection does not allocate it again for
/// each; a larger batch (up to `poll_transmit`'s 64 KiB) is shrunk to it.
const BUSY_WRITE_ROOM: usize = 16 * 1024;

/// Bytes taken from the connection, waiting for the transport.
#[derive(Default)]
pub(super) struct Outgoing {
    head: Vec<u8>,
    head_pos: usize,
    body: Option<Bytes>,
    body_pos: usize,
    /// Bytes were written since the last flush.
    pub(super) needs_flush: bool,
}

impl Outgoing {
    /// Nothing taken from the connection is left to write.
    pub(super) fn is_idle(&self) -> bool {
        self.head_pos == self.head.len() && self.body.is_none()
    }

    /// What is left to write includes a large DATA body.
    pub(super) fn has_body(&self) -> bool {
        self.body.is_some()
    }

    /// Writes what the connection has to send, then flushes (TLS
    /// included); `Ok(true)` if any byte went. For a caller that holds
    /// the connection throughout; the driver's main write releases it
    /// around each system call ([`Outgoing::refill`],
    /// [`Outgoing::poll_write_some`], [`Outgoing::poll_flush`]).
    pub(super) fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
        conn: &mut Connection,
        now: Instant,
    ) -> io::Result<bool> {
        let mut progress = false;
        while self.refill(conn, now) {
            match self.poll_write_some(io, cx) {
                Poll::Ready(Ok(())) => progress = true,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(progress),
            }
        }
        self.poll_flush(io, cx)?;
        Ok(progress)
    }

    /// Once everything taken is written, takes the connection's next
    /// bytes; `true` if there is something to write.
    pub(super) fn refill(&mut self, conn: &mut Connection, now: Instant) -> bool {
        if !self.is_idle() {
            return true;
        }
        self.head.clear();
        self.head_pos = 0;
        if conn.open_requests() == 0 {
            // An idle connection keeps a small buffer or none.
            if self.head.capacity() > IDLE_WRITE_ROOM {
                self.head = Vec::new();
            }
        } else {
            // Down to the room kept, not to nothing: a busy connection's
            // next batch grows from there instead of through every
            // doubling again.
            self.head.shrink_to(BUSY_WRITE_ROOM);
        }
        match conn.poll_transmit(now, &mut self.head) {
            Some(t) => {
                self.body = t.body.filter(|b| !b.is_empty());
                self.body_pos = 0;
                true
            }
            None => false,
        }
    }

    /// One write of what was taken (header and body as one vectored
    /// write); `Ready(Ok(()))` once some bytes went.
    pub(super) fn poll_write_some<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let head = &self.head[self.head_pos..];
        let body = self.body.as_ref().map_or(&[][..], |b| &b[self.body_pos..]);
        let slices = [IoSlice::new(head), IoSlice::new(body)];
        match Pin::new(&mut *io).poll_write_vectored(cx, &slices) {
            Poll::Ready(Ok(0)) => Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready(Ok(n)) => {
                self.advance(n);
                self.needs_flush = true;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Flushes what was written since the last flush (TLS buffers it);
    /// a flush still pending is retried at the next call.
    pub(super) fn poll_flush<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> io::Result<()> {
        if self.needs_flush {
            match Pin::new(io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => {}
            }
        }
        Ok(())
    }

    fn advance(&mut self, n: usize) {
        let in_head = (self.head.len() - self.head_pos).min(n);
        self.head_pos += in_head;
        let rest = n - in_head;
        if let Some(body) = &self.body {
            self.body_pos += rest;
            if self.body_pos >= body.len() {
                self.body = None;
            }
        }
    }
}
