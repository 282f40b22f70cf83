//! OAP/1 on smol.
//!
//! This crate supplies smol's spawner to the shared `oap-io` driver;
//! timers and TCP come from [`async_io_rt`] (one timer thread and
//! async-net, which `runtime-async-std` reuses from here) and TLS from
//! futures-rustls. The protocol lives in `oap-core`, the services in
//! `oap-node`.
//!
//! A gateway on a loopback port and a client that puts a document and
//! gets it back:
//!
//! ```
//! use runtime_smol::GatewayConfig;
//! # type Error = Box<dyn std::error::Error>;
//! smol::block_on(async {
//!     let gateway = runtime_smol::bind("127.0.0.1:0".parse()?, GatewayConfig::default()).await?;
//!     let addr = gateway.local_addr().expect("bound");
//!     let server = gateway.clone();
//!     smol::spawn(async move { server.serve().await }).detach();
//!     let client = runtime_smol::connect(addr).await?;
//!     let id = client.put_doc("docs", "hello", "hi".into()).await?;
//!     assert_eq!(&client.get(id).await?[..], b"hi");
//!     Ok::<(), Error>(())
//! })?;
//! # Ok::<(), Error>(())
//! ```

pub mod async_io_rt;
mod timers;
pub mod tls;

use std::sync::Arc;

use oap_io::Runtime;

use crate::async_io_rt::AsyncIoRuntime;

pub use oap_node::{
    Client, ClientError, DirStore, Gateway, GatewayConfig, MemStore, ObjectStore, Services,
    Subscription,
};

/// The runtime, ready to hand to `oap-node`: the shared async-io runtime
/// with smol's spawner, `smol::spawn`.
///
/// Its tasks run on smol's global executor, which runs on one thread
/// unless the `SMOL_THREADS` environment variable (read once, at its
/// first task) says more: every connection of a gateway then shares one
/// core. A server meant to use more runs on an executor of its own:
/// [`runtime_on`].
pub fn runtime() -> Arc<dyn Runtime> {
    with_spawner(|f| smol::spawn(f).detach())
}

/// The runtime with its tasks on `executor`, for a program that runs an
/// executor of its own rather than smol's global one: on as many threads
/// as it wants connections served on, say one per core.
///
/// The caller runs the executor (`executor.run(..)` on each of its
/// threads) for as long as anything built on this runtime is in use: a
/// connection's task on an executor nobody runs never makes progress.
/// Blocking work (a directory store's file I/O) still goes to
/// `smol::unblock`'s thread pool.
pub fn runtime_on(executor: Arc<smol::Executor<'static>>) -> Arc<dyn Runtime> {
    with_spawner(move |f| executor.spawn(f).detach())
}

/// The shared async-io runtime spawning with `spawn`.
fn with_spawner(
    spawn: impl Fn(oap_io::BoxFuture<'static, ()>) + Send + Sync + 'static,
) -> Arc<dyn Runtime> {
    Arc::new(AsyncIoRuntime::new("smol", spawn).with_blocking(|work| Box::pin(smol::unblock(work))))
}

oap_node::runtime_entry_points!("smol");
