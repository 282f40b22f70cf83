//! OAP/1 services that run on any runtime: the gateway server with its
//! object store, and the client SDK.
//!
//! Everything here drives `oap-core` state machines through the one
//! `oap-io` driver; the runtime crates (`runtime-tokio`,
//! `runtime-async-std`, `runtime-smol`) only supply an
//! [`oap_io::Runtime`] and TLS.
//!
//! * [`store`] — where objects live: in memory or in a directory.
//! * [`server`] — the gateway: accept loop, admission, puts, gets,
//!   subscriptions, metrics and bus events, graceful shutdown.
//! * [`client`] — the async client SDK.
//! * [`tls`] — the TLS settings every runtime shares (ALPN, mutual TLS).
//! * [`TlsError`] — TLS failures in words, with the fix.
//! * [`topic`] — which bus events a subscription topic matches.
//!
//! A gateway and a client over an in-memory pipe, here on `runtime-smol`'s
//! runtime (any [`oap_io::Runtime`] will do):
//!
//! ```
//! use std::sync::Arc;
//! use oap_core::connection::ConnectionConfig;
//! use oap_io::duplex;
//! use oap_node::{Client, GatewayConfig, Gateway, MemStore, Services};
//!
//! let runtime = runtime_smol::runtime();
//! let server = Gateway::new(
//!     Arc::clone(&runtime),
//!     GatewayConfig::default(),
//!     Arc::new(MemStore::new()),
//!     Services::new(64),
//! );
//! let (client_end, server_end) = duplex(64 * 1024);
//! runtime.spawn(Box::pin(async move {
//!     let _ = server.handle_stream(server_end).await;
//! }));
//! futures_lite::future::block_on(async {
//!     let config = ConnectionConfig::default();
//!     let client = Client::over(Arc::clone(&runtime), client_end, config, "example/1").await?;
//!     let id = client.put_doc("docs", "hello", "hi".into()).await?;
//!     assert_eq!(&client.get(id).await?[..], b"hi");
//!     Ok::<(), oap_node::ClientError>(())
//! })?;
//! # Ok::<(), oap_node::ClientError>(())
//! ```

pub mod client;
pub mod demo;
mod entry;
#[cfg(feature = "futures-tls")]
pub mod futures_tls;
pub mod server;
pub mod store;
pub mod tls;
pub mod topic;

pub use client::{
    Client, ClientError, ObjectStream, Progress, PutStream, RetryPolicy, Subscription,
};
pub use server::{ByteQuotas, Gateway, GatewayConfig, Services, Upgrade, Upgraded};
pub use store::{DirStore, MemStore, ObjectStore};
pub use tls::TlsError;
