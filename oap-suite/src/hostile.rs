//! Hostile peers against the real server over loopback, one case per
//! class of peer-driven resource: each measures what the server holds
//! (open connections and slots, subscriptions, metric sizes), asserts it
//! stays bounded, that a legitimate client is served meanwhile, and that
//! the violation ends in a typed ERROR or a close, never in silence that
//! holds resources.
//!
//! Deadlines are configured short; nothing sleeps to synchronise. (File
//! descriptors and RSS are the test process's, shared by every case
//! running in parallel; a server's open connections are its sockets.)

use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;
use oap_core::ObjectId;
use oap_core::connection::{ConnectionConfig, Violation};
use oap_core::frame::{DecodeError, FrameType};
use oap_core::payload::{ControlPayload, DataHeader, End, ErrorCode, Hello, Start};
use oap_node::{Client, ClientError, GatewayConfig, MemStore, ObjectStore};

use crate::cases::{
    accept_after_hello, client, gateway_with, loopback_listener, pattern, rejected,
};
use crate::mtls::tls_gateway_on;
use crate::{Harness, RawPeer, TestPki};

/// 16 MiB of credit per request, a 300 ms write timeout, and a minute for
/// every other timeout: only the write timeout can end a peer that stops
/// reading.
fn slow_reader_config() -> GatewayConfig {
    GatewayConfig {
        connection: ConnectionConfig {
            credit: 16 << 20,
            write_timeout: Some(Duration::from_millis(300)),
            idle_timeout: Some(Duration::from_secs(60)),
            request_timeout: Some(Duration::from_secs(60)),
            ..ConnectionConfig::default()
        },
        ..GatewayConfig::default()
    }
}

async fn raw_hello(h: &Harness, addr: std::net::SocketAddr, hello: &Hello) -> RawPeer {
    let mut p = RawPeer::new(h.runtime.connect(addr).await.expect("connect"));
    p.send_control(hello).await.expect("hello");
    let answer = p.recv().await.expect("read").expect("HELLO answer");
    assert_eq!(answer.typ, FrameType::Hello);
    p
}

fn get(corr: u64, id: ObjectId) -> (Start, End) {
    (
        Start {
            corr_id: Some(corr),
            op: Some("get".into()),
            addr: Some(id.to_string()),
            ..Start::default()
        },
        End {
            corr_id: Some(corr),
            obj: None,
        },
    )
}

/// A peer that asks for 32 MiB with 16 MiB of credit per request and then
/// never reads: the server's writes stall once the socket buffers fill,
/// and the write timeout (300 ms here; every other timeout is a minute)
/// drops the connection and frees its slot. A legitimate client is served
/// meanwhile.
pub async fn hostile_peer_that_stops_reading_loses_its_connection_at_the_write_timeout(h: Harness) {
    let (server, addr) = gateway_with(&h, slow_reader_config(), Arc::new(MemStore::new())).await;
    let c = client(&h, addr).await;
    let big = pattern(16 << 20, 7);
    let id = c.put_doc("docs", "big", big.clone()).await.expect("put");

    let hello = Hello {
        credit: Some(16 << 20),
        ..Hello::legacy()
    };
    let mut slow = raw_hello(&h, addr, &hello).await;
    for corr in [1, 2] {
        let (start, end) = get(corr, id);
        slow.send_control(&start).await.expect("start");
        slow.send_control(&end).await.expect("end");
    }
    // Never read again. The legitimate client keeps being served.
    assert_eq!(c.get(id).await.expect("get meanwhile"), big);
    server.wait_for_open_connections(1).await;
    assert_eq!(server.open_connections(), 1, "only the legitimate client");
    assert_eq!(rejected(&server, "write_timeout"), 1);
    assert_eq!(c.get(id).await.expect("get after"), big);
    drop(slow);
}

/// A peer that sends the first bytes of a frame and then nothing is closed
/// with ERROR `timeout` when the frame timeout passes (200 ms here), long
/// before its idle timeout (a minute).
pub async fn hostile_unfinished_frame_is_closed_at_the_frame_timeout(h: Harness) {
    let config = GatewayConfig {
        connection: ConnectionConfig {
            frame_timeout: Some(Duration::from_millis(200)),
            idle_timeout: Some(Duration::from_secs(60)),
            ..ConnectionConfig::default()
        },
        ..GatewayConfig::default()
    };
    let (server, addr) = gateway_with(&h, config, Arc::new(MemStore::new())).await;
    let mut p = raw_hello(&h, addr, &Hello::legacy()).await;
    // A frame header announcing 100 bytes, then 3 of them.
    p.send_raw(&[1, FrameType::Start as u8, 0, 0, 0, 100, b'{', b'"', b'c'])
        .await
        .expect("partial frame");
    let e = p.recv_error().await.expect("read").expect("an ERROR");
    assert_eq!(e.code, ErrorCode::Timeout);
    assert!(e.msg.contains("frame"), "{}", e.msg);
    server.wait_for_open_connections(0).await;
    let c = client(&h, addr).await;
    c.put_doc("docs", "after", pattern(10, 1))
        .await
        .expect("served after");
}

