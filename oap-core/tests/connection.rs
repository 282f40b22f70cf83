//! A server or client `Connection` driven by a scripted raw peer: exact
//! frames in, exact frames and events out. Explicit virtual time only.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use oap_core::ObjectId;
use oap_core::connection::{
    CommandError, Connection, ConnectionConfig, Event, Negotiated, OutgoingObject, RequestId,
    RequestOutcome, Violation,
};
use oap_core::frame::{Frame, FrameDecoder, FrameEncoder, FrameType};
use oap_core::payload::{
    Ack, ControlPayload, DataHeader, End, ErrorCode, ErrorEnvelope, Hello, JsonErrorKind,
    PayloadError, Start, data_frame, decode_data_bytes,
};

/// The scripted side: encodes frames into the connection and decodes what
/// the connection writes.
struct Peer {
    conn: Connection,
    now: Instant,
    decoder: FrameDecoder,
    wire: BytesMut,
}

impl Peer {
    fn server(config: ConnectionConfig) -> Self {
        let now = Instant::now();
        Self {
            conn: Connection::server(config, now),
            now,
            decoder: FrameDecoder::with_max_frame(u32::MAX),
            wire: BytesMut::new(),
        }
    }

    fn client(config: ConnectionConfig) -> Self {
        let now = Instant::now();
        Self {
            conn: Connection::client(config, now),
            now,
            decoder: FrameDecoder::with_max_frame(u32::MAX),
            wire: BytesMut::new(),
        }
    }

    fn send(&mut self, frame: Frame) {
        let bytes = FrameEncoder::with_max_frame(u32::MAX)
            .to_bytes(frame.typ, &frame.payload)
            .expect("encode");
        self.conn.handle_input(self.now, &bytes);
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.conn.handle_input(self.now, bytes);
    }

    /// Everything the connection wrote since the last call.
    fn written(&mut self) -> Vec<Frame> {
        let mut buf = Vec::new();
        while let Some(t) = self.conn.poll_transmit(self.now, &mut buf) {
            if let Some(b) = t.body {
                buf.extend_from_slice(&b);
            }
        }
        self.wire.extend_from_slice(&buf);
        let mut out = Vec::new();
        while let Some(f) = self
            .decoder
            .decode(&mut self.wire)
            .expect("connection wrote valid frames")
        {
            out.push(f);
        }
        out
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.conn.poll_event()).collect()
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
    }

    /// Server: completes the HELLO exchange with `hello`, returns the answer.
    fn handshake(&mut self, hello: Hello) -> Hello {
        self.send(hello.to_frame());
        let out = self.written();
        assert_eq!(out.len(), 1, "one HELLO answer");
        assert_eq!(out[0].typ, FrameType::Hello);
        assert!(matches!(self.events()[..], [Event::Connected(_)]));
        Hello::decode(&out[0].payload).expect("hello answer")
    }

    /// Server: opens request `corr` and accepts it.
    fn open(&mut self, corr: u64) -> RequestId {
        self.send(
            Start {
                corr_id: Some(corr),
                op: Some("put".into()),
                ..Start::default()
            }
            .to_frame(),
        );
        let id = RequestId(corr);
        assert!(self.events().contains(&Event::RequestStarted {
            id,
            start: Box::new(Start {
                corr_id: Some(corr),
                op: Some("put".into()),
                ..Start::default()
            })
        }));
        self.conn.accept(id).expect("accept");
        id
    }
}

fn errors_in(frames: &[Frame]) -> Vec<ErrorEnvelope> {
    frames
        .iter()
        .filter(|f| f.typ == FrameType::Error)
        .map(|f| ErrorEnvelope::decode(&f.payload).expect("error payload"))
        .collect()
}

fn chunk_header(obj: ObjectId, corr: u64, offset: u64, total: u64) -> DataHeader {
    DataHeader {
        corr_id: Some(corr),
        offset: Some(offset),
        total_len: Some(total),
        ..DataHeader::for_object(obj)
    }
}

#[test]
fn hello_negotiates_the_minimum_and_applies_it_only_after_the_exchange() {
    let mut p = Peer::server(ConnectionConfig {
        max_frame: 512 * 1024,
        max_inflight: 16,
        ..ConnectionConfig::default()
    });
    assert!(p.conn.negotiated().is_none());
    let answer = p.handshake(Hello {
        max_frame: Some(1 << 20),
        max_inflight: Some(64),
        credit: Some(32 * 1024),
        app_proto_id: Some("storage/1".into()),
        ..Hello::legacy()
    });
    assert_eq!(answer.max_frame, Some(512 * 1024));
    assert_eq!(answer.max_inflight, Some(16));
    assert_eq!(answer.credit, Some(32 * 1024));
    assert_eq!(answer.app_proto_id.as_deref(), Some("storage/1"));
    assert_eq!(
        p.conn.negotiated(),
        Some(Negotiated {
            max_frame: 512 * 1024,
            max_inflight: 16,
            credit: 32 * 1024
        })
    );
    // The negotiated max_frame now bounds what the server accepts.
    p.send_raw(&[1, 2, 0, 8, 0, 1]);
    let errs = errors_in(&p.written());
    assert_eq!(errs[0].code, ErrorCode::TooLarge);
    assert!(p.conn.is_closed());
}

#[test]
fn legacy_hello_gets_the_defaults() {
    let mut p = Peer::server(ConnectionConfig::default());
    let answer = p.handshake(Hello::legacy());
    assert_eq!(answer.max_frame, Some(1_048_576));
    assert_eq!(answer.max_inflight, Some(32));
    assert_eq!(answer.credit, Some(65_536));
}

#[test]
fn client_applies_the_servers_answer_and_refuses_a_raised_limit() {
    let mut c = Peer::client(ConnectionConfig {
        max_inflight: 8,
        ..ConnectionConfig::default()
    });
    let hello = c.written();
    let sent = Hello::decode(&hello[0].payload).expect("client hello");
    assert_eq!(sent.max_inflight, Some(8));
    assert_eq!(
        c.conn.start(c.now, Start::default()),
        Err(CommandError::NotEstablished)
    );
    c.send(
        Hello {
            max_inflight: Some(4),
            credit: Some(1000),
            max_frame: Some(4096),
            ..Hello::legacy()
        }
        .to_frame(),
    );
    assert_eq!(
        c.events(),
        [Event::Connected(Negotiated {
            max_frame: 4096,
            max_inflight: 4,
            credit: 1000
        })]
    );

    let mut c = Peer::client(ConnectionConfig {
        max_inflight: 8,
        ..ConnectionConfig::default()
    });
    c.written();
    c.send(
        Hello {
            max_inflight: Some(9),
            ..Hello::legacy()
        }
        .to_frame(),
    );
    assert_eq!(errors_in(&c.written())[0].code, ErrorCode::Proto);
    assert!(c.conn.is_closed());
}

