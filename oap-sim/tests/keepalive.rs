//! A subscription that carries nothing for far longer than the request and
//! idle timeouts stays open while both peers are alive, and still delivers
//! the next event; a request that is not long-lived times out meanwhile.
//! Time is virtual and driven explicitly.

use std::time::{Duration, Instant};

use bytes::Bytes;
use oap_core::client::{ClientEvent, ClientSession};
use oap_core::connection::{
    ConnectionConfig, Event, OutgoingObject, RequestId, RequestOutcome, SendStream,
};
use oap_core::payload::ErrorCode;
use oap_core::server::{ServerEvent, ServerSession};
use oap_sim::wire::settle;

struct Pair {
    now: Instant,
    client: ClientSession,
    gateway: ServerSession,
    client_events: Vec<ClientEvent>,
    server_events: Vec<ServerEvent>,
}

impl Pair {
    fn new() -> Self {
        let now = Instant::now();
        let mut p = Self {
            now,
            client: ClientSession::hello(ConnectionConfig::default(), "watch/1", now),
            gateway: ServerSession::new(ConnectionConfig::default(), "gateway", now),
            client_events: Vec::new(),
            server_events: Vec::new(),
        };
        p.settle();
        p
    }

    /// Moves bytes both ways and takes every event, the server accepting
    /// subscriptions as long-lived, until nothing moves.
    fn settle(&mut self) {
        let now = self.now;
        let (server_events, client_events) = (&mut self.server_events, &mut self.client_events);
        settle(
            now,
            &mut self.client,
            &mut self.gateway,
            None,
            |gw, ev| {
                if let ServerEvent::RequestAccepted { id, start, .. } = &ev {
                    if start.op.as_deref() == Some("subscribe") {
                        gw.connection().keep_alive(*id, now).expect("open");
                    }
                }
                server_events.push(ev);
            },
            |ev| client_events.push(ev),
        );
    }

    /// Lets `total` pass in steps no longer than the keepalive interval,
    /// firing both sides' timers at each step.
    fn wait(&mut self, total: Duration) {
        let step = Duration::from_secs(5);
        let end = self.now + total;
        while self.now < end {
            self.now += step;
            self.client.connection().handle_timeout(self.now);
            self.gateway.connection().handle_timeout(self.now);
            self.settle();
        }
    }

    fn ended(&self, id: RequestId) -> Option<&RequestOutcome> {
        self.client_events.iter().find_map(|e| match e {
            ClientEvent::Connection(Event::RequestEnded { id: i, outcome }) if *i == id => {
                Some(outcome)
            }
            _ => None,
        })
    }
}

#[test]
fn an_idle_subscription_outlives_both_timeouts_and_gets_the_next_event() {
    let mut p = Pair::new();
    let config = ConnectionConfig::default();
    let (request, idle) = (
        config.request_timeout.expect("default"),
        config.idle_timeout.expect("default"),
    );
    let sub = p.client.subscribe(p.now, "health").expect("subscribe");
    // A plain request, opened and left waiting: its timeout still applies.
    let plain = p.client.start(p.now, 99, "put").expect("start");
    p.settle();

    p.wait(4 * (request + idle));
    assert!(!p.client.connection().is_closed(), "the connection died");
    assert_eq!(p.ended(sub), None, "the subscription ended");
    assert!(
        matches!(p.ended(plain), Some(RequestOutcome::Failed { error, .. }) if error.code == ErrorCode::Timeout),
        "the plain request should have timed out: {:?}",
        p.ended(plain)
    );

    // The next event arrives as one verified object.
    let event = Bytes::from_static(br#"{"Health":{"service":"late","ok":true}}"#);
    let conn = p.gateway.connection();
    let mut send = SendStream::open(conn, sub, OutgoingObject::of(&event), event.clone())
        .expect("subscription open on the server");
    send.poll(conn).expect("send");
    p.settle();
    let verified = p.client_events.iter().any(|e| {
        matches!(e, ClientEvent::Connection(Event::ObjectVerified { id, len, .. })
            if *id == sub && *len == event.len() as u64)
    });
    assert!(
        verified,
        "no event after the long silence: {:?}",
        p.client_events
    );
}
