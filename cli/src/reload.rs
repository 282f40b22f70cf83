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
use oap_node::tls::{ServerCertificate, ServerTls, server_config_with};
use oap_node::{Gateway, GatewayConfig, Services};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The `--tls-*` files of `oap serve`, read again at each reload.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    /// The PEM certificate chain (`--tls-cert`).
    pub cert: PathBuf,
    /// The PEM private key (`--tls-key`).
    pub key: PathBuf,
    /// The PEM client CA (`--tls-client-ca`), for mutual TLS.
    pub client_ca: Option<PathBuf>,
}

/// The files' contents, read and checked, not yet in force.
struct TlsContents {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<Vec<CertificateDer<'static>>>,
}

impl TlsFiles {
    fn read(&self) -> Result<TlsContents> {
        Ok(TlsContents {
            chain: crate::pem::certificates(&self.cert, "certificate")?,
            key: crate::pem::private_key(&self.key)?,
            client_ca: self
                .client_ca
                .as_deref()
                .map(|ca| crate::pem::certificates(ca, "client CA file"))
                .transpose()?,
        })
    }
}

/// The node's TLS, which a reload replaces: the certificate and key through
/// a rustls certificate resolver, the client CA by a new configuration for
/// new handshakes. Sessions already up keep theirs.
#[derive(Clone)]
pub(crate) struct ReloadableTls {
    files: TlsFiles,
    certificate: Arc<ServerCertificate>,
    config: Arc<ServerTls>,
}

impl ReloadableTls {
    /// Reads `files` and builds the configuration they describe.
    pub(crate) fn load(files: TlsFiles) -> Result<Self> {
        let contents = files.read()?;
        let certificate = ServerCertificate::new(contents.chain, contents.key)
            .context("cannot serve TLS with these files")?;
        let config = server_config_with(Arc::clone(&certificate), contents.client_ca.as_deref())
            .context("cannot serve TLS with these files")?;
        Ok(Self {
            files,
            certificate,
            config: ServerTls::new(Arc::new(config)),
        })
    }

    /// The configuration the acceptor reads at each handshake.
    pub(crate) fn config(&self) -> Arc<ServerTls> {
        Arc::clone(&self.config)
    }

    /// Checks `contents` can be served; applies nothing.
    fn prepare(&self, contents: TlsContents) -> Result<PreparedTls> {
        let certificate = ServerCertificate::new(contents.chain, contents.key)
            .context("cannot serve TLS with the new files")?;
        let config = match &contents.client_ca {
            None => None,
            Some(ca) => Some(
                server_config_with(Arc::clone(&self.certificate), Some(ca))
                    .context("cannot verify client certificates with the new client CA")?,
            ),
        };
        Ok(PreparedTls {
            certificate,
            config,
        })
    }

    /// Puts prepared contents in force.
    fn apply(&self, prepared: PreparedTls) {
        self.certificate.replace_with(&prepared.certificate);
        if let Some(config) = prepared.config {
            self.config.replace(Arc::new(config));
        }
        tracing::info!("TLS certificate, key and client CA reloaded: new handshakes use them");
    }
}

/// TLS contents checked by [`ReloadableTls::prepare`].
struct PreparedTls {
    certificate: Arc<ServerCertificate>,
    config: Option<rustls::ServerConfig>,
}

/// Applies configuration reloads to a running node.
pub(crate) struct Reloader {
    path: Option<PathBuf>,
    tls: Option<ReloadableTls>,
    listen: std::net::SocketAddr,
    store: Mutex<ConfigStore>,
    server: Gateway,
    services: Services,
}

/// What one reload did.
pub(crate) enum Reloaded {
    /// The configuration changed: this is its version now.
    Updated(u64),
    /// The configuration read is the one in force.
    Unchanged(u64),
}

impl Reloader {
    /// A reloader for a node started with `config` (version 1) from `path`
    /// (none: defaults and `OAP_*`), listening on `listen`.
    pub(crate) fn new(
        path: Option<PathBuf>,
        listen: std::net::SocketAddr,
        config: Config,
        server: Gateway,
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

    /// Also reloads the node's TLS at each reload: its files are read again
    /// and serve from the next handshake on (connections already up keep
    /// theirs).
    pub(crate) fn with_tls(mut self, tls: Option<ReloadableTls>) -> Self {
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
    /// certificate, key and client CA (if serving TLS) are read again and
    /// serve new handshakes. Not applied, and logged: the listen and admin
    /// addresses, `max_connections*` and `bus_capacity`, which need a
    /// restart.
    pub(crate) fn reload(&self) -> Result<Reloaded> {
        let failed = |e: anyhow::Error| {
            self.services.metrics.record_config_reload_failure();
            e
        };
        let next = crate::serve::load_config(self.path.as_deref()).map_err(failed)?;
        // The TLS files are read and checked before anything changes.
        let tls = match &self.tls {
            Some(tls) => {
                let contents = tls.files.read().map_err(failed)?;
                Some((tls, tls.prepare(contents).map_err(failed)?))
            }
            None => None,
        };
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = next.validate() {
            return Err(failed(
                anyhow::Error::new(e).context("invalid configuration"),
            ));
        }
        if let Some((tls, prepared)) = tls {
            tls.apply(prepared);
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
pub(crate) fn on_sighup(reloader: Arc<Reloader>) -> Result<()> {
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
pub(crate) fn report(outcome: Result<Reloaded>, trigger: &str) {
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