#[test]
fn anything_before_hello_is_a_protocol_error() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.send(Start::default().to_frame());
    let out = p.written();
    let errs = errors_in(&out);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::Proto);
    assert_eq!(errs[0].msg, "first frame must be HELLO");
    assert_eq!(errs[0].corr_id, None);
    assert!(p.events().iter().any(|e| matches!(
        e,
        Event::Closed {
            by_peer: false,
            violation: Some(Violation::FirstFrameNotHello),
            error: Some(sent),
        } if *sent == errs[0]
    )));
    // Nothing after the error is processed.
    p.send(Hello::legacy().to_frame());
    assert!(p.written().is_empty());
}

#[test]
fn bad_protocol_name_and_zero_limits_are_refused() {
    for (hello, violation) in [
        (
            Hello {
                hello: "oap/2".into(),
                ..Hello::legacy()
            },
            Violation::UnsupportedProtocol,
        ),
        (
            Hello {
                credit: Some(0),
                ..Hello::legacy()
            },
            Violation::ZeroLimit,
        ),
        (
            Hello {
                max_inflight: Some(0),
                ..Hello::legacy()
            },
            Violation::ZeroLimit,
        ),
        (
            Hello {
                max_frame: Some(10),
                ..Hello::legacy()
            },
            Violation::MaxFrameBelowMinimum,
        ),
    ] {
        let mut p = Peer::server(ConnectionConfig::default());
        p.send(hello.to_frame());
        assert_eq!(
            errors_in(&p.written())[0].code,
            ErrorCode::Proto,
            "{hello:?}"
        );
        assert!(p.conn.is_closed());
        assert!(
            p.events().iter().any(|e| matches!(e,
                Event::Closed { violation: Some(v), .. } if *v == violation)),
            "{hello:?}"
        );
    }
}

#[test]
fn a_json_error_quoting_the_peers_text_is_sent_back_cut_short() {
    let mut p = Peer::server(ConnectionConfig::default());
    // serde_json's message for a wrong type quotes the whole string.
    let long = "A".repeat(4000);
    let hello = format!(r#"{{"hello":"oap/1","max_frame":"{long}"}}"#);
    p.send(Frame::new(FrameType::Hello, Bytes::from(hello)));
    let errs = errors_in(&p.written());
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::BadFrame);
    let prefix = "invalid JSON payload: invalid type: string \"AAA";
    assert!(errs[0].msg.starts_with(prefix), "{}", errs[0].msg);
    assert!(errs[0].msg.ends_with('…'), "{}", errs[0].msg);
    assert!(
        errs[0].msg.chars().count() <= "invalid JSON payload: ".len() + 121,
        "{} characters",
        errs[0].msg.chars().count()
    );
    assert!(p.events().iter().any(|e| matches!(
        e,
        Event::Closed {
            violation: Some(Violation::MalformedPayload {
                frame: FrameType::Hello,
                error: PayloadError::Json {
                    kind: JsonErrorKind::Data,
                    ..
                },
            }),
            ..
        }
    )));
}

#[test]
fn start_is_answered_with_an_ack_carrying_the_initial_credit() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    p.open(5);
    let out = p.written();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].typ, FrameType::Ack);
    assert_eq!(
        Ack::decode(&out[0].payload).expect("ack"),
        Ack {
            corr_id: Some(5),
            credit: 65_536
        }
    );
}

#[test]
fn the_33rd_request_is_refused_and_the_connection_goes_on() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    for corr in 1..=32 {
        p.open(corr);
    }
    p.written();
    p.send(
        Start {
            corr_id: Some(33),
            ..Start::default()
        }
        .to_frame(),
    );
    assert!(p.events().is_empty(), "no RequestStarted for the 33rd");
    let errs = errors_in(&p.written());
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::TooManyInflight);
    assert_eq!(errs[0].corr_id, Some(33));
    assert!(errs[0].retryable);
    assert_eq!(p.conn.open_requests(), 32);
    // DATA the client had already sent for #33 is dropped quietly.
    let body = b"late";
    p.send(
        data_frame(
            &DataHeader {
                corr_id: Some(33),
                ..DataHeader::whole(body)
            },
            body,
        )
        .expect("data"),
    );
    assert!(p.written().is_empty());
    // Ending one request frees a slot.
    p.send(
        End {
            corr_id: Some(1),
            obj: None,
        }
        .to_frame(),
    );
    p.conn.finish(RequestId(1), None).expect("finish");
    assert!(p.events().contains(&Event::RequestEnded {
        id: RequestId(1),
        outcome: RequestOutcome::Completed
    }));
    p.open(34);
    assert_eq!(p.conn.open_requests(), 32);
    assert!(!p.conn.is_closed());
}

#[test]
fn data_beyond_credit_is_refused_with_credit_exceeded() {
    let mut p = Peer::server(ConnectionConfig {
        credit: 1000,
        ..ConnectionConfig::default()
    });
    p.handshake(Hello::legacy());
    let id = p.open(1);
    p.written();
    let obj = vec![7u8; 1500];
    let oid = ObjectId::of(&obj);
    p.send(data_frame(&chunk_header(oid, 1, 0, 1500), &obj[..1000]).expect("data"));
    assert!(p.written().is_empty(), "exactly the credit is fine");
    p.send(data_frame(&chunk_header(oid, 1, 1000, 1500), &obj[1000..1001]).expect("data"));
    let errs = errors_in(&p.written());
    assert_eq!(errs[0].code, ErrorCode::CreditExceeded);
    assert_eq!(errs[0].corr_id, Some(1));
    assert!(p.events().iter().any(|e| matches!(e, Event::RequestEnded { id: i, outcome: RequestOutcome::Failed { by_peer: false, .. } } if *i == id)));
    assert!(
        !p.conn.is_closed(),
        "a request error does not close the connection"
    );
}

