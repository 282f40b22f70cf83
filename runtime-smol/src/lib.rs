//! OAP/1 on smol.
//!
//! This crate only supplies smol's spawner to the shared `oap-io`
//! driver; timers and TCP come from `oap_io::async_io_rt` (async-io and
//! async-net, shared with the other futures-io runtime) and TLS from
//! futures-rustls. The protocol lives in `oap-core`, the services in
//! `oap-node`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use runtime_smol::{Client, Gateway, GatewayConfig};
//! let gateway = Gateway::bind("127.0.0.1:0".parse()?, GatewayConfig::default()).await?;
//! let client = Client::connect(gateway.local_addr()).await?;
//! # Ok(()) }
//! ```

pub mod tls;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use oap_core::connection::ConnectionConfig;
use oap_io::Runtime;
use oap_io::async_io_rt::AsyncIoRuntime;

pub use oap_node::{
    ClientError, DirStore, GatewayConfig, GatewayServer, MemStore, ObjectStore, Services,
    Subscription,
};

/// The runtime, ready to hand to `oap-node`: the shared async-io runtime
/// with smol's spawner.
pub fn runtime() -> Arc<dyn Runtime> {
    Arc::new(AsyncIoRuntime::new("smol", |f| smol::spawn(f).detach()))
}

/// Gateway entry points on smol.
pub struct Gateway;

impl Gateway {
    /// Binds `addr` with an in-memory store and fresh kernel services.
    pub async fn bind(addr: SocketAddr, config: GatewayConfig) -> io::Result<oap_node::Gateway> {
        oap_node::Gateway::bind(runtime(), addr, config).await
    }

    /// Binds `addr` with the given store and services.
    pub async fn bind_with(
        addr: SocketAddr,
        config: GatewayConfig,
        store: Arc<dyn ObjectStore>,
        services: Services,
    ) -> io::Result<oap_node::Gateway> {
        oap_node::Gateway::bind_with(runtime(), addr, config, store, services).await
    }
}

/// The client SDK on smol.
pub struct Client;

impl Client {
    /// Connects over TCP and completes HELLO with default settings.
    pub async fn connect(addr: SocketAddr) -> Result<oap_node::Client, ClientError> {
        oap_node::Client::connect(runtime(), addr, ConnectionConfig::default()).await
    }

    /// Connects over TLS, verifying the server as `server_name` against
    /// `config`'s roots, and completes HELLO.
    pub async fn connect_tls(
        addr: SocketAddr,
        server_name: &str,
        config: Arc<tls::ClientConfig>,
    ) -> Result<oap_node::Client, ClientError> {
        tls::connect(addr, server_name, config).await
    }
}