/// A client that puts an object, sends END and at once half-closes its
/// socket still reads the ACK and the END answering it.
pub async fn hostile_half_close_after_end_still_gets_the_end(h: Harness) {
    let store = MemStore::new();
    let (server, addr) = gateway_with(&h, GatewayConfig::default(), Arc::new(store.clone())).await;
    let mut p = raw_hello(&h, addr, &Hello::legacy()).await;
    let body = pattern(60_000, 5);
    let obj = ObjectId::of(&body);
    let start = Start {
        corr_id: Some(1),
        op: Some("put".into()),
        ..Start::default()
    };
    p.send_control(&start).await.expect("start");
    let header = DataHeader {
        corr_id: Some(1),
        ..DataHeader::whole(&body)
    };
    let payload = oap_core::payload::encode_data_payload(&header, &body).expect("pack");
    p.send(FrameType::Data, &payload).await.expect("data");
    p.send_control(&End {
        corr_id: Some(1),
        obj: Some(obj),
    })
    .await
    .expect("end");
    p.close_write().await.expect("half-close");
    let frames = p.recv_until_eof().await.expect("read to the end");
    let end = frames
        .iter()
        .find(|f| f.typ == FrameType::End)
        .unwrap_or_else(|| panic!("no END after a half-close: {frames:?}"));
    let end = End::decode(&end.payload).expect("END");
    assert_eq!(end.obj, Some(obj));
    assert!(ObjectStore::contains(&store, &obj));
    server.wait_for_open_connections(0).await;
}

/// TLS handshakes hold connection slots: with `max_connections` 3, three
/// peers that open TCP and never handshake fill the server, a fourth is
/// closed at once (no handshake is run for it), and a slot freed by one of
/// them lets a real TLS client in.
pub async fn hostile_tls_handshakes_count_toward_max_connections(h: Harness) {
    let pki = TestPki::new();
    let config = GatewayConfig {
        max_connections: 3,
        connection: ConnectionConfig {
            handshake_timeout: Some(Duration::from_secs(60)),
            ..ConnectionConfig::default()
        },
        ..GatewayConfig::default()
    };
    let (server, addr) = tls_gateway_on(
        &h,
        Arc::clone(&pki.server),
        config,
        Arc::new(MemStore::new()),
    )
    .await;
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(RawPeer::new(
            h.runtime.connect(addr).await.expect("connect"),
        ));
    }
    // Accepted after the three (one accept loop, in order): refused.
    let mut fourth = RawPeer::new(h.runtime.connect(addr).await.expect("connect"));
    assert!(
        matches!(fourth.recv().await, Ok(None) | Err(_)),
        "closed without a handshake"
    );
    assert_eq!(server.open_connections(), 3);
    assert_eq!(rejected(&server, "busy"), 1);
    drop(silent.pop());
    server.wait_for_open_connections(2).await;
    let c = (h.tls_connect)(addr, "localhost".into(), Arc::clone(&pki.client))
        .await
        .expect("a freed slot admits a TLS client");
    c.put_doc("docs", "tls", pattern(10, 2)).await.expect("put");
}

/// One source address holds at most `max_connections_per_ip` connections:
/// the next gets ERROR `busy` saying so, while a client arriving another
/// way (an in-memory pipe here; another address in production) is served.
pub async fn hostile_one_address_cannot_take_every_slot(h: Harness) {
    let config = GatewayConfig {
        max_connections: 16,
        max_connections_per_ip: 2,
        ..GatewayConfig::default()
    };
    let (server, addr) = gateway_with(&h, config, Arc::new(MemStore::new())).await;
    let first = client(&h, addr).await;
    let second = client(&h, addr).await;
    let mut third = RawPeer::new(h.runtime.connect(addr).await.expect("connect"));
    let e = third.recv_error().await.expect("read").expect("ERROR");
    assert_eq!(e.code, ErrorCode::Busy);
    assert!(e.msg.contains("address"), "{}", e.msg);
    assert_eq!(rejected(&server, "per_ip_limit"), 1);

    let (client_end, server_end) = (h.duplex)();
    let s = server.clone();
    h.runtime.spawn(Box::pin(async move {
        let _ = s.handle_stream(server_end).await;
    }));
    let other = Client::over(
        Arc::clone(&h.runtime),
        client_end,
        ConnectionConfig::default(),
        "storage/1",
    )
    .await
    .expect("another address is served");
    other
        .put_doc("docs", "x", pattern(10, 3))
        .await
        .expect("put");
    drop((first, second));
    server.wait_for_open_connections(1).await;
    let again = client(&h, addr).await;
    again
        .put_doc("docs", "y", pattern(10, 4))
        .await
        .expect("the address's slots came back");
}

