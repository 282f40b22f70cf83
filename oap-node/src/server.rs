//! The gateway server: accepts connections, drives each through the
//! shared driver with a `GatewayEndpoint` (`server/endpoint.rs`), and
//! shuts down gracefully.

mod admission;
mod bound;
mod byte_quotas;
mod endpoint;
mod subscription;

pub use byte_quotas::ByteQuotas;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_listener::Event;
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future;
use kernel_core::{Bus, HealthState, KernelEvent, Metrics};
use oap_core::connection::ConnectionConfig;
use oap_core::frame::FrameEncoder;
use oap_core::payload::{ControlPayload, ErrorCode, ErrorEnvelope};
use oap_core::server::{Permissions, QuotaConfig, Tenant, TenantQuotas, Tenants};
use oap_io::{BoxFuture, BoxStream, ConnectionDriver, EndpointHandle, Join, Listener, Runtime};
use tracing::Instrument;

/// Turns an accepted stream into the stream to serve (a TLS handshake).
pub type Upgrade = Arc<dyn Fn(BoxStream) -> BoxFuture<'static, io::Result<Upgraded>> + Send + Sync>;

/// What an [`Upgrade`] made of an accepted stream.
pub struct Upgraded {
    /// The stream to serve (e.g. the TLS session).
    pub stream: BoxStream,
    /// The subject common name of the client certificate the upgrade
    /// verified (mutual TLS; see [`crate::tls::certificate_name`]), which
    /// names the peer's tenant.
    pub certificate_name: Option<String>,
}

impl Upgraded {
    /// A stream whose peer presented no certificate.
    pub fn plain(stream: BoxStream) -> Self {
        Self {
            stream,
            certificate_name: None,
        }
    }
}

use crate::store::ObjectStore;
use endpoint::GatewayEndpoint;

/// The kernel services a gateway reports to.
#[derive(Debug, Clone)]
pub struct Services {
    /// Where `Health` and `ServiceCrashed` are published and `Shutdown` is
    /// heard.
    pub bus: Bus,
    /// Where counters and latencies go.
    pub metrics: Metrics,
    /// Readiness.
    pub health: HealthState,
}

