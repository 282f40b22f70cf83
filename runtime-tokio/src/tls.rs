//! TLS through tokio-rustls (rustls 0.23).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use oap_core::connection::ConnectionConfig;
use oap_io::BoxStream;
use oap_node::{ClientError, Gateway, Upgrade, Upgraded};
use tokio_rustls::rustls::pki_types::ServerName;
pub use tokio_rustls::rustls::{ClientConfig, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_util::compat::{FuturesAsyncReadCompatExt, TokioAsyncReadCompatExt};

use crate::runtime;

/// The upgrade that runs a TLS server handshake on each accepted stream,
/// reporting the verified client certificate's name (mutual TLS). Build
/// `config` with [`oap_node::tls::server_config`] for ALPN `oap/1` and
/// client certificates.
pub fn acceptor(config: Arc<ServerConfig>) -> Upgrade {
    reloadable_acceptor(oap_node::tls::ServerTls::new(config))
}

/// [`acceptor`] with the configuration `tls` holds at each handshake, so
/// replacing it (a reload) changes new handshakes only.
pub fn reloadable_acceptor(tls: Arc<oap_node::tls::ServerTls>) -> Upgrade {
    Arc::new(move |stream: BoxStream| {
        let acceptor = TlsAcceptor::from(tls.current());
        Box::pin(async move {
            let tls = acceptor.accept(stream.compat()).await?;
            let certificate_name =
                oap_node::tls::certificate_name(tls.get_ref().1.peer_certificates());
            Ok(Upgraded {
                stream: Box::new(tls.compat()),
                certificate_name,
            })
        })
    })
}

/// Serves TLS on `addr` until shutdown (every connection's handshake runs
/// in its own task, bounded by the handshake timeout).
pub async fn serve(
    server: &Gateway,
    addr: SocketAddr,
    config: Arc<ServerConfig>,
) -> io::Result<()> {
    let listener = oap_io::Runtime::bind(&crate::TokioRuntime, addr).await?;
    server
        .serve_listener(listener, Some(acceptor(config)))
        .await
}

/// Connects over TLS, verifying the server as `server_name`, and completes
/// HELLO.
pub async fn connect(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> Result<oap_node::Client, ClientError> {
    connect_with(addr, server_name, config, ConnectionConfig::default()).await
}

/// [`connect`] with the connection's settings (a token, a tenant, limits).
pub async fn connect_with(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
    connection: ConnectionConfig,
) -> Result<oap_node::Client, ClientError> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|e| ClientError::from(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    let tcp = crate::connect_tcp(addr).await?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(ClientError::from_tls_handshake)?;
    let app = connection
        .app_proto_id
        .clone()
        .unwrap_or_else(|| "oap/1".to_owned());
    oap_node::Client::over(runtime(), tls.compat(), connection, &app).await
}
