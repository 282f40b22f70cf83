//! The driver's rounds within one poll: it goes round again only while a
//! round left something to do, and a round that only has to find the
//! input gone stops there.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::BytesMut;
use futures_io::AsyncRead;
use futures_lite::AsyncWriteExt;
use oap_core::connection::{Connection, ConnectionConfig, Event, RequestId};
use oap_core::frame::{FrameDecoder, FrameEncoder, FrameType};
use oap_core::payload::{ControlPayload, ErrorCode, ErrorEnvelope, Hello, Start};
use oap_io::{BoxStream, ConnectionDriver, Endpoint, EndpointHandle};

mod common;
use common::{Inline, steady_duplex};

/// A server that counts the driver's calls to `handle_events` and rejects
/// each request one call after it heard of it: a reaction that queues
/// bytes after the round's write.
struct Late {
    conn: Connection,
    calls: Arc<AtomicUsize>,
    heard: Vec<RequestId>,
}

impl Endpoint for Late {
    fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn handle_events(&mut self, _now: Instant) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        for id in std::mem::take(&mut self.heard) {
            let error = ErrorEnvelope::new(ErrorCode::Internal, "later");
            self.conn.reject(id, error).expect("an open request");
        }
        while let Some(event) = self.conn.poll_event() {
            if let Event::RequestStarted { id, .. } = event {
                self.heard.push(id);
            }
        }
    }
}

fn frame(payload: &impl ControlPayload) -> Vec<u8> {
    let mut out = BytesMut::new();
    FrameEncoder::default()
        .encode_frame(&payload.to_frame(), &mut out)
        .expect("a small control frame");
    out.to_vec()
}

/// The types of the frames `peer` can read now, without waiting.
fn frames_ready(peer: &mut BoxStream) -> Vec<FrameType> {
    let mut bytes = BytesMut::new();
    let mut buf = [0u8; 4096];
    let mut cx = Context::from_waker(Waker::noop());
    while let Poll::Ready(Ok(n @ 1..)) = Pin::new(&mut *peer).poll_read(&mut cx, &mut buf) {
        bytes.extend_from_slice(&buf[..n]);
    }
    let mut decoder = FrameDecoder::default();
    let mut types = Vec::new();
    while let Some(frame) = decoder.decode(&mut bytes).expect("the driver's frames") {
        types.push(frame.typ);
    }
    assert!(bytes.is_empty(), "whole frames only");
    types
}

struct Setup {
    calls: Arc<AtomicUsize>,
    handle: EndpointHandle<Late>,
    driver: ConnectionDriver<Late, BoxStream>,
    peer: BoxStream,
}

fn setup(conn: Connection) -> Setup {
    let runtime = Arc::new(Inline::stopped_at(Instant::now()));
    let (ours, peer) = steady_duplex();
    let calls = Arc::new(AtomicUsize::new(0));
    let handle = EndpointHandle::new(Late {
        conn,
        calls: calls.clone(),
        heard: Vec::new(),
    });
    let driver = ConnectionDriver::new(runtime, ours, handle.clone());
    Setup {
        calls,
        handle,
        driver,
        peer,
    }
}

fn send(peer: &mut BoxStream, bytes: &[u8]) {
    futures_lite::future::block_on(peer.write_all(bytes)).expect("the pipe takes it");
}

/// Input answered and written in one round: the next round's read finds
/// nothing, and the poll ends there without reacting or writing again.
#[test]
fn input_answered_in_one_round_ends_the_poll_at_the_next_empty_read() {
    let Setup {
        calls,
        driver,
        mut peer,
        ..
    } = setup(Connection::server(
        ConnectionConfig::default(),
        Instant::now(),
    ));
    let mut driver = pin!(driver);
    send(&mut peer, &frame(&Hello::legacy()));

    let poll = driver
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(poll.is_pending());
    assert_eq!(frames_ready(&mut peer), [FrameType::Hello]);
    // Once to react to the HELLO, once after writing the answer; no
    // round after the read that found nothing.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// A command from another task, written in one round: no second round
/// just because bytes went out.
#[test]
fn a_write_that_leaves_nothing_queued_ends_the_poll() {
    let Setup {
        calls,
        handle,
        driver,
        mut peer,
    } = setup(Connection::client(
        ConnectionConfig::default(),
        Instant::now(),
    ));
    let mut driver = pin!(driver);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(driver.as_mut().poll(&mut cx).is_pending());
    assert_eq!(frames_ready(&mut peer), [FrameType::Hello]);
    send(&mut peer, &frame(&Hello::legacy()));
    assert!(driver.as_mut().poll(&mut cx).is_pending());
    calls.store(0, Ordering::SeqCst);

    let start = Start {
        corr_id: Some(1),
        op: Some("get".into()),
        ..Start::default()
    };
    handle
        .peek(|ep| ep.conn.start(Instant::now(), start))
        .expect("an established connection takes a request");
    assert!(driver.as_mut().poll(&mut cx).is_pending());
    assert_eq!(frames_ready(&mut peer), [FrameType::Start]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Bytes the endpoint queues after the round's write (here, a reject one
/// call after the request came) go out in the same poll, with no wake-up
/// from anyone.
#[test]
fn bytes_queued_after_the_write_go_out_in_the_same_poll() {
    let Setup {
        driver, mut peer, ..
    } = setup(Connection::server(
        ConnectionConfig::default(),
        Instant::now(),
    ));
    let mut driver = pin!(driver);
    let mut input = frame(&Hello::legacy());
    input.extend(frame(&Start {
        corr_id: Some(1),
        op: Some("put".into()),
        ..Start::default()
    }));
    send(&mut peer, &input);

    let poll = driver
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(poll.is_pending());
    assert_eq!(
        frames_ready(&mut peer),
        [FrameType::Hello, FrameType::Error]
    );
}