#[test]
fn credit_returns_when_the_application_reads_half_a_window() {
    let mut p = Peer::server(ConnectionConfig {
        credit: 1000,
        // The window stays put; growth has its own test.
        window_growth: 0,
        ..ConnectionConfig::default()
    });
    p.handshake(Hello::legacy());
    let id = p.open(1);
    p.written();
    let obj = vec![1u8; 3000];
    let oid = ObjectId::of(&obj);
    p.send(data_frame(&chunk_header(oid, 1, 0, 3000), &obj[..1000]).expect("data"));
    assert!(p.events().contains(&Event::Readable { id }));
    assert!(p.written().is_empty(), "no credit on receipt");
    let c = p.conn.read(id, 400).expect("chunk");
    assert_eq!(c.bytes.len(), 400);
    assert!(p.written().is_empty(), "less than half a window read");
    let c = p.conn.read(id, 200).expect("chunk");
    assert_eq!(c.offset, 400);
    let acks: Vec<Ack> = p
        .written()
        .iter()
        .map(|f| Ack::decode(&f.payload).expect("ack"))
        .collect();
    assert_eq!(
        acks,
        [Ack {
            corr_id: Some(1),
            credit: 1600
        }]
    );
    assert_eq!(p.conn.buffered_input(), 400);
}

/// Sends `sent` of a 3000-byte object on request `corr`, reads `read` of
/// it, and returns the credit the ACKs announced.
fn credit_after(p: &mut Peer, corr: u64, sent: usize, read: usize) -> Vec<u64> {
    let id = p.open(corr);
    p.written();
    let obj = vec![corr as u8; 3000];
    let oid = ObjectId::of(&obj);
    p.send(data_frame(&chunk_header(oid, corr, 0, 3000), &obj[..sent]).expect("data"));
    p.events();
    let c = p.conn.read(id, read).expect("chunk");
    assert_eq!(c.bytes.len(), read);
    p.written()
        .iter()
        .map(|f| Ack::decode(&f.payload).expect("ack").credit)
        .collect()
}

#[test]
fn the_window_grows_only_for_a_sender_held_back_by_credit_within_the_budget() {
    let mut p = Peer::server(ConnectionConfig {
        credit: 1000,
        window_growth: 1500,
        ..ConnectionConfig::default()
    });
    p.handshake(Hello::legacy());
    assert_eq!(
        p.conn.buffered_input_bound(),
        1024 * 1024 + 6 + 32 * 1000 + 1500
    );
    // 700 of 1000 sent: the sender was not waiting for credit.
    assert_eq!(credit_after(&mut p, 1, 700, 700), [700 + 1000]);
    // All 1000 sent: the window doubles.
    assert_eq!(credit_after(&mut p, 2, 1000, 600), [600 + 2000]);
    // Again, but only 500 of the budget is left.
    assert_eq!(credit_after(&mut p, 3, 1000, 600), [600 + 1500]);
    // Budget spent: the window stays at the initial credit.
    assert_eq!(credit_after(&mut p, 4, 1000, 600), [600 + 1000]);
    // Request 2 ends: its growth returns to the budget.
    p.send(
        ErrorEnvelope::new(ErrorCode::Internal, "client gave up")
            .for_request(2)
            .to_frame(),
    );
    assert_eq!(credit_after(&mut p, 5, 1000, 600), [600 + 2000]);
    assert!(p.conn.buffered_input() <= p.conn.buffered_input_bound());
}

#[test]
fn a_later_request_grows_straight_to_the_window_an_earlier_one_needed() {
    let mut p = Peer::server(ConnectionConfig {
        credit: 1000,
        window_growth: 8000,
        ..ConnectionConfig::default()
    });
    p.handshake(Hello::legacy());
    // Request 1 is held back twice: 1000 -> 2000 -> 4000.
    assert_eq!(credit_after(&mut p, 1, 1000, 600), [600 + 2000]);
    let obj = vec![1u8; 3000];
    let oid = ObjectId::of(&obj);
    p.send(data_frame(&chunk_header(oid, 1, 1000, 3000), &obj[1000..2600]).expect("data"));
    p.events();
    let mut read = 0;
    while let Some(c) = p.conn.read(RequestId(1), 2000 - read) {
        read += c.bytes.len();
        if read == 2000 {
            break;
        }
    }
    let acks: Vec<u64> = p
        .written()
        .iter()
        .map(|f| Ack::decode(&f.payload).expect("ack").credit)
        .collect();
    assert_eq!(acks, [2600 + 4000]);
    // Request 2, held back once, jumps to 4000 rather than doubling to 2000.
    assert_eq!(credit_after(&mut p, 2, 1000, 600), [600 + 4000]);
}

#[test]
fn a_digest_mismatch_discards_the_object() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    p.open(1);
    p.written();
    let claimed = ObjectId::of(b"the real bytes");
    p.send(
        data_frame(
            &DataHeader {
                corr_id: Some(1),
                ..DataHeader::for_object(claimed)
            },
            b"forged bytes!!",
        )
        .expect("data"),
    );
    let errs = errors_in(&p.written());
    assert_eq!(errs[0].code, ErrorCode::BadDigest);
    assert_eq!(
        errs[0].msg,
        format!("object bytes do not hash to {claimed}")
    );
    let evs = p.events();
    assert!(evs.iter().any(|e| matches!(e,
        Event::RequestEnded {
            outcome: RequestOutcome::Failed {
                violation: Some(Violation::DigestMismatch { obj }),
                ..
            },
            ..
        } if *obj == claimed)));
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::ObjectVerified { .. } | Event::Readable { .. }))
    );
    assert_eq!(p.conn.stats().objects_failed, 1);
    assert_eq!(p.conn.stats().objects_verified, 0);
    assert_eq!(p.conn.read(RequestId(1), usize::MAX), None);
}

