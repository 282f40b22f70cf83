//! The churn case's pieces: the bytes a connection sends, the blocking
//! clients against a real gateway (a child `oap-bench serve`) and against
//! the reference server, and the check that the objects were stored.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use bytes::BytesMut;
use oap_bench::churn::addresses;
use oap_bench::churn::client::{self, Replies};
use oap_bench::churn::reference::{ReferenceServer, Script};
use oap_bench::churn::requests::{Requests, SIZE};
use oap_bench::churn::{Turn, driven, rounds, verify_stored};
use oap_bench::{Launcher, RuntimeKind};
use oap_core::payload::{
    ControlPayload, End, ErrorCode, ErrorEnvelope, Start, decode_data_payload,
};
use oap_core::{FrameDecoder, FrameType, ObjectId};

/// This package's binary as the child server.
fn launcher() -> Launcher {
    Launcher::new(env!("CARGO_BIN_EXE_oap-bench"), ["serve"])
}

#[test]
fn each_put_is_start_one_data_frame_and_end_for_a_distinct_object() {
    let requests = Requests::new(5..8);
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests.hello(),
        b"\x01\x01\x00\x00\x00\x11{\"hello\":\"oap/1\"}"
    );
    let mut ids = Vec::new();
    for i in 0..requests.len() {
        let put = requests.put(i).expect("a put");
        assert_eq!(put.len(), requests.put_len(), "every put is as long");
        let mut wire = BytesMut::from(put);
        let mut frames = Vec::new();
        while let Some(f) = FrameDecoder::new().decode(&mut wire).expect("frames") {
            frames.push(f);
        }
        assert!(wire.is_empty());
        let types: Vec<_> = frames.iter().map(|f| f.typ).collect();
        assert_eq!(types, [FrameType::Start, FrameType::Data, FrameType::End]);

        let start = Start::decode(&frames[0].payload).expect("START");
        assert_eq!(start.op.as_deref(), Some("put"));
        let (header, body) = decode_data_payload(&frames[1].payload).expect("DATA");
        let object = requests.object(i).expect("an object");
        assert_eq!((body, object.len()), (&object[..], SIZE));
        let id = requests.id(i).expect("an id");
        assert_eq!(
            (header.obj, id),
            (ObjectId::of(&object), ObjectId::of(&object))
        );
        assert_eq!(header.corr_id, start.corr_id);
        let end = End::decode(&frames[2].payload).expect("END");
        assert_eq!((end.corr_id, end.obj), (start.corr_id, Some(id)));
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "distinct objects");
    assert!(requests.put(3).is_none() && requests.object(3).is_none());
}

#[test]
fn every_churned_put_is_acknowledged_and_stored() {
    let kind = RuntimeKind::Smol;
    let server = launcher().start(kind).expect("server");
    if cfg!(target_os = "linux") {
        // 127.0.0.0/8 is all loopback there: the clients spread.
        assert_eq!(server.addrs().len(), usize::from(addresses::ADDRESSES));
    }
    let requests = Requests::new(1..301);
    let acknowledged = client::drive(server.addrs(), &requests, 4).expect("churn");
    assert_eq!(acknowledged, 300);
    // Fewer than `CHECKED`: every object is got back and compared.
    let checked = verify_stored(kind, server.addr(), &requests).expect("stored");
    assert_eq!(checked, 300);

    // The check does fail for objects the server never got.
    let never_put = Requests::new(1_000..1_001);
    assert!(verify_stored(kind, server.addr(), &never_put).is_err());
}

