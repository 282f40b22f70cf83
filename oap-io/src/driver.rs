//! The connection driver: one future per connection that reads, writes,
//! runs the timer and lets the application react, on any runtime.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};
use oap_core::connection::Connection;

use crate::Runtime;

mod outgoing;
mod timer;

use outgoing::Outgoing;
use timer::Timer;

/// Bytes read per `poll_read` at most: large reads mean fewer wake-ups
/// and system calls per byte, and the buffer is per thread, not per
/// connection. No more than a legacy request may take past its window.
const READ_BUF: usize = oap_core::limits::LEGACY_READ_SLACK;

/// A read's frames go to the connection until this many bytes of them or
/// [`ANSWER_AFTER_REQUESTS`] new requests went in; if they started
/// requests, what those asked for is answered (events handled, output
/// written) before the rest of the read is taken
/// ([`Connection::handle_some_input`]). The peer works on those answers
/// meanwhile, instead of the two sides taking turns a whole window at a
/// time. About six 1 KiB puts.
const ANSWER_AFTER_BYTES: usize = 8 * 1024;
/// See [`ANSWER_AFTER_BYTES`]: a quarter of the default window of
/// requests (small gets bring little input but ask for much output).
const ANSWER_AFTER_REQUESTS: u64 = 8;

thread_local! {
    /// The read buffer, one per thread rather than per connection: the
    /// connection copies what it needs out of it before the read returns,
    /// so an idle connection costs no read buffer at all.
    static READ_SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF].into_boxed_slice());
}

/// Reads once from `io` into the thread's scratch buffer and hands the
/// bytes to `f`, with the stream and the context back for writing
/// (`Ok(0)`: end of stream).
fn read_with<S: AsyncRead + Unpin>(
    io: &mut S,
    cx: &mut Context<'_>,
    f: impl FnOnce(&mut S, &mut Context<'_>, &[u8]),
) -> Poll<io::Result<usize>> {
    let read = |buf: &mut [u8]| match Pin::new(&mut *io).poll_read(cx, buf) {
        Poll::Ready(Ok(n)) => {
            f(io, cx, &buf[..n]);
            Poll::Ready(Ok(n))
        }
        other => other,
    };
    READ_SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => read(&mut buf),
        // Only if a stream's poll_read drove another driver on this thread.
        Err(_) => read(&mut vec![0; READ_BUF]),
    })
}

/// Rounds of read/react/write per poll before yielding to other tasks.
const ROUNDS_PER_POLL: usize = 32;

/// The application side of a driven connection.
///
/// The driver calls [`Endpoint::handle_events`] after every input, timer
/// and write, with the lock held: drain the connection's (or its role
/// wrapper's) events there and issue commands. Work that must wait (on the
/// bus, on a store) happens in other tasks, which reach the endpoint through
/// [`EndpointHandle::with`].
pub trait Endpoint: Send + 'static {
    /// The connection being driven.
    fn connection(&mut self) -> &mut Connection;

    /// Drains and reacts to events. Must leave no event undrained.
    fn handle_events(&mut self, now: Instant);

    /// Whether the application wants the stream back (see
    /// [`ConnectionDriver::on_detach`]). The driver hands it over once
    /// nothing is left to write.
    fn wants_detach(&self) -> bool {
        false
    }

    /// The driver stopped: the connection closed or its stream was
    /// detached (`None`), or the transport failed. Called exactly once.
    fn on_driver_exit(&mut self, error: Option<&io::Error>) {
        let _ = error;
    }
}

struct Shared<E> {
    endpoint: E,
    driver: Option<Waker>,
    finished: bool,
}

/// Shared access to an [`Endpoint`] from the driver and application tasks.
pub struct EndpointHandle<E> {
    shared: Arc<Mutex<Shared<E>>>,
}

