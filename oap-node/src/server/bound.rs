//! Making a gateway and binding its TCP listener in one call: the usual
//! way to run one.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use oap_io::Runtime;

use super::{Gateway, GatewayConfig, Services};
use crate::store::{MemStore, ObjectStore};

impl Gateway {
    /// A gateway on `runtime` with an in-memory store and fresh kernel
    /// services, listening on `addr` ([`Gateway::local_addr`] says where).
    /// Then call [`Gateway::serve`].
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

    /// A gateway on `runtime` with the given store and services, listening
    /// on `addr`. Then call [`Gateway::serve`].
    pub async fn bind_with(
        runtime: Arc<dyn Runtime>,
        addr: SocketAddr,
        config: GatewayConfig,
        store: Arc<dyn ObjectStore>,
        services: Services,
    ) -> io::Result<Self> {
        let gateway = Self::new(runtime, config, store, services);
        gateway.listen(addr).await?;
        Ok(gateway)
    }
}
