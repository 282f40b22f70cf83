//! Kernel and gateway metrics, exposed in the OpenMetrics text format by
//! `prometheus-client`.
//!
//! | series | type | fed by |
//! |---|---|---|
//! | `bus_lagged_total` | counter | every `Lagged` a bus receiver observes ([`crate::Bus::with_metrics`]) |
//! | `bus_missed_events_total` | counter | events those lags skipped |
//! | `service_restarts_total{service}` | counter | the supervisor, per restart |
//! | `request_latency_seconds` | histogram | [`Metrics::observe_request_latency`] |
//! | `rejected_total{reason}` | counter | [`Metrics::record_rejected`] |
//! | `tls_handshake_failures_total{reason}` | counter | [`Metrics::record_tls_handshake_failure`] |
//! | `bytes_in_total`, `bytes_out_total` | counter | [`Metrics::record_bytes_in`] / `_out` |
//! | `tenant_bytes_in_total{tenant}`, `tenant_bytes_out_total{tenant}` | counter | same calls, per tenant ([`accounting::TenantCounters`]) |
//! | `open_connections` | gauge | [`Metrics::connection_opened`] / `_closed` |
//! | `inflight_requests` | gauge | [`Metrics::request_started`] / `_finished` |
//! | `corrupt_objects_total` | counter | [`Metrics::record_corrupt_object`]: stored copies found not to match their id |
//! | `config_version` | gauge | [`Metrics::set_config_version`]: the configuration in force (1 at start, +1 per reload that changed it) |
//! | `config_reload_failures_total` | counter | [`Metrics::record_config_reload_failure`]: reloads refused (the previous configuration stayed) |

pub mod accounting;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use accounting::{TenantCounters, TenantMeter};