#[test]
fn the_reference_answers_every_connection_with_the_gateways_bytes() {
    let server = launcher().start(RuntimeKind::Tokio).expect("server");
    let replies = client::record(server.addr(), &Requests::new(0..1), 0).expect("warm-up");
    // The gateway answered HELLO with a HELLO, and the put with ACK and END.
    let types = |bytes: &[u8]| {
        let mut wire = BytesMut::from(bytes);
        let mut types = Vec::new();
        while let Some(f) = FrameDecoder::new().decode(&mut wire).expect("frames") {
            types.push(f.typ);
        }
        types
    };
    assert_eq!(types(&replies.hello), [FrameType::Hello]);
    assert_eq!(types(&replies.put).last(), Some(&FrameType::End));

    let requests = Requests::new(1..201);
    let reference =
        ReferenceServer::start(Script::new(&requests, replies.clone()), 3).expect("reference");
    if cfg!(target_os = "linux") {
        // One address per thread.
        assert_eq!(reference.addrs().len(), 3);
    }
    let acknowledged = client::drive(reference.addrs(), &requests, 4).expect("churn");
    assert_eq!(acknowledged, 200);

    // Like the gateway, it closes after the client, not first.
    let mut stream = TcpStream::connect(reference.addrs()[0]).expect("connect");
    stream.write_all(requests.hello()).expect("hello");
    let mut answer = vec![0u8; replies.hello.len()];
    stream.read_exact(&mut answer).expect("hello answer");
    stream
        .write_all(requests.put(0).expect("put"))
        .expect("put");
    let mut answer = vec![0u8; replies.put.len()];
    stream.read_exact(&mut answer).expect("put answer");
    assert_eq!(answer, replies.put);
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let waiting = stream.read(&mut [0u8; 1]).expect_err("still open");
    assert!(
        matches!(waiting.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{waiting}"
    );
    stream.shutdown(Shutdown::Write).expect("client closes");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert_eq!(stream.read(&mut [0u8; 1]).expect("server closes"), 0);

    let cpu = reference.stop().expect("stopped");
    if cfg!(unix) {
        assert!(cpu.expect("thread CPU clock") > std::time::Duration::ZERO);
    }
}

#[test]
fn the_async_reference_on_the_runtime_answers_every_connection_on_every_address() {
    let kind = RuntimeKind::Smol;
    let gateway = launcher().start(kind).expect("server");
    let replies = client::record(gateway.addr(), &Requests::new(0..1), 0).expect("warm-up");
    let requests = Requests::new(1..201);
    let script = Script::new(&requests, replies);
    let reference = launcher()
        .start_reference(kind, &script)
        .expect("reference");
    if cfg!(target_os = "linux") {
        // It listens where the gateway does, so the clients spread alike.
        assert_eq!(reference.addrs().len(), gateway.addrs().len());
    }
    assert_eq!(
        client::drive(reference.addrs(), &requests, 4).expect("churn"),
        200
    );

    // A turn the churn case times: every put answered, its process's CPU.
    let more = Requests::new(201..301);
    let measure = driven(&reference, &more, 4).expect("run");
    assert!(measure.server_cpu.expect("the child's CPU clock") > Duration::ZERO);
}

#[test]
fn an_error_answer_fails_the_run() {
    let requests = Requests::new(1..50);
    let mut refusal = BytesMut::new();
    let error = ErrorEnvelope::new(ErrorCode::QuotaExhausted, "no more").for_request(1);
    oap_core::FrameEncoder::new()
        .encode_frame(&error.to_frame(), &mut refusal)
        .expect("ERROR");
    let mut hello = BytesMut::new();
    oap_core::FrameEncoder::new()
        .encode(FrameType::Hello, br#"{"hello":"oap/1"}"#, &mut hello)
        .expect("HELLO");
    let script = Script {
        hello_len: requests.hello().len(),
        put_len: requests.put_len(),
        replies: Replies {
            hello: hello.to_vec(),
            put: refusal.to_vec(),
        },
    };
    let reference = ReferenceServer::start(script, 2).expect("reference");
    let failure = client::drive(reference.addrs(), &requests, 2).expect_err("refused");
    assert!(failure.to_string().contains("no more"), "{failure}");
    // The server's threads end, whatever the clients left behind.
    reference.stop().expect("stopped");
}

#[test]
fn a_run_splits_its_connections_into_rounds_that_cover_each_once() {
    let covered = |connections: usize| {
        let r = rounds(connections);
        assert_eq!(r.first().map(|r| r.start), Some(0));
        assert_eq!(r.last().map(|r| r.end), Some(connections));
        assert!(r.windows(2).all(|w| w[0].end == w[1].start), "contiguous");
        r.iter().map(|r| r.len()).collect::<Vec<_>>()
    };
    assert_eq!(covered(200_000), vec![20_000; 10]);
    assert_eq!(covered(2_000), vec![200; 10]);
    // The last round takes the remainder.
    assert_eq!(covered(1_005), [vec![100; 9], vec![105]].concat());
    // No round under 100 connections, but always one.
    assert_eq!(covered(250), vec![125, 125]);
    assert_eq!(covered(50), vec![50]);
}

#[test]
fn each_server_takes_each_place_in_the_rounds_equally_often() {
    for place in 0..3 {
        let mut firsts: Vec<Turn> = (0..3).map(|round| Turn::order(round)[place]).collect();
        firsts.dedup();
        assert_eq!(firsts.len(), 3, "place {place}: {firsts:?}");
    }
    for round in 0..6 {
        let order = Turn::order(round);
        for turn in [Turn::Reference, Turn::RuntimeReference, Turn::Gateway] {
            assert!(order.contains(&turn), "round {round}: {order:?}");
        }
    }
}

#[test]
fn a_slice_of_the_requests_is_the_same_objects_numbered_from_zero() {
    let all = Requests::new(10..20);
    let slice = all.slice(3..7);
    assert_eq!(slice.len(), 4);
    assert_eq!(slice.hello(), all.hello());
    for i in 0..4 {
        assert_eq!(slice.put(i), all.put(i + 3));
        assert_eq!(slice.id(i), all.id(i + 3));
        assert_eq!(slice.object(i), all.object(i + 3));
    }
    assert!(slice.put(4).is_none() && slice.object(4).is_none());
    // Clamped to what there is.
    assert_eq!(all.slice(8..50).len(), 2);
    assert!(all.slice(30..40).is_empty());
}