/// Subscriptions are capped server-wide (`max_subscriptions`, 2 here): the
/// third is refused with `busy` for that request only, and a closed
/// subscription gives its place back.
pub async fn hostile_subscriptions_are_capped_server_wide(h: Harness) {
    let config = GatewayConfig {
        max_subscriptions: 2,
        ..GatewayConfig::default()
    };
    let (_server, addr) = gateway_with(&h, config, Arc::new(MemStore::new())).await;
    let a = client(&h, addr).await;
    let b = client(&h, addr).await;
    // A round trip on the same connection after each START orders it
    // before what follows (the STARTs of two connections race otherwise).
    let s1 = a.subscribe("*").expect("first");
    a.put_doc("docs", "sync1", pattern(1, 8))
        .await
        .expect("put");
    let _s2 = b.subscribe("*").expect("second");
    b.put_doc("docs", "sync2", pattern(1, 9))
        .await
        .expect("put");
    let mut s3 = b.subscribe("*").expect("third is sent");
    assert_eq!(s3.next().await, None, "the third is refused");
    let refused = s3.error().expect("and says why");
    assert_eq!(refused.code(), Some(ErrorCode::Busy), "{refused}");
    b.put_doc("docs", "x", pattern(10, 5))
        .await
        .expect("the connection goes on");
    drop(s1);
    // The cancel reaches the server before this put's START: one place
    // is free again.
    a.put_doc("docs", "sync", pattern(1, 6)).await.expect("put");
    let mut s4 = a.subscribe("*").expect("fourth");
    a.put_doc("docs", "sync2", pattern(1, 7))
        .await
        .expect("put");
    assert!(
        futures_lite::future::poll_once(s4.next()).await.is_none(),
        "the fourth is open (no refusal waiting)"
    );
}

/// Hundreds of peers with made-up identities (application names, tenant
/// claims) leave no key behind: the metrics text does not grow with them.
pub async fn hostile_made_up_identities_leave_no_keys(h: Harness) {
    let (server, addr) =
        gateway_with(&h, GatewayConfig::default(), Arc::new(MemStore::new())).await;
    let metrics = server.services().metrics.clone();
    let hello = |i: usize| Hello {
        app_proto_id: Some(format!("app-{i:0>100}")),
        tenant: Some(format!("tenant-{i:0>100}")),
        ..Hello::legacy()
    };
    for i in 0..10 {
        let mut p = raw_hello(&h, addr, &hello(i)).await;
        let _ = p.recv_error().await;
    }
    server.wait_for_open_connections(0).await;
    let baseline = metrics.encode().len();
    for i in 10..300 {
        let mut p = raw_hello(&h, addr, &hello(i)).await;
        let e = p.recv_error().await.expect("read").expect("ERROR");
        assert_eq!(
            e.code,
            ErrorCode::Unauthorized,
            "a claimed tenant needs a token"
        );
    }
    server.wait_for_open_connections(0).await;
    let after = metrics.encode();
    assert!(
        after.len() <= baseline + 64,
        "metrics grew from {baseline} to {} bytes:\n{after}",
        after.len()
    );
    assert!(!after.contains("tenant-0"), "no made-up tenant label");
    assert!(!after.contains("app-0"), "no made-up application label");
}

/// A subscriber that stops granting credit holds at most its queue (64
/// events) on the server: 200 events later it is told how many it missed
/// (`{"missed":N}`), and the server never sent it more than the queue and
/// what its credit let through.
pub async fn hostile_slow_subscriber_is_told_missed_and_holds_a_bounded_queue(h: Harness) {
    use kernel_core::KernelEvent;
    use oap_core::payload::{Ack, decode_data_payload};

    let (server, addr) =
        gateway_with(&h, GatewayConfig::default(), Arc::new(MemStore::new())).await;
    let hello = Hello {
        credit: Some(256),
        ..Hello::legacy()
    };
    let mut p = raw_hello(&h, addr, &hello).await;
    let start = Start {
        corr_id: Some(1),
        op: Some("subscribe".into()),
        topic: Some("*".into()),
        ..Start::default()
    };
    p.send_control(&start).await.expect("subscribe");
    let ack = p.recv().await.expect("read").expect("ACK");
    assert_eq!(ack.typ, FrameType::Ack);
    for version in 0..200 {
        server
            .services()
            .bus
            .publish_lossy(KernelEvent::ConfigUpdated { version });
    }
    // Now grant plenty and read until the server says what was missed.
    p.send_control(&Ack {
        corr_id: Some(1),
        credit: 1 << 20,
    })
    .await
    .expect("ack");
    let mut events = 0;
    // A message may come in several DATA frames (the first credit was
    // small): each is one object, whole once `total_len` bytes arrived.
    let mut message = Vec::new();
    let missed = loop {
        let f = p.recv().await.expect("read").expect("a frame");
        if f.typ != FrameType::Data {
            continue;
        }
        let (header, body) = decode_data_payload(&f.payload).expect("DATA");
        message.extend_from_slice(body);
        let total = header.total_len.unwrap_or(body.len() as u64);
        if (message.len() as u64) < total {
            continue;
        }
        let json: serde_json::Value = serde_json::from_slice(&message).expect("JSON");
        message.clear();
        if let Some(n) = json.get("missed") {
            break n.as_u64().expect("a count");
        }
        events += 1;
    };
    assert!(missed > 0);
    assert!(
        events <= 64 + 8,
        "{events} events before the missed note: more than the queue and the first credit"
    );
    assert!(events as u64 + missed <= 200, "nothing counted twice");
    let c = client(&h, addr).await;
    c.put_doc("docs", "meanwhile", pattern(10, 1))
        .await
        .expect("served");
}