#[test]
fn offsets_must_be_contiguous_and_total_len_fixed() {
    let obj = vec![3u8; 100];
    let oid = ObjectId::of(&obj);
    /// (offset, total_len, body range) of each DATA frame.
    type Frames = Vec<(u64, u64, std::ops::Range<usize>)>;
    let cases: [(&str, Frames); 4] = [
        ("gap", vec![(0, 100, 0..10), (20, 100, 20..30)]),
        ("overlap", vec![(0, 100, 0..10), (5, 100, 5..30)]),
        (
            "total_len changed",
            vec![(0, 100, 0..10), (10, 101, 10..20)],
        ),
        (
            "beyond total_len",
            vec![(0, 100, 0..10), (10, 100, 10..100), (100, 100, 0..1)],
        ),
    ];
    for (what, frames) in cases {
        let mut p = Peer::server(ConnectionConfig::default());
        p.handshake(Hello::legacy());
        p.open(1);
        p.written();
        for (offset, total, range) in frames {
            let body = &obj[range];
            let body: Vec<u8> = if offset >= 100 {
                vec![0]
            } else {
                body.to_vec()
            };
            p.send(data_frame(&chunk_header(oid, 1, offset, total), &body).expect("data"));
        }
        let errs = errors_in(&p.written());
        assert_eq!(errs.len(), 1, "{what}");
        assert_eq!(errs[0].code, ErrorCode::Proto, "{what}");
    }
}

#[test]
fn e2e_bodies_are_verified_as_sent() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    let id = p.open(1);
    let ciphertext = b"\x00\x01opaque-ciphertext\xff";
    let header = DataHeader {
        corr_id: Some(1),
        e2e: true,
        ..DataHeader::whole(ciphertext)
    };
    p.send(data_frame(&header, ciphertext).expect("data"));
    let evs = p.events();
    assert!(evs.contains(&Event::ObjectVerified {
        id,
        obj: header.obj,
        len: ciphertext.len() as u64,
        e2e: true
    }));
    assert_eq!(
        &p.conn.read(id, usize::MAX).expect("chunk").bytes[..],
        ciphertext
    );
}

#[test]
fn legacy_client_session_is_served_as_request_zero() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    p.send_raw(
        &FrameEncoder::new()
            .to_bytes(FrameType::Start, br#"{"topic":"tiles/v1"}"#)
            .expect("start"),
    );
    let evs = p.events();
    assert!(
        matches!(&evs[..], [Event::RequestStarted { id: RequestId(0), start }] if start.topic.as_deref() == Some("tiles/v1"))
    );
    p.conn.accept(RequestId(0)).expect("accept");
    let ack = p.written();
    assert_eq!(
        ack[0].payload,
        Bytes::from_static(br#"{"credit":65536}"#),
        "legacy ACK has no corr_id"
    );
    // Each DATA carries the obj of its own body, as the original client did.
    let docs: [&[u8]; 2] = [b"first document", b"second document"];
    for d in docs {
        p.send(data_frame(&DataHeader::whole(d), d).expect("data"));
    }
    p.send_raw(&[1, 4, 0, 0, 0, 0]); // END with no payload
    let evs = p.events();
    let verified: Vec<ObjectId> = evs
        .iter()
        .filter_map(|e| match e {
            Event::ObjectVerified { obj, .. } => Some(*obj),
            _ => None,
        })
        .collect();
    assert_eq!(verified, docs.map(ObjectId::of));
    assert!(evs.contains(&Event::Finished {
        id: RequestId(0),
        obj: None
    }));
    let mut got = Vec::new();
    while let Some(c) = p.conn.read(RequestId(0), usize::MAX) {
        got.extend_from_slice(&c.bytes);
    }
    assert_eq!(got, [docs[0], docs[1]].concat());
    p.conn.finish(RequestId(0), None).expect("finish");
    let end = p.written();
    assert_eq!(end[0].typ, FrameType::End);
    assert_eq!(&end[0].payload[..], b"{}");
    assert!(p.events().contains(&Event::RequestEnded {
        id: RequestId(0),
        outcome: RequestOutcome::Completed
    }));
}

#[test]
fn error_with_corr_id_ends_one_request_and_without_ends_the_connection() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    p.open(1);
    p.open(2);
    p.written();
    p.send(
        ErrorEnvelope::new(ErrorCode::Internal, "client gave up")
            .for_request(1)
            .to_frame(),
    );
    let evs = p.events();
    assert!(matches!(
        &evs[..],
        [Event::RequestEnded {
            id: RequestId(1),
            outcome: RequestOutcome::Failed { by_peer: true, .. }
        }]
    ));
    assert_eq!(p.conn.open_requests(), 1);
    p.send(ErrorEnvelope::new(ErrorCode::Busy, "bye").to_frame());
    let evs = p.events();
    assert!(evs.contains(&Event::RequestEnded {
        id: RequestId(2),
        outcome: RequestOutcome::Aborted
    }));
    assert!(
        matches!(evs.last(), Some(Event::Closed { by_peer: true, error: Some(e), violation: None }) if e.code == ErrorCode::Busy)
    );
    assert!(p.conn.is_closed());
}

#[test]
fn duplicate_and_late_acks_are_harmless() {
    let mut c = Peer::client(ConnectionConfig {
        credit: 1000,
        ..ConnectionConfig::default()
    });
    c.written();
    c.send(
        Hello {
            credit: Some(1000),
            ..Hello::legacy()
        }
        .to_frame(),
    );
    c.events();
    let id = c.conn.start(c.now, Start::default()).expect("start");
    let obj = Bytes::from(vec![9u8; 5000]);
    c.conn
        .begin_object(id, OutgoingObject::of(&obj))
        .expect("object");
    assert_eq!(
        c.conn.send_data(id, obj.clone()).expect("send"),
        1000,
        "initial credit only"
    );
    assert_eq!(c.conn.send_data(id, obj.slice(1000..)).expect("send"), 0);
    for credit in [3000, 2000, 3000, 1000] {
        c.send(
            Ack {
                corr_id: Some(id.0),
                credit,
            }
            .to_frame(),
        );
    }
    assert_eq!(
        c.conn.send_credit(id),
        Some(2000),
        "the maximum counts, not the sum"
    );
    assert_eq!(c.conn.send_data(id, obj.slice(1000..)).expect("send"), 2000);
    c.send(
        Ack {
            corr_id: Some(999),
            credit: 1 << 40,
        }
        .to_frame(),
    );
    assert!(
        !c.conn.is_closed(),
        "an ACK for an unknown request is ignored"
    );
}

