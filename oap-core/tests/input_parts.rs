//! `Connection::handle_some_input` takes a read in parts, with the host
//! draining events and output in between, and must end where one
//! `handle_input` of the same read ends: the same events, in the same
//! order, and the same frames written.

use std::time::Instant;

use bytes::BytesMut;
use oap_core::ObjectId;
use oap_core::connection::{Connection, ConnectionConfig};
use oap_core::frame::{Frame, FrameDecoder, FrameEncoder, FrameType};
use oap_core::payload::{ControlPayload, DataHeader, End, Hello, Start, data_frame};
use proptest::prelude::*;

/// A client's bytes: HELLO, then for each length a put of an object that
/// long (in two DATA frames when it has two halves) or, for odd indexes, a
/// get; then `tail`, which may be anything.
fn wire(lens: &[usize], tail: &[u8]) -> Vec<u8> {
    let enc = FrameEncoder::with_max_frame(u32::MAX);
    let mut out = BytesMut::new();
    let mut push = |f: Frame| enc.encode_frame(&f, &mut out).expect("encode");
    push(Hello::legacy().to_frame());
    for (i, &len) in lens.iter().enumerate() {
        let corr = i as u64 + 1;
        let object: Vec<u8> = (0..len).map(|b| (b * 7 + i) as u8).collect();
        let obj = ObjectId::of(&object);
        if i % 2 == 1 {
            push(
                Start {
                    corr_id: Some(corr),
                    op: Some("get".into()),
                    addr: Some(obj.to_string()),
                    ..Start::default()
                }
                .to_frame(),
            );
        } else {
            push(
                Start {
                    corr_id: Some(corr),
                    op: Some("put".into()),
                    collection: Some("c".into()),
                    doc_id: Some(format!("d{i}")),
                    ..Start::default()
                }
                .to_frame(),
            );
            let half = len / 2;
            for (offset, part) in [(0, &object[..half]), (half, &object[half..])] {
                if part.is_empty() && offset != 0 {
                    continue;
                }
                let header = DataHeader {
                    corr_id: Some(corr),
                    offset: Some(offset as u64),
                    total_len: Some(len as u64),
                    ..DataHeader::for_object(obj)
                };
                push(data_frame(&header, part).expect("data frame"));
            }
        }
        push(
            End {
                corr_id: Some(corr),
                obj: None,
            }
            .to_frame(),
        );
    }
    out.extend_from_slice(tail);
    out.to_vec()
}

/// What a connection reported and wrote.
#[derive(Default)]
struct Seen {
    events: Vec<String>,
    written: Vec<u8>,
}

impl Seen {
    fn drain(&mut self, conn: &mut Connection, now: Instant) {
        self.events
            .extend(std::iter::from_fn(|| conn.poll_event()).map(|e| format!("{e:?}")));
        while let Some(t) = conn.poll_transmit(now, &mut self.written) {
            self.written.extend(t.body.unwrap_or_default());
        }
    }

    /// The frames written, in a canonical order: ACKs overtake the rest,
    /// so draining earlier may write the same frames in another order.
    fn frames(&self) -> Vec<String> {
        let mut dec = FrameDecoder::with_max_frame(u32::MAX);
        let mut buf = BytesMut::from(&self.written[..]);
        let mut frames = Vec::new();
        while let Some(f) = dec.decode(&mut buf).expect("valid frames") {
            frames.push(format!("{f:?}"));
        }
        frames.sort();
        frames
    }
}

proptest! {
    #[test]
    fn input_in_parts_ends_where_input_at_once_ends(
        lens in proptest::collection::vec(0usize..3000, 0..10),
        tail in proptest::collection::vec(any::<u8>(), 0..40),
        reads in proptest::collection::vec(1usize..6000, 1..8),
        max_bytes in 1usize..5000,
        max_requests in 1u64..4,
    ) {
        let wire = wire(&lens, &tail);
        let now = Instant::now();
        let mut at_once = Connection::server(ConnectionConfig::default(), now);
        let mut in_parts = Connection::server(ConnectionConfig::default(), now);
        let (mut a, mut b) = (Seen::default(), Seen::default());
        let mut rest = &wire[..];
        for &len in reads.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (read, after) = rest.split_at(len.min(rest.len()));
            rest = after;
            at_once.handle_input(now, read);
            a.drain(&mut at_once, now);
            let mut left = read;
            while !left.is_empty() {
                let taken = in_parts.handle_some_input(now, left, max_bytes, max_requests);
                prop_assert!(taken > 0, "no progress");
                left = &left[taken..];
                b.drain(&mut in_parts, now);
            }
        }
        prop_assert_eq!(&a.events, &b.events);
        prop_assert_eq!(a.frames(), b.frames());
        prop_assert_eq!(at_once.stats().bytes_in, in_parts.stats().bytes_in);
        prop_assert_eq!(at_once.stats().frames_in, in_parts.stats().frames_in);
        prop_assert_eq!(at_once.is_closed(), in_parts.is_closed());
    }
}

/// A part ends right after the frame that reaches the budget.
#[test]
fn a_part_ends_after_the_frame_that_reaches_the_budget() {
    let wire = wire(&[10, 10, 10], &[]);
    let now = Instant::now();
    let mut conn = Connection::server(ConnectionConfig::default(), now);
    let hello = Hello::legacy().encode().len() + 6;
    // One byte of budget: the HELLO alone.
    assert_eq!(conn.handle_some_input(now, &wire, 1, u64::MAX), hello);
    // One request: up to and including the next START.
    let taken = conn.handle_some_input(now, &wire[hello..], usize::MAX, 1);
    let mut dec = FrameDecoder::with_max_frame(u32::MAX);
    let mut buf = BytesMut::from(&wire[hello..hello + taken]);
    let frame = dec.decode(&mut buf).expect("valid").expect("a frame");
    assert_eq!(frame.typ, FrameType::Start);
    assert!(buf.is_empty(), "exactly one frame taken");
    // No budget reached: everything.
    let at = hello + taken;
    assert_eq!(
        conn.handle_some_input(now, &wire[at..], usize::MAX, u64::MAX),
        wire.len() - at
    );
}
