//! The gateway and client roles talking to each other over a perfect wire.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::client::{ClientEvent, ClientSession, RequestError};
use oap_core::connection::{
    ConnectionConfig, Event, OutgoingObject, RequestId, RequestOutcome, SendState, SendStream,
    Violation,
};
use oap_core::payload::ErrorCode;
use oap_core::server::{
    Permissions, QuotaConfig, ServerEvent, ServerSession, Tenant, TenantQuotas, Tenants, token_hash,
};
use oap_sim::wire::settle;

/// A tiny object store behind the gateway: serves puts and gets.
#[derive(Default)]
struct Store {
    objects: std::collections::BTreeMap<ObjectId, Vec<u8>>,
    staging: std::collections::BTreeMap<RequestId, Vec<u8>>,
    gateway_events: Vec<ServerEvent>,
    serve_corrupt: bool,
    /// A get answers with the object and then this one too (both small).
    append: Option<Bytes>,
    /// Get responses still being sent.
    sending: std::collections::BTreeMap<RequestId, SendStream<Bytes>>,
}

impl Store {
    fn on_event(&mut self, gw: &mut ServerSession, ev: ServerEvent) {
        let conn = gw.connection();
        match &ev {
            ServerEvent::RequestAccepted { id, start, .. }
                if start.op.as_deref() == Some("get") =>
            {
                let want: ObjectId = start.addr.as_deref().expect("addr").parse().expect("id");
                let mut bytes = self.objects.get(&want).cloned().unwrap_or_default();
                let object = OutgoingObject {
                    obj: want,
                    ..OutgoingObject::of(&bytes)
                };
                if self.serve_corrupt {
                    bytes[0] ^= 1;
                }
                let mut stream =
                    SendStream::open(conn, *id, object, Bytes::from(bytes)).expect("begin");
                if let Some(extra) = self.append.clone() {
                    assert_eq!(stream.poll(conn), Ok(SendState::Done), "small objects");
                    stream = SendStream::open(conn, *id, OutgoingObject::of(&extra), extra)
                        .expect("second object");
                }
                self.sending.insert(*id, stream.end_with(Some(want)));
                self.pump(conn, *id);
            }
            ServerEvent::Connection(Event::CreditGranted { id, .. }) => self.pump(conn, *id),
            ServerEvent::Connection(Event::Readable { id }) => {
                while let Some(c) = conn.read(*id, usize::MAX) {
                    self.staging
                        .entry(*id)
                        .or_default()
                        .extend_from_slice(&c.bytes);
                }
            }
            ServerEvent::Connection(Event::ObjectVerified { id, obj, .. }) => {
                let bytes = self.staging.remove(id).unwrap_or_default();
                self.objects.insert(*obj, bytes);
            }
            ServerEvent::Connection(Event::Finished { id, obj }) if obj.is_some() => {
                let stored = obj.filter(|o| self.objects.contains_key(o));
                let _ = conn.finish(*id, stored);
            }
            _ => {}
        }
        self.gateway_events.push(ev);
    }
}

impl Store {
    /// Sends what credit allows of a get response; END once all is out.
    fn pump(&mut self, conn: &mut oap_core::connection::Connection, id: RequestId) {
        let Some(stream) = self.sending.get_mut(&id) else {
            return;
        };
        if stream.poll(conn).expect("send") == SendState::Done {
            self.sending.remove(&id);
        }
    }
}

struct Pair {
    now: Instant,
    client: ClientSession,
    gateway: ServerSession,
    quotas: Option<TenantQuotas>,
    store: Store,
    events: Vec<ClientEvent>,
}

impl Pair {
    fn new(quotas: Option<QuotaConfig>) -> Self {
        let now = Instant::now();
        let config = ConnectionConfig {
            tenant: Some("t1".into()),
            token: Some("t1-token".into()),
            ..ConnectionConfig::default()
        };
        let tenants = Tenants::new(Permissions::NONE)
            .with(Tenant::with_token(
                "t1",
                token_hash("t1-token"),
                Permissions::ALL,
            ))
            .expect("one tenant");
        let mut p = Self {
            now,
            client: ClientSession::hello(config, "storage/1", now),
            quotas: quotas.map(|q| tenants.quotas(q)),
            gateway: ServerSession::with_tenants(
                ConnectionConfig::default(),
                "gateway",
                Arc::new(tenants),
                now,
            ),
            store: Store::default(),
            events: Vec::new(),
        };
        p.settle();
        p
    }