#[test]
fn oversize_frame_gets_too_large_then_close() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    p.send_raw(&[1, 3, 0, 0x10, 0, 1]); // DATA of 1 MiB + 1
    let errs = errors_in(&p.written());
    assert_eq!(errs[0].code, ErrorCode::TooLarge);
    assert!(p.conn.is_closed());
    assert!(
        p.conn.buffered_input() < 16,
        "nothing of the oversize frame was buffered"
    );
}

#[test]
fn a_tls_client_hello_at_a_plaintext_server_is_bad_version_and_says_the_peer_speaks_tls() {
    let mut p = Peer::server(ConnectionConfig::default());
    // The record header of a TLS ClientHello: handshake (22), TLS 1.0
    // record version, a length.
    p.send_raw(&[0x16, 0x03, 0x01, 0x00, 0xf4, 0x01]);
    let errs = errors_in(&p.written());
    assert_eq!(
        errs[0].code,
        ErrorCode::BadVersion,
        "the usual answer (spec §2)"
    );
    assert!(p.conn.is_closed());
    assert!(p.conn.peer_speaks_tls());
}

#[test]
fn a_tls_alert_answering_a_clients_hello_says_the_server_speaks_tls() {
    let mut c = Peer::client(ConnectionConfig::default());
    let _hello = c.written();
    // What a TLS server answers plaintext with: a fatal decode_error alert.
    c.send_raw(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]);
    let errs = errors_in(&c.written());
    assert_eq!(errs[0].code, ErrorCode::BadVersion);
    assert!(c.conn.is_closed());
    assert!(c.conn.peer_speaks_tls());
}

#[test]
fn only_a_tls_record_as_the_first_header_means_tls() {
    let mut other_version = Peer::server(ConnectionConfig::default());
    other_version.send_raw(&[2, 1, 0, 0, 0, 0]);
    let _error = other_version.written();
    assert!(other_version.conn.is_closed());
    assert!(
        !other_version.conn.peer_speaks_tls(),
        "OAP version 2 is not TLS"
    );

    let mut later = Peer::server(ConnectionConfig::default());
    later.handshake(Hello::legacy());
    later.send_raw(&[0x17, 0x03, 0x03, 0x00, 0x10, 0x00]);
    let _error = later.written();
    assert!(later.conn.is_closed());
    assert!(
        !later.conn.peer_speaks_tls(),
        "after a frame, framing was lost, not a protocol mismatch"
    );
}

/// A server with `max_object_bytes` set to `max`, past the HELLO exchange.
fn server_limited_to(max: u64) -> Peer {
    let mut p = Peer::server(ConnectionConfig {
        max_object_bytes: Some(max),
        ..ConnectionConfig::default()
    });
    p.handshake(Hello::legacy());
    p
}

/// Request `corr` was refused with `too_large` naming the object's length
/// and the limit, and not one byte of its object was made readable.
fn assert_refused_too_large(p: &mut Peer, corr: u64, len: u64, max: u64) {
    let errs = errors_in(&p.written());
    assert_eq!(errs.len(), 1, "one ERROR: {errs:?}");
    assert_eq!(
        (errs[0].code, errs[0].corr_id),
        (ErrorCode::TooLarge, Some(corr))
    );
    assert!(!errs[0].retryable);
    assert_eq!(
        errs[0].msg,
        format!("object of {len} bytes exceeds max_object_bytes {max}")
    );
    let id = RequestId(corr);
    let evs = p.events();
    assert!(
        !evs.iter().any(|e| matches!(e,
            Event::Readable { id: i } | Event::ObjectVerified { id: i, .. } if *i == id)),
        "no byte of the refused object is readable: {evs:?}"
    );
    assert!(evs.iter().any(|e| matches!(e,
        Event::RequestEnded {
            id: i,
            outcome: RequestOutcome::Failed {
                error,
                by_peer: false,
                violation: Some(Violation::ObjectTooLarge { total_len, max: bound }),
            },
        } if *i == id && error.code == ErrorCode::TooLarge && *total_len == len && *bound == max)));
    assert_eq!(p.conn.read(id, usize::MAX), None);
    assert_eq!(p.conn.stats().rejects.get(&ErrorCode::TooLarge), Some(&1));
    assert!(!p.conn.is_closed(), "only the request ends");
}

/// Opens put `corr`, sends `body` as DATA frames of at most `frame` body
/// bytes (each with `total_len`, or one whole-object frame when `frame` is
/// `None`), ENDs it, and checks that it completes with the object verified.
fn put_completes(p: &mut Peer, corr: u64, body: &[u8], frame: Option<usize>) {
    let id = p.open(corr);
    let obj = ObjectId::of(body);
    match frame {
        None => {
            let header = DataHeader {
                corr_id: Some(corr),
                ..DataHeader::whole(body)
            };
            p.send(data_frame(&header, body).expect("data"));
        }
        Some(n) => {
            for (i, part) in body.chunks(n).enumerate() {
                let header = chunk_header(obj, corr, (i * n) as u64, body.len() as u64);
                p.send(data_frame(&header, part).expect("data"));
            }
        }
    }
    p.send(
        End {
            corr_id: Some(corr),
            obj: None,
        }
        .to_frame(),
    );
    let evs = p.events();
    assert!(
        evs.contains(&Event::ObjectVerified {
            id,
            obj,
            len: body.len() as u64,
            e2e: false
        }),
        "{evs:?}"
    );
    let mut got = Vec::new();
    while let Some(c) = p.conn.read(id, usize::MAX) {
        got.extend_from_slice(&c.bytes);
    }
    assert_eq!(got, body);
    p.conn.finish(id, Some(obj)).expect("finish");
    assert!(errors_in(&p.written()).is_empty());
    assert!(p.events().contains(&Event::RequestEnded {
        id,
        outcome: RequestOutcome::Completed
    }));
}