impl Services {
    /// Fresh services with a bus of `capacity` events that counts lags in
    /// the metrics.
    pub fn new(capacity: usize) -> Self {
        let metrics = Metrics::new();
        Self {
            bus: Bus::with_metrics(capacity, &metrics),
            metrics,
            health: HealthState::new(),
        }
    }
}

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Per-connection protocol settings.
    pub connection: ConnectionConfig,
    /// Connections held at once, TLS handshakes in progress included; more
    /// are answered ERROR `busy` (plaintext) or closed (TLS).
    pub max_connections: usize,
    /// Connections held at once from one source address; more are refused
    /// like those over `max_connections`. Default 256.
    pub max_connections_per_ip: usize,
    /// Per-tenant request quota (none: unlimited): the default of every
    /// tenant without its own, and `anonymous`'s.
    pub quota: Option<QuotaConfig>,
    /// Who may connect and what each tenant may do. Default
    /// [`Tenants::open`] (no tenants; peers without a token may do
    /// everything), as for tests and embedding; a node's configuration
    /// ([`GatewayConfig::from_kernel`]) names its own.
    pub tenants: Arc<Tenants>,
    /// Subscriptions served at once, over all connections (each holds a
    /// bus receiver, a task and a queue of at most 64 events); more are
    /// refused with `busy`. Per connection, `max_inflight` bounds them.
    /// Default 1024.
    pub max_subscriptions: usize,
    /// Stored bytes per tenant against their `max_stored_bytes` (none:
    /// nothing counted, no limit). A put whose object would pass its
    /// tenant's limit is refused with `store_full` before any byte is
    /// stored.
    pub byte_quotas: Option<Arc<ByteQuotas>>,
    /// Name used in health events when a client names no application.
    pub service: String,
    /// How long open requests may run after shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            connection: ConnectionConfig::default(),
            max_connections: 1024,
            max_connections_per_ip: 256,
            max_subscriptions: 1024,
            quota: None,
            tenants: Arc::new(Tenants::open()),
            byte_quotas: None,
            service: "gateway".to_owned(),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl GatewayConfig {
    /// The settings a kernel [`kernel_core::Config`] describes, for a node
    /// listening on its `listen_addr` (see [`GatewayConfig::from_kernel_at`]).
    pub fn from_kernel(config: &kernel_core::Config) -> Self {
        Self::from_kernel_at(config, config.listen_addr)
    }

    /// The settings a kernel [`kernel_core::Config`] describes, for a node
    /// that listens on `listen` (which decides the anonymous policy when
    /// `[auth] anonymous` is unset: `put+get` on loopback, else `none`).
    ///
    /// `config` should be validated ([`kernel_core::Config::load`] does): a
    /// tenant entry that would not validate (a malformed or repeated token
    /// hash, a repeated name) is left out, so its token authenticates
    /// nobody.
    ///
    /// Byte quotas are counted in memory; a node whose store keeps objects
    /// across restarts should persist them with [`ByteQuotas::with_journal`]
    /// (see [`byte_quotas_from_kernel`]).
    pub fn from_kernel_at(config: &kernel_core::Config, listen: SocketAddr) -> Self {
        let tenants = tenants_from_kernel(config, listen);
        Self {
            byte_quotas: Some(Arc::new(byte_quotas_from_kernel(config, &tenants))),
            tenants: Arc::new(tenants),
            connection: ConnectionConfig {
                max_frame: u32::try_from(config.max_frame).unwrap_or(u32::MAX),
                allow_large_frames: config.allow_large_frames,
                max_inflight: config.max_inflight,
                credit: config.initial_credit,
                max_object_bytes: Some(config.max_object_bytes),
                handshake_timeout: Some(config.handshake_timeout()),
                idle_timeout: Some(config.idle_timeout()),
                request_timeout: Some(config.request_timeout()),
                frame_timeout: Some(config.frame_timeout()),
                write_timeout: Some(config.write_timeout()),
                ..ConnectionConfig::default()
            },
            max_connections: config.max_connections as usize,
            max_connections_per_ip: config.max_connections_per_ip as usize,
            quota: Some(QuotaConfig {
                requests_per_sec: config.quota.requests_per_sec,
                burst: config.quota.burst,
            }),
            ..Self::default()
        }
    }
}

/// In-memory byte quotas for `tenants` with the `max_stored_bytes` of a
/// kernel configuration's tenants.
pub fn byte_quotas_from_kernel(config: &kernel_core::Config, tenants: &Tenants) -> ByteQuotas {
    ByteQuotas::new(tenants, &byte_limits_from_kernel(config))
}

/// The `max_stored_bytes` of a kernel configuration's tenants, by name.
pub fn byte_limits_from_kernel(
    config: &kernel_core::Config,
) -> std::collections::BTreeMap<String, u64> {
    config
        .tenants
        .iter()
        .filter_map(|t| Some((t.name.clone(), t.max_stored_bytes?)))
        .collect()
}

/// The tenant directory a kernel configuration describes.
fn tenants_from_kernel(config: &kernel_core::Config, listen: SocketAddr) -> Tenants {
    let permissions = |list: &[kernel_core::config::Permission]| {
        list.iter().fold(Permissions::NONE, |all, p| {
            all.union(match p {
                kernel_core::config::Permission::Put => Permissions::PUT,
                kernel_core::config::Permission::Get => Permissions::GET,
                kernel_core::config::Permission::Subscribe => Permissions::SUBSCRIBE,
            })
        })
    };
    let mut tenants = Tenants::new(permissions(config.anonymous_policy(listen).permissions()));
    for t in &config.tenants {
        let token_hash = match t.token_hash.as_deref().map(blake3::Hash::from_hex) {
            None => None,
            Some(Ok(hash)) => Some(hash),
            Some(Err(_)) => continue,
        };
        let _ = tenants.add(Tenant {
            name: t.name.clone(),
            token_hash,
            certificate_name: t.cert_name.clone(),
            permissions: permissions(&t.permissions),
            quota: Some(QuotaConfig {
                requests_per_sec: t.requests_per_sec.unwrap_or(config.quota.requests_per_sec),
                burst: t.burst.unwrap_or(config.quota.burst),
            }),
        });
    }
    tenants
}

