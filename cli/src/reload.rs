//! Reloading `oap serve`'s configuration without a restart: on SIGHUP and
//! on `POST /reload` (admin listener). The whole file and the `OAP_*`
//! environment are read and validated first; only a valid configuration
//! replaces the one in force.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use kernel_core::Config;
use kernel_core::config::ConfigStore;
use oap_node::server::byte_limits_from_kernel;
use oap_node::tls::ServerCertificate;
use oap_node::{GatewayConfig, GatewayServer, Services};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The `--tls-cert` and `--tls-key` files, read again at each reload.
pub struct TlsFiles {
    /// The PEM certificate chain.
    pub cert: PathBuf,
    /// The PEM private key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The chain and key the files hold now.
    pub fn read(&self) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        Ok((
            crate::pem::certificates(&self.cert, "certificate")?,
            crate::pem::private_key(&self.key)?,
        ))
    }
}

/// Applies configuration reloads to a running node.
pub struct Reloader {
    path: Option<PathBuf>,
    tls: Option<(TlsFiles, Arc<ServerCertificate>)>,
    listen: std::net::SocketAddr,
    store: Mutex<ConfigStore>,
    server: GatewayServer,
    services: Services,
}

/// What one reload did.
pub enum Reloaded {
    /// The configuration changed: this is its version now.
    Updated(u64),
    /// The configuration read is the one in force.
    Unchanged(u64),
}

impl Reloader {
    /// A reloader for a node started with `config` (version 1) from `path`
    /// (none: defaults and `OAP_*`), listening on `listen`.
    pub fn new(
        path: Option<PathBuf>,
        listen: std::net::SocketAddr,
        config: Config,
        server: GatewayServer,
        services: Services,
    ) -> Result<Self> {
        let store = ConfigStore::new(config).context("invalid configuration")?;
        services.metrics.set_config_version(store.version());
        Ok(Self {
            path,
            tls: None,
            listen,
            store: Mutex::new(store),
            server,
            services,
        })
    }

    /// Also rotates the TLS certificate at each reload: `files` are read
    /// again and `certificate` serves what they hold from the next
    /// handshake on (connections already up keep theirs).
    pub fn with_tls(mut self, tls: Option<(TlsFiles, Arc<ServerCertificate>)>) -> Self {
        self.tls = tls;
        self
    }

    /// Reads, validates and applies the configuration. On error nothing
    /// changes, the error names the key and the reason, and
    /// `config_reload_failures_total` counts it.
    ///
    /// Applied at once: tenants, tokens, certificate names, permissions
    /// (open connections are authenticated again; revoked ones close with
    /// `unauthorized`), request quotas and byte quotas. Applied to new
    /// connections: HELLO limits (`max_frame`, `max_inflight`,
    /// `initial_credit`), `max_object_bytes` and the timeouts. The TLS
    /// certificate and key (if serving TLS) are read again and rotated; the
    /// client CA is not. Not applied, and logged: the listen and admin
    /// addresses, `max_connections*` and `bus_capacity`, which need a
    /// restart.
    pub fn reload(&self) -> Result<Reloaded> {
        let failed = |e: anyhow::Error| {
            self.services.metrics.record_config_reload_failure();
            e
        };
        let next = crate::serve::load_config(self.path.as_deref()).map_err(failed)?;
        // The TLS files are read and checked before anything changes.
        let tls = match &self.tls {
            Some((files, certificate)) => {
                let (chain, key) = files.read().map_err(failed)?;
                Some((certificate, chain, key))
            }
            None => None,
        };
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = next.validate() {
            return Err(failed(
                anyhow::Error::new(e).context("invalid configuration"),
            ));
        }
        if let Some((certificate, chain, key)) = tls {
            certificate
                .replace(chain, key)
                .context("cannot serve TLS with the new files")
                .map_err(failed)?;
            tracing::info!("TLS certificate reloaded: new handshakes present it");
        }
        let previous = store.current();
        let event = match store.replace(next.clone()) {
            Ok(Some(event)) => event,
            Ok(None) => return Ok(Reloaded::Unchanged(store.version())),
            Err(e) => {
                return Err(failed(
                    anyhow::Error::new(e).context("invalid configuration"),
                ));
            }
        };
        let gateway = GatewayConfig::from_kernel_at(&next, self.listen);
        self.server
            .update_connection_config(gateway.connection.clone());
        let revoked = self.server.update_tenants(
            (*gateway.tenants).clone(),
            gateway.quota,
            &byte_limits_from_kernel(&next),
        );
        log_changes(&previous, &next, revoked);
        let version = store.version();
        self.services.metrics.set_config_version(version);
        self.services.bus.publish_lossy(event);
        Ok(Reloaded::Updated(version))
    }
}

/// Says what a reload changed, and what it could not apply.
fn log_changes(previous: &Config, next: &Config, revoked: usize) {
    let names = |c: &Config| -> Vec<String> { c.tenants.iter().map(|t| t.name.clone()).collect() };
    let (before, after) = (names(previous), names(next));
    let added: Vec<&String> = after.iter().filter(|n| !before.contains(n)).collect();
    let removed: Vec<&String> = before.iter().filter(|n| !after.contains(n)).collect();
    let changed: Vec<&String> = next
        .tenants
        .iter()
        .filter(|t| previous.tenants.iter().any(|p| p.name == t.name && p != *t))
        .map(|t| &t.name)
        .collect();
    tracing::info!(
        ?added,
        ?removed,
        ?changed,
        revoked_connections = revoked,
        anonymous = ?next.auth.anonymous,
        "configuration reloaded"
    );
    let restart_only = [
        ("listen_addr", previous.listen_addr != next.listen_addr),
        ("admin_addr", previous.admin_addr != next.admin_addr),
        (
            "max_connections",
            previous.max_connections != next.max_connections,
        ),
        (
            "max_connections_per_ip",
            previous.max_connections_per_ip != next.max_connections_per_ip,
        ),
        ("bus_capacity", previous.bus_capacity != next.bus_capacity),
    ];
    for (key, differs) in restart_only {
        if differs {
            tracing::warn!(key, "changed, but applies only after a restart");
        }
    }
}

/// Reloads on every SIGHUP until the process ends.
pub fn on_sighup(reloader: Arc<Reloader>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("cannot install the SIGHUP handler")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            report(reloader.reload(), "SIGHUP");
        }
    });
    Ok(())
}

/// Logs a reload's outcome.
pub fn report(outcome: Result<Reloaded>, trigger: &str) {
    match outcome {
        Ok(Reloaded::Updated(version)) => tracing::info!(trigger, version, "reload applied"),
        Ok(Reloaded::Unchanged(version)) => {
            tracing::info!(trigger, version, "reload: configuration unchanged");
        }
        Err(e) => {
            tracing::error!(trigger, error = %format!("{e:#}"), "reload refused; the previous configuration stays")
        }
    }
}
