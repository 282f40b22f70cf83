//! The gateway role: a server [`Connection`] plus admission (per-tenant
//! quotas) and the events the kernel cares about. Still sans-IO: the
//! runtime layer turns [`GatewayEvent`]s into bus events and metrics.

mod quota;

pub use quota::{QuotaConfig, TenantQuotas};

use std::time::Instant;

use crate::connection::{Connection, ConnectionConfig, Event, RequestId};
use crate::payload::{ErrorCode, ErrorEnvelope, Start};

/// Tenant name used when a client's HELLO names none.
pub const ANONYMOUS_TENANT: &str = "anonymous";

/// What the gateway reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayEvent {
    /// A client completed HELLO: publish `KernelEvent::Health`.
    Health {
        /// The service the client spoke to (its `app_proto_id`, or the
        /// gateway's own name).
        service: String,
        /// Always true for a completed HELLO.
        ok: bool,
    },
    /// A request passed admission and was accepted (its ACK is queued).
    RequestAccepted {
        /// The request.
        id: RequestId,
        /// Its START.
        start: Start,
        /// The tenant it is accounted to.
        tenant: String,
    },
    /// A request was refused at admission; the ERROR is queued.
    RequestRefused {
        /// The request.
        id: RequestId,
        /// Why.
        code: ErrorCode,
    },
    /// Any other connection event, unchanged.
    Connection(Event),
}

/// One gateway connection.
///
/// Drive it like a [`Connection`] (through [`Gateway::connection`]), but take
/// events from [`Gateway::poll_event`], which performs admission: every
/// started request is accepted or refused before the application sees it.
#[derive(Debug)]
pub struct Gateway {
    conn: Connection,
    service: String,
    draining: bool,
}

impl Gateway {
    /// A gateway connection named `service` (used in health events when the
    /// client names no application protocol).
    pub fn new(config: ConnectionConfig, service: impl Into<String>, now: Instant) -> Self {
        Self {
            conn: Connection::server(config, now),
            service: service.into(),
            draining: false,
        }
    }

    /// Stops admitting requests (graceful shutdown): every later START is
    /// refused with a retryable `busy`; open requests go on.
    pub fn drain(&mut self) {
        self.draining = true;
    }

    /// Whether [`Gateway::drain`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// The underlying connection, for input, transmit, timers and commands.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The tenant this connection is accounted to.
    pub fn tenant(&self) -> &str {
        self.conn
            .peer_hello()
            .and_then(|h| h.tenant.as_deref())
            .unwrap_or(ANONYMOUS_TENANT)
    }

    /// Takes the next event, admitting started requests against `quotas`
    /// (pass `None` for no quota). Call until `None` after every input.
    pub fn poll_event(
        &mut self,
        now: Instant,
        quotas: Option<&mut TenantQuotas>,
    ) -> Option<GatewayEvent> {
        let ev = self.conn.poll_event()?;
        Some(match ev {
            Event::Connected(_) => GatewayEvent::Health {
                service: self
                    .conn
                    .peer_hello()
                    .and_then(|h| h.app_proto_id.clone())
                    .unwrap_or_else(|| self.service.clone()),
                ok: true,
            },
            Event::RequestStarted { id, start } => self.admit(now, id, start, quotas),
            other => GatewayEvent::Connection(other),
        })
    }

    fn admit(
        &mut self,
        now: Instant,
        id: RequestId,
        start: Start,
        quotas: Option<&mut TenantQuotas>,
    ) -> GatewayEvent {
        let tenant = self.tenant().to_owned();
        if self.draining {
            let env = ErrorEnvelope::new(ErrorCode::Busy, "the server is shutting down");
            let _ = self.conn.reject(id, env);
            return GatewayEvent::RequestRefused {
                id,
                code: ErrorCode::Busy,
            };
        }
        if let Some(q) = quotas {
            if !q.try_acquire(&tenant, now) {
                let wait = q.retry_after(&tenant);
                let env = ErrorEnvelope::new(
                    ErrorCode::QuotaExhausted,
                    format!(
                        "tenant {tenant} is over its request quota; retry in {} ms",
                        wait.as_millis()
                    ),
                );
                // The request was just announced, so it is open: reject
                // cannot fail here.
                let _ = self.conn.reject(id, env);
                return GatewayEvent::RequestRefused {
                    id,
                    code: ErrorCode::QuotaExhausted,
                };
            }
        }
        match self.conn.accept(id) {
            Ok(()) => GatewayEvent::RequestAccepted { id, start, tenant },
            // Already ended (e.g. the peer sent ERROR in the same read).
            Err(_) => GatewayEvent::RequestRefused {
                id,
                code: ErrorCode::Proto,
            },
        }
    }
}
