//! TLS through futures-rustls (rustls 0.23).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_rustls::rustls::pki_types::ServerName;
pub use futures_rustls::rustls::{ClientConfig, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use oap_core::connection::ConnectionConfig;
use oap_io::BoxStream;
use oap_node::{ClientError, Upgrade};

use crate::runtime;

/// The upgrade that runs a TLS server handshake on each accepted stream;
/// pass it to `GatewayServer::serve_listener`.
pub fn acceptor(config: Arc<ServerConfig>) -> Upgrade {
    let acceptor = TlsAcceptor::from(config);
    Arc::new(move |stream: BoxStream| {
        let acceptor = acceptor.clone();
        Box::pin(async move { Ok(Box::new(acceptor.accept(stream).await?) as BoxStream) })
    })
}

/// Connects over TLS, verifying the server as `server_name`, and completes
/// HELLO.
pub async fn connect(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> Result<oap_node::Client, ClientError> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|e| ClientError::Io(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    let tcp = runtime().connect(addr).await?;
    let tls = TlsConnector::from(config).connect(name, tcp).await?;
    oap_node::Client::over(runtime(), tls, ConnectionConfig::default(), "oap/1").await
}
