//! The driver's timer: which deadlines it asks the runtime to sleep until.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::AsyncWriteExt;
use oap_core::connection::{Connection, ConnectionConfig};
use oap_core::frame::FrameEncoder;
use oap_core::payload::{ControlPayload, Hello, Start};
use oap_io::{ConnectionDriver, Endpoint, EndpointHandle, duplex};

mod common;
use common::Inline;

/// A server that takes every event and does nothing with it.
struct Quiet(Connection);

impl Endpoint for Quiet {
    fn connection(&mut self) -> &mut Connection {
        &mut self.0
    }

    fn handle_events(&mut self, _now: Instant) {
        while self.0.poll_event().is_some() {}
    }
}

fn frame(payload: &impl ControlPayload) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    FrameEncoder::default()
        .encode_frame(&payload.to_frame(), &mut out)
        .expect("a small control frame");
    out.to_vec()
}

/// A connection's first request sets a deadline (the request timeout)
/// earlier than the idle one the HELLO left. The timer, armed after the
/// HELLO no later than the soonest deadline any later input can set, is
/// not armed again for it.
#[test]
fn the_first_request_does_not_arm_a_second_timer() {
    let config = ConnectionConfig {
        idle_timeout: Some(Duration::from_secs(60)),
        request_timeout: Some(Duration::from_secs(30)),
        frame_timeout: Some(Duration::from_secs(40)),
        write_timeout: Some(Duration::from_secs(50)),
        ..ConnectionConfig::default()
    };
    let now = Instant::now();
    let runtime = Arc::new(Inline::stopped_at(now));
    let (ours, mut peer) = duplex(64 * 1024);
    let handle = EndpointHandle::new(Quiet(Connection::server(config, now)));
    let mut driver = pin!(ConnectionDriver::new(runtime.clone(), ours, handle));
    let mut cx = Context::from_waker(Waker::noop());
    let mut send = |bytes: Vec<u8>| {
        futures_lite::future::block_on(peer.write_all(&bytes)).expect("the pipe takes it");
    };

    send(frame(&Hello::legacy()));
    assert!(driver.as_mut().poll(&mut cx).is_pending());
    let after_hello = runtime.armed();
    // The idle deadline is 60 s away, but a request may set one in 30.
    assert_eq!(after_hello, [now + Duration::from_secs(30)]);

    send(frame(&Start {
        corr_id: Some(1),
        op: Some("put".into()),
        ..Start::default()
    }));
    assert!(driver.as_mut().poll(&mut cx).is_pending());
    assert_eq!(
        runtime.armed(),
        after_hello,
        "the request's deadline is not before the armed timer"
    );
}

/// With every timeout but the handshake's off, nothing later can come
/// sooner than the deadline itself: the timer is armed for it exactly.
#[test]
fn without_later_timeouts_the_timer_is_armed_for_the_deadline() {
    let config = ConnectionConfig {
        handshake_timeout: Some(Duration::from_secs(10)),
        idle_timeout: None,
        request_timeout: None,
        frame_timeout: None,
        write_timeout: None,
        ..ConnectionConfig::default()
    };
    let now = Instant::now();
    let runtime = Arc::new(Inline::stopped_at(now));
    let (ours, _peer) = duplex(1024);
    let handle = EndpointHandle::new(Quiet(Connection::server(config, now)));
    let mut driver = pin!(ConnectionDriver::new(runtime.clone(), ours, handle));
    let poll = driver
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(matches!(poll, Poll::Pending));
    assert_eq!(runtime.armed(), [now + Duration::from_secs(10)]);
}
