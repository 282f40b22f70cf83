//! OAP/1 on tokio.
//!
//! This crate only supplies tokio's pieces — spawning, timers, TCP and TLS
//! (tokio-rustls) — to the shared `oap-io` driver; the protocol lives in
//! `oap-core` and the services in `oap-node`. tokio streams reach the
//! `futures-io` driver through tokio-util's `compat`.
//!
//! A gateway on a loopback port and a client that puts a document and
//! gets it back:
//!
//! ```
//! use runtime_tokio::GatewayConfig;
//! # type Error = Box<dyn std::error::Error>;
//! tokio::runtime::Runtime::new()?.block_on(async {
//!     let gateway = runtime_tokio::bind("127.0.0.1:0".parse()?, GatewayConfig::default()).await?;
//!     let addr = gateway.local_addr().expect("bound");
//!     let server = gateway.clone();
//!     tokio::spawn(async move { server.serve().await });
//!     let client = runtime_tokio::connect(addr).await?;
//!     let id = client.put_doc("docs", "hello", bytes::Bytes::from_static(b"hi")).await?;
//!     assert_eq!(&client.get(id).await?[..], b"hi");
//!     Ok::<(), Error>(())
//! })?;
//! # Ok::<(), Error>(())
//! ```

pub mod tls;
// `SO_REUSEPORT` spreads connections over the sockets on Linux only;
// elsewhere one socket of the group takes them all.
#[cfg(target_os = "linux")]
pub mod workers;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use oap_core::connection::ConnectionConfig;
use oap_io::{BoxFuture, BoxStream, Listener, Runtime};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

pub use oap_node::{
    Client, ClientError, DirStore, Gateway, GatewayConfig, MemStore, ObjectStore, Services,
    Subscription,
};

/// tokio's implementation of [`Runtime`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioRuntime;

/// The runtime, ready to hand to `oap-node`. Call from within a tokio
/// runtime (spawning and timers need one).
pub fn runtime() -> Arc<dyn Runtime> {
    Arc::new(TokioRuntime)
}

impl Runtime for TokioRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        tokio::spawn(future);
    }

    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send>) -> BoxFuture<'static, ()> {
        // On a connection worker, the pool of the runtime that started the
        // workers (see `workers`); elsewhere the current runtime's.
        #[cfg(target_os = "linux")]
        let task = match workers::blocking_pool() {
            Some(pool) => pool.spawn_blocking(work),
            None => tokio::task::spawn_blocking(work),
        };
        #[cfg(not(target_os = "linux"))]
        let task = tokio::task::spawn_blocking(work);
        // A panic in `work` shows as a JoinError; the caller notices the
        // missing result.
        Box::pin(async move {
            let _ = task.await;
        })
    }

    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let inner = tokio::net::TcpListener::bind(addr).await?;
            Ok(Box::new(TcpListener {
                inner,
                accepted: None,
            }) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxStream>> {
        Box::pin(async move { Ok(Box::new(connect_tcp(addr).await?.compat()) as BoxStream) })
    }
}

/// A TCP connection with Nagle off (the driver batches frames itself).
pub(crate) async fn connect_tcp(addr: SocketAddr) -> io::Result<tokio::net::TcpStream> {
    let s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// A listener whose connections have Nagle off, counting them if asked
/// to (a connection worker's, see [`workers`]).
struct TcpListener {
    inner: tokio::net::TcpListener,
    accepted: Option<Arc<AtomicU64>>,
}

impl Listener for TcpListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<(BoxStream, SocketAddr)>> {
        Box::pin(async move {
            let (s, peer) = self.inner.accept().await?;
            s.set_nodelay(true)?;
            if let Some(accepted) = &self.accepted {
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            Ok((Box::new(s.compat()) as BoxStream, peer))
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

oap_node::runtime_entry_points!("tokio");

/// Serves one connection on `gateway`, given as tokio reader and writer
/// halves (a socket's, or an in-memory `tokio::io::duplex`'s).
pub async fn handle_conn<R, W>(gateway: &Gateway, reader: R, writer: W) -> io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
    W: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    gateway
        .handle_conn(reader.compat(), writer.compat_write())
        .await
}

/// A client over any tokio stream (a duplex pipe, a TLS stream): completes
/// HELLO with `config`.
pub async fn connect_over<S>(stream: S, config: ConnectionConfig) -> Result<Client, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    Client::over(runtime(), stream.compat(), config, "oap/1").await
}