pub(crate) struct Inner {
    runtime: Arc<dyn Runtime>,
    config: GatewayConfig,
    /// `config.service`, shared by every connection's session.
    service: Arc<str>,
    store: Arc<dyn ObjectStore>,
    services: Services,
    quotas: Option<Mutex<TenantQuotas>>,
    /// The tenant directory in force: `config.tenants` until a reload
    /// ([`Gateway::update_tenants`]) replaces it.
    tenants: std::sync::RwLock<Arc<Tenants>>,
    /// The connection settings new connections get: `config.connection`
    /// until a reload ([`Gateway::update_connection_config`]). One copy,
    /// shared by the connections that took it.
    connection: std::sync::RwLock<Arc<ConnectionConfig>>,
    open: AtomicUsize,
    per_address: admission::PerAddress,
    /// Subscriptions open now (see `GatewayConfig::max_subscriptions`).
    subscriptions: AtomicUsize,
    draining: AtomicBool,
    /// The task that starts shutdown on `KernelEvent::Shutdown` is
    /// running: one per gateway, however many listeners it serves (each
    /// would be woken by every event on the bus, such as each
    /// connection's `Health`).
    watching_bus: AtomicBool,
    drain_event: Event,
    /// Notified whenever a connection ends.
    closed_event: Event,
    listener: Mutex<Option<Box<dyn Listener>>>,
    /// The address [`Gateway::listen`] bound, kept after `serve` takes the
    /// listener.
    local_addr: Mutex<Option<SocketAddr>>,
    connections: Mutex<Connections<GatewayEndpoint>>,
}

/// Every connection's endpoint, for reloads and shutdown. Entries of
/// connections that ended are swept when the list has doubled since the
/// last sweep: amortised O(1) per connection, and never more than about
/// twice the open connections (plus a small floor).
struct Connections<E> {
    list: Vec<oap_io::WeakEndpointHandle<E>>,
    sweep_at: usize,
}

impl<E> Default for Connections<E> {
    fn default() -> Self {
        Self {
            list: Vec::new(),
            sweep_at: 0,
        }
    }
}

impl<E> Connections<E> {
    /// The fewest entries worth a sweep.
    const SWEEP_FLOOR: usize = 64;

    fn push(&mut self, weak: oap_io::WeakEndpointHandle<E>) {
        if self.list.len() >= self.sweep_at.max(Self::SWEEP_FLOOR) {
            self.list.retain(|w| w.upgrade().is_some());
            self.sweep_at = 2 * self.list.len();
        }
        self.list.push(weak);
    }

    /// The endpoints of the connections still open.
    fn live(&self) -> impl Iterator<Item = oap_io::EndpointHandle<E>> + '_ {
        self.list.iter().filter_map(|w| w.upgrade())
    }
}

