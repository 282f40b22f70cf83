//! What the gateway does with each connection's events: admission,
//! the request table, store work on the blocking pool, metrics. Puts and
//! gets have a file each ([`put`], [`get`]); subscriptions live in
//! `server/subscription.rs`.

mod get;
mod put;

use std::collections::BTreeMap;

use std::sync::Arc;
use std::time::Instant;

use std::io;

use kernel_core::KernelEvent;
use kernel_core::metrics::accounting::TenantMeter;
use oap_core::ObjectId;
use oap_core::connection::{
    Connection, ConnectionStats, Event, RequestId, RequestMap, RequestOutcome, Violation,
};
use oap_core::payload::{ErrorCode, ErrorEnvelope, Start};
use oap_core::server::{ServerEvent, ServerSession};
use oap_io::{Endpoint, WeakEndpointHandle};

use super::Inner;
use super::subscription::Subscription;
use crate::store::{CorruptObject, StoreUnavailable};
use get::Get;
use put::Put;

/// Names one piece of store work sent to the blocking pool, so that its
/// result is applied only to the request that sent it: a peer may reuse
/// a request id once the request ended.
type Job = u64;

enum Kind {
    Put(Put),
    /// A get waiting for a store that blocks to open the object.
    Opening(Job),
    Get(Get),
    Subscribe(Subscription),
    /// Refused right after acceptance; only its end is left to count.
    Refused,
}

struct Request {
    kind: Kind,
    started: Instant,
}

/// Bytes of a busy connection that may wait before they are reported to
/// the per-tenant metrics (see `GatewayEndpoint::sync_metrics`).
const METRICS_BATCH: u64 = 64 * 1024;

/// Counters already reported to the metrics, to report only increments.
#[derive(Default)]
struct Reported {
    rejects: BTreeMap<ErrorCode, u64>,
    bytes_in: u64,
    bytes_out: u64,
    /// The tenant's byte counters, looked up at the first report: a
    /// connection reports after its HELLO and at every idle moment. Kept
    /// with the tenant they count for.
    meter: Option<(Arc<str>, TenantMeter)>,
}

impl Reported {
    /// Whether the connection counted anything since the last report.
    fn behind(&self, stats: &ConnectionStats) -> bool {
        stats.bytes_in != self.bytes_in
            || stats.bytes_out != self.bytes_out
            || stats.rejects != self.rejects
    }
}

/// The gateway's side of one connection.
pub(crate) struct GatewayEndpoint {
    server: Arc<Inner>,
    gateway: ServerSession,
    me: Option<WeakEndpointHandle<GatewayEndpoint>>,
    requests: RequestMap<Request>,
    reported: Reported,
    next_job: Job,
    /// The connection's span (see `server::connection_span`): the driver
    /// runs in it; HELLO fills in the tenant and the negotiated limits.
    span: tracing::Span,
}

impl GatewayEndpoint {
    /// The endpoint of a connection whose transport verified a client
    /// certificate named `certificate_name` (if any), logging in `span`.
    pub(super) fn new(
        server: Arc<Inner>,
        now: Instant,
        certificate_name: Option<String>,
        span: tracing::Span,
    ) -> Self {
        let mut gateway = ServerSession::with_tenants(
            server.connection_config(),
            Arc::clone(&server.service),
            server.current_tenants(),
            now,
        );
        gateway.set_certificate_name(certificate_name);
        Self {
            server,
            gateway,
            me: None,
            requests: RequestMap::new(),
            reported: Reported::default(),
            next_job: 0,
            span,
        }
    }

    /// A reloaded tenant directory: see [`ServerSession::update_tenants`].
    pub(super) fn update_tenants(
        &mut self,
        tenants: Arc<oap_core::server::Tenants>,
    ) -> Result<(), oap_core::server::AuthError> {
        let result = self.gateway.update_tenants(tenants);
        if let Err(error) = &result {
            tracing::debug!(%error, "credentials revoked by a reload");
        }
        result
    }

    /// Lets subscription tasks reach this endpoint.
    pub(super) fn set_self(&mut self, me: WeakEndpointHandle<GatewayEndpoint>) {
        self.me = Some(me);
    }

    /// Graceful shutdown: refuse new requests; close once none is open.
    pub(super) fn drain(&mut self) {
        self.gateway.drain();
        self.close_if_drained();
    }