/// Open file descriptors of this process (Linux: entries of /proc/self/fd).
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Twenty peers that each ask for 32 MiB with 16 MiB of credit and never
/// read: once the write timeout (300 ms) dropped them, the server holds
/// none of their sockets (the process's descriptors are the baseline plus
/// the twenty ends this test still holds) and none of what it had queued
/// for them (allocated bytes back within 4 MiB of the baseline). Run alone
/// in its test binary ([`resources_test!`](crate::resources_test!)), so no other case opens
/// descriptors or allocates meanwhile; `allocated` reads the counting
/// allocator.
pub async fn hostile_peers_leave_no_descriptors_or_memory_behind(
    h: Harness,
    allocated: impl Fn() -> usize,
) {
    let (server, addr) = gateway_with(&h, slow_reader_config(), Arc::new(MemStore::new())).await;
    let c = client(&h, addr).await;
    let big = pattern(16 << 20, 7);
    let id = c.put_doc("docs", "big", big.clone()).await.expect("put");
    drop(big);
    assert_eq!(c.get(id).await.expect("warm up").len(), 16 << 20);
    let (fds, bytes) = (open_fds(), allocated());

    const PEERS: usize = 20;
    let hello = Hello {
        credit: Some(16 << 20),
        ..Hello::legacy()
    };
    let mut slow = Vec::new();
    for _ in 0..PEERS {
        let mut p = raw_hello(&h, addr, &hello).await;
        for corr in [1, 2] {
            let (start, end) = get(corr, id);
            p.send_control(&start).await.expect("start");
            p.send_control(&end).await.expect("end");
        }
        slow.push(p);
    }
    server.wait_for_open_connections(1).await;
    assert_eq!(rejected(&server, "write_timeout"), PEERS as u64);
    assert_eq!(
        open_fds(),
        fds + PEERS,
        "the server closed its end of every slow peer's socket"
    );
    let held = allocated().saturating_sub(bytes);
    assert!(
        held < 4 << 20,
        "{held} bytes still allocated after the slow peers were dropped"
    );
    assert_eq!(c.get(id).await.expect("served").len(), 16 << 20);
    drop(slow);
}

/// A server that answers HELLO and then sends a frame of another protocol
/// version: the client closes the connection with an ERROR, and the caller's
/// get ends in a `ClientError::Closed` that names the rule the server
/// broke, as a value it can match, not a string.
pub async fn hostile_server_that_breaks_framing_gets_a_typed_close(h: Harness) {
    let (listener, addr) = loopback_listener(&h).await;
    let server_side = async {
        let mut peer = accept_after_hello(&*listener).await;
        let start = peer.recv().await.expect("read").expect("START");
        assert_eq!(start.typ, FrameType::Start);
        // Version 9, type DATA, empty payload.
        peer.send_raw(&[9, 3, 0, 0, 0, 0]).await.expect("send");
        peer.recv_error().await.expect("read")
    };
    let client_side = async {
        let client = Client::connect(Arc::clone(&h.runtime), addr, ConnectionConfig::default())
            .await
            .expect("connect");
        client.get(ObjectId::of(b"anything")).await
    };
    let (sent, got) = future::zip(server_side, client_side).await;
    let broken = Violation::MalformedFrame(DecodeError::BadVersion(9));
    assert_eq!(broken.code(), ErrorCode::BadVersion);
    assert_eq!(
        sent.map(|e| e.code),
        Some(broken.code()),
        "the client tells the server why it closes"
    );
    match got {
        Err(ClientError::Closed {
            violation: Some(v),
            by_peer: false,
            error: Some(error),
        }) if v == broken => assert_eq!(error.code, broken.code()),
        other => panic!("expected a typed close for the bad version, got {other:?}"),
    }
}
