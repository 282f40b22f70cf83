//! A gateway bound to a TCP address: the usual way to run one.

use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use oap_io::Runtime;

use super::{GatewayConfig, GatewayServer, Services};
use crate::store::{MemStore, ObjectStore};

/// A [`GatewayServer`] with its listener bound. Dereferences to the server
/// for `serve`, `shutdown`, `handle_conn`, `services`, ...
#[derive(Clone)]
pub struct Gateway {
    server: GatewayServer,
    local_addr: SocketAddr,
}

impl Gateway {
    /// Binds `addr` with an in-memory store and fresh kernel services.
    pub async fn bind(
        runtime: Arc<dyn Runtime>,
        addr: SocketAddr,
        config: GatewayConfig,
    ) -> io::Result<Self> {
        Self::bind_with(
            runtime,
            addr,
            config,
            Arc::new(MemStore::new()),
            Services::new(64),
        )
        .await
    }

    /// Binds `addr` with the given store and services.
    pub async fn bind_with(
        runtime: Arc<dyn Runtime>,
        addr: SocketAddr,
        config: GatewayConfig,
        store: Arc<dyn ObjectStore>,
        services: Services,
    ) -> io::Result<Self> {
        let server = GatewayServer::new(runtime, config, store, services);
        let local_addr = server.bind(addr).await?;
        Ok(Self { server, local_addr })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server.
    pub fn server(&self) -> &GatewayServer {
        &self.server
    }
}

impl Deref for Gateway {
    type Target = GatewayServer;

    fn deref(&self) -> &GatewayServer {
        &self.server
    }
}
