//! An in-memory duplex that never yields at random. piper's pipe, behind
//! `oap_io::duplex`, returns `Pending` from one read or write in a hundred
//! (and wakes the task) to be fair to other tasks, so a test that counts
//! what one poll of the driver does cannot use it.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};
use oap_io::BoxStream;

/// One direction: the bytes written and not yet read, whether the writer
/// closed, and the reader waiting for either.
#[derive(Default)]
struct Direction {
    bytes: VecDeque<u8>,
    closed: bool,
    reader: Option<Waker>,
}

/// One end: reads what the other end wrote, writes what it will read.
struct End {
    inbox: Arc<Mutex<Direction>>,
    outbox: Arc<Mutex<Direction>>,
}

/// Two connected ends; writes take every byte at once (no bound: for
/// tests that move a few frames).
pub(crate) fn steady_duplex() -> (BoxStream, BoxStream) {
    let (a, b) = (Arc::default(), Arc::default());
    let one = End {
        inbox: Arc::clone(&a),
        outbox: Arc::clone(&b),
    };
    let other = End {
        inbox: b,
        outbox: a,
    };
    (Box::new(one), Box::new(other))
}

impl AsyncRead for End {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut inbox = self.inbox.lock().expect("a test's pipe");
        if inbox.bytes.is_empty() && !inbox.closed {
            inbox.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(inbox.bytes.len());
        for (to, from) in buf.iter_mut().zip(inbox.bytes.drain(..n)) {
            *to = from;
        }
        Poll::Ready(Ok(n))
    }
}

impl End {
    /// Changes the outgoing direction and wakes its reader.
    fn send(&self, f: impl FnOnce(&mut Direction)) {
        let reader = {
            let mut outbox = self.outbox.lock().expect("a test's pipe");
            f(&mut outbox);
            outbox.reader.take()
        };
        if let Some(w) = reader {
            w.wake();
        }
    }
}

impl AsyncWrite for End {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.send(|out| out.bytes.extend(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.send(|out| out.closed = true);
        Poll::Ready(Ok(()))
    }
}
