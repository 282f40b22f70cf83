//! The entry points every runtime crate offers, written once.

/// Defines `Gateway::{bind, bind_with}` and `Client::{connect,
/// connect_tls}` for a runtime crate. Invoke it at the crate root, where
/// `runtime()` and the `tls` module (`tls::connect`, `tls::ClientConfig`)
/// are defined; `$name` names the runtime in the docs.
#[macro_export]
macro_rules! runtime_entry_points {
    ($name:literal) => {
        #[doc = concat!("Gateway entry points on ", $name, ".")]
        pub struct Gateway;

        impl Gateway {
            /// Binds `addr` with an in-memory store and fresh kernel services.
            pub async fn bind(
                addr: ::std::net::SocketAddr,
                config: $crate::GatewayConfig,
            ) -> ::std::io::Result<$crate::Gateway> {
                $crate::Gateway::bind(runtime(), addr, config).await
            }

            /// Binds `addr` with the given store and services.
            pub async fn bind_with(
                addr: ::std::net::SocketAddr,
                config: $crate::GatewayConfig,
                store: ::std::sync::Arc<dyn $crate::ObjectStore>,
                services: $crate::Services,
            ) -> ::std::io::Result<$crate::Gateway> {
                $crate::Gateway::bind_with(runtime(), addr, config, store, services).await
            }
        }

        #[doc = concat!("The client SDK on ", $name, ".")]
        pub struct Client;

        impl Client {
            /// Connects over TCP and completes HELLO with default settings.
            pub async fn connect(
                addr: ::std::net::SocketAddr,
            ) -> ::std::result::Result<$crate::Client, $crate::ClientError> {
                $crate::Client::connect(runtime(), addr, ::std::default::Default::default()).await
            }

            /// Connects over TCP and completes HELLO with `config` (a
            /// token, a tenant, limits). A token goes over plaintext only
            /// to a loopback address ([`$crate::ClientError::PlaintextToken`]
            /// otherwise, before connecting).
            pub async fn connect_with(
                addr: ::std::net::SocketAddr,
                config: ::oap_core::connection::ConnectionConfig,
            ) -> ::std::result::Result<$crate::Client, $crate::ClientError> {
                $crate::Client::connect(runtime(), addr, config).await
            }

            /// Connects over TLS with `connection`'s settings (a token, a
            /// tenant, limits), verifying the server as `server_name`
            /// against `config`'s roots, and completes HELLO.
            pub async fn connect_tls_with(
                addr: ::std::net::SocketAddr,
                server_name: &str,
                config: ::std::sync::Arc<tls::ClientConfig>,
                connection: ::oap_core::connection::ConnectionConfig,
            ) -> ::std::result::Result<$crate::Client, $crate::ClientError> {
                tls::connect_with(addr, server_name, config, connection).await
            }

            /// Connects over TLS, verifying the server as `server_name`
            /// against `config`'s roots, and completes HELLO.
            pub async fn connect_tls(
                addr: ::std::net::SocketAddr,
                server_name: &str,
                config: ::std::sync::Arc<tls::ClientConfig>,
            ) -> ::std::result::Result<$crate::Client, $crate::ClientError> {
                tls::connect(addr, server_name, config).await
            }
        }
    };
}
