//! The gateway role: a server [`Connection`] plus authentication (who the
//! peer is, from its HELLO's token: [`Tenants`]), admission (permissions by
//! op, per-tenant quotas) and the events the kernel cares about. Still
//! sans-IO: the runtime layer turns [`ServerEvent`]s into bus events and
//! metrics.

mod auth;
mod quota;

pub use auth::{
    AuthError, Credentials, Identity, Permissions, TOKEN_HASH_CONTEXT, Tenant, Tenants,
    TenantsError, token_hash,
};
pub use quota::{QuotaConfig, TenantQuotas};

use std::sync::Arc;
use std::time::Instant;

use crate::connection::{Connection, ConnectionConfig, Event, RequestId};
use crate::payload::{ErrorCode, ErrorEnvelope, Start};

/// The tenant of every peer without a token.
pub const ANONYMOUS_TENANT: &str = "anonymous";

/// What the gateway reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A client completed HELLO and authenticated: publish
    /// `KernelEvent::Health`.
    Health {
        /// The service the client spoke to (its `app_proto_id`, or the
        /// gateway's own name).
        service: String,
    },
    /// A request passed admission and was accepted (its ACK is queued).
    RequestAccepted {
        /// The request.
        id: RequestId,
        /// Its START, boxed as in [`Event::RequestStarted`].
        start: Box<Start>,
        /// The tenant it is accounted to.
        tenant: Arc<str>,
    },
    /// A request was refused at admission; the ERROR is queued.
    RequestRefused {
        /// The request.
        id: RequestId,
        /// Why.
        code: ErrorCode,
    },
    /// A client completed HELLO but failed authentication: the connection
    /// is closing with ERROR `unauthorized`.
    AuthenticationFailed {
        /// Why (never contains the token).
        error: AuthError,
    },
    /// Any other connection event, unchanged.
    Connection(Event),
}

/// One gateway connection.
///
/// Drive it like a [`Connection`] (through [`ServerSession::connection`]), but take
/// events from [`ServerSession::poll_event`], which authenticates the peer when
/// its HELLO arrives and performs admission: every started request is
/// accepted or refused before the application sees it.
#[derive(Debug)]
pub struct ServerSession {
    conn: Connection,
    /// Shared with every connection of the gateway: a clone per
    /// connection would allocate.
    service: Arc<str>,
    draining: bool,
    tenants: Arc<Tenants>,
    certificate_name: Option<String>,
    /// The hash of the token the peer authenticated with (never the token
    /// itself), to authenticate it again when the directory changes.
    token_hash: Option<blake3::Hash>,
    identity: Option<Identity>,
}

impl ServerSession {
    /// A gateway connection named `service` (used in health events when the
    /// client names no application protocol) with an open directory
    /// ([`Tenants::open`]: no tenants, anonymous peers may do everything).
    pub fn new(
        config: impl Into<Arc<ConnectionConfig>>,
        service: impl Into<Arc<str>>,
        now: Instant,
    ) -> Self {
        Self::with_tenants(config, service, Arc::new(Tenants::open()), now)
    }

    /// A gateway connection that authenticates peers against `tenants`.
    /// Pass `config` as an `Arc<ConnectionConfig>` and `service` as an
    /// `Arc<str>` the gateway keeps, to share them among its connections.
    pub fn with_tenants(
        config: impl Into<Arc<ConnectionConfig>>,
        service: impl Into<Arc<str>>,
        tenants: Arc<Tenants>,
        now: Instant,
    ) -> Self {
        Self {
            conn: Connection::server(config, now),
            service: service.into(),
            draining: false,
            tenants,
            certificate_name: None,
            token_hash: None,
            identity: None,
        }
    }

    /// Records the subject common name of the client certificate the
    /// transport verified (mutual TLS), which names the peer's tenant (see
    /// [`Tenants::authenticate`]). Call it before the peer's HELLO is
    /// input; later calls do not change an identity already decided.
    pub fn set_certificate_name(&mut self, name: Option<String>) {
        self.certificate_name = name;
    }

    /// Stops admitting requests (graceful shutdown): every later START is
    /// refused with a retryable `busy`; open requests go on.
    pub fn drain(&mut self) {
        self.draining = true;
    }

    /// Whether [`ServerSession::drain`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// The underlying connection, for input, transmit, timers and commands.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// What the connection counted so far (the same as
    /// `connection().stats()`, without a mutable borrow).
    pub fn stats(&self) -> &crate::connection::ConnectionStats {
        self.conn.stats()
    }

    /// The tenant this connection is accounted to: the authenticated one,
    /// which is always a configured tenant or [`ANONYMOUS_TENANT`] (also
    /// before HELLO and after a failed authentication), never a name the
    /// peer merely claimed.
    pub fn tenant(&self) -> &str {
        self.identity
            .as_ref()
            .map_or(ANONYMOUS_TENANT, |i| &i.tenant)
    }