    /// The grace period is over.
    pub(super) fn force_close(&mut self) {
        let env = ErrorEnvelope::new(ErrorCode::Busy, "the server shut down");
        self.gateway.connection().close(Some(env));
    }

    fn close_if_drained(&mut self) {
        let draining = self.gateway.is_draining();
        let conn = self.gateway.connection();
        if draining && conn.open_requests() == 0 && !conn.is_closed() {
            conn.close(None);
        }
    }

    fn conn(&mut self) -> &mut Connection {
        self.gateway.connection()
    }

    fn reject(&mut self, id: RequestId, code: ErrorCode, msg: impl Into<String>) {
        let _ = self.conn().reject(id, ErrorEnvelope::new(code, msg));
    }

    fn on_event(&mut self, now: Instant, ev: ServerEvent) {
        match ev {
            // A completed HELLO is always healthy; `KernelEvent::Health`
            // keeps its `ok` field for the supervisor's failures.
            ServerEvent::Health { service } => {
                self.span
                    .record("tenant", tracing::field::display(self.gateway.tenant()));
                if let Some(n) = self.gateway.connection().negotiated() {
                    self.span.record("max_frame", n.max_frame);
                    self.span.record("max_inflight", n.max_inflight);
                    self.span.record("credit", n.credit);
                }
                tracing::debug!(%service, "hello");
                self.server
                    .services
                    .bus
                    .publish_lossy(KernelEvent::Health { service, ok: true });
            }
            ServerEvent::RequestAccepted { id, start, .. } => self.on_accepted(now, id, &start),
            // A refusal to retry later is the system working (and a peer
            // retrying in a loop would flood the log): debug. Others say
            // a client is misconfigured: info.
            ServerEvent::RequestRefused { id, code } if code.retryable() => {
                tracing::debug!(request = id.0, %code, "request refused");
            }
            ServerEvent::RequestRefused { id, code } => {
                tracing::info!(request = id.0, %code, "request refused");
            }
            // Counted as `rejected_total{reason="unauthorized"}` from the
            // connection's stats; the message never holds the token.
            ServerEvent::AuthenticationFailed { error } => {
                tracing::info!(%error, "peer refused at HELLO");
            }
            ServerEvent::Connection(ev) => self.on_connection_event(now, ev),
        }
    }

    fn on_accepted(&mut self, now: Instant, id: RequestId, start: &Start) {
        self.server.services.metrics.request_started();
        let kind = match start.op.as_deref() {
            // The original client names a topic and puts: a put.
            Some("put") | None => Kind::Put(Put::default()),
            Some("get") => self.start_get(id, start.addr.as_deref()),
            Some("subscribe") => {
                let topic = start.topic.clone().unwrap_or_else(|| "*".to_owned());
                // Long-lived: no request timeout, keepalives while idle.
                let _ = self.conn().keep_alive(id, now);
                match self.me.clone() {
                    Some(me) => match Subscription::start(&self.server, me, id, topic) {
                        Some(sub) => Kind::Subscribe(sub),
                        None => {
                            self.reject(
                                id,
                                ErrorCode::Busy,
                                "the server serves as many subscriptions as it may",
                            );
                            Kind::Refused
                        }
                    },
                    // Only an endpoint no driver runs (never so in the
                    // server) has no handle for the feeding task.
                    None => {
                        self.reject(id, ErrorCode::Internal, "subscriptions are unavailable");
                        Kind::Refused
                    }
                }
            }
            Some(other) => {
                self.reject(id, ErrorCode::Proto, format!("unknown op {other:.32?}"));
                Kind::Refused
            }
        };
        // Tracked even when refused: the request still ends through
        // `RequestEnded`, which balances latency and inflight.
        self.requests.insert(id, Request { kind, started: now });
        self.pump(id);
    }

    /// Ends request `id` for a store error, with the code that says what
    /// happened (a full disk, a corrupted copy) and a short message. A
    /// corrupted copy has been moved aside by its store: it is counted
    /// and logged.
    fn store_failed(&mut self, id: RequestId, e: &io::Error) {
        let (code, msg) = if let Some(c) = CorruptObject::find(e) {
            self.server.services.metrics.record_corrupt_object();
            tracing::warn!(obj = %c.obj, "stored copy does not match its id; quarantined");
            (ErrorCode::Internal, "the stored copy is corrupt".to_owned())
        } else if e.kind() == io::ErrorKind::StorageFull {
            (ErrorCode::StoreFull, "the store is full".to_owned())
        } else if StoreUnavailable::is(e) {
            tracing::warn!(error = %e, "store unavailable");
            (
                ErrorCode::Unavailable,
                "the store is unavailable".to_owned(),
            )
        } else {
            (ErrorCode::Internal, format!("store: {e:.120}"))
        };
        self.reject(id, code, msg);
    }