#[test]
fn an_object_over_max_object_bytes_is_refused_from_its_first_header_and_the_connection_goes_on() {
    let mut p = server_limited_to(1000);
    p.open(1);
    p.written();
    let big = vec![9u8; 1001];
    let oid = ObjectId::of(&big);
    p.send(data_frame(&chunk_header(oid, 1, 0, 1001), &big[..500]).expect("data"));
    assert_refused_too_large(&mut p, 1, 1001, 1000);
    // The rest of the object, already in flight, is dropped quietly.
    p.send(data_frame(&chunk_header(oid, 1, 500, 1001), &big[500..]).expect("data"));
    assert!(p.written().is_empty());
    assert!(p.events().is_empty());
    assert_eq!(p.conn.stats().data_bytes_in, 0, "not one byte was taken");
    // A claim far beyond any memory is refused the same way.
    p.open(2);
    p.written();
    p.send(data_frame(&chunk_header(oid, 2, 0, u64::MAX), &big[..10]).expect("data"));
    let errs = errors_in(&p.written());
    assert_eq!(
        (errs[0].code, errs[0].corr_id),
        (ErrorCode::TooLarge, Some(2))
    );
    // The next request on the same connection is served.
    put_completes(&mut p, 3, b"a small document", Some(7));
    assert!(!p.conn.is_closed());
}

#[test]
fn a_whole_object_data_frame_whose_body_is_over_max_object_bytes_is_refused() {
    let mut p = server_limited_to(1000);
    p.open(1);
    p.written();
    let big = vec![4u8; 1001];
    let header = DataHeader {
        corr_id: Some(1),
        ..DataHeader::whole(&big)
    };
    p.send(data_frame(&header, &big).expect("data"));
    assert_refused_too_large(&mut p, 1, 1001, 1000);
    put_completes(&mut p, 2, &big[..1000], None);
}

#[test]
fn an_object_of_exactly_max_object_bytes_is_accepted_in_either_form() {
    let mut p = server_limited_to(1000);
    let doc: Vec<u8> = (0..1000u32).map(|i| (i * 131) as u8).collect();
    put_completes(&mut p, 1, &doc, Some(300));
    put_completes(&mut p, 2, &doc, None);
}

#[test]
fn handshake_idle_and_request_timeouts_are_driven_by_now() {
    let config = ConnectionConfig {
        handshake_timeout: Some(Duration::from_secs(5)),
        idle_timeout: Some(Duration::from_secs(60)),
        request_timeout: Some(Duration::from_secs(10)),
        ..ConnectionConfig::default()
    };
    let mut p = Peer::server(config.clone());
    assert_eq!(p.conn.poll_timeout(), Some(p.now + Duration::from_secs(5)));
    p.advance(Duration::from_millis(4999));
    assert!(!p.conn.is_closed());
    p.advance(Duration::from_millis(1));
    assert_eq!(errors_in(&p.written())[0].code, ErrorCode::Timeout);
    assert!(p.conn.is_closed());

    let mut p = Peer::server(config.clone());
    p.handshake(Hello::legacy());
    let id = p.open(1);
    p.written();
    assert_eq!(p.conn.poll_timeout(), Some(p.now + Duration::from_secs(10)));
    p.advance(Duration::from_secs(10));
    let errs = errors_in(&p.written());
    assert_eq!(errs[0].code, ErrorCode::Timeout);
    assert_eq!(errs[0].corr_id, Some(id.0));
    assert!(!p.conn.is_closed());
    p.advance(Duration::from_secs(50));
    assert_eq!(
        errors_in(&p.written())[0].code,
        ErrorCode::Timeout,
        "idle for 60 s"
    );
    assert!(p.conn.is_closed());
}

/// `poll_timeout` may come before the earliest deadline (a frame pushes
/// its request's deadline back without moving it), never after: a driver
/// that sleeps until it and calls `handle_timeout` expires the request at
/// its deadline, not before, and soon gets there.
#[test]
fn a_driver_following_poll_timeout_expires_a_request_at_its_deadline() {
    let mut p = Peer::server(ConnectionConfig {
        idle_timeout: None,
        request_timeout: Some(Duration::from_secs(10)),
        ..ConnectionConfig::default()
    });
    p.handshake(Hello::legacy());
    let id = p.open(1);
    p.written();
    p.now += Duration::from_secs(4);
    let obj = vec![7u8; 100];
    let oid = ObjectId::of(&obj);
    p.send(data_frame(&chunk_header(oid, 1, 0, 100), &obj[..50]).expect("data"));
    let deadline = p.now + Duration::from_secs(10);

    let mut wake_ups = 0;
    while p.conn.open_requests() == 1 {
        let at = p.conn.poll_timeout().expect("a deadline");
        assert!(at <= deadline, "{:?} after the deadline", at - deadline);
        wake_ups += 1;
        assert!(wake_ups <= 3, "does not converge");
        p.now = p.now.max(at);
        p.conn.handle_timeout(p.now);
    }
    assert_eq!(p.now, deadline, "expired at its deadline");
    let errs = errors_in(&p.written());
    assert_eq!(errs[0].code, ErrorCode::Timeout);
    assert_eq!(errs[0].corr_id, Some(id.0));
    assert_eq!(p.conn.poll_timeout(), None, "no request, no idle timeout");
}

#[test]
fn a_peer_that_never_reads_its_answers_is_cut_off() {
    let mut p = Peer::server(ConnectionConfig {
        max_inflight: 1,
        max_control_backlog: 4096,
        ..ConnectionConfig::default()
    });
    p.handshake(Hello::legacy());
    p.open(1);
    // Every further START earns an ERROR the peer never reads.
    for corr in 2..1000 {
        p.send(
            Start {
                corr_id: Some(corr),
                ..Start::default()
            }
            .to_frame(),
        );
        if p.conn.is_closed() || !p.conn.is_established() {
            break;
        }
    }
    assert!(
        !p.conn.is_established(),
        "closed before answering a thousand STAREs"
    );
    let frames = p.written();
    assert!(frames.len() < 100);
    assert_eq!(
        errors_in(&frames).last().map(|e| e.code),
        Some(ErrorCode::Busy)
    );
}