/// An OAP/1 gateway: serves puts, gets and subscriptions from a store.
///
/// Cheap to clone; every clone is the same server.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl Gateway {
    /// A server on `runtime` storing objects in `store`.
    pub fn new(
        runtime: Arc<dyn Runtime>,
        config: GatewayConfig,
        store: Arc<dyn ObjectStore>,
        services: Services,
    ) -> Self {
        let quotas = config.quota.map(|q| Mutex::new(config.tenants.quotas(q)));
        let tenants = Arc::clone(&config.tenants);
        let connection = config.connection.clone();
        Self {
            inner: Arc::new(Inner {
                runtime,
                service: config.service.as_str().into(),
                config,
                store,
                services,
                quotas,
                tenants: std::sync::RwLock::new(tenants),
                connection: std::sync::RwLock::new(Arc::new(connection)),
                open: AtomicUsize::new(0),
                per_address: admission::PerAddress::default(),
                subscriptions: AtomicUsize::new(0),
                draining: AtomicBool::new(false),
                watching_bus: AtomicBool::new(false),
                drain_event: Event::new(),
                closed_event: Event::new(),
                listener: Mutex::new(None),
                local_addr: Mutex::new(None),
                connections: Mutex::new(Connections::default()),
            }),
        }
    }

    /// The settings this server was made with (its tenants as they were
    /// then: see [`Gateway::tenants`]).
    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    /// The tenant directory in force now.
    pub fn tenants(&self) -> Arc<Tenants> {
        self.inner.current_tenants()
    }

    /// Replaces the connection settings (HELLO limits, `max_object_bytes`,
    /// timeouts) for connections accepted from now on (a configuration
    /// reload); open connections keep what they negotiated.
    pub fn update_connection_config(&self, connection: ConnectionConfig) {
        *self
            .inner
            .connection
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(connection);
    }

    /// Replaces the tenant directory (a configuration reload), at once:
    /// - new connections authenticate against `tenants`;
    /// - every open connection is authenticated again with the
    ///   credentials it presented: its new permissions apply from its next
    ///   request, and one whose token or certificate was revoked is closed
    ///   with ERROR `unauthorized` now;
    /// - request quotas are rebuilt for the new tenants (every bucket
    ///   starts full), with `default` for those without their own;
    /// - byte quotas open accounts for new tenants and take the limits of
    ///   `byte_limits` (tenant name → `max_stored_bytes`; stored bytes are
    ///   kept).
    ///
    /// Returns how many open connections were closed as revoked.
    pub fn update_tenants(
        &self,
        tenants: Tenants,
        default: Option<QuotaConfig>,
        byte_limits: &std::collections::BTreeMap<String, u64>,
    ) -> usize {
        let inner = &self.inner;
        let tenants = Arc::new(tenants);
        if let (Some(q), Some(default)) = (&inner.quotas, default) {
            *q.lock().unwrap_or_else(|p| p.into_inner()) = tenants.quotas(default);
        }
        if let Some(b) = &inner.config.byte_quotas {
            b.update_limits(&tenants, byte_limits);
        }
        *inner.tenants.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&tenants);
        let handles: Vec<_> = inner.lock_connections().live().collect();
        handles
            .iter()
            .filter(|h| {
                h.with(|ep| ep.update_tenants(Arc::clone(&tenants)))
                    .is_err()
            })
            .count()
    }

    /// The services this server reports to.
    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.inner.open.load(Ordering::SeqCst)
    }

    /// Waits until at most `n` connections are open (e.g. until a test's
    /// peer has been fully processed after it hung up).
    pub async fn wait_for_open_connections(&self, n: usize) {
        loop {
            let closed = self.inner.closed_event.listen();
            if self.open_connections() <= n {
                return;
            }
            closed.await;
        }
    }

    /// Binds `addr` over plain TCP and returns the bound address (useful
    /// with port 0), which [`Gateway::local_addr`] also answers from now
    /// on. Serve it with [`Gateway::serve`]. [`Gateway::bind`] is this and
    /// [`Gateway::new`] in one call.
    pub async fn listen(&self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let listener = self.inner.runtime.bind(addr).await?;
        let local = listener.local_addr()?;
        *self
            .inner
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(listener);
        *self
            .inner
            .local_addr
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(local);
        Ok(local)
    }

    /// The address [`Gateway::listen`] (or [`Gateway::bind`]) bound; `None`
    /// before, and for a gateway that only serves streams handed to it
    /// ([`Gateway::handle_stream`], [`Gateway::serve_listener`]).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self
            .inner
            .local_addr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Serves the listener bound by [`Gateway::listen`] until shutdown.
    pub async fn serve(&self) -> io::Result<()> {
        let listener = self
            .inner
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "listen first"))?;
        self.serve_listener(listener, None).await
    }

    /// Accepts connections on `listener` until shutdown, each served in its
    /// own task; `upgrade` (e.g. a TLS handshake) runs first in that task,
    /// bounded by the handshake timeout, so a slow handshake never stalls
    /// the accept loop. Also starts shutdown when `Shutdown` is published
    /// on the bus. Returns once shutdown began; open connections finish
    /// within the grace period.
    pub async fn serve_listener(
        &self,
        listener: Box<dyn Listener>,
        upgrade: Option<Upgrade>,
    ) -> io::Result<()> {
        self.watch_bus_for_shutdown();
        let mut backoff: Option<Duration> = None;
        // One listener for the loop's life, not one per accept: a
        // shutdown begun after it was made wakes it.
        let mut drained = self.inner.drain_event.listen();
        loop {
            if self.inner.draining.load(Ordering::SeqCst) {
                return Ok(());
            }
            let accepted = future::or(async { Some(listener.accept().await) }, async {
                (&mut drained).await;
                None
            })
            .await;
            let Some(accepted) = accepted else {
                return Ok(());
            };
            let (stream, peer) = match accepted {
                Ok(a) => {
                    backoff = None;
                    a
                }
                Err(e) => {
                    // Out of descriptors (EMFILE), out of memory, ...: the
                    // next accept would fail at once too. Wait, doubling,
                    // instead of spinning on the error.
                    let wait = backoff.map_or(ACCEPT_BACKOFF_MIN, |w: Duration| {
                        (w * 2).min(ACCEPT_BACKOFF_MAX)
                    });
                    backoff = Some(wait);
                    tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "accept failed");
                    self.inner
                        .runtime
                        .sleep_until(self.inner.runtime.now() + wait)
                        .await;
                    continue;
                }
            };
            let slot = match self.inner.admit(Some(peer.ip())) {
                Ok(slot) => slot,
                Err(refusal) => {
                    self.inner
                        .services
                        .metrics
                        .record_rejected(refusal.reason());
                    if upgrade.is_none() {
                        // Answered in a task of its own: a peer that does
                        // not read must not stall the accept loop.
                        self.inner.runtime.spawn(Box::pin(refuse_busy(
                            stream,
                            refusal.message(),
                            self.inner.connection_config().write_timeout,
                            Arc::clone(&self.inner.runtime),
                        )));
                    }
                    // Over TLS nothing can be said before a handshake,
                    // which is what the limit saves: the stream just closes.
                    continue;
                }
            };
            let server = self.clone();
            let upgrade = upgrade.clone();
            self.inner.runtime.spawn(Box::pin(async move {
                let upgraded = match upgrade {
                    None => Upgraded::plain(stream),
                    Some(up) => match server.upgrade(stream, up).await {
                        Ok(s) => s,
                        Err(e) => {
                            crate::tls::failure::handshake_failed(
                                &server.inner.services.metrics,
                                peer,
                                &e,
                            );
                            return;
                        }
                    },
                };
                let _ = server
                    .serve_admitted(upgraded.stream, upgraded.certificate_name, slot, Some(peer))
                    .await;
            }));
        }
    }

    async fn upgrade(&self, stream: BoxStream, upgrade: Upgrade) -> io::Result<Upgraded> {
        let limit = self.inner.connection_config().handshake_timeout;
        let deadline = limit.map(|t| self.inner.runtime.sleep_until(self.inner.runtime.now() + t));
        let handshake = upgrade(stream);
        match deadline {
            None => handshake.await,
            Some(sleep) => {
                future::or(handshake, async {
                    sleep.await;
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "handshake timed out",
                    ))
                })
                .await
            }
        }
    }

    fn watch_bus_for_shutdown(&self) {
        if self.inner.watching_bus.swap(true, Ordering::SeqCst) {
            return;
        }
        // Filtered: every connection publishes a `Health`, and waking this task for
        // each cost a churned connection about 1,000 instructions (docs/PERFORMANCE.md).
        let mut rx = (self.inner.services.bus)
            .subscribe_filtered(|event| matches!(event, KernelEvent::Shutdown));
        let weak = Arc::downgrade(&self.inner);
        self.inner.runtime.spawn(Box::pin(async move {
            loop {
                match rx.recv().await {
                    Ok(KernelEvent::Shutdown) => break,
                    Ok(_) | Err(kernel_core::bus::RecvError::Lagged { .. }) => continue,
                    Err(kernel_core::bus::RecvError::Closed) => return,
                }
            }
            if let Some(inner) = weak.upgrade() {
                Gateway { inner }.shutdown();
            }
        }));
    }

    /// Serves one connection given as a reader and a writer (a socket's
    /// halves, an in-memory pipe, ...). Resolves when it closes.
    pub async fn handle_conn<R, W>(&self, reader: R, writer: W) -> io::Result<()>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        self.handle_stream(Join::new(reader, writer)).await
    }

    /// Serves one connection over `stream` (an in-memory pipe, or a
    /// socket accepted elsewhere). It takes one of the `max_connections`
    /// slots like an accepted socket, but no per-address one.
    pub async fn handle_stream<S>(&self, mut stream: S) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match self.inner.admit(None) {
            Ok(slot) => self.serve_admitted(stream, None, slot, None).await,
            Err(refusal) => {
                self.inner
                    .services
                    .metrics
                    .record_rejected(refusal.reason());
                write_busy(&mut stream, refusal.message()).await
            }
        }
    }

    /// Serves one admitted connection from `peer` (if known) over
    /// `stream`, whose transport verified a client certificate named
    /// `certificate_name` (if any); `slot` is given back when it ends.
    async fn serve_admitted<S>(
        &self,
        stream: S,
        certificate_name: Option<String>,
        slot: admission::Slot,
        peer: Option<SocketAddr>,
    ) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let inner = &self.inner;
        inner.services.metrics.connection_opened();
        let now = inner.runtime.now();
        let span = connection_span(peer);
        let endpoint = GatewayEndpoint::new(Arc::clone(inner), now, certificate_name, span.clone());
        let handle = EndpointHandle::new(endpoint);
        let weak = handle.downgrade();
        handle.peek(|ep| ep.set_self(weak.clone()));
        inner.lock_connections().push(weak);
        let result = ConnectionDriver::new(Arc::clone(&inner.runtime), stream, handle)
            .instrument(span.clone())
            .await;
        inner.services.metrics.connection_closed();
        match &result {
            Ok(()) => {}
            // The peer's doing (it stopped reading, reset, vanished): no
            // fault of the service's. The driver logged it.
            Err(e) if peer_caused(e) => {
                if e.kind() == io::ErrorKind::TimedOut {
                    inner.services.metrics.record_rejected("write_timeout");
                }
            }
            Err(e) => {
                inner
                    .services
                    .bus
                    .publish_lossy(KernelEvent::ServiceCrashed {
                        service: inner.config.service.clone(),
                        reason: format!("connection task failed: {e}"),
                    });
            }
        }
        // Last: whoever waits for the slot sees everything above done.
        drop(slot);
        result
    }

    /// Begins a graceful shutdown: stop accepting, refuse new requests with
    /// `busy`, close each connection once its open requests end, and force
    /// the rest closed after the grace period.
    pub fn shutdown(&self) {
        let inner = &self.inner;
        if inner.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        inner.drain_event.notify(usize::MAX);
        let handles: Vec<_> = inner.lock_connections().live().collect();
        for h in &handles {
            h.with(|ep| ep.drain());
        }
        let deadline = inner.runtime.now() + inner.config.shutdown_grace;
        let sleep = inner.runtime.sleep_until(deadline);
        let weak: Vec<_> = handles.iter().map(|h| h.downgrade()).collect();
        inner.runtime.spawn(Box::pin(async move {
            sleep.await;
            for h in weak.iter().filter_map(|w| w.upgrade()) {
                h.with(|ep| ep.force_close());
            }
        }));
    }
}