    fn on_connection_event(&mut self, now: Instant, ev: Event) {
        match ev {
            Event::Readable { id } => self.advance_put(id),
            Event::ObjectVerified { id, obj, len, .. } => self.put_verified(id, obj, len),
            Event::Finished { id, obj } => self.on_peer_end(id, obj),
            Event::CreditGranted { id, .. } => self.pump(id),
            Event::RequestEnded { id, outcome } => {
                log_request_end(id, &outcome);
                if let Some(req) = self.requests.remove(&id) {
                    if let Kind::Subscribe(sub) = &req.kind {
                        sub.cancel();
                    }
                    let m = &self.server.services.metrics;
                    m.request_finished();
                    m.observe_request_latency(now.saturating_duration_since(req.started));
                }
            }
            Event::Closed {
                error,
                by_peer,
                violation,
            } => log_close(error.as_ref(), by_peer, violation.as_ref()),
            _ => {}
        }
    }

    fn new_job(&mut self) -> Job {
        self.next_job += 1;
        self.next_job
    }

    /// Runs `work` on the blocking pool, then `then` on this endpoint if
    /// the connection still exists (a panic in `work` becomes an error).
    /// Record the job in the request before calling: `then` may run at
    /// once.
    fn off_driver<T: Send + 'static>(
        &mut self,
        work: impl FnOnce() -> io::Result<T> + Send + 'static,
        then: impl FnOnce(&mut Self, io::Result<T>) + Send + 'static,
    ) {
        let runtime = Arc::clone(&self.server.runtime);
        let Some(me) = self.me.clone() else {
            // Not registered with a driver (never so in the server): inline.
            return then(self, work());
        };
        let result = oap_io::run_blocking(&*runtime, work);
        runtime.spawn(Box::pin(async move {
            let result = result
                .await
                .unwrap_or_else(|| Err(io::Error::other("the store panicked")));
            if let Some(handle) = me.upgrade() {
                handle.with(|ep| then(ep, result));
            }
        }));
    }

    fn on_peer_end(&mut self, id: RequestId, announced: Option<ObjectId>) {
        match self.requests.get_mut(&id).map(|r| &mut r.kind) {
            Some(Kind::Put(_)) => self.put_peer_end(id, announced),
            // The subscriber hung up its half: the stream ends.
            Some(Kind::Subscribe(s)) => {
                s.cancel();
                let _ = self.conn().finish(id, None);
            }
            _ => {}
        }
    }

    /// A subscription task delivers a bus outcome; `false` ends the task.
    pub(super) fn deliver(
        &mut self,
        id: RequestId,
        outcome: Result<KernelEvent, kernel_core::bus::RecvError>,
    ) -> bool {
        let Some(Request {
            kind: Kind::Subscribe(sub),
            ..
        }) = self.requests.get_mut(&id)
        else {
            return false;
        };
        sub.offer(outcome);
        self.pump(id);
        true
    }

    /// Reports what the connection counted since last time. Bytes go to
    /// the authenticated tenant (a configured one or `anonymous`, never a
    /// name the peer merely claimed), so the label set stays bounded by
    /// the configuration.
    ///
    /// Rejections are reported at once. Bytes are reported once
    /// [`METRICS_BATCH`] of them wait, whenever the connection has no open
    /// request, and at its end (`all`): when a report looked the tenant's
    /// label up under the registry's lock, reporting at every driver round
    /// cost small objects more than the rest of their accounting, and
    /// every connection still adds to the same shared totals. The
    /// tenant's counters are now looked up once per connection, at its
    /// first report after HELLO ([`TenantMeter`]). So the counters are
    /// exact for every idle connection and lag a busy one by less than a
    /// batch.
    fn sync_metrics(&mut self, all: bool) {
        let stats = self.gateway.stats();
        let m = &self.server.services.metrics;
        for (code, n) in &stats.rejects {
            let seen = self.reported.rejects.entry(*code).or_default();
            for _ in *seen..*n {
                m.record_rejected(code.as_str());
            }
            *seen = *n;
        }
        let bytes_in = stats.bytes_in - self.reported.bytes_in;
        let bytes_out = stats.bytes_out - self.reported.bytes_out;
        if !(all || self.requests.is_empty() || bytes_in + bytes_out >= METRICS_BATCH) {
            return;
        }
        if bytes_in + bytes_out == 0 {
            return;
        }
        self.reported.bytes_in = stats.bytes_in;
        self.reported.bytes_out = stats.bytes_out;
        let meter = match (self.gateway.identity(), &self.reported.meter) {
            (Some(id), Some((counted, meter))) if Arc::ptr_eq(counted, &id.tenant) => meter,
            (Some(id), _) => {
                let meter = m.tenants().meter(&id.tenant);
                &self.reported.meter.insert((id.tenant.clone(), meter)).1
            }
            // Before HELLO decided who the peer is: the anonymous tenant,
            // looked up this once.
            (None, _) => &m.tenants().meter(self.gateway.tenant()),
        };
        if bytes_in > 0 {
            m.record_bytes_in_to(meter, bytes_in);
        }
        if bytes_out > 0 {
            m.record_bytes_out_to(meter, bytes_out);
        }
    }
}