#[test]
fn commands_are_refused_not_panicking_on_misuse() {
    let mut p = Peer::server(ConnectionConfig::default());
    assert_eq!(
        p.conn.accept(RequestId(1)),
        Err(CommandError::NotEstablished)
    );
    p.handshake(Hello::legacy());
    assert_eq!(
        p.conn.start(p.now, Start::default()),
        Err(CommandError::WrongRole)
    );
    assert_eq!(
        p.conn.accept(RequestId(1)),
        Err(CommandError::UnknownRequest(RequestId(1)))
    );
    let id = p.open(1);
    assert_eq!(p.conn.accept(id), Err(CommandError::AlreadyAccepted));
    assert_eq!(
        p.conn.send_data(id, Bytes::from_static(b"x")),
        Err(CommandError::ObjectState)
    );
    p.conn
        .begin_object(id, OutgoingObject::of(b"abc"))
        .expect("object");
    assert_eq!(
        p.conn.send_data(id, Bytes::from_static(b"abcd")),
        Err(CommandError::ObjectOverrun)
    );
    assert_eq!(p.conn.finish(id, None), Err(CommandError::ObjectState));
    p.conn.close(None);
    assert_eq!(
        p.conn.send_data(id, Bytes::from_static(b"a")),
        Err(CommandError::Closed)
    );
}

#[test]
fn large_objects_are_split_to_fit_max_frame_and_not_copied() {
    let mut c = Peer::client(ConnectionConfig {
        credit: 1 << 20,
        ..ConnectionConfig::default()
    });
    c.written();
    c.send(
        Hello {
            max_frame: Some(16_384),
            credit: Some(1 << 20),
            ..Hello::legacy()
        }
        .to_frame(),
    );
    c.events();
    let id = c.conn.start(c.now, Start::default()).expect("start");
    let obj = Bytes::from(vec![0x5a; 100_000]);
    let range = obj.as_ptr() as usize..obj.as_ptr() as usize + obj.len();
    c.conn
        .begin_object(id, OutgoingObject::of(&obj))
        .expect("object");
    assert_eq!(c.conn.send_data(id, obj.clone()).expect("send"), 100_000);
    let mut wire = Vec::new();
    let mut zero_copy_bodies = 0;
    while let Some(t) = c.conn.poll_transmit(c.now, &mut wire) {
        if let Some(body) = t.body {
            assert!(
                range.contains(&(body.as_ptr() as usize)),
                "body is a view of the object"
            );
            zero_copy_bodies += 1;
            wire.extend_from_slice(&body);
        }
    }
    assert!(zero_copy_bodies >= 6);
    let mut buf = BytesMut::from(&wire[..]);
    let mut dec = FrameDecoder::with_max_frame(16_384);
    let mut total = 0;
    while let Some(f) = dec.decode(&mut buf).expect("fits the negotiated max_frame") {
        if f.typ != FrameType::Data {
            continue;
        }
        let (h, body) = decode_data_bytes(&f.payload).expect("data");
        assert_eq!(h.offset, Some(total as u64));
        assert_eq!(h.total_len, Some(100_000));
        total += body.len();
    }
    assert_eq!(total, 100_000);
}

#[test]
fn the_hello_answer_precedes_the_ack_of_a_start_pipelined_behind_the_hello() {
    let mut p = Peer::server(ConnectionConfig::default());
    let start = Start {
        corr_id: Some(1),
        op: Some("put".into()),
        ..Start::default()
    };
    let enc = FrameEncoder::new();
    let mut bytes = enc
        .to_bytes(FrameType::Hello, &Hello::legacy().encode())
        .expect("hello");
    bytes.extend_from_slice(
        &enc.to_bytes(FrameType::Start, &start.encode())
            .expect("start"),
    );
    // HELLO and START arrive in one read; the application accepts at once.
    p.send_raw(&bytes);
    for ev in p.events() {
        if let Event::RequestStarted { id, .. } = ev {
            p.conn.accept(id).expect("accept");
        }
    }
    let types: Vec<FrameType> = p.written().iter().map(|f| f.typ).collect();
    assert_eq!(types, [FrameType::Hello, FrameType::Ack]);
}

#[test]
fn hello_identity_strings_longer_than_128_bytes_are_refused() {
    for field in 0..3 {
        for (len, accepted) in [(128, true), (129, false)] {
            let text = Some("x".repeat(len));
            let mut hello = Hello::legacy();
            match field {
                0 => hello.app_proto_id = text,
                1 => hello.tenant = text,
                _ => hello.token = text,
            }
            let mut p = Peer::server(ConnectionConfig::default());
            p.send(hello.to_frame());
            let out = p.written();
            if accepted {
                assert_eq!(out[0].typ, FrameType::Hello, "field {field}, {len} bytes");
            } else {
                assert_eq!(out[0].typ, FrameType::Error, "field {field}, {len} bytes");
                let err = ErrorEnvelope::decode(&out[0].payload).expect("error");
                assert_eq!(err.code, ErrorCode::Proto);
                assert!(
                    p.conn.is_closed()
                        || p.events().iter().any(|e| matches!(e, Event::Closed { .. }))
                );
            }
        }
    }
}

#[test]
fn a_frame_must_arrive_whole_within_the_frame_timeout_of_its_first_byte() {
    let mut p = Peer::server(ConnectionConfig {
        frame_timeout: Some(Duration::from_secs(30)),
        idle_timeout: Some(Duration::from_secs(60)),
        ..ConnectionConfig::default()
    });
    p.handshake(Hello::legacy());
    let start = FrameEncoder::new()
        .to_bytes(
            FrameType::Start,
            &Start {
                corr_id: Some(1),
                ..Start::default()
            }
            .encode(),
        )
        .expect("encode");
    // Whole frames leave no frame deadline behind.
    p.send_raw(&start);
    p.events();
    p.written();
    assert_eq!(
        p.conn.poll_timeout(),
        Some(p.now + Duration::from_secs(30)),
        "the request's own"
    );
    // Now a frame dripped a byte every 2 s: each byte keeps the idle
    // timeout away, but the frame's clock started with its first byte.
    let first_byte_at = p.now;
    let dripped = FrameEncoder::new()
        .to_bytes(
            FrameType::Ack,
            &Ack {
                corr_id: Some(1),
                credit: 7,
            }
            .encode(),
        )
        .expect("encode");
    for b in &dripped[..dripped.len() - 1] {
        p.send_raw(std::slice::from_ref(b));
        assert!(p.conn.poll_timeout() <= Some(first_byte_at + Duration::from_secs(30)));
        p.advance(Duration::from_secs(2));
        assert!(!p.conn.is_closed(), "still within the frame timeout");
    }
    p.advance(first_byte_at + Duration::from_secs(30) - p.now);
    let errs = errors_in(&p.written());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].code, ErrorCode::Timeout);
    assert!(errs[0].msg.contains("frame"), "{}", errs[0].msg);
    assert!(p.conn.is_closed());
}

