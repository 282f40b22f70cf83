//! OAP/1 on async-std.
//!
//! This crate only supplies async-std's spawner to the shared `oap-io`
//! driver; timers and TCP come from `runtime_smol::async_io_rt` (a timer
//! thread and async-net, shared with the other futures-io runtime) and TLS from
//! futures-rustls. The protocol lives in `oap-core`, the services in
//! `oap-node`.
//!
//! **async-std is discontinued upstream** (RUSTSEC-2025-0052). This adapter
//! is kept for existing users and is deliberately the same `futures-io`
//! code as `runtime-smol` (its timers, async-net TCP,
//! futures-rustls); only spawning goes through async-std. New projects
//! should prefer `runtime-smol` or `runtime-tokio`.
//!
//! A gateway on a loopback port and a client that puts a document and
//! gets it back:
//!
//! ```
//! use runtime_async_std::GatewayConfig;
//! # type Error = Box<dyn std::error::Error>;
//! async_std::task::block_on(async {
//!     let gateway = runtime_async_std::bind("127.0.0.1:0".parse()?, GatewayConfig::default()).await?;
//!     let addr = gateway.local_addr().expect("bound");
//!     let server = gateway.clone();
//!     async_std::task::spawn(async move { server.serve().await });
//!     let client = runtime_async_std::connect(addr).await?;
//!     let id = client.put_doc("docs", "hello", "hi".into()).await?;
//!     assert_eq!(&client.get(id).await?[..], b"hi");
//!     Ok::<(), Error>(())
//! })?;
//! # Ok::<(), Error>(())
//! ```

pub mod tls;

use std::sync::Arc;

use oap_io::Runtime;
use runtime_smol::async_io_rt::AsyncIoRuntime;

pub use oap_node::{
    Client, ClientError, DirStore, Gateway, GatewayConfig, MemStore, ObjectStore, Services,
    Subscription,
};

/// The runtime, ready to hand to `oap-node`: the shared async-io runtime
/// with async-std's spawner.
pub fn runtime() -> Arc<dyn Runtime> {
    Arc::new(
        AsyncIoRuntime::new("async-std", |f| {
            async_std::task::spawn(f);
        })
        .with_blocking(|work| Box::pin(async_std::task::spawn_blocking(work))),
    )
}

oap_node::runtime_entry_points!("async-std");
