//! TLS with futures-rustls (rustls 0.23) for the runtimes whose streams
//! are `futures-io` natively (smol, async-std).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_rustls::rustls::pki_types::ServerName;
pub use futures_rustls::rustls::{ClientConfig, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use oap_core::connection::ConnectionConfig;
use oap_io::{BoxStream, Runtime};

use crate::{Client, ClientError, Upgrade, Upgraded};

/// The upgrade that runs a TLS server handshake on each accepted stream,
/// reporting the verified client certificate's name (mutual TLS); pass it
/// to [`crate::Gateway::serve_listener`]. Build `config` with
/// [`crate::tls::server_config`] for ALPN `oap/1` and client certificates.
pub fn acceptor(config: Arc<ServerConfig>) -> Upgrade {
    reloadable_acceptor(crate::tls::ServerTls::new(config))
}

/// [`acceptor`] with the configuration `tls` holds at each handshake, so
/// replacing it (a reload) changes new handshakes only.
pub fn reloadable_acceptor(tls: Arc<crate::tls::ServerTls>) -> Upgrade {
    Arc::new(move |stream: BoxStream| {
        let acceptor = TlsAcceptor::from(tls.current());
        Box::pin(async move {
            let tls = acceptor.accept(stream).await?;
            let certificate_name =
                crate::tls::certificate_name(tls.get_ref().1.peer_certificates());
            Ok(Upgraded {
                stream: Box::new(tls),
                certificate_name,
            })
        })
    })
}

/// Connects over TLS on `runtime`, verifying the server as `server_name`,
/// and completes HELLO.
pub async fn connect(
    runtime: Arc<dyn Runtime>,
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> Result<Client, ClientError> {
    connect_with(
        runtime,
        addr,
        server_name,
        config,
        ConnectionConfig::default(),
    )
    .await
}

/// [`connect`] with the connection's settings (a token, a tenant, limits).
pub async fn connect_with(
    runtime: Arc<dyn Runtime>,
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
    connection: ConnectionConfig,
) -> Result<Client, ClientError> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|e| ClientError::from(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    let tcp = runtime.connect(addr).await?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(ClientError::from_tls_handshake)?;
    let app = connection
        .app_proto_id
        .clone()
        .unwrap_or_else(|| "oap/1".to_owned());
    Client::over(runtime, tls, connection, &app).await
}