impl Endpoint for GatewayEndpoint {
    fn connection(&mut self) -> &mut Connection {
        self.gateway.connection()
    }

    /// The driver calls this two or three times a round, most often with
    /// nothing new: then it takes no lock and reports nothing (the
    /// connection counted nothing since the last report).
    fn handle_events(&mut self, now: Instant) {
        let reacted = self.gateway.connection().has_events();
        while self.gateway.connection().has_events() {
            let ev = {
                let mut quotas = self
                    .server
                    .quotas
                    .as_ref()
                    .map(|q| q.lock().unwrap_or_else(|p| p.into_inner()));
                self.gateway.poll_event(now, quotas.as_deref_mut())
            };
            match ev {
                Some(ev) => self.on_event(now, ev),
                None => break,
            }
        }
        if reacted || self.reported.behind(self.gateway.stats()) {
            self.sync_metrics(false);
        }
        if reacted {
            // Requests end only through events; a drain begun elsewhere
            // checks for itself (`drain`).
            self.close_if_drained();
        }
    }

    fn on_driver_exit(&mut self, _error: Option<&std::io::Error>) {
        self.sync_metrics(true);
        if self.gateway.connection().peer_speaks_tls() {
            crate::tls::failure::tls_client_at_plaintext_port(&self.server.services.metrics);
        }
        for req in self.requests.values() {
            if let Kind::Subscribe(s) = &req.kind {
                s.cancel();
            }
        }
    }
}

/// Logs a request that did not complete: at info when the peer broke the
/// protocol or let it time out (worth an operator's look), at debug for
/// the rest (the peer cancelled, the store refused: counted in metrics).
fn log_request_end(id: RequestId, outcome: &RequestOutcome) {
    let RequestOutcome::Failed {
        error,
        by_peer,
        violation,
    } = outcome
    else {
        return;
    };
    match violation {
        Some(v) => {
            tracing::info!(request = id.0, violation = %v, code = %v.code(), "request ended: the peer broke the protocol")
        }
        None if !by_peer && error.code == ErrorCode::Timeout => {
            tracing::info!(request = id.0, "request ended: timed out")
        }
        None => {
            tracing::debug!(request = id.0, code = %error.code, by_peer, "request ended with an error")
        }
    }
}

/// Logs why the connection closed: at info for a protocol violation, a
/// timeout or an error from the peer; at debug for an orderly close.
fn log_close(error: Option<&ErrorEnvelope>, by_peer: bool, violation: Option<&Violation>) {
    match (violation, error) {
        (Some(v), _) => {
            tracing::info!(violation = %v, code = %v.code(), "closed: the peer broke the protocol")
        }
        (None, Some(e)) if by_peer => {
            tracing::info!(code = %e.code, message = %format_args!("{:.120}", e.msg), "closed by the peer with an error")
        }
        (None, Some(e)) if e.code == ErrorCode::Timeout => {
            tracing::info!(reason = %e.msg, "closed: timed out")
        }
        (None, Some(e)) => tracing::info!(code = %e.code, reason = %e.msg, "closed with an error"),
        (None, None) => tracing::debug!(by_peer, "closed"),
    }
}
