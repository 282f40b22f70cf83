//! The entry points every runtime crate offers, written once.

/// Defines the functions `bind`, `bind_with`, `connect`, `connect_with`,
/// `connect_tls` and `connect_tls_with` for a runtime crate: the
/// [`Gateway`](crate::Gateway) and [`Client`](crate::Client) constructors
/// with that crate's runtime filled in. Invoke it at the crate root, where
/// `runtime()` and the `tls` module (`tls::connect`, `tls::connect_with`,
/// `tls::ClientConfig`) are defined; `$name` names the runtime in the docs.
#[macro_export]
macro_rules! runtime_entry_points {
    ($name:literal) => {
        #[doc = concat!("A gateway on ", $name, " with an in-memory store and fresh kernel")]
        /// services, listening on `addr` (see [`Gateway::bind`](oap_node::Gateway::bind)).
        /// Then call `serve`.
        pub async fn bind(
            addr: ::std::net::SocketAddr,
            config: $crate::GatewayConfig,
        ) -> ::std::io::Result<$crate::Gateway> {
            $crate::Gateway::bind(runtime(), addr, config).await
        }

        #[doc = concat!("A gateway on ", $name, " with the given store and services,")]
        /// listening on `addr`. Then call `serve`.
        pub async fn bind_with(
            addr: ::std::net::SocketAddr,
            config: $crate::GatewayConfig,
            store: ::std::sync::Arc<dyn $crate::ObjectStore>,
            services: $crate::Services,
        ) -> ::std::io::Result<$crate::Gateway> {
            $crate::Gateway::bind_with(runtime(), addr, config, store, services).await
        }

        #[doc = concat!("A client on ", $name, ": connects over TCP and completes HELLO")]
        /// with default settings.
        pub async fn connect(
            addr: ::std::net::SocketAddr,
        ) -> ::std::result::Result<$crate::Client, $crate::ClientError> {
            $crate::Client::connect(runtime(), addr, ::std::default::Default::default()).await
        }

        #[doc = concat!("A client on ", $name, ": connects over TCP and completes HELLO")]
        /// with `config` (a token, a tenant, limits). A token goes over
        /// plaintext only to a loopback address
        /// ([`ClientError::PlaintextToken`](oap_node::ClientError::PlaintextToken)
        /// otherwise, before connecting).
        pub async fn connect_with(
            addr: ::std::net::SocketAddr,
            config: ::oap_core::connection::ConnectionConfig,
        ) -> ::std::result::Result<$crate::Client, $crate::ClientError> {
            $crate::Client::connect(runtime(), addr, config).await
        }

        #[doc = concat!("A client on ", $name, ": connects over TLS with `connection`'s")]
        /// settings (a token, a tenant, limits), verifying the server as
        /// `server_name` against `config`'s roots, and completes HELLO.
        pub async fn connect_tls_with(
            addr: ::std::net::SocketAddr,
            server_name: &str,
            config: ::std::sync::Arc<tls::ClientConfig>,
            connection: ::oap_core::connection::ConnectionConfig,
        ) -> ::std::result::Result<$crate::Client, $crate::ClientError> {
            tls::connect_with(addr, server_name, config, connection).await
        }

        #[doc = concat!("A client on ", $name, ": connects over TLS, verifying the server")]
        /// as `server_name` against `config`'s roots, and completes HELLO.
        pub async fn connect_tls(
            addr: ::std::net::SocketAddr,
            server_name: &str,
            config: ::std::sync::Arc<tls::ClientConfig>,
        ) -> ::std::result::Result<$crate::Client, $crate::ClientError> {
            tls::connect(addr, server_name, config).await
        }
    };
}
