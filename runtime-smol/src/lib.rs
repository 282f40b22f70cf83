//! OAP/1 on smol.
//!
//! This crate supplies smol's spawner to the shared `oap-io` driver;
//! timers and TCP come from [`async_io_rt`] (async-io and async-net, which
//! `runtime-async-std` reuses from here) and TLS from futures-rustls. The
//! protocol lives in `oap-core`, the services in `oap-node`.
//!
//! A gateway on a loopback port and a client that puts a document and
//! gets it back:
//!
//! ```
//! use runtime_smol::{Client, Gateway, GatewayConfig};
//! # type Error = Box<dyn std::error::Error>;
//! smol::block_on(async {
//!     let gateway = Gateway::bind("127.0.0.1:0".parse()?, GatewayConfig::default()).await?;
//!     let server = gateway.clone();
//!     smol::spawn(async move { server.serve().await }).detach();
//!     let client = Client::connect(gateway.local_addr()).await?;
//!     let id = client.put_doc("docs", "hello", "hi".into()).await?;
//!     assert_eq!(&client.get(id).await?[..], b"hi");
//!     Ok::<(), Error>(())
//! })?;
//! # Ok::<(), Error>(())
//! ```

pub mod async_io_rt;
pub mod tls;

use std::sync::Arc;

use oap_io::Runtime;

use crate::async_io_rt::AsyncIoRuntime;

pub use oap_node::{
    ClientError, DirStore, GatewayConfig, GatewayServer, MemStore, ObjectStore, Services,
    Subscription,
};

/// The runtime, ready to hand to `oap-node`: the shared async-io runtime
/// with smol's spawner.
pub fn runtime() -> Arc<dyn Runtime> {
    Arc::new(
        AsyncIoRuntime::new("smol", |f| smol::spawn(f).detach())
            .with_blocking(|work| Box::pin(smol::unblock(work))),
    )
}

oap_node::runtime_entry_points!("smol");
