//! TLS through futures-rustls (rustls 0.23), shared with the other
//! futures-io runtime in `oap_node::futures_tls`.

use std::net::SocketAddr;
use std::sync::Arc;

pub use oap_node::futures_tls::{ClientConfig, ServerConfig, acceptor, reloadable_acceptor};
use oap_node::{Client, ClientError};

/// Connects over TLS, verifying the server as `server_name`, and completes
/// HELLO.
pub async fn connect(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> Result<Client, ClientError> {
    oap_node::futures_tls::connect(crate::runtime(), addr, server_name, config).await
}

/// [`connect`] with the connection's settings (a token, a tenant, limits).
pub async fn connect_with(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
    connection: oap_core::connection::ConnectionConfig,
) -> Result<Client, ClientError> {
    oap_node::futures_tls::connect_with(crate::runtime(), addr, server_name, config, connection)
        .await
}