type Label = [(&'static str, String); 1];

/// The kernel's metric set. Cheap to clone; clones share every series.
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    bus_lagged: Counter,
    bus_missed: Counter,
    service_restarts: Family<Label, Counter>,
    request_latency: Histogram,
    rejected: Family<Label, Counter>,
    tls_handshake_failures: Family<Label, Counter>,
    bytes_in: Counter,
    bytes_out: Counter,
    tenants: TenantCounters,
    open_connections: Gauge,
    inflight_requests: Gauge,
    corrupt_objects: Counter,
    config_version: Gauge,
    config_reload_failures: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every series registered (and zero).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let bus_lagged = Counter::default();
        let bus_missed = Counter::default();
        let service_restarts = Family::<Label, Counter>::default();
        // 0.5 ms .. ~16 s: OAP requests range from in-memory hits to slow storage.
        let request_latency = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let rejected = Family::<Label, Counter>::default();
        let tls_handshake_failures = Family::<Label, Counter>::default();
        let bytes_in = Counter::default();
        let bytes_out = Counter::default();
        let tenants = TenantCounters::default();
        let (tenant_in, tenant_out) = tenants.families();
        let open_connections = Gauge::default();
        let inflight_requests = Gauge::default();
        let corrupt_objects = Counter::default();
        let config_version = Gauge::default();
        let config_reload_failures = Counter::default();

        // The text encoder appends `_total` to counter names, so counters are registered
        // without it; tests/metrics.rs checks the exposed names.
        registry.register(
            "bus_lagged",
            "Lagged outcomes observed by bus receivers",
            bus_lagged.clone(),
        );
        registry.register(
            "bus_missed_events",
            "Events skipped by lagging bus receivers",
            bus_missed.clone(),
        );
        registry.register(
            "service_restarts",
            "Service restarts performed by the supervisor",
            service_restarts.clone(),
        );
        registry.register(
            "request_latency_seconds",
            "Request latency from START to END",
            request_latency.clone(),
        );
        registry.register(
            "rejected",
            "Rejected frames, requests or connections by reason",
            rejected.clone(),
        );
        registry.register(
            "tls_handshake_failures",
            "TLS handshakes that failed, by reason",
            tls_handshake_failures.clone(),
        );
        registry.register("bytes_in", "Bytes received", bytes_in.clone());
        registry.register("bytes_out", "Bytes sent", bytes_out.clone());
        registry.register("tenant_bytes_in", "Bytes received per tenant", tenant_in);
        registry.register("tenant_bytes_out", "Bytes sent per tenant", tenant_out);
        registry.register(
            "open_connections",
            "Currently open connections",
            open_connections.clone(),
        );
        registry.register(
            "inflight_requests",
            "Requests started and not yet finished",
            inflight_requests.clone(),
        );
        registry.register(
            "corrupt_objects",
            "Stored objects found not to match their id when read, and quarantined",
            corrupt_objects.clone(),
        );
        registry.register(
            "config_version",
            "Version of the configuration in force",
            config_version.clone(),
        );
        registry.register(
            "config_reload_failures",
            "Configuration reloads refused; the previous configuration stayed",
            config_reload_failures.clone(),
        );

        Self {
            inner: Arc::new(Inner {
                registry,
                bus_lagged,
                bus_missed,
                service_restarts,
                request_latency,
                rejected,
                tls_handshake_failures,
                bytes_in,
                bytes_out,
                tenants,
                open_connections,
                inflight_requests,
                corrupt_objects,
                config_version,
                config_reload_failures,
            }),
        }
    }

    /// The OpenMetrics text exposition of every series (serve it at `/metrics`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.inner.registry);
        out
    }

    pub(crate) fn bus_lag_counters(&self) -> (Counter, Counter) {
        (self.inner.bus_lagged.clone(), self.inner.bus_missed.clone())
    }

    /// Current `bus_lagged_total`.
    pub fn bus_lagged_total(&self) -> u64 {
        self.inner.bus_lagged.get()
    }

    /// Makes `service_restarts_total{service}` exist at 0, so a supervised
    /// service shows in the exposition before its first restart.
    pub fn register_service(&self, service: &str) {
        let _ = self
            .inner
            .service_restarts
            .get_or_create(&[("service", service.to_owned())]);
    }

    /// Counts one restart of `service`. The supervisor calls this when it hands out a
    /// restart (see [`crate::supervisor::Supervisor::with_metrics`]).
    pub fn record_service_restart(&self, service: &str) {
        self.inner
            .service_restarts
            .get_or_create(&[("service", service.to_owned())])
            .inc();
    }

    /// Current `service_restarts_total{service}`.
    pub fn service_restarts_total(&self, service: &str) -> u64 {
        self.inner
            .service_restarts
            .get(&[("service", service.to_owned())])
            .map_or(0, |c| c.get())
    }

    /// Records one request's latency. Call once per finished request.
    pub fn observe_request_latency(&self, latency: Duration) {
        self.inner.request_latency.observe(latency.as_secs_f64());
    }

    /// Counts one rejection; `reason` should come from a small fixed set (e.g.
    /// `quota`, `bad_frame`, `unauthorized`, `too_large`) to keep cardinality bounded.
    pub fn record_rejected(&self, reason: &str) {
        self.inner
            .rejected
            .get_or_create(&[("reason", reason.to_owned())])
            .inc();
    }

    /// Counts one failed TLS handshake; `reason` should come from a small
    /// fixed set (the gateway's: `timeout`, `not_tls`, `certificate_refused`,
    /// ...) to keep cardinality bounded.
    pub fn record_tls_handshake_failure(&self, reason: &str) {
        self.inner
            .tls_handshake_failures
            .get_or_create(&[("reason", reason.to_owned())])
            .inc();
    }

    /// Counts `n` bytes received from `tenant` (total and per tenant).
    pub fn record_bytes_in(&self, tenant: &str, n: u64) {
        self.inner.bytes_in.inc_by(n);
        self.inner.tenants.add_in(tenant, n);
    }

    /// Counts `n` bytes sent to `tenant` (total and per tenant).
    pub fn record_bytes_out(&self, tenant: &str, n: u64) {
        self.inner.bytes_out.inc_by(n);
        self.inner.tenants.add_out(tenant, n);
    }

    /// Counts `n` bytes received from the tenant of `meter` (total and per
    /// tenant), as [`Metrics::record_bytes_in`] does without looking the
    /// tenant up: get `meter` once from [`TenantCounters::meter`].
    pub fn record_bytes_in_to(&self, meter: &TenantMeter, n: u64) {
        self.inner.bytes_in.inc_by(n);
        meter.add_in(n);
    }

    /// Counts `n` bytes sent to the tenant of `meter` (total and per
    /// tenant), as [`Metrics::record_bytes_out`] does without looking the
    /// tenant up.
    pub fn record_bytes_out_to(&self, meter: &TenantMeter, n: u64) {
        self.inner.bytes_out.inc_by(n);
        meter.add_out(n);
    }

    /// The per-tenant accounting counters (hand these to the ledger).
    pub fn tenants(&self) -> &TenantCounters {
        &self.inner.tenants
    }

    /// A connection was accepted. Pair every call with [`Metrics::connection_closed`].
    pub fn connection_opened(&self) {
        self.inner.open_connections.inc();
    }

    /// A connection counted by [`Metrics::connection_opened`] was closed.
    pub fn connection_closed(&self) {
        self.inner.open_connections.dec();
    }

    /// A request started. Pair every call with [`Metrics::request_finished`].
    pub fn request_started(&self) {
        self.inner.inflight_requests.inc();
    }

    /// A request counted by [`Metrics::request_started`] finished (in any way).
    pub fn request_finished(&self) {
        self.inner.inflight_requests.dec();
    }

    /// A stored object was found not to match its id while being read (and
    /// was moved aside by its store).
    pub fn record_corrupt_object(&self) {
        self.inner.corrupt_objects.inc();
    }

    /// Current `corrupt_objects_total`.
    pub fn corrupt_objects_total(&self) -> u64 {
        self.inner.corrupt_objects.get()
    }

    /// The configuration now in force has `version` (`config_version`).
    pub fn set_config_version(&self, version: u64) {
        self.inner
            .config_version
            .set(i64::try_from(version).unwrap_or(i64::MAX));
    }

    /// A configuration reload was refused (`config_reload_failures_total`).
    pub fn record_config_reload_failure(&self) {
        self.inner.config_reload_failures.inc();
    }
}
