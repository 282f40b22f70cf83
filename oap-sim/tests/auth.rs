//! Authentication and authorization in the sans-IO gateway role: who a peer
//! is comes from its HELLO's token, what it may do from its tenant's
//! permissions, and quota buckets exist only for configured tenants and
//! `anonymous`. Time never moves unless a test moves it.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use oap_core::client::{ClientEvent, ClientSession, RequestError};
use oap_core::connection::{ConnectionConfig, Event, RequestId};
use oap_core::frame::{FrameEncoder, FrameType};
use oap_core::payload::{ControlPayload, ErrorCode, Hello, Start};
use oap_core::server::{
    ANONYMOUS_TENANT, AuthError, Permissions, QuotaConfig, ServerEvent, ServerSession, Tenant,
    TenantQuotas, Tenants, token_hash,
};
use oap_sim::wire::settle;

const ACME_TOKEN: &str = "acme-token-0123456789abcdef";
const READER_TOKEN: &str = "reader-token-fedcba9876543210";

const DEFAULT_QUOTA: QuotaConfig = QuotaConfig {
    requests_per_sec: 100,
    burst: 200,
};

/// `acme` may put, get and subscribe, with a burst of 3; `reader` may only
/// get; anonymous peers get `anonymous`.
fn directory(anonymous: Permissions) -> Tenants {
    Tenants::new(anonymous)
        .with(Tenant {
            name: "acme".into(),
            token_hash: Some(token_hash(ACME_TOKEN)),
            certificate_name: None,
            permissions: Permissions::ALL,
            quota: Some(QuotaConfig {
                requests_per_sec: 1,
                burst: 3,
            }),
        })
        .and_then(|t| {
            t.with(Tenant::with_token(
                "reader",
                token_hash(READER_TOKEN),
                Permissions::GET,
            ))
        })
        .expect("distinct tenants")
}

struct Pair {
    now: Instant,
    client: ClientSession,
    gateway: ServerSession,
    gateway_events: Vec<ServerEvent>,
    events: Vec<ClientEvent>,
}

impl Pair {
    /// A client announcing `tenant` and `token` to a gateway with
    /// `tenants`, HELLO exchanged; requests are admitted against `quotas`.
    fn new(
        tenants: &Arc<Tenants>,
        quotas: &mut TenantQuotas,
        tenant: Option<&str>,
        token: Option<&str>,
    ) -> Self {
        Self::with_certificate(tenants, quotas, tenant, token, None)
    }

    /// [`Pair::new`] over a transport that verified a client certificate
    /// named `certificate`.
    fn with_certificate(
        tenants: &Arc<Tenants>,
        quotas: &mut TenantQuotas,
        tenant: Option<&str>,
        token: Option<&str>,
        certificate: Option<&str>,
    ) -> Self {
        let now = Instant::now();
        let config = ConnectionConfig {
            tenant: tenant.map(str::to_owned),
            token: token.map(str::to_owned),
            ..ConnectionConfig::default()
        };
        let mut p = Self {
            now,
            client: ClientSession::hello(config, "storage/1", now),
            gateway: ServerSession::with_tenants(
                ConnectionConfig::default(),
                "gateway",
                Arc::clone(tenants),
                now,
            ),
            gateway_events: Vec::new(),
            events: Vec::new(),
        };
        p.gateway
            .set_certificate_name(certificate.map(str::to_owned));
        p.settle(quotas);
        p
    }

    /// Runs both sides until neither has anything to say. Accepted
    /// requests are left open: these tests look only at admission.
    fn settle(&mut self, quotas: &mut TenantQuotas) {
        let (gateway_events, events) = (&mut self.gateway_events, &mut self.events);
        settle(
            self.now,
            &mut self.client,
            &mut self.gateway,
            Some(quotas),
            |_, ev| gateway_events.push(ev),
            |ev| events.push(ev),
        );
    }

