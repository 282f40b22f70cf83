//! The server's whole TLS configuration, replaceable while the server runs:
//! the acceptors read the one in force at each handshake, so a reload that
//! changes what [`super::ServerCertificate`] cannot (the client CA) takes
//! effect for new connections without a restart.

use std::sync::{Arc, RwLock};

use rustls::ServerConfig;

/// The server configuration in force; cheap to read at every handshake.
#[derive(Debug)]
pub struct ServerTls {
    current: RwLock<Arc<ServerConfig>>,
}

impl ServerTls {
    /// Serves `config` until [`ServerTls::replace`].
    pub fn new(config: Arc<ServerConfig>) -> Arc<Self> {
        Arc::new(Self {
            current: RwLock::new(config),
        })
    }

    /// The configuration a handshake starting now uses.
    pub fn current(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Handshakes from now on use `config`; sessions already up keep
    /// theirs.
    pub fn replace(&self, config: Arc<ServerConfig>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = config;
    }
}
