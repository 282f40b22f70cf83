//! The cases. Each sets up its own gateway on loopback (or a pipe) and
//! asserts observable behaviour: bytes stored and returned, ERROR codes on
//! the wire, connections closed, counters moved.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_lite::future;
use futures_util::future::join_all;
use kernel_core::KernelEvent;
use oap_core::ObjectId;
use oap_core::client::RequestError;
use oap_core::connection::{CommandError, ConnectionConfig};
use oap_core::frame::FrameType;
use oap_core::payload::{
    Ack, ControlPayload, DataHeader, End, ErrorCode, Hello, Start, encode_data_payload,
};
use oap_core::server::{Permissions, Tenant, Tenants, token_hash};
use oap_node::{
    Client, ClientError, DirStore, Gateway, GatewayConfig, MemStore, ObjectStore, Services,
    TlsError,
};

use crate::{Harness, RawPeer, TestPki};

pub(crate) const LOOPBACK: &str = "127.0.0.1:0";

pub(crate) fn pattern(len: usize, salt: u8) -> Bytes {
    Bytes::from(
        (0..len)
            .map(|i| (i as u8).wrapping_mul(131) ^ salt)
            .collect::<Vec<u8>>(),
    )
}

/// A gateway serving on loopback in the background.
pub(crate) async fn gateway_with(
    h: &Harness,
    config: GatewayConfig,
    store: Arc<dyn ObjectStore>,
) -> (Gateway, SocketAddr) {
    let server = Gateway::new(Arc::clone(&h.runtime), config, store, Services::new(64));
    let addr = server
        .listen(LOOPBACK.parse().expect("addr"))
        .await
        .expect("bind");
    let s = server.clone();
    h.runtime.spawn(Box::pin(async move {
        let _ = s.serve().await;
    }));
    (server, addr)
}

async fn gateway(h: &Harness) -> (Gateway, SocketAddr, MemStore) {
    let store = MemStore::new();
    let (s, a) = gateway_with(h, GatewayConfig::default(), Arc::new(store.clone())).await;
    (s, a, store)
}

/// A directory of its own for one case's store, under the system's
/// temporary directory.
pub(crate) fn temp_dir(h: &Harness, tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "oap-suite-{tag}-{}-{:?}",
        std::process::id(),
        h.runtime.now()
    ))
}