impl<E> Clone for EndpointHandle<E> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<E: Endpoint> EndpointHandle<E> {
    /// Wraps `endpoint`; hand a clone to [`ConnectionDriver::new`].
    pub fn new(endpoint: E) -> Self {
        Self {
            shared: Arc::new(Mutex::new(Shared {
                endpoint,
                driver: None,
                finished: false,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared<E>> {
        // A panic in another holder leaves plain data behind; keep going.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the endpoint, then wakes the driver so whatever `f`
    /// queued is sent. Never hold this across an await.
    pub fn with<R>(&self, f: impl FnOnce(&mut E) -> R) -> R {
        let (r, waker) = {
            let mut s = self.lock();
            let r = f(&mut s.endpoint);
            (r, s.driver.clone())
        };
        if let Some(w) = waker {
            w.wake();
        }
        r
    }

    /// Runs `f` on the endpoint without waking the driver: for reads, and
    /// for registering wakers. If `f` turns out to have queued something
    /// after all, call [`EndpointHandle::wake`].
    pub fn peek<R>(&self, f: impl FnOnce(&mut E) -> R) -> R {
        f(&mut self.lock().endpoint)
    }

    /// Wakes the driver, so that what a [`EndpointHandle::peek`] queued is
    /// sent. [`EndpointHandle::with`] does this itself.
    pub fn wake(&self) {
        let waker = self.lock().driver.clone();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Whether the driver has stopped.
    pub fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// A handle that does not keep the endpoint alive.
    pub fn downgrade(&self) -> WeakEndpointHandle<E> {
        WeakEndpointHandle {
            shared: Arc::downgrade(&self.shared),
        }
    }
}

/// A non-owning [`EndpointHandle`], for background tasks that should stop
/// once the connection is gone.
pub struct WeakEndpointHandle<E> {
    shared: std::sync::Weak<Mutex<Shared<E>>>,
}

impl<E> Clone for WeakEndpointHandle<E> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<E> WeakEndpointHandle<E> {
    /// The handle, if the endpoint still exists.
    pub fn upgrade(&self) -> Option<EndpointHandle<E>> {
        self.shared
            .upgrade()
            .map(|shared| EndpointHandle { shared })
    }
}

/// Drives one connection over `io` until it closes.
///
/// It reads whenever bytes are available — also while a write is pending,
/// so a peer blocked on its own write is never deadlocked against this
/// side — feeds the connection, lets the endpoint react, writes what the
/// connection produced (header and body as one vectored write, so large
/// bodies are not copied), flushes after each batch (TLS included), and
/// arms the runtime's timer at the connection's next deadline.
///
/// Resolves once the connection is closed and its last bytes are flushed,
/// or with the transport's error.
pub struct ConnectionDriver<E, S> {
    handle: EndpointHandle<E>,
    /// `None` only once the stream was handed back by `on_detach`.
    io: Option<S>,
    on_detach: Option<Box<dyn FnOnce(S) + Send>>,
    runtime: Arc<dyn Runtime>,
    read_done: bool,
    out: Outgoing,
    /// Since when bytes have waited for the transport without any being
    /// taken (see [`ConnectionConfig::write_timeout`]).
    ///
    /// [`ConnectionConfig::write_timeout`]: oap_core::connection::ConnectionConfig::write_timeout
    write_wait: Option<Instant>,
    timer: Option<Timer>,
}

impl<E: Endpoint, S: AsyncRead + AsyncWrite + Unpin> ConnectionDriver<E, S> {
    /// A driver for the endpoint behind `handle`, over `io`.
    pub fn new(runtime: Arc<dyn Runtime>, io: S, handle: EndpointHandle<E>) -> Self {
        Self {
            handle,
            io: Some(io),
            on_detach: None,
            runtime,
            read_done: false,
            out: Outgoing::default(),
            write_wait: None,
            timer: None,
        }
    }

    /// Lets the application take the stream back: when its endpoint
    /// [`wants_detach`](Endpoint::wants_detach) and all output is written,
    /// the driver stops and passes the stream to `f`.
    pub fn on_detach(mut self, f: impl FnOnce(S) + Send + 'static) -> Self {
        self.on_detach = Some(Box::new(f));
        self
    }

    fn write_idle(&self) -> bool {
        self.out.is_idle()
    }

    /// Notes whether bytes are waiting for the transport (`waiting`) after
    /// a write attempt that took some (`wrote`) or none.
    fn note_write_wait(&mut self, now: Instant, waiting: bool, wrote: bool) {
        if !waiting || wrote {
            self.write_wait = None;
        }
        if waiting {
            self.write_wait.get_or_insert(now);
        }
    }

    /// When the bytes waiting for the transport must have been taken.
    fn write_deadline(&self, conn: &Connection) -> Option<Instant> {
        Some(self.write_wait? + conn.config().write_timeout?)
    }

    /// The transport took nothing for the write timeout: the peer stopped
    /// reading.
    fn write_expired(&self, conn: &Connection, now: Instant) -> Option<io::Error> {
        self.write_deadline(conn).filter(|d| *d <= now).map(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer took no bytes within the write timeout",
            )
        })
    }

    /// Fires the connection's timer if due; re-arms it otherwise.
    ///
    /// The idle deadline moves later with every input, so the armed timer
    /// is replaced only by an *earlier* deadline; one that now fires too
    /// early just finds nothing due and is re-armed for the real deadline.
    /// Creating a timer costs a registration with the runtime's timer
    /// (a lock and a reactor wake-up on async-io), which would otherwise
    /// be paid per frame. It is armed no later than
    /// [`Connection::soonest_new_deadline`], so that a new deadline
    /// seldom comes before it.
    ///
    /// The write deadline shares the timer: when it fires, the caller's
    /// next round finds it expired.
    fn poll_timer(&mut self, cx: &mut Context<'_>, conn: &mut Connection, now: Instant) -> bool {
        let deadline = [conn.poll_timeout(), self.write_deadline(conn)]
            .into_iter()
            .flatten()
            .min();
        let Some(deadline) = deadline else {
            self.timer = None;
            return false;
        };
        if deadline <= now {
            if conn.poll_timeout().is_some_and(|d| d <= now) {
                conn.handle_timeout(now);
            }
            self.timer = None;
            return true;
        }
        if self.timer.as_ref().is_none_or(|t| t.deadline() > deadline) {
            // Armed early enough for any deadline a later input sets, so
            // that the first request's does not cost a second timer. Not
            // at `now`, though (a zero timeout): that would fire at once,
            // again and again.
            let arm_at = conn
                .soonest_new_deadline(now)
                .filter(|soonest| *soonest > now)
                .map_or(deadline, |soonest| soonest.min(deadline));
            self.timer = Some(Timer::new(&*self.runtime, arm_at));
        }
        let fired = self.timer.as_mut().is_some_and(|t| t.poll(cx));
        if fired {
            self.timer = None;
            let now = self.runtime.now();
            if conn.poll_timeout().is_some_and(|d| d <= now) {
                conn.handle_timeout(now);
            }
        }
        fired
    }
}

impl<E: Endpoint, S: AsyncRead + AsyncWrite + Unpin> Future for ConnectionDriver<E, S> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let handle = this.handle.clone();
        let mut shared = handle.lock();
        if !shared
            .driver
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            shared.driver = Some(cx.waker().clone());
        }
        // Once a read found nothing, the transport holds this task's waker
        // for the next bytes: reading again in a later round of this poll
        // would be a system call that finds nothing again.
        let mut read_blocked = false;
        // The last round left nothing to do but read until the transport
        // holds the waker: everything queued was written, every event
        // handled, the timer armed. If that read finds nothing, the rest
        // of a round would find nothing either.
        let mut only_read_left = false;
        for _ in 0..ROUNDS_PER_POLL {
            // Set only by a round that ran to its end.
            let only_read = std::mem::take(&mut only_read_left);
            let now = this.runtime.now();
            let ep = &mut shared.endpoint;
            // The read took bytes or found the end of the stream.
            let mut read_progress = false;
            let Some(io) = this.io.as_mut() else {
                return Poll::Ready(Ok(()));
            };
            // A legacy request with a full window: not reading is its
            // backpressure, until the endpoint reads (below, or from
            // another task, which wakes this one).
            let paused = !this.read_done && !ep.connection().wants_input();
            if !this.read_done && !paused && !read_blocked {
                let out = &mut this.out;
                let mut write_failed = None;
                let read = read_with(io, cx, |io, cx, mut bytes| {
                    while !bytes.is_empty() {
                        let conn = ep.connection();
                        let started = conn.stats().requests_started;
                        let taken = conn.handle_some_input(
                            now,
                            bytes,
                            ANSWER_AFTER_BYTES,
                            ANSWER_AFTER_REQUESTS,
                        );
                        bytes = &bytes[taken..];
                        // Only new requests wait for answers worth sending
                        // early; the rest of an object's bytes just go on
                        // in, as one batch for the endpoint.
                        let asked = conn.stats().requests_started > started;
                        if bytes.is_empty() || !asked || write_failed.is_some() {
                            continue;
                        }
                        // Answer what came so far before taking the rest.
                        ep.handle_events(now);
                        if let Err(e) = out.poll_write(io, cx, ep.connection(), now) {
                            write_failed = Some(e);
                        }
                    }
                });
                if let Some(e) = write_failed {
                    return Poll::Ready(Err(fail(&mut shared, e, now)));
                }
                match read {
                    Poll::Ready(Ok(0)) => {
                        this.read_done = true;
                        ep.connection().handle_eof(now);
                        read_progress = true;
                    }
                    Poll::Ready(Ok(_)) => read_progress = true,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(fail(&mut shared, e, now))),
                    Poll::Pending => read_blocked = true,
                }
            }
            if only_read && !read_progress {
                // Whatever arrives from here on wakes this task: the
                // transport, the timer, or another task's command
                // ([`EndpointHandle::with`]).
                if this.poll_timer(cx, ep.connection(), now) {
                    continue;
                }
                return Poll::Pending;
            }
            // Whether this round leaves more than reading to the next.
            let mut more = this.poll_timer(cx, ep.connection(), now);
            ep.handle_events(now);
            if paused && ep.connection().wants_input() {
                more = true;
            }
            // Writes of frames alone run without the endpoint's lock: tasks
            // on other threads issue requests and collect results
            // meanwhile, instead of sleeping on the lock for a write's
            // duration. A large body is written with the lock held: its
            // producer would otherwise hand over each next piece during the
            // write and wake the driver for it, which on async-std cost
            // large transfers 15-30% (docs/PERFORMANCE.md).
            let mut wrote = false;
            let mut write_pending = false;
            let mut written = Ok(());
            let mut body_written = false;
            while let Some(io) = this.io.as_mut() {
                if !this.out.refill(shared.endpoint.connection(), now) {
                    let out = &mut this.out;
                    let flushed;
                    (shared, flushed) =
                        locked_if(body_written, shared, &handle, || out.poll_flush(io, cx));
                    written = flushed;
                    break;
                }
                let body = this.out.has_body();
                body_written |= body;
                let out = &mut this.out;
                let write;
                (shared, write) = locked_if(body, shared, &handle, || out.poll_write_some(io, cx));
                match write {
                    Poll::Ready(Ok(())) => wrote = true,
                    Poll::Ready(Err(e)) => {
                        written = Err(e);
                        break;
                    }
                    Poll::Pending => {
                        write_pending = true;
                        break;
                    }
                }
            }
            if let Err(e) = written {
                return Poll::Ready(Err(fail(&mut shared, e, now)));
            }
            let waiting = !this.write_idle() || this.out.needs_flush;
            this.note_write_wait(now, waiting, wrote);
            if let Some(e) = this.write_expired(shared.endpoint.connection(), now) {
                return Poll::Ready(Err(fail(&mut shared, e, now)));
            }
            // Draining the queue may have completed a close.
            shared.endpoint.handle_events(now);
            // After input or a write, another whole round only if that
            // left something: bytes queued since the queue ran dry (the
            // next round writes what this takes), or an event (a close
            // completed). A full transport wakes this task itself.
            if !write_pending && (wrote || read_progress) {
                let conn = shared.endpoint.connection();
                more |= this.out.refill(conn, now) || conn.has_events();
            }
            let ep = &mut shared.endpoint;
            if ep.wants_detach() && this.write_idle() && !this.out.needs_flush {
                if let (Some(give), Some(io)) = (this.on_detach.take(), this.io.take()) {
                    shared.finished = true;
                    // The driver stops here as surely as on a close: the
                    // endpoint settles what waits on it before the stream
                    // changes hands.
                    shared.endpoint.on_driver_exit(None);
                    tracing::debug!("stream detached");
                    give(io);
                    return Poll::Ready(Ok(()));
                }
            }
            if ep.connection().is_closed() && this.write_idle() {
                let Some(io) = this.io.as_mut() else {
                    return Poll::Ready(Ok(()));
                };
                return match Pin::new(io).poll_close(cx) {
                    // Closing waits for the transport too (a TLS
                    // close_notify the peer never reads): bounded as well.
                    Poll::Pending => {
                        this.note_write_wait(now, true, false);
                        let conn = shared.endpoint.connection();
                        if let Some(e) = this.write_expired(conn, now) {
                            return Poll::Ready(Err(fail(&mut shared, e, now)));
                        }
                        if this.poll_timer(cx, conn, now) {
                            continue;
                        }
                        Poll::Pending
                    }
                    Poll::Ready(_) => {
                        shared.finished = true;
                        shared.endpoint.on_driver_exit(None);
                        Poll::Ready(Ok(()))
                    }
                };
            }
            if !read_progress && !more {
                // The endpoint may have moved a deadline earlier while it
                // reacted (a subscription's keepalive, say): arm the timer
                // for it before sleeping, or it would wait for the old one.
                if this.poll_timer(cx, ep.connection(), now) {
                    continue;
                }
                return Poll::Pending;
            }
            only_read_left = !more;
        }
        // Plenty done this poll: let other tasks run, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Runs `f` with the endpoint's lock (`guard`) held if `keep`, else
/// without it, taking it again after; returns the guard and what `f`
/// returned.
fn locked_if<'a, E: Endpoint, T>(
    keep: bool,
    guard: MutexGuard<'a, Shared<E>>,
    handle: &'a EndpointHandle<E>,
    f: impl FnOnce() -> T,
) -> (MutexGuard<'a, Shared<E>>, T) {
    if keep {
        let out = f();
        return (guard, out);
    }
    drop(guard);
    let out = f();
    (handle.lock(), out)
}

/// The transport failed: abort the connection and tell the endpoint.
fn fail<E: Endpoint>(shared: &mut Shared<E>, e: io::Error, now: Instant) -> io::Error {
    // Logged once, here, in the caller's connection span (if it gave the
    // driver one). A peer that stops reading is worth an operator's look;
    // a reset or a vanished peer is everyday.
    if e.kind() == io::ErrorKind::TimedOut {
        tracing::info!(error = %e, "closed: timed out on the transport");
    } else {
        tracing::debug!(error = %e, "closed: the transport failed");
    }
    shared.endpoint.connection().abort();
    shared.endpoint.handle_events(now);
    shared.finished = true;
    shared.endpoint.on_driver_exit(Some(&e));
    e
}