    /// Replaces the tenant directory (a configuration reload). A peer that
    /// already authenticated is authenticated again at once against
    /// `tenants`, with the credentials it presented: its new permissions
    /// apply from its next START on; if its token or certificate no longer
    /// names a tenant (revoked), or anonymous peers are no longer admitted,
    /// the connection closes with ERROR `unauthorized` and the reason is
    /// returned. Requests already accepted are aborted by that close.
    pub fn update_tenants(&mut self, tenants: Arc<Tenants>) -> Result<(), AuthError> {
        self.tenants = tenants;
        if self.identity.is_none() {
            return Ok(());
        }
        self.decide_identity(" (the node's configuration changed)")
    }

    /// Who the peer authenticated as (none before HELLO, or when it
    /// failed).
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// Authenticates the peer whose HELLO just completed; on failure closes
    /// the connection with ERROR `unauthorized`.
    fn authenticate(&mut self) -> Result<(), AuthError> {
        // Taken out of the HELLO: held no longer than this check; only its
        // hash stays, to authenticate again after a reload.
        let token = self.conn.take_peer_token();
        self.token_hash = token.as_deref().map(token_hash);
        self.decide_identity("")
    }

    /// Decides who the peer is from its HELLO's claim and the credentials
    /// it presented, against the current directory; on failure forgets any
    /// earlier identity and closes the connection with ERROR
    /// `unauthorized` (its message ends with `context`).
    fn decide_identity(&mut self, context: &str) -> Result<(), AuthError> {
        let claimed = self.conn.peer_hello().and_then(|h| h.tenant.clone());
        match self.tenants.authenticate_hashed(
            claimed.as_deref(),
            self.token_hash,
            self.certificate_name.as_deref(),
        ) {
            Ok(identity) => {
                self.identity = Some(identity);
                Ok(())
            }
            Err(error) => {
                self.identity = None;
                let env = ErrorEnvelope::new(ErrorCode::Unauthorized, format!("{error}{context}"));
                self.conn.close(Some(env));
                Err(error)
            }
        }
    }

    /// Takes the next event, admitting started requests against `quotas`
    /// (pass `None` for no quota). Call until `None` after every input.
    pub fn poll_event(
        &mut self,
        now: Instant,
        quotas: Option<&mut TenantQuotas>,
    ) -> Option<ServerEvent> {
        let ev = self.conn.poll_event()?;
        Some(match ev {
            Event::Connected(_) => match self.authenticate() {
                Ok(()) => ServerEvent::Health {
                    service: self
                        .conn
                        .peer_hello()
                        .and_then(|h| h.app_proto_id.clone())
                        .unwrap_or_else(|| String::from(&*self.service)),
                },
                Err(error) => ServerEvent::AuthenticationFailed { error },
            },
            Event::RequestStarted { id, start } => self.admit(now, id, start, quotas),
            other => ServerEvent::Connection(other),
        })
    }

    fn admit(
        &mut self,
        now: Instant,
        id: RequestId,
        start: Box<Start>,
        quotas: Option<&mut TenantQuotas>,
    ) -> ServerEvent {
        let Some(identity) = &self.identity else {
            // Authentication failed (the connection is closing): nothing
            // it pipelined behind its HELLO is served.
            let env = ErrorEnvelope::new(ErrorCode::Unauthorized, "not authenticated");
            let _ = self.conn.reject(id, env);
            return ServerEvent::RequestRefused {
                id,
                code: ErrorCode::Unauthorized,
            };
        };
        let tenant = identity.tenant.clone();
        let permissions = identity.permissions;
        if self.draining {
            let env = ErrorEnvelope::new(ErrorCode::Busy, "the server is shutting down");
            let _ = self.conn.reject(id, env);
            return ServerEvent::RequestRefused {
                id,
                code: ErrorCode::Busy,
            };
        }
        if let Some((needed, name)) = Permissions::needed_for(start.op.as_deref()) {
            if !permissions.contains(needed) {
                let env = ErrorEnvelope::new(
                    ErrorCode::Unauthorized,
                    format!("tenant {tenant} may not {name}"),
                );
                let _ = self.conn.reject(id, env);
                return ServerEvent::RequestRefused {
                    id,
                    code: ErrorCode::Unauthorized,
                };
            }
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
                return ServerEvent::RequestRefused {
                    id,
                    code: ErrorCode::QuotaExhausted,
                };
            }
        }
        match self.conn.accept(id) {
            Ok(()) => ServerEvent::RequestAccepted { id, start, tenant },
            // Already ended (e.g. the peer sent ERROR in the same read).
            Err(_) => ServerEvent::RequestRefused {
                id,
                code: ErrorCode::Proto,
            },
        }
    }
}