    fn closed_with(&self) -> Option<ErrorCode> {
        self.events.iter().find_map(|e| match e {
            ClientEvent::Connection(Event::Closed { error, .. }) => {
                Some(error.as_ref().map_or(ErrorCode::Internal, |e| e.code))
            }
            _ => None,
        })
    }

    fn closed_message(&self) -> String {
        self.events
            .iter()
            .find_map(|e| match e {
                ClientEvent::Connection(Event::Closed {
                    error: Some(env), ..
                }) => Some(env.msg.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn auth_failure(&self) -> Option<&AuthError> {
        self.gateway_events.iter().find_map(|e| match e {
            ServerEvent::AuthenticationFailed { error } => Some(error),
            _ => None,
        })
    }

    fn accepted(&self, id: RequestId) -> bool {
        self.gateway_events
            .iter()
            .any(|e| matches!(e, ServerEvent::RequestAccepted { id: i, .. } if *i == id))
    }

    fn refused(&self, id: RequestId) -> Option<ErrorCode> {
        self.gateway_events.iter().find_map(|e| match e {
            ServerEvent::RequestRefused { id: i, code } if *i == id => Some(*code),
            _ => None,
        })
    }

    fn open(&mut self, quotas: &mut TenantQuotas, op: Option<&str>) -> RequestId {
        let start = Start {
            op: op.map(Start::op_name),
            addr: (op == Some("get")).then(|| oap_core::ObjectId::of(b"x").to_string()),
            ..Start::default()
        };
        let id = self
            .client
            .connection()
            .start(self.now, start)
            .expect("start");
        self.settle(quotas);
        id
    }
}

/// `acme` from [`directory`], also proven by the certificate `acme.example`,
/// and `edge`, proven only by the certificate `edge-7`.
fn directory_with_certificates(anonymous: Permissions) -> Tenants {
    let mut tenants = Tenants::new(anonymous);
    for mut t in directory(anonymous).tenants().iter().cloned() {
        if t.name == "acme" {
            t.certificate_name = Some("acme.example".into());
        }
        tenants.add(t).expect("distinct tenants");
    }
    tenants
        .with(Tenant::with_certificate("edge", "edge-7", Permissions::PUT))
        .expect("distinct tenants")
}

fn quotas(tenants: &Tenants) -> TenantQuotas {
    tenants.quotas(DEFAULT_QUOTA)
}

#[test]
fn a_valid_token_authenticates_its_tenant_even_where_anonymous_peers_are_refused() {
    let tenants = Arc::new(directory(Permissions::NONE));
    let mut q = quotas(&tenants);
    let mut p = Pair::new(&tenants, &mut q, None, Some(ACME_TOKEN));
    assert!(matches!(p.events[..], [ClientEvent::Connected(_)]));
    assert_eq!(p.gateway.tenant(), "acme");
    assert!(matches!(p.gateway_events[..], [ServerEvent::Health { .. }]));
    let id = p.open(&mut q, Some("put"));
    assert!(p.accepted(id));
    // Naming the token's own tenant is fine too.
    let p = Pair::new(&tenants, &mut q, Some("acme"), Some(ACME_TOKEN));
    assert_eq!(p.gateway.tenant(), "acme");
    assert_eq!(p.closed_with(), None);
}

#[test]
fn a_token_that_matches_no_tenant_closes_the_connection_with_unauthorized() {
    let tenants = Arc::new(directory(Permissions::ALL));
    let mut q = quotas(&tenants);
    let wrong = "not-a-configured-token";
    let mut p = Pair::new(&tenants, &mut q, None, Some(wrong));
    assert_eq!(p.closed_with(), Some(ErrorCode::Unauthorized));
    assert_eq!(p.auth_failure(), Some(&AuthError::UnknownToken));
    assert!(p.gateway.connection().is_closed());
    assert_eq!(p.gateway.identity(), None);
    assert_eq!(p.gateway.tenant(), ANONYMOUS_TENANT, "never a claimed name");
    assert!(
        !p.closed_message().contains(wrong) && !format!("{:?}", p.gateway).contains(wrong),
        "the token appears in no message or Debug output"
    );
    assert!(
        !p.gateway_events
            .iter()
            .any(|e| matches!(e, ServerEvent::Health { .. })),
        "no health event for a refused peer"
    );
}

#[test]
fn requests_pipelined_behind_a_refused_hello_are_refused_unauthorized() {
    let tenants = Arc::new(directory(Permissions::ALL));
    let mut q = quotas(&tenants);
    let now = Instant::now();
    let mut gateway = ServerSession::with_tenants(
        ConnectionConfig::default(),
        "gateway",
        Arc::clone(&tenants),
        now,
    );
    // HELLO with a bad token and a START in the same read.
    let hello = Hello {
        token: Some("bad".into()),
        ..Hello::legacy()
    };
    let start = Start {
        corr_id: Some(1),
        op: Some("put".into()),
        ..Start::default()
    };
    let enc = FrameEncoder::new();
    let mut wire = enc
        .to_bytes(FrameType::Hello, &hello.encode())
        .expect("hello");
    wire.extend_from_slice(
        &enc.to_bytes(FrameType::Start, &start.encode())
            .expect("start"),
    );
    gateway.connection().handle_input(now, &wire);
    let mut events = Vec::new();
    while let Some(ev) = gateway.poll_event(now, Some(&mut q)) {
        events.push(ev);
    }
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, ServerEvent::RequestAccepted { .. })),
        "{events:?}"
    );
    assert!(matches!(
        events[0],
        ServerEvent::AuthenticationFailed {
            error: AuthError::UnknownToken
        }
    ));
}

#[test]
fn a_tenant_claim_that_disagrees_with_the_token_is_refused() {
    let tenants = Arc::new(directory(Permissions::ALL));
    let mut q = quotas(&tenants);
    let p = Pair::new(&tenants, &mut q, Some("acme"), Some(READER_TOKEN));
    assert_eq!(p.closed_with(), Some(ErrorCode::Unauthorized));
    assert_eq!(
        p.auth_failure(),
        Some(&AuthError::TenantMismatch {
            claimed: "acme".into()
        })
    );
}

#[test]
fn without_a_token_a_peer_is_anonymous_and_may_not_claim_another_tenant() {
    let tenants = Arc::new(directory(Permissions::ALL));
    let mut q = quotas(&tenants);
    let p = Pair::new(&tenants, &mut q, None, None);
    assert_eq!(p.closed_with(), None);
    assert_eq!(p.gateway.tenant(), ANONYMOUS_TENANT);
    let p = Pair::new(&tenants, &mut q, Some(ANONYMOUS_TENANT), None);
    assert_eq!(
        p.closed_with(),
        None,
        "claiming anonymous is claiming nothing"
    );
    let p = Pair::new(&tenants, &mut q, Some("acme"), None);
    assert_eq!(p.closed_with(), Some(ErrorCode::Unauthorized));
    assert_eq!(
        p.auth_failure(),
        Some(&AuthError::TenantWithoutToken {
            claimed: "acme".into()
        })
    );
}

#[test]
fn each_permission_is_checked_per_request_and_the_connection_goes_on() {
    let tenants = Arc::new(directory(Permissions::NONE));
    let mut q = quotas(&tenants);
    let mut p = Pair::new(&tenants, &mut q, None, Some(READER_TOKEN));
    assert_eq!(p.gateway.tenant(), "reader");
    for op in [Some("put"), None, Some("subscribe")] {
        let id = p.open(&mut q, op);
        assert_eq!(p.refused(id), Some(ErrorCode::Unauthorized), "op {op:?}");
        assert!(!p.gateway.connection().is_closed(), "op {op:?}");
    }
    // The put's refusal reaches the client as that request's failure.
    let (put, _) = p
        .client
        .put_doc(p.now, "docs", "a", Bytes::from_static(b"hi"))
        .expect("put");
    p.settle(&mut q);
    assert!(p.events.iter().any(|e| matches!(e,
        ClientEvent::PutDone { id, result: Err(RequestError::Failed(env)) }
            if *id == put && env.code == ErrorCode::Unauthorized && !env.retryable
            && env.corr_id == Some(put.0))));
    let get = p.open(&mut q, Some("get"));
    assert!(p.accepted(get), "what the tenant may do still works");
    assert_eq!(p.closed_with(), None);
}

#[test]
fn the_anonymous_policy_decides_what_peers_without_a_token_may_do() {
    let put_get = Permissions::PUT.union(Permissions::GET);
    for (anonymous, put_ok, get_ok) in [(Permissions::GET, false, true), (put_get, true, true)] {
        let tenants = Arc::new(directory(anonymous));
        let mut q = quotas(&tenants);
        let mut p = Pair::new(&tenants, &mut q, None, None);
        let put = p.open(&mut q, Some("put"));
        let get = p.open(&mut q, Some("get"));
        let sub = p.open(&mut q, Some("subscribe"));
        assert_eq!(p.accepted(put), put_ok, "{anonymous:?} put");
        assert_eq!(p.accepted(get), get_ok, "{anonymous:?} get");
        assert_eq!(
            p.refused(sub),
            Some(ErrorCode::Unauthorized),
            "{anonymous:?}"
        );
        assert_eq!(p.closed_with(), None);
    }
    // None: refused at HELLO, with a message that says a token is needed.
    let tenants = Arc::new(directory(Permissions::NONE));
    let mut q = quotas(&tenants);
    let p = Pair::new(&tenants, &mut q, None, None);
    assert_eq!(p.closed_with(), Some(ErrorCode::Unauthorized));
    assert_eq!(p.auth_failure(), Some(&AuthError::AnonymousRefused));
    assert!(
        p.closed_message().contains("token"),
        "{}",
        p.closed_message()
    );
}

#[test]
fn quota_buckets_exist_only_for_configured_tenants_and_anonymous() {
    let tenants = Arc::new(directory(Permissions::ALL));
    let mut q = quotas(&tenants);
    assert_eq!(q.bucket_count(), 3, "acme, reader, anonymous");
    // A flood of HELLOs with made-up tenants, with and without tokens.
    for i in 0..200u32 {
        let name = format!("tenant-{i:08x}");
        let token = format!("token-{:08x}", i.wrapping_mul(2_654_435_761));
        for (claim, tok) in [
            (Some(name.as_str()), None),
            (Some(name.as_str()), Some(token.as_str())),
            (None, Some(token.as_str())),
        ] {
            let mut p = Pair::new(&tenants, &mut q, claim, tok);
            assert_eq!(p.closed_with(), Some(ErrorCode::Unauthorized));
            let _ = p.client.connection().start(p.now, Start::default());
            p.settle(&mut q);
        }
    }
    assert_eq!(q.bucket_count(), 3, "no peer-chosen name made a bucket");

    // Each configured tenant has its own rate: acme's burst is 3.
    let mut acme = Pair::new(&tenants, &mut q, None, Some(ACME_TOKEN));
    let ids: Vec<RequestId> = (0..4).map(|_| acme.open(&mut q, Some("put"))).collect();
    assert!(ids[..3].iter().all(|id| acme.accepted(*id)));
    assert_eq!(acme.refused(ids[3]), Some(ErrorCode::QuotaExhausted));
    // Anonymous has the default bucket, untouched by acme.
    let mut anon = Pair::new(&tenants, &mut q, None, None);
    let id = anon.open(&mut q, Some("put"));
    assert!(anon.accepted(id));
    assert_eq!(q.bucket_count(), 3);
}

#[test]
fn a_verified_client_certificate_names_its_tenant_without_a_token() {
    let tenants = Arc::new(directory_with_certificates(Permissions::NONE));
    let mut q = quotas(&tenants);
    let mut p = Pair::with_certificate(&tenants, &mut q, None, None, Some("edge-7"));
    assert_eq!(p.closed_with(), None);
    assert_eq!(p.gateway.tenant(), "edge");
    let put = p.open(&mut q, Some("put"));
    assert!(p.accepted(put));
    let get = p.open(&mut q, Some("get"));
    assert_eq!(
        p.refused(get),
        Some(ErrorCode::Unauthorized),
        "the certificate's tenant has only its own permissions"
    );
    // Claiming the certificate's own tenant is fine; another is refused.
    let p = Pair::with_certificate(&tenants, &mut q, Some("edge"), None, Some("edge-7"));
    assert_eq!(p.gateway.tenant(), "edge");
    let p = Pair::with_certificate(&tenants, &mut q, Some("acme"), None, Some("edge-7"));
    assert_eq!(p.closed_with(), Some(ErrorCode::Unauthorized));
    assert!(matches!(
        p.auth_failure(),
        Some(AuthError::TenantMismatch { claimed }) if claimed == "acme"
    ));
}

#[test]
fn a_certificate_naming_no_tenant_or_disagreeing_with_the_token_is_refused() {
    let tenants = Arc::new(directory_with_certificates(Permissions::ALL));
    let mut q = quotas(&tenants);
    let p = Pair::with_certificate(&tenants, &mut q, None, None, Some("stranger"));
    assert_eq!(p.closed_with(), Some(ErrorCode::Unauthorized));
    assert_eq!(
        p.auth_failure(),
        Some(&AuthError::UnknownCertificate {
            name: "stranger".into()
        }),
        "a verified but unmapped certificate is not silently anonymous"
    );
    let p = Pair::with_certificate(&tenants, &mut q, None, Some(ACME_TOKEN), Some("edge-7"));
    assert_eq!(p.closed_with(), Some(ErrorCode::Unauthorized));
    assert_eq!(p.auth_failure(), Some(&AuthError::CredentialsDisagree));
    let p = Pair::with_certificate(
        &tenants,
        &mut q,
        None,
        Some(ACME_TOKEN),
        Some("acme.example"),
    );
    assert_eq!(p.closed_with(), None, "token and certificate agree");
    assert_eq!(p.gateway.tenant(), "acme");
}

#[test]
fn a_reloaded_directory_applies_to_open_connections_and_revokes_at_once() {
    let tenants = Arc::new(directory(Permissions::NONE));
    let mut q = quotas(&tenants);
    // `reader` may only get; after the reload it may put too.
    let mut reader = Pair::new(&tenants, &mut q, None, Some(READER_TOKEN));
    let put = reader.open(&mut q, Some("put"));
    assert_eq!(reader.refused(put), Some(ErrorCode::Unauthorized));
    let mut promoted = Tenants::new(Permissions::NONE);
    for mut t in tenants.tenants().iter().cloned() {
        if t.name == "reader" {
            t.permissions = Permissions::PUT.union(Permissions::GET);
        }
        if t.name != "acme" {
            promoted.add(t).expect("distinct");
        }
    }
    let promoted = Arc::new(promoted);
    reader
        .gateway
        .update_tenants(Arc::clone(&promoted))
        .expect("reader is still configured");
    let put = reader.open(&mut q, Some("put"));
    assert!(
        reader.accepted(put),
        "the new permissions apply to the next START"
    );

    // `acme` was left out of the reloaded directory: revoked at once.
    let mut acme = Pair::new(&tenants, &mut q, None, Some(ACME_TOKEN));
    assert_eq!(acme.gateway.tenant(), "acme");
    assert_eq!(
        acme.gateway.update_tenants(promoted),
        Err(AuthError::UnknownToken)
    );
    acme.settle(&mut q);
    assert_eq!(acme.closed_with(), Some(ErrorCode::Unauthorized));
    assert!(acme.closed_message().contains("configuration changed"));
}
