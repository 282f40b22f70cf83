//! Mutual TLS and ALPN over real sockets: a verified client certificate
//! names its tenant; one from another CA fails the handshake; a client
//! without a certificate falls back to the anonymous policy; ALPN `oap/1`.

use std::net::SocketAddr;
use std::sync::Arc;

use oap_core::payload::ErrorCode;
use oap_core::server::{Permissions, Tenant, Tenants};
use oap_node::{
    Client, ClientError, Gateway, GatewayConfig, MemStore, ObjectStore, Services, TlsError,
};

use crate::cases::{loopback_listener, pattern, rejected};
use crate::tls::TestCa;
use crate::{Harness, TestPki};

/// A gateway serving `tls` with `config` and `store`, and its address.
pub(crate) async fn tls_gateway_on(
    h: &Harness,
    tls: Arc<rustls::ServerConfig>,
    config: GatewayConfig,
    store: Arc<dyn ObjectStore>,
) -> (Gateway, SocketAddr) {
    let server = Gateway::new(Arc::clone(&h.runtime), config, store, Services::new(64));
    let (listener, addr) = loopback_listener(h).await;
    let upgrade = (h.tls_acceptor)(tls);
    let s = server.clone();
    h.runtime.spawn(Box::pin(async move {
        let _ = s.serve_listener(listener, Some(upgrade)).await;
    }));
    (server, addr)
}

/// A gateway serving `tls` with `tenants` over a memory store.
async fn tls_gateway_with(
    h: &Harness,
    tls: Arc<rustls::ServerConfig>,
    tenants: Tenants,
) -> (Gateway, SocketAddr) {
    let config = GatewayConfig {
        tenants: Arc::new(tenants),
        ..GatewayConfig::default()
    };
    tls_gateway_on(h, tls, config, Arc::new(MemStore::new())).await
}

/// `edge` is proven by the certificate named `edge-7` and may put and get;
/// anonymous peers may do nothing.
fn edge_only() -> Tenants {
    Tenants::new(Permissions::NONE)
        .with(Tenant::with_certificate(
            "edge",
            "edge-7",
            Permissions::PUT.union(Permissions::GET),
        ))
        .expect("one tenant")
}

/// The error a refused peer sees: the connect's, or its first request's
/// (the server closes right after HELLO).
async fn refusal(connected: Result<Client, ClientError>) -> ClientError {
    match connected {
        Err(e) => e,
        Ok(c) => c
            .put_doc("docs", "x", pattern(10, 1))
            .await
            .expect_err("a refused peer stores nothing"),
    }
}

/// A client certificate from the node's client CA names its tenant (no
/// token, anonymous refused): it puts and gets and is accounted to
/// `edge`. A certificate the CA signed for a name no tenant has is refused
/// with `unauthorized` after the handshake.
pub async fn mtls_client_certificate_names_its_tenant(h: Harness) {
    let pki = TestPki::new();
    let (server, addr) = tls_gateway_with(&h, Arc::clone(&pki.mtls_server), edge_only()).await;
    let c = (h.tls_connect)(addr, "localhost".into(), pki.client_presenting("edge-7"))
        .await
        .expect("mTLS connect");
    let doc = pattern(200_000, 3);
    let id = c.put_doc("docs", "m", doc.clone()).await.expect("put");
    assert_eq!(c.get(id).await.expect("get"), doc);
    let metrics = server.services().metrics.clone();
    assert!(
        metrics.tenants().bytes_in("edge") >= 200_000,
        "accounted to the certificate's tenant"
    );

    let stranger =
        refusal((h.tls_connect)(addr, "localhost".into(), pki.client_presenting("stranger")).await)
            .await;
    assert_eq!(stranger.code(), Some(ErrorCode::Unauthorized), "{stranger}");
    assert!(
        stranger.to_string().contains("names no tenant"),
        "the reason is worded: {stranger}"
    );
}

/// A client certificate from another CA fails the handshake (counted as a
/// rejected handshake); the server goes on serving a good client.
pub async fn mtls_certificate_from_another_ca_fails_the_handshake(h: Harness) {
    let pki = TestPki::new();
    let (server, addr) = tls_gateway_with(&h, Arc::clone(&pki.mtls_server), edge_only()).await;
    let rogue = TestCa::new("rogue CA");
    let config = rogue.client_presenting("edge-7", &pki.ca);
    let refused = (h.tls_connect)(addr, "localhost".into(), config).await;
    // TLS 1.3: the client may finish its side before the server's alert
    // arrives, so the refusal shows at connect or at the first request.
    let refused = refusal(refused).await;
    assert!(
        matches!(
            refused,
            ClientError::Tls(TlsError::ClientCertificateRefused)
        ),
        "{refused}"
    );
    let good = (h.tls_connect)(addr, "localhost".into(), pki.client_presenting("edge-7"))
        .await
        .expect("a good client is served meanwhile");
    good.put_doc("docs", "after", pattern(100, 1))
        .await
        .expect("put");
    server.wait_for_open_connections(1).await;
    assert_eq!(rejected(&server, "tls_handshake"), 1);
}

/// With a client CA configured, a client without a certificate still
/// completes TLS and is judged by the anonymous policy: refused with
/// `unauthorized` where anonymous may do nothing, served where it may.
pub async fn mtls_client_without_a_certificate_is_anonymous(h: Harness) {
    let pki = TestPki::new();
    let (_server, addr) = tls_gateway_with(&h, Arc::clone(&pki.mtls_server), edge_only()).await;
    let refused =
        refusal((h.tls_connect)(addr, "localhost".into(), Arc::clone(&pki.client)).await).await;
    assert_eq!(refused.code(), Some(ErrorCode::Unauthorized), "{refused}");

    let open = Tenants::new(Permissions::GET.union(Permissions::PUT))
        .with(Tenant::with_certificate("edge", "edge-7", Permissions::ALL))
        .expect("one tenant");
    let (_server, addr) = tls_gateway_with(&h, Arc::clone(&pki.mtls_server), open).await;
    let c = (h.tls_connect)(addr, "localhost".into(), Arc::clone(&pki.client))
        .await
        .expect("connect without a certificate");
    c.put_doc("docs", "anon", pattern(10, 2))
        .await
        .expect("anonymous may put here");
}

/// The server speaks ALPN `oap/1`: a client offering it, or offering no
/// ALPN at all, is served; a client offering only another protocol fails
/// the handshake.
pub async fn tls_alpn_is_oap1(h: Harness) {
    let pki = TestPki::new();
    let (server, addr) = tls_gateway_with(&h, Arc::clone(&pki.server), Tenants::open()).await;
    for offer in [&[b"oap/1".as_slice()][..], &[]] {
        let c = (h.tls_connect)(addr, "localhost".into(), pki.client_offering_alpn(offer))
            .await
            .expect("served");
        c.put_doc("docs", "alpn", pattern(10, 3))
            .await
            .expect("put");
    }
    let h2 = (h.tls_connect)(addr, "localhost".into(), pki.client_offering_alpn(&[b"h2"])).await;
    let refused = refusal(h2).await;
    // futures-rustls's server sends its no_application_protocol alert;
    // tokio-rustls's closes without it.
    assert!(
        matches!(
            refused,
            ClientError::Tls(TlsError::AlpnRefused | TlsError::HandshakeClosed)
        ),
        "{refused}"
    );
    // The refused handshake's slot is given back after it is counted.
    server.wait_for_open_connections(0).await;
    assert_eq!(rejected(&server, "tls_handshake"), 1);
}
