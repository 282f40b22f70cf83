//! What a runtime hands the suite.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use oap_io::{BoxFuture, BoxStream, Runtime};
use oap_node::{ClientError, Upgrade};

/// Connects a client over TLS: `(addr, server_name, client config)`.
pub type TlsConnect = Arc<
    dyn Fn(
            SocketAddr,
            String,
            Arc<rustls::ClientConfig>,
        ) -> BoxFuture<'static, Result<oap_node::Client, ClientError>>
        + Send
        + Sync,
>;

/// A runtime under test.
#[derive(Clone)]
pub struct Harness {
    /// The runtime's pieces.
    pub runtime: Arc<dyn Runtime>,
    /// Server-side TLS for a config.
    pub tls_acceptor: Arc<dyn Fn(Arc<rustls::ServerConfig>) -> Upgrade + Send + Sync>,
    /// Client-side TLS.
    pub tls_connect: TlsConnect,
    /// An in-memory pipe pair (client end, server end).
    pub duplex: Arc<dyn Fn() -> (BoxStream, BoxStream) + Send + Sync>,
}

/// Runs `case`, failing if it takes longer than a minute: a hung case is a
/// failure with a message, not a stuck CI run.
pub async fn with_deadline<F: Future<Output = ()>>(h: Harness, case: F) {
    let deadline = h.runtime.now() + Duration::from_secs(60);
    let sleep = h.runtime.sleep_until(deadline);
    futures_lite::future::or(case, async {
        sleep.await;
        panic!("suite case did not finish within 60 s");
    })
    .await;
}

/// An in-memory full-duplex pipe pair of `futures-io` streams (for the
/// runtimes that use `futures-io` natively).
pub fn futures_io_duplex() -> (BoxStream, BoxStream) {
    oap_io::duplex(256 * 1024)
}
