//! What a runtime must supply: time, timers, spawning and TCP.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A byte stream the driver can run a connection over.
pub trait AsyncStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> AsyncStream for T {}

/// A type-erased stream (TCP, TLS over TCP, an in-memory pipe, ...).
pub type BoxStream = Box<dyn AsyncStream>;

/// The pieces of an async runtime the driver and servers need, in the
/// shape of quinn's `Runtime`. Implementations stay thin: no protocol
/// logic belongs here.
pub trait Runtime: Send + Sync + fmt::Debug + 'static {
    /// The current time. The only clock the protocol stack ever sees.
    fn now(&self) -> Instant;

    /// A future that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;

    /// Runs `future` in the background.
    fn spawn(&self, future: BoxFuture<'static, ()>);

    /// Runs CPU-bound `work` (hashing a large object) where it does not hold
    /// up other tasks, e.g. the runtime's blocking pool; the future
    /// completes once `work` has run. The default runs it at once, on the
    /// caller's thread.
    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send>) -> BoxFuture<'static, ()> {
        work();
        Box::pin(std::future::ready(()))
    }

    /// Listens for TCP connections on `addr`.
    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>>;

    /// Opens a TCP connection to `addr`.
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxStream>>;
}

/// A bound TCP listener.
pub trait Listener: Send + Sync {
    /// Waits for the next connection.
    fn accept(&self) -> BoxFuture<'_, io::Result<(BoxStream, SocketAddr)>>;

    /// The address actually bound (useful after binding port 0).
    fn local_addr(&self) -> io::Result<SocketAddr>;
}