impl Inner {
    /// The connection settings a connection accepted now gets.
    pub(crate) fn connection_config(&self) -> Arc<ConnectionConfig> {
        Arc::clone(&self.connection.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn current_tenants(&self) -> Arc<Tenants> {
        Arc::clone(&self.tenants.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn lock_connections(&self) -> std::sync::MutexGuard<'_, Connections<GatewayEndpoint>> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The shortest and longest waits after a failed accept.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The span every event of one connection is logged in: the peer's
/// address (none for a stream handed to [`Gateway::handle_stream`]), and,
/// once HELLO completed, the tenant and the negotiated limits. At info
/// level, so that a connection's refusals, violations and timeouts carry
/// who it was; it costs a span per connection, nothing per frame.
fn connection_span(peer: Option<SocketAddr>) -> tracing::Span {
    tracing::info_span!(
        "conn",
        peer = peer.map(tracing::field::display),
        tenant = tracing::field::Empty,
        max_frame = tracing::field::Empty,
        max_inflight = tracing::field::Empty,
        credit = tracing::field::Empty,
    )
}

/// Whether a transport error is the peer's doing rather than the server's.
fn peer_caused(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        TimedOut | ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected
    )
}

/// Answers a connection that got no slot with ERROR `busy`, then closes
/// it; gives up after `deadline` if the peer does not read.
async fn refuse_busy(
    mut stream: BoxStream,
    msg: &'static str,
    deadline: Option<Duration>,
    runtime: Arc<dyn Runtime>,
) {
    let answer = write_busy(&mut stream, msg);
    match deadline {
        None => {
            let _ = answer.await;
        }
        Some(d) => {
            let sleep = runtime.sleep_until(runtime.now() + d);
            let _ = future::or(answer, async {
                sleep.await;
                Ok(())
            })
            .await;
        }
    }
}

/// Writes ERROR `busy` with `msg` to `stream`, then closes it.
async fn write_busy<S: AsyncWrite + Unpin>(stream: &mut S, msg: &str) -> io::Result<()> {
    use futures_lite::AsyncWriteExt;
    let env = ErrorEnvelope::new(ErrorCode::Busy, msg);
    let frame = FrameEncoder::new()
        .to_bytes(oap_core::frame::FrameType::Error, &env.encode())
        .map_err(io::Error::other)?;
    stream.write_all(&frame).await?;
    stream.flush().await?;
    stream.close().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endpoint that does nothing, to fill the connection list.
    struct Idle(oap_core::connection::Connection);

    impl oap_io::Endpoint for Idle {
        fn connection(&mut self) -> &mut oap_core::connection::Connection {
            &mut self.0
        }
        fn handle_events(&mut self, _now: std::time::Instant) {}
    }

    #[test]
    fn the_connection_list_stays_within_twice_the_open_connections() {
        let now = std::time::Instant::now();
        let handle = || {
            EndpointHandle::new(Idle(oap_core::connection::Connection::server(
                ConnectionConfig::default(),
                now,
            )))
        };
        let mut list = Connections::default();
        let open: Vec<_> = (0..100).map(|_| handle()).collect();
        for h in &open {
            list.push(h.downgrade());
        }
        let mut longest = 0;
        for _ in 0..10_000 {
            // A connection that came and went.
            list.push(handle().downgrade());
            longest = longest.max(list.list.len());
        }
        assert!(
            longest <= 2 * open.len() + Connections::<Idle>::SWEEP_FLOOR + 1,
            "{longest} entries for {} open connections",
            open.len()
        );
        assert_eq!(list.live().count(), open.len(), "no open one forgotten");
    }

    /// A runtime whose clock stands still and whose sleeps end at the next
    /// poll,
    /// recording how long each was asked to last; spawned tasks are kept
    /// but never run.
    struct RecordingRuntime {
        base: std::time::Instant,
        sleeps: Arc<Mutex<Vec<Duration>>>,
        spawned: Mutex<Vec<BoxFuture<'static, ()>>>,
    }

    impl RecordingRuntime {
        fn new(sleeps: Arc<Mutex<Vec<Duration>>>) -> Self {
            Self {
                base: std::time::Instant::now(),
                sleeps,
                spawned: Mutex::new(Vec::new()),
            }
        }
    }

    impl std::fmt::Debug for RecordingRuntime {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RecordingRuntime").finish_non_exhaustive()
        }
    }

    impl Runtime for RecordingRuntime {
        fn now(&self) -> std::time::Instant {
            self.base
        }
        fn sleep_until(&self, deadline: std::time::Instant) -> BoxFuture<'static, ()> {
            let mut sleeps = self.sleeps.lock().unwrap();
            sleeps.push(deadline - self.base);
            // Ends at the next poll: the caller yields once, as a real
            // sleep would, so the test's other future gets polled.
            Box::pin(future::yield_now())
        }
        fn spawn(&self, future: BoxFuture<'static, ()>) {
            self.spawned.lock().unwrap().push(future);
        }
        fn bind(&self, _: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
            Box::pin(std::future::ready(Err(io::ErrorKind::Unsupported.into())))
        }
        fn connect(&self, _: SocketAddr) -> BoxFuture<'static, io::Result<BoxStream>> {
            Box::pin(std::future::ready(Err(io::ErrorKind::Unsupported.into())))
        }
    }

    /// A listener out of file descriptors: every accept fails with EMFILE.
    struct OutOfDescriptors {
        accepts: Arc<AtomicUsize>,
    }

    impl Listener for OutOfDescriptors {
        fn accept(&self) -> BoxFuture<'_, io::Result<(BoxStream, SocketAddr)>> {
            self.accepts.fetch_add(1, Ordering::SeqCst);
            Box::pin(std::future::ready(Err(io::Error::from_raw_os_error(24))))
        }
        fn local_addr(&self) -> io::Result<SocketAddr> {
            Ok(SocketAddr::from(([127, 0, 0, 1], 0)))
        }
    }

