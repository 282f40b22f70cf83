//! What a runtime must supply: time, timers, spawning and TCP.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
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

    /// Runs `work` that would hold up other tasks (hashing a large object,
    /// waiting on a disk) elsewhere, e.g. on the runtime's blocking pool;
    /// the future completes once `work` has run. The default runs it at
    /// once, on the caller's thread. [`run_blocking`] passes a result back.
    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send>) -> BoxFuture<'static, ()> {
        work();
        Box::pin(std::future::ready(()))
    }

    /// Listens for TCP connections on `addr`.
    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>>;

    /// Opens a TCP connection to `addr`.
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxStream>>;
}

/// Runs `work` through [`Runtime::spawn_blocking`] and resolves with its
/// result, or `None` if it panicked there. The work starts at once; the
/// returned future only collects the result, so it can be moved into a
/// task.
pub fn run_blocking<T: Send + 'static>(
    runtime: &dyn Runtime,
    work: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = Option<T>> + Send + 'static {
    let slot = Arc::new(Mutex::new(None));
    let out = Arc::clone(&slot);
    let done = runtime.spawn_blocking(Box::new(move || {
        let value = work();
        *out.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
    }));
    async move {
        done.await;
        slot.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A bound TCP listener.
pub trait Listener: Send + Sync {
    /// Waits for the next connection.
    fn accept(&self) -> BoxFuture<'_, io::Result<(BoxStream, SocketAddr)>>;

    /// The address actually bound (useful after binding port 0).
    fn local_addr(&self) -> io::Result<SocketAddr>;
}
