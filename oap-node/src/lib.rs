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
pub use server::{ByteQuotas, Gateway, GatewayConfig, GatewayServer, Services, Upgrade, Upgraded};
pub use store::{DirStore, MemStore, ObjectStore};
pub use tls::TlsError;