    #[test]
    fn failed_accepts_back_off_doubling_from_10_ms_to_1_s_instead_of_spinning() {
        let sleeps = Arc::new(Mutex::new(Vec::new()));
        let runtime = Arc::new(RecordingRuntime::new(Arc::clone(&sleeps)));
        let server = Gateway::new(
            runtime,
            GatewayConfig::default(),
            Arc::new(crate::MemStore::new()),
            Services::new(8),
        );
        let accepts = Arc::new(AtomicUsize::new(0));
        let listener = Box::new(OutOfDescriptors {
            accepts: Arc::clone(&accepts),
        });
        let serve = server.serve_listener(listener, None);
        let twelve_waits = async {
            while sleeps.lock().unwrap().len() < 12 {
                future::yield_now().await;
            }
            Ok(())
        };
        future::block_on(future::or(serve, twelve_waits)).unwrap();
        let ms: Vec<u128> = sleeps
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(
            ms[..12],
            [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000, 1000]
        );
        assert!(
            accepts.load(Ordering::SeqCst) <= ms.len() + 1,
            "one accept per wait, never a spin"
        );
    }

    #[test]
    fn one_bus_watcher_however_many_listeners_are_served() {
        let runtime = Arc::new(RecordingRuntime::new(Arc::default()));
        let services = Services::new(8);
        let bus = services.bus.clone();
        let server = Gateway::new(
            runtime,
            GatewayConfig::default(),
            Arc::new(crate::MemStore::new()),
            services,
        );
        let before = bus.receiver_count();
        let listener = || {
            Box::new(OutOfDescriptors {
                accepts: Arc::new(AtomicUsize::new(0)),
            }) as Box<dyn Listener>
        };
        // Each accept loop runs until its first back-off, then is dropped.
        for _ in 0..3 {
            let serve = server.serve_listener(listener(), None);
            future::block_on(future::or(serve, async { Ok(()) })).expect("it only backs off");
        }
        assert_eq!(bus.receiver_count(), before + 1);
    }