/// The server's metrics show exactly one rejection for `reason`.
/// `rejected_total{reason}` of `server` (0 before the first).
pub(crate) fn rejected(server: &Gateway, reason: &str) -> u64 {
    let text = server.services().metrics.encode();
    let prefix = format!("rejected_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

fn assert_rejected_once(server: &Gateway, reason: &str) {
    assert_eq!(
        rejected(server, reason),
        1,
        "rejected_total{{reason=\"{reason}\"}}"
    );
}

/// The server's metrics show exactly one failed TLS handshake for `reason`.
fn assert_tls_failures_once(server: &Gateway, reason: &str) {
    let text = server.services().metrics.encode();
    let line = format!("tls_handshake_failures_total{{reason=\"{reason}\"}} 1");
    assert!(text.contains(&line), "no `{line}` in:\n{text}");
}

/// A bare TCP listener on a loopback port, for a test to play the server.
pub(crate) async fn loopback_listener(h: &Harness) -> (Box<dyn oap_io::Listener>, SocketAddr) {
    let listener = h
        .runtime
        .bind(LOOPBACK.parse().expect("addr"))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// Plays a server: accepts one connection on `listener` and answers its
/// HELLO, leaving the rest to the test.
pub(crate) async fn accept_after_hello(listener: &dyn oap_io::Listener) -> RawPeer {
    let (stream, _) = listener.accept().await.expect("accept");
    let mut peer = RawPeer::new(stream);
    let hello = peer.recv().await.expect("read").expect("HELLO");
    assert_eq!(hello.typ, FrameType::Hello);
    peer.send_control(&Hello::legacy()).await.expect("answer");
    peer
}

pub(crate) async fn client(h: &Harness, addr: SocketAddr) -> Client {
    Client::connect(Arc::clone(&h.runtime), addr, ConnectionConfig::default())
        .await
        .expect("connect")
}

/// A raw peer after HELLO, authenticated by `token` if given.
async fn raw(h: &Harness, addr: SocketAddr, token: Option<&str>) -> RawPeer {
    let mut p = RawPeer::new(h.runtime.connect(addr).await.expect("connect"));
    let hello = Hello {
        token: token.map(str::to_owned),
        ..Hello::legacy()
    };
    p.send_control(&hello).await.expect("hello");
    let answer = p.recv().await.expect("read").expect("HELLO answer");
    assert_eq!(answer.typ, FrameType::Hello);
    p
}

/// Opens put `corr` by hand (START only; DATA and END are the case's).
async fn send_put_start(p: &mut RawPeer, corr: u64) {
    let start = Start {
        corr_id: Some(corr),
        op: Some("put".into()),
        ..Start::default()
    };
    p.send_control(&start).await.expect("start");
}

/// Opens get request `corr` for `id` on a raw peer: START, then END at once.
async fn send_get(p: &mut RawPeer, corr: u64, id: ObjectId) {
    let start = Start {
        corr_id: Some(corr),
        op: Some("get".into()),
        addr: Some(id.to_string()),
        ..Start::default()
    };
    p.send_control(&start).await.expect("start");
    p.send_control(&End {
        corr_id: Some(corr),
        obj: None,
    })
    .await
    .expect("end");
}

async fn send_data(p: &mut RawPeer, header: &DataHeader, body: &[u8]) {
    let payload = encode_data_payload(header, body).expect("pack");
    p.send(FrameType::Data, &payload).await.expect("send DATA");
}

/// Puts `doc` as put `corr` on a raw peer (START, one whole-object DATA,
/// END) and returns the id the server's END names. Any ERROR on the way,
/// for this request or another, fails the case.
async fn raw_put(p: &mut RawPeer, corr: u64, doc: &[u8]) -> ObjectId {
    send_put_start(p, corr).await;
    let header = DataHeader {
        corr_id: Some(corr),
        ..DataHeader::whole(doc)
    };
    send_data(p, &header, doc).await;
    p.send_control(&End {
        corr_id: Some(corr),
        obj: None,
    })
    .await
    .expect("end");
    loop {
        let f = p.recv().await.expect("read").expect("END answer");
        match f.typ {
            FrameType::Ack => {}
            FrameType::End => {
                let end = End::decode(&f.payload).expect("end");
                if end.corr_id == Some(corr) {
                    return end.obj.expect("the stored id");
                }
            }
            other => panic!("unexpected {other} during put {corr}: {f:?}"),
        }
    }
}

/// The per-tenant byte counters are exact for a connection that has no
/// request open, though a busy one reports in batches: after puts large
/// and small on one connection that stays open, the server counted for
/// the tenant exactly the bytes the client sent.
pub async fn tenant_byte_counters_are_exact_once_a_connection_is_idle(h: Harness) {
    let (server, addr, _store) = gateway(&h).await;
    let c = client(&h, addr).await;
    let tenants = server.services().metrics.tenants().clone();
    for (i, len) in [10, 1024 * 1024 + 1, 3].into_iter().enumerate() {
        c.put_doc("docs", &i.to_string(), pattern(len, i as u8))
            .await
            .expect("put");
        assert_eq!(
            tenants.bytes_in(oap_core::server::ANONYMOUS_TENANT),
            c.stats().bytes_out,
            "after the put of {len} bytes"
        );
    }
}

/// Put and get of 0 B, 1 B, 64 KiB, 1 MiB + 1 and 16 MiB objects.
pub async fn put_get_sizes(h: Harness) {
    let (_server, addr, store) = gateway(&h).await;
    let c = client(&h, addr).await;
    for (i, len) in [0, 1, 64 * 1024, 1024 * 1024 + 1, 16 * 1024 * 1024]
        .into_iter()
        .enumerate()
    {
        let doc = pattern(len, i as u8);
        let id = c
            .put_doc("docs", &i.to_string(), doc.clone())
            .await
            .expect("put");
        assert_eq!(id, ObjectId::of(&doc), "len {len}");
        assert!(store.contains(&id));
        let got = c.get(id).await.expect("get");
        assert_eq!(got.len(), len);
        assert!(got == doc, "len {len}: bytes differ");
    }
    let missing = ObjectId::of(b"never stored");
    match c.get(missing).await {
        Err(ClientError::Request(RequestError::Failed(e))) => {
            assert_eq!(e.code, ErrorCode::NotFound)
        }
        other => panic!("expected not_found, got {other:?}"),
    }
}

/// 32 puts in flight on one connection; a 33rd is refused.
pub async fn concurrent_requests_and_the_33rd(h: Harness) {
    let (_server, addr, store) = gateway(&h).await;
    let c = client(&h, addr).await;
    let docs: Vec<Bytes> = (0..32)
        .map(|i| pattern(100_000 + i * 1000, i as u8))
        .collect();
    type Put<'a> = Pin<Box<dyn Future<Output = Result<ObjectId, ClientError>> + 'a>>;
    let names: Vec<String> = (0..docs.len()).map(|i| i.to_string()).collect();
    let futs: Vec<Put<'_>> = docs
        .iter()
        .zip(&names)
        .map(|(d, name)| Box::pin(c.put_doc("docs", name, d.clone())) as Put<'_>)
        .collect();
    for (r, d) in join_all(futs).await.into_iter().zip(&docs) {
        assert_eq!(r.expect("put"), ObjectId::of(d));
    }
    assert_eq!(store.len(), 32);

    // Against a server that never answers, 32 puts stay in flight and the
    // client refuses a 33rd before sending anything.
    let (listener, silent_addr) = loopback_listener(&h).await;
    let server_side = accept_after_hello(&*listener);
    let client_side = Client::connect(
        Arc::clone(&h.runtime),
        silent_addr,
        ConnectionConfig::default(),
    );
    let (_silent, c2) = future::zip(server_side, client_side).await;
    let c2 = c2.expect("connect");
    let mut stuck: Vec<Put<'_>> = docs
        .iter()
        .zip(&names)
        .map(|(d, name)| Box::pin(c2.put_doc("docs", name, d.clone())) as Put<'_>)
        .collect();
    for f in &mut stuck {
        assert!(
            future::poll_once(f.as_mut()).await.is_none(),
            "a silent server completes nothing"
        );
    }
    match c2.put_doc("docs", "33", pattern(10, 33)).await {
        Err(ClientError::Command(CommandError::TooManyInflight)) => {}
        other => panic!("the 33rd must be refused locally, got {other:?}"),
    }
    drop(stuck);

    // A raw client that ignores the limit gets too_many_inflight for the
    // 33rd START only, and its connection goes on.
    let mut p = raw(&h, addr, None).await;
    for corr in 1..=33u64 {
        send_put_start(&mut p, corr).await;
    }
    let e = p.recv_error().await.expect("read").expect("an ERROR");
    assert_eq!((e.code, e.corr_id), (ErrorCode::TooManyInflight, Some(33)));
}

/// DATA whose bytes do not hash to `obj` is refused and nothing is stored.
pub async fn bad_digest_stores_nothing(h: Harness) {
    let (server, addr, store) = gateway(&h).await;
    let mut p = raw(&h, addr, None).await;
    send_put_start(&mut p, 1).await;
    let header = DataHeader {
        corr_id: Some(1),
        ..DataHeader::for_object(ObjectId::of(b"the real document"))
    };
    send_data(&mut p, &header, b"a forged document").await;
    let e = p.recv_error().await.expect("read").expect("ERROR");
    assert_eq!((e.code, e.corr_id), (ErrorCode::BadDigest, Some(1)));
    assert!(store.is_empty());
    assert_rejected_once(&server, "bad_digest");
}

/// An object whose first DATA announces more than `max_object_bytes` ends
/// its request with too_large before anything is stored; the rest of it,
/// already sent, is dropped quietly, and the same connection then puts a
/// small object.
pub async fn object_over_max_object_bytes_is_refused_before_storage(h: Harness) {
    const LIMIT: u64 = 64 * 1024;
    let mut config = GatewayConfig::default();
    config.connection.max_object_bytes = Some(LIMIT);
    let store = MemStore::new();
    let (server, addr) = gateway_with(&h, config, Arc::new(store.clone())).await;
    let mut p = raw(&h, addr, None).await;
    let big = pattern(LIMIT as usize + 1, 12);
    send_put_start(&mut p, 1).await;
    // Two frames within the initial credit: the first is refused, the
    // second is already on its way.
    for offset in [0, 32 * 1024] {
        let header = DataHeader {
            corr_id: Some(1),
            offset: Some(offset),
            total_len: Some(big.len() as u64),
            ..DataHeader::for_object(ObjectId::of(&big))
        };
        let start = offset as usize;
        send_data(&mut p, &header, &big[start..start + 32 * 1024]).await;
    }
    let e = p.recv_error().await.expect("read").expect("ERROR");
    assert_eq!((e.code, e.corr_id), (ErrorCode::TooLarge, Some(1)));
    assert!(e.msg.contains(&LIMIT.to_string()), "{}", e.msg);
    assert_eq!(store.len(), 0, "nothing of the refused object is stored");
    assert_rejected_once(&server, "too_large");
    let doc = pattern(1000, 13);
    let id = raw_put(&mut p, 2, &doc).await;
    assert_eq!(id, ObjectId::of(&doc));
    assert_eq!(store.len(), 1);
    assert!(store.contains(&id));
}

/// An oversize frame closes that connection with too_large; others go on.
pub async fn oversize_frame_closes_only_that_connection(h: Harness) {
    let (_server, addr, _store) = gateway(&h).await;
    let good = client(&h, addr).await;
    let mut p = raw(&h, addr, None).await;
    p.send_raw(&[1, FrameType::Data.as_u8(), 0, 0x10, 0, 1])
        .await
        .expect("header");
    let e = p.recv_error().await.expect("read").expect("ERROR");
    assert_eq!(e.code, ErrorCode::TooLarge);
    assert!(
        p.recv_until_eof().await.unwrap_or_default().is_empty(),
        "then closed"
    );
    let doc = pattern(5000, 7);
    let id = good
        .put_doc("docs", "still", doc.clone())
        .await
        .expect("put");
    assert_eq!(good.get(id).await.expect("get"), doc);
}

/// A client that stops reading costs the server at most its credit.
pub async fn client_that_stops_reading_is_bounded(h: Harness) {
    // The slow reader is tenant `slow`, so what the server sent it is
    // counted apart from the other client's.
    let config = GatewayConfig {
        tenants: Arc::new(
            Tenants::open()
                .with(Tenant::with_token(
                    "slow",
                    token_hash("slow-token"),
                    Permissions::ALL,
                ))
                .expect("one tenant"),
        ),
        ..GatewayConfig::default()
    };
    let (server, addr) = gateway_with(&h, config, Arc::new(MemStore::new())).await;
    let c = client(&h, addr).await;
    let big = pattern(16 * 1024 * 1024, 3);
    let id = c.put_doc("docs", "big", big).await.expect("put");
    let mut slow = raw(&h, addr, Some("slow-token")).await;
    send_get(&mut slow, 1, id).await;
    // Read exactly the initial credit's worth of body, then stop reading.
    let mut body = 0usize;
    while body < 65_536 {
        let f = slow.recv().await.expect("read").expect("frame");
        if f.typ == FrameType::Data {
            let (_, b) = oap_core::payload::decode_data_payload(&f.payload).expect("data");
            body += b.len();
        }
    }
    assert_eq!(body, 65_536, "never more than the credit");
    // The server is not stuck behind the slow reader.
    let doc = pattern(300_000, 9);
    let id2 = c.put_doc("docs", "other", doc.clone()).await.expect("put");
    assert_eq!(c.get(id2).await.expect("get"), doc);
    let sent = server.services().metrics.tenants().bytes_out("slow");
    assert!(
        sent < 65_536 + 4096,
        "server sent {sent} bytes to a reader that granted 64 KiB"
    );
    // Granting more credit resumes the stream exactly by that much.
    slow.send_control(&Ack {
        corr_id: Some(1),
        credit: 131_072,
    })
    .await
    .expect("ack");
    while body < 131_072 {
        let f = slow.recv().await.expect("read").expect("frame");
        if f.typ == FrameType::Data {
            let (_, b) = oap_core::payload::decode_data_payload(&f.payload).expect("data");
            body += b.len();
        }
    }
    assert_eq!(body, 131_072);
}

/// A peer that hangs up mid-object leaves nothing in the store, not even a
/// temporary file.
pub async fn disconnect_mid_object_stores_nothing(h: Harness) {
    let dir = temp_dir(&h, "disconnect");
    let store = Arc::new(DirStore::open(&dir).expect("dir store"));
    let (server, addr) = gateway_with(&h, GatewayConfig::default(), store.clone()).await;
    let doc = pattern(100_000, 5);
    let obj = ObjectId::of(&doc);
    {
        let mut p = raw(&h, addr, None).await;
        send_put_start(&mut p, 1).await;
        let header = DataHeader {
            corr_id: Some(1),
            offset: Some(0),
            total_len: Some(doc.len() as u64),
            ..DataHeader::for_object(obj)
        };
        send_data(&mut p, &header, &doc[..50_000]).await;
        // Make sure the half object arrived before hanging up.
        let ack_or_error = p.recv().await.expect("read").expect("ACK");
        assert_eq!(ack_or_error.typ, FrameType::Ack);
    }
    server.wait_for_open_connections(0).await;
    assert!(!store.contains(&obj));
    let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A silent connection is closed with ERROR timeout.
pub async fn idle_timeout_closes(h: Harness) {
    let mut config = GatewayConfig::default();
    config.connection.idle_timeout = Some(Duration::from_millis(300));
    let (_server, addr) = gateway_with(&h, config, Arc::new(MemStore::new())).await;
    let started = h.runtime.now();
    let mut p = raw(&h, addr, None).await;
    let e = p.recv_error().await.expect("read").expect("ERROR");
    assert_eq!(e.code, ErrorCode::Timeout);
    assert!(h.runtime.now() - started >= Duration::from_millis(300));
    assert!(p.recv_until_eof().await.unwrap_or_default().is_empty());
}

/// Beyond max_connections a connection gets ERROR busy and is closed.
pub async fn max_connections_busy(h: Harness) {
    let config = GatewayConfig {
        max_connections: 1,
        ..GatewayConfig::default()
    };
    let (server, addr) = gateway_with(&h, config, Arc::new(MemStore::new())).await;
    let first = client(&h, addr).await;
    let mut p = RawPeer::new(h.runtime.connect(addr).await.expect("connect"));
    let e = p.recv_error().await.expect("read").expect("ERROR");
    assert_eq!(e.code, ErrorCode::Busy);
    assert!(e.retryable);
    drop(first);
    server.wait_for_open_connections(0).await;
    let again = client(&h, addr).await;
    again
        .put_doc("docs", "x", pattern(10, 1))
        .await
        .expect("served again");
}

async fn tls_gateway(h: &Harness, pki: &TestPki) -> (Gateway, SocketAddr, MemStore) {
    let store = MemStore::new();
    let (server, addr) = crate::mtls::tls_gateway_on(
        h,
        Arc::clone(&pki.server),
        GatewayConfig::default(),
        Arc::new(store.clone()),
    )
    .await;
    (server, addr, store)
}

/// Put and get over TLS with a certificate made here.
pub async fn tls_put_get(h: Harness) {
    let pki = TestPki::new();
    let (_server, addr, store) = tls_gateway(&h, &pki).await;
    let c = (h.tls_connect)(addr, "localhost".into(), Arc::clone(&pki.client))
        .await
        .expect("TLS connect");
    let doc = pattern(1024 * 1024 + 1, 11);
    let id = c.put_doc("docs", "tls", doc.clone()).await.expect("put");
    assert!(store.contains(&id));
    assert_eq!(c.get(id).await.expect("get"), doc);
}

/// A client that does not trust the server fails the handshake; the server
/// goes on serving others.
pub async fn tls_handshake_failure(h: Harness) {
    let pki = TestPki::new();
    let (server, addr, _store) = tls_gateway(&h, &pki).await;
    let refused =
        (h.tls_connect)(addr, "localhost".into(), Arc::clone(&pki.untrusting_client)).await;
    assert!(
        matches!(refused, Err(ClientError::Tls(TlsError::UnknownIssuer))),
        "untrusted certificate must fail, in words"
    );
    // The failed handshake's task counts it, then gives up its slot.
    server.wait_for_open_connections(0).await;
    assert_rejected_once(&server, "tls_handshake");
    assert_tls_failures_once(&server, "certificate_refused");
    a_trusting_client_still_puts(&h, &pki, addr).await;
}

/// A plaintext client at a TLS port is told the port speaks TLS (not
/// `bad_version 21`); the server counts a client that does not speak TLS.
pub async fn plaintext_client_at_a_tls_port_is_told_to_use_tls(h: Harness) {
    let pki = TestPki::new();
    let (server, addr, _store) = tls_gateway(&h, &pki).await;
    let refused = Client::connect(Arc::clone(&h.runtime), addr, ConnectionConfig::default()).await;
    match refused {
        Err(ClientError::Tls(TlsError::ServerExpectsTls)) => {}
        other => panic!("expected ServerExpectsTls, got {:?}", other.err()),
    }
    server.wait_for_open_connections(0).await;
    assert_tls_failures_once(&server, "not_tls");
    a_trusting_client_still_puts(&h, &pki, addr).await;
}

/// After a failed handshake, the TLS gateway at `addr` still serves a
/// client that trusts it.
async fn a_trusting_client_still_puts(h: &Harness, pki: &TestPki, addr: SocketAddr) {
    let c = (h.tls_connect)(addr, "localhost".into(), Arc::clone(&pki.client))
        .await
        .expect("TLS connect");
    c.put_doc("docs", "after", pattern(100, 1))
        .await
        .expect("put");
}

/// A TLS client at a plaintext port is told the port does not speak TLS;
/// the server counts the ClientHello it was sent.
pub async fn tls_client_at_a_plaintext_port_is_told_it_is_plaintext(h: Harness) {
    let pki = TestPki::new();
    let (server, addr, _store) = gateway(&h).await;
    let refused = (h.tls_connect)(addr, "localhost".into(), Arc::clone(&pki.client)).await;
    match refused {
        Err(ClientError::Tls(TlsError::ServerIsPlaintext)) => {}
        other => panic!("expected ServerIsPlaintext, got {:?}", other.err()),
    }
    server.wait_for_open_connections(0).await;
    assert_tls_failures_once(&server, "tls_on_plaintext_port");
    assert_rejected_once(&server, "bad_version");
}

/// Shutdown lets an open request finish, then closes; nothing new is
/// accepted.
pub async fn graceful_shutdown_with_request_in_flight(h: Harness) {
    let (server, addr, store) = gateway(&h).await;
    let mut p = raw(&h, addr, None).await;
    let doc = pattern(90_000, 4);
    let obj = ObjectId::of(&doc);
    send_put_start(&mut p, 1).await;
    let header = |offset: u64| DataHeader {
        corr_id: Some(1),
        offset: Some(offset),
        total_len: Some(doc.len() as u64),
        ..DataHeader::for_object(obj)
    };
    send_data(&mut p, &header(0), &doc[..40_000]).await;
    // The rest goes beyond the initial 64 KiB credit: wait for the ACK that
    // the server sends once it has read the first part.
    loop {
        let f = p.recv().await.expect("read").expect("ACK");
        assert_eq!(f.typ, FrameType::Ack);
        if Ack::decode(&f.payload).expect("ack").credit >= doc.len() as u64 {
            break;
        }
    }
    server.shutdown();
    send_data(&mut p, &header(40_000), &doc[40_000..]).await;
    p.send_control(&End {
        corr_id: Some(1),
        obj: Some(obj),
    })
    .await
    .expect("end");
    let frames = p.recv_until_eof().await.expect("read");
    let end = frames
        .iter()
        .find(|f| f.typ == FrameType::End)
        .unwrap_or_else(|| panic!("no END answer in {frames:?}"));
    assert_eq!(End::decode(&end.payload).expect("end").obj, Some(obj));
    assert!(store.contains(&obj), "the in-flight put completed");
    server.wait_for_open_connections(0).await;
    let late = Client::connect(Arc::clone(&h.runtime), addr, ConnectionConfig::default()).await;
    assert!(late.is_err(), "no new connection after shutdown");
}

/// The original RustyOnions client's session is served and ACKed.
pub async fn legacy_client_is_served(h: Harness) {
    let (_server, addr, store) = gateway(&h).await;
    let mut p = RawPeer::new(h.runtime.connect(addr).await.expect("connect"));
    p.send(FrameType::Hello, br#"{"hello":"oap/1"}"#)
        .await
        .expect("hello");
    assert_eq!(
        p.recv().await.expect("read").expect("HELLO").typ,
        FrameType::Hello
    );
    p.send(FrameType::Start, br#"{"topic":"tiles/v1"}"#)
        .await
        .expect("start");
    let ack = p.recv().await.expect("read").expect("ACK");
    assert_eq!(ack.typ, FrameType::Ack);
    assert_eq!(&ack.payload[..], br#"{"credit":65536}"#);
    let docs = [pattern(1000, 1), pattern(2000, 2)];
    for d in &docs {
        send_data(&mut p, &DataHeader::whole(d), d).await;
    }
    p.send(FrameType::End, b"").await.expect("end");
    let end = p.recv().await.expect("read").expect("END");
    assert_eq!(end.typ, FrameType::End);
    let end = End::decode(&end.payload).expect("end");
    assert_eq!(end.corr_id, None);
    assert_eq!(end.obj, Some(ObjectId::of(&docs[1])));
    for d in &docs {
        assert!(store.contains(&ObjectId::of(d)));
    }
}

/// The original client writes a whole 4 MiB object without waiting for
/// credit (64 KiB): the server holds it back by not reading, never fails it
/// with `credit_exceeded`, and stores it.
pub async fn legacy_client_writing_past_its_credit_is_held_back_not_failed(h: Harness) {
    let (_server, addr, store) = gateway(&h).await;
    let mut p = RawPeer::new(h.runtime.connect(addr).await.expect("connect"));
    p.send(FrameType::Hello, br#"{"hello":"oap/1"}"#)
        .await
        .expect("hello");
    p.recv().await.expect("read").expect("HELLO");
    p.send(FrameType::Start, br#"{"topic":"tiles/v1"}"#)
        .await
        .expect("start");
    let doc = pattern(4 << 20, 9);
    let obj = ObjectId::of(&doc);
    // Written before reading anything but the HELLO answer.
    for (i, part) in doc.chunks(65_536).enumerate() {
        let header = DataHeader {
            corr_id: None,
            offset: Some((i * 65_536) as u64),
            total_len: Some(doc.len() as u64),
            ..DataHeader::for_object(obj)
        };
        send_data(&mut p, &header, part).await;
    }
    p.send(FrameType::End, b"").await.expect("end");
    let frames = p.recv_until_eof_or_end().await;
    assert!(
        !frames.iter().any(|f| f.typ == FrameType::Error),
        "no ERROR: {frames:?}"
    );
    let end = frames.last().expect("an END");
    assert_eq!(end.typ, FrameType::End);
    assert_eq!(End::decode(&end.payload).expect("end").obj, Some(obj));
    assert!(store.contains(&obj));
}

/// A subscriber receives the kernel events its topic matches.
pub async fn subscribe_streams_matching_events(h: Harness) {
    let (server, addr, _store) = gateway(&h).await;
    let c = client(&h, addr).await;
    let mut sub = c.subscribe("health").expect("subscribe");
    // A round trip on the same connection orders the START before what follows.
    c.put_doc("docs", "sync", pattern(1, 1)).await.expect("put");
    assert!(
        server
            .services()
            .bus
            .publish(KernelEvent::ConfigUpdated { version: 9 })
            >= 1
    );
    let _other = client(&h, addr).await;
    let msg = sub.next().await.expect("a message");
    let ev: KernelEvent = serde_json::from_slice(&msg).expect("event JSON");
    assert!(matches!(ev, KernelEvent::Health { ok: true, .. }), "{ev:?}");
}

/// A subscription that hears nothing for several times the request and
/// idle timeouts (configured short, on both sides) stays open on a real
/// socket, kept alive by keepalives, and receives the next event.
pub async fn idle_subscription_outlives_the_timeouts(h: Harness) {
    let short = ConnectionConfig {
        request_timeout: Some(Duration::from_millis(200)),
        idle_timeout: Some(Duration::from_millis(400)),
        keepalive_interval: Duration::from_millis(50),
        ..ConnectionConfig::default()
    };
    let config = GatewayConfig {
        connection: short.clone(),
        ..GatewayConfig::default()
    };
    let (server, addr) = gateway_with(&h, config, Arc::new(MemStore::new())).await;
    let c = Client::connect(Arc::clone(&h.runtime), addr, short)
        .await
        .expect("connect");
    let mut sub = c.subscribe("config").expect("subscribe");
    // A round trip on the same connection orders the START before what follows.
    c.put_doc("docs", "sync", pattern(1, 1)).await.expect("put");
    // The silence under test: eight idle timeouts' worth, nothing sent by
    // either application.
    h.runtime
        .sleep_until(h.runtime.now() + Duration::from_millis(3200))
        .await;
    assert_eq!(c.open_requests(), 1, "the subscription was closed");
    assert!(
        server
            .services()
            .bus
            .publish(KernelEvent::ConfigUpdated { version: 42 })
            >= 1
    );
    let msg = sub.next().await.expect("the event after the silence");
    let ev: KernelEvent = serde_json::from_slice(&msg).expect("event JSON");
    assert_eq!(ev, KernelEvent::ConfigUpdated { version: 42 });
}

/// The gateway serves any stream, e.g. an in-memory pipe; HELLO publishes
/// a health event on the bus.
pub async fn in_memory_duplex(h: Harness) {
    let store = MemStore::new();
    let server = Gateway::new(
        Arc::clone(&h.runtime),
        GatewayConfig::default(),
        Arc::new(store.clone()),
        Services::new(64),
    );
    let mut events = server.services().bus.subscribe();
    let (client_end, server_end) = (h.duplex)();
    let s = server.clone();
    h.runtime.spawn(Box::pin(async move {
        let _ = s.handle_stream(server_end).await;
    }));
    let c = Client::over(
        Arc::clone(&h.runtime),
        client_end,
        ConnectionConfig::default(),
        "storage/1",
    )
    .await
    .expect("hello over a pipe");
    assert_eq!(
        events.recv().await.expect("event"),
        KernelEvent::Health {
            service: "storage/1".into(),
            ok: true
        }
    );
    let doc = pattern(200_000, 8);
    let id = c.put_doc("docs", "pipe", doc.clone()).await.expect("put");
    assert_eq!(c.get(id).await.expect("get"), doc);
}

/// After HELLO and a put, the client hands its stream over for raw frames.
pub async fn client_into_io_speaks_raw_frames(h: Harness) {
    let (_server, addr, _store) = gateway(&h).await;
    let c = client(&h, addr).await;
    let doc = pattern(70_000, 6);
    let id = c.put_doc("docs", "raw", doc.clone()).await.expect("put");
    let mut p = RawPeer::from_framed(c.into_io().await.expect("into_io"));
    send_get(&mut p, 77, id).await;
    let mut body = Vec::new();
    loop {
        let f = p.recv().await.expect("read").expect("frame");
        match f.typ {
            FrameType::Ack => {}
            FrameType::Data => {
                let (hdr, b) = oap_core::payload::decode_data_payload(&f.payload).expect("data");
                assert_eq!((hdr.obj, hdr.corr_id), (id, Some(77)));
                body.extend_from_slice(b);
                if body.len() == 65_536 {
                    // The raw side grants credit itself.
                    p.send_control(&Ack {
                        corr_id: Some(77),
                        credit: 1 << 20,
                    })
                    .await
                    .expect("ack");
                }
            }
            FrameType::End => break,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(body == doc, "the object came back whole");
}