#[test]
fn a_peer_that_half_closes_after_end_still_gets_its_end() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    let body = b"half-closed after END";
    let obj = ObjectId::of(body);
    let done = p.open(1);
    let unfinished = p.open(2);
    p.written();
    let header = DataHeader {
        corr_id: Some(1),
        ..DataHeader::whole(body)
    };
    p.send(data_frame(&header, body).expect("data"));
    p.send(
        End {
            corr_id: Some(1),
            obj: None,
        }
        .to_frame(),
    );
    p.conn.handle_eof(p.now);
    // The request still waiting for the peer's bytes can never complete.
    let errs = errors_in(&p.written());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        (errs[0].code, errs[0].corr_id),
        (ErrorCode::Proto, Some(unfinished.0))
    );
    assert!(!p.conn.is_closed(), "request 1 is still being answered");
    // The application finishes request 1 later (its commit took a while).
    while p.conn.read(done, usize::MAX).is_some() {}
    p.conn
        .finish(done, Some(obj))
        .expect("finish after the peer's EOF");
    let out = p.written();
    assert!(
        out.iter().any(|f| f.typ == FrameType::End),
        "the END reaches the half-closed peer: {out:?}"
    );
    assert!(p.conn.is_closed(), "and then the connection closes");
    assert!(p.events().contains(&Event::RequestEnded {
        id: done,
        outcome: RequestOutcome::Completed
    }));
}

#[test]
fn an_ack_in_the_same_read_as_its_start_does_not_preempt_the_servers_accept() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    let enc = FrameEncoder::new();
    let start = Start {
        corr_id: Some(1),
        op: Some("get".into()),
        ..Start::default()
    };
    let mut read = enc
        .to_bytes(FrameType::Start, &start.encode())
        .expect("encode")
        .to_vec();
    // The client grants credit for its get before the server answered.
    read.extend_from_slice(
        &enc.to_bytes(
            FrameType::Ack,
            &Ack {
                corr_id: Some(1),
                credit: 200_000,
            }
            .encode(),
        )
        .expect("encode"),
    );
    p.send_raw(&read);
    let id = RequestId(1);
    assert!(p.events().contains(&Event::RequestStarted {
        id,
        start: Box::new(start)
    }));
    p.conn.accept(id).expect("the application still accepts it");
    let out = p.written();
    assert!(errors_in(&out).is_empty(), "{out:?}");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].typ, FrameType::Ack);
    assert_eq!(
        p.conn.send_credit(id),
        Some(200_000),
        "and the early grant counts"
    );
}

#[test]
fn an_error_longer_than_the_peers_max_frame_is_shortened_not_dropped() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello {
        max_frame: Some(256),
        ..Hello::legacy()
    });
    let id = p.open(1);
    p.written();
    let long = "é".repeat(400);
    p.conn
        .reject(id, ErrorEnvelope::new(ErrorCode::Internal, long.clone()))
        .expect("reject");
    let out = p.written();
    let errs = errors_in(&out);
    assert_eq!(errs.len(), 1, "sent, not dropped: {out:?}");
    assert!(out[0].payload.len() <= 256, "{}", out[0].payload.len());
    assert_eq!(
        (errs[0].code, errs[0].corr_id),
        (ErrorCode::Internal, Some(1))
    );
    assert!(errs[0].msg.ends_with('…') && long.starts_with(errs[0].msg.trim_end_matches('…')));
}

#[test]
fn the_legacy_request_is_held_back_by_not_reading_instead_of_failing_past_its_credit() {
    let mut p = Peer::server(ConnectionConfig::default());
    p.handshake(Hello::legacy());
    p.send(
        Start {
            topic: Some("tiles/v1".into()),
            ..Start::default()
        }
        .to_frame(),
    );
    let id = RequestId(0);
    p.events();
    p.conn.accept(id).expect("accept");
    p.written();
    // The original client writes without waiting: four times its 64 KiB
    // credit arrive in one read.
    let body = vec![7u8; 4 * 65_536];
    let obj = ObjectId::of(&body);
    let mut read = Vec::new();
    for (i, part) in body.chunks(65_536).enumerate() {
        let header = DataHeader {
            corr_id: None,
            offset: Some((i * 65_536) as u64),
            total_len: Some(body.len() as u64),
            ..DataHeader::for_object(obj)
        };
        let frame = data_frame(&header, part).expect("data");
        read.extend_from_slice(
            &FrameEncoder::with_max_frame(u32::MAX)
                .to_bytes(frame.typ, &frame.payload)
                .expect("encode"),
        );
    }
    assert!(read.len() <= oap_core::limits::LEGACY_READ_SLACK + 65_536 * 2);
    p.send_raw(&read);
    assert!(errors_in(&p.written()).is_empty(), "no credit_exceeded");
    assert!(
        !p.conn.wants_input(),
        "a full window: the driver stops reading"
    );
    assert!(p.conn.buffered_input() <= p.conn.buffered_input_bound());
    let mut got = 0;
    while let Some(c) = p.conn.read(id, usize::MAX) {
        got += c.bytes.len();
    }
    assert_eq!(got, body.len());
    assert!(p.conn.wants_input(), "read: the driver reads again");
    assert!(p.events().contains(&Event::ObjectVerified {
        id,
        obj,
        len: body.len() as u64,
        e2e: false
    }));

    // A peer that ignores backpressure altogether is refused past a frame
    // and a read beyond the window.
    let huge = vec![1u8; 1_800_000];
    let obj = ObjectId::of(&huge);
    for (i, part) in huge.chunks(900_000).enumerate() {
        let header = DataHeader {
            corr_id: None,
            offset: Some((i * 900_000) as u64),
            total_len: Some(huge.len() as u64),
            ..DataHeader::for_object(obj)
        };
        p.send(data_frame(&header, part).expect("data"));
    }
    let errs = errors_in(&p.written());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].code, ErrorCode::CreditExceeded);
}