    #[test]
    fn from_kernel_carries_max_object_bytes_into_the_connection() {
        let kernel = kernel_core::Config {
            max_object_bytes: 65_536,
            ..kernel_core::Config::default()
        };
        let config = GatewayConfig::from_kernel(&kernel);
        assert_eq!(config.connection.max_object_bytes, Some(65_536));
        let default = GatewayConfig::from_kernel(&kernel_core::Config::default());
        assert_eq!(
            default.connection.max_object_bytes,
            Some(oap_core::limits::DEFAULT_MAX_OBJECT_BYTES),
            "the node's default is the core's"
        );
    }

    #[test]
    fn from_kernel_carries_tenants_and_resolves_the_anonymous_default_by_listen_address() {
        let token = "a-test-token";
        let hash = oap_core::server::token_hash(token).to_hex().to_string();
        let kernel = kernel_core::Config::from_toml_str(&format!(
            "[[tenants]]\nname = \"acme\"\ntoken_hash = \"{hash}\"\n\
             permissions = [\"get\", \"subscribe\"]\nburst = 7\n"
        ))
        .expect("config");
        let loopback = GatewayConfig::from_kernel_at(&kernel, "127.0.0.1:9443".parse().unwrap());
        let id = loopback
            .tenants
            .authenticate(
                None,
                oap_core::server::Credentials {
                    token: Some(token),
                    certificate_name: None,
                },
            )
            .expect("the token authenticates");
        assert_eq!(&*id.tenant, "acme");
        assert_eq!(
            id.permissions,
            Permissions::GET.union(Permissions::SUBSCRIBE)
        );
        assert_eq!(
            loopback.tenants.anonymous(),
            Permissions::PUT.union(Permissions::GET)
        );
        assert_eq!(
            loopback.tenants.tenants()[0].quota.map(|q| q.burst),
            Some(7)
        );
        let public = GatewayConfig::from_kernel_at(&kernel, "0.0.0.0:9443".parse().unwrap());
        assert!(
            public.tenants.anonymous().is_empty(),
            "no anonymous access off loopback"
        );
    }
}