    /// Runs both sides until neither has anything to say.
    fn settle(&mut self) {
        let (store, events) = (&mut self.store, &mut self.events);
        settle(
            self.now,
            &mut self.client,
            &mut self.gateway,
            self.quotas.as_mut(),
            |gw, ev| store.on_event(gw, ev),
            |ev| events.push(ev),
        );
    }

    fn take(&mut self) -> Vec<ClientEvent> {
        std::mem::take(&mut self.events)
    }
}

#[test]
fn hello_emits_health_and_put_doc_is_confirmed() {
    let mut p = Pair::new(None);
    assert!(matches!(p.take()[..], [ClientEvent::Connected(_)]));
    assert_eq!(
        p.store.gateway_events[0],
        ServerEvent::Health {
            service: "storage/1".into(),
        }
    );
    assert_eq!(p.gateway.tenant(), "t1");
    let doc = Bytes::from(vec![42u8; 300_000]);
    let (rid, obj) = p
        .client
        .put_doc(p.now, "docs", "a", doc.clone())
        .expect("put");
    p.settle();
    assert_eq!(
        p.take(),
        [ClientEvent::PutDone {
            id: rid,
            result: Ok(obj)
        }]
    );
    assert_eq!(p.store.objects.get(&obj).map(Vec::len), Some(300_000));
    assert!(p.store.gateway_events.iter().any(|e| matches!(e,
        ServerEvent::RequestAccepted { start, tenant, .. }
            if start.collection.as_deref() == Some("docs") && start.doc_id.as_deref() == Some("a") && &**tenant == "t1")));
}

#[test]
fn quota_exhaustion_refuses_with_a_retryable_error_and_refills_with_time() {
    let mut p = Pair::new(Some(QuotaConfig {
        requests_per_sec: 1,
        burst: 2,
    }));
    p.take();
    let ids: Vec<RequestId> = (0..3)
        .map(|i| {
            p.client
                .put_doc(
                    p.now,
                    "docs",
                    &i.to_string(),
                    Bytes::from(vec![i as u8; 10]),
                )
                .expect("put")
                .0
        })
        .collect();
    p.settle();
    let events = p.take();
    let refused: Vec<&ClientEvent> = events
        .iter()
        .filter(|e| {
            matches!(e, ClientEvent::PutDone { result: Err(RequestError::Failed(env)), .. }
            if env.code == ErrorCode::QuotaExhausted && env.retryable)
        })
        .collect();
    assert_eq!(refused.len(), 1, "{events:?}");
    assert!(matches!(refused[0], ClientEvent::PutDone { id, .. } if *id == ids[2]));
    assert!(p.store.gateway_events.iter().any(|e| *e
        == ServerEvent::RequestRefused {
            id: ids[2],
            code: ErrorCode::QuotaExhausted
        }));

    p.now += Duration::from_secs(1);
    p.client
        .put_doc(p.now, "docs", "again", Bytes::from_static(b"later"))
        .expect("put");
    p.settle();
    assert!(matches!(
        p.take()[..],
        [ClientEvent::PutDone { result: Ok(_), .. }]
    ));
}

#[test]
fn get_returns_only_verified_bytes() {
    let mut p = Pair::new(None);
    p.take();
    let doc = Bytes::from((0..200_000u32).map(|i| i as u8).collect::<Vec<u8>>());
    let (_, obj) = p
        .client
        .put_doc(p.now, "docs", "x", doc.clone())
        .expect("put");
    p.settle();
    p.take();
    let rid = p.client.get(p.now, obj).expect("get");
    p.settle();
    assert_eq!(
        p.take(),
        [ClientEvent::GetDone {
            id: rid,
            result: Ok(doc)
        }]
    );

    p.store.serve_corrupt = true;
    let rid = p.client.get(p.now, obj).expect("get");
    p.settle();
    let events = p.take();
    assert!(
        matches!(&events[..], [ClientEvent::GetDone { id, result: Err(RequestError::Violated(v @ Violation::DigestMismatch { obj: bad })) }]
        if *id == rid && *bad == obj && v.code() == ErrorCode::BadDigest),
        "{events:?}"
    );
}

#[test]
fn subscribe_sends_start_with_the_topic() {
    let mut p = Pair::new(None);
    p.take();
    let rid = p.client.subscribe(p.now, "health").expect("subscribe");
    p.settle();
    assert!(p.store.gateway_events.iter().any(|e| matches!(e,
        ServerEvent::RequestAccepted { id, start, .. }
            if *id == rid && start.op.as_deref() == Some("subscribe") && start.topic.as_deref() == Some("health"))));
    assert!(
        p.take()
            .contains(&ClientEvent::Connection(Event::Accepted { id: rid }))
    );
}

#[test]
fn a_get_answered_with_a_second_valid_object_is_refused_not_appended() {
    let mut p = Pair::new(None);
    p.take();
    let doc = Bytes::from_static(b"the object asked for");
    let (_, obj) = p.client.put_doc(p.now, "docs", "a", doc).expect("put");
    p.settle();
    p.take();
    p.store.append = Some(Bytes::from_static(b"another object, valid on its own"));
    let rid = p.client.get(p.now, obj).expect("get");
    p.settle();
    assert_eq!(
        p.take(),
        [ClientEvent::GetDone {
            id: rid,
            result: Err(RequestError::WrongObject)
        }]
    );
    let sid = p.client.get_stream(p.now, obj).expect("get_stream");
    p.settle();
    while p.client.read(sid, usize::MAX).is_some() {}
    p.settle();
    let events = p.take();
    assert!(
        events.contains(&ClientEvent::StreamDone {
            id: sid,
            result: Err(RequestError::WrongObject)
        }),
        "{events:?}"
    );
}

#[test]
fn a_streamed_put_is_asked_for_no_more_than_the_credit_takes() {
    let mut p = Pair::new(None);
    p.take();
    let doc: Bytes = (0..1_500_000u32).map(|i| (i % 253) as u8).collect();
    let obj = ObjectId::of(&doc);
    let rid = p
        .client
        .put_stream(p.now, "docs", "s", obj, doc.len() as u64)
        .expect("put");
    let mut sent = 0;
    let mut asks = 0;
    loop {
        // The session asks right away (initial credit), then per ACK.
        let want = p.client.put_want(rid).unwrap_or(0);
        if want > 0 {
            asks += 1;
            let credit = p.client.connection().send_credit(rid).expect("open");
            assert!(want <= credit, "asked for {want} with {credit} credit");
            let n = (want as usize).min(doc.len() - sent);
            p.client.push(rid, doc.slice(sent..sent + n)).expect("push");
            sent += n;
        }
        p.settle();
        let events = p.take();
        if let Some(ClientEvent::PutDone { result, .. }) = events.last() {
            assert_eq!(result, &Ok(obj));
            break;
        }
    }
    assert_eq!(sent, doc.len());
    assert!(
        asks > 3,
        "one window at a time, not all at once ({asks} asks)"
    );
    assert_eq!(p.store.objects.get(&obj).map(Vec::len), Some(doc.len()));
}

#[test]
fn a_streamed_get_hands_out_chunks_as_read_and_verifies_at_the_end() {
    let mut p = Pair::new(None);
    p.take();
    let doc: Bytes = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    let (_, obj) = p
        .client
        .put_doc(p.now, "docs", "g", doc.clone())
        .expect("put");
    p.settle();
    p.take();
    let rid = p.client.get_stream(p.now, obj).expect("get");
    let mut got = Vec::new();
    let result = loop {
        p.settle();
        // Unread bytes are never more than the window the client granted.
        let held = p.client.connection().buffered_input();
        assert!(held <= p.client.connection().buffered_input_bound());
        while let Some(b) = p.client.read(rid, 10_000) {
            got.extend_from_slice(&b);
        }
        p.settle();
        if let Some(ClientEvent::StreamDone { result, .. }) = p
            .take()
            .into_iter()
            .find(|e| matches!(e, ClientEvent::StreamDone { .. }))
        {
            break result;
        }
    };
    assert_eq!(result, Ok(doc.len() as u64));
    assert!(got == doc);
}

#[test]
fn cancel_ends_the_request_on_both_sides_with_cancelled() {
    let mut p = Pair::new(None);
    p.take();
    let doc = Bytes::from(vec![5u8; 400_000]);
    let (_, obj) = p.client.put_doc(p.now, "docs", "c", doc).expect("put");
    p.settle();
    p.take();
    let rid = p.client.get_stream(p.now, obj).expect("get");
    p.settle();
    p.take();
    p.client.cancel(rid);
    assert_eq!(p.client.connection().open_requests(), 0);
    p.settle();
    let events = p.take();
    assert!(
        matches!(&events[..], [ClientEvent::Connection(Event::RequestEnded { id, outcome: RequestOutcome::Failed { error, by_peer: false, violation: None } })]
            if *id == rid && error.code == ErrorCode::Cancelled),
        "a cancelled request reports only its end: {events:?}"
    );
    assert_eq!(p.gateway.connection().open_requests(), 0);
    assert!(p.store.gateway_events.iter().any(|e| matches!(e,
        ServerEvent::Connection(Event::RequestEnded { id, outcome: RequestOutcome::Failed { error, by_peer: true, violation: None } })
            if *id == rid && error.code == ErrorCode::Cancelled)));
}
