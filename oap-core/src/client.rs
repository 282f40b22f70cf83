//! The client role: HELLO, requests, `put_doc` with credit-paced DATA,
//! `get` that returns bytes only once their digest matches, and
//! `subscribe`. Sans-IO like the [`Connection`] it wraps.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::connection::{
    CommandError, Connection, ConnectionConfig, Event, Negotiated, OutgoingObject, RequestId,
    RequestOutcome,
};
use crate::object_id::ObjectId;
use crate::payload::{ErrorEnvelope, Start};

/// How a put or get ended badly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The server (or this side) ended the request with an ERROR.
    #[error("request failed: {} ({})", .0.code, .0.msg)]
    Failed(ErrorEnvelope),
    /// The connection closed first.
    #[error("the connection closed before the request ended")]
    Aborted,
    /// The request completed but the server's END did not name the object
    /// that was sent.
    #[error("the server did not confirm the object (answered {0:?})")]
    Unconfirmed(Option<ObjectId>),
    /// A get completed without a verified object.
    #[error("no verified object arrived")]
    NoObject,
}

/// What the client session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// HELLO completed with these limits.
    Connected(Negotiated),
    /// A [`ClientSession::put_doc`] ended.
    PutDone {
        /// The request.
        id: RequestId,
        /// The stored object's id, confirmed by the server.
        result: Result<ObjectId, RequestError>,
    },
    /// A [`ClientSession::get`] ended.
    GetDone {
        /// The request.
        id: RequestId,
        /// The object's bytes, verified against the requested id.
        result: Result<Bytes, RequestError>,
    },
    /// Any other connection event, unchanged (subscriptions' data, ...).
    Connection(Event),
}

#[derive(Debug)]
struct Put {
    data: Bytes,
    pos: usize,
    obj: ObjectId,
    finished: bool,
    answer: Option<ObjectId>,
}

#[derive(Debug)]
struct Get {
    want: ObjectId,
    buf: BytesMut,
    verified: bool,
}

/// A client connection with request helpers.
///
/// Drive IO through [`ClientSession::connection`] and take events from
/// [`ClientSession::poll_event`], which also paces pending puts as credit
/// arrives: call it until `None` after every input.
#[derive(Debug)]
pub struct ClientSession {
    conn: Connection,
    puts: BTreeMap<RequestId, Put>,
    gets: BTreeMap<RequestId, Get>,
}

impl ClientSession {
    /// Opens a session announcing `app_proto_id`; the HELLO is queued.
    pub fn hello(
        mut config: ConnectionConfig,
        app_proto_id: impl Into<String>,
        now: Instant,
    ) -> Self {
        config.app_proto_id = Some(app_proto_id.into());
        Self {
            conn: Connection::client(config, now),
            puts: BTreeMap::new(),
            gets: BTreeMap::new(),
        }
    }

    /// The underlying connection, for input, transmit, timers and commands.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Opens request `req_id` with operation `method` (START only).
    pub fn start(
        &mut self,
        now: Instant,
        req_id: u64,
        method: &str,
    ) -> Result<RequestId, CommandError> {
        self.conn.start(
            now,
            Start {
                corr_id: Some(req_id),
                op: Some(method.to_owned()),
                ..Start::default()
            },
        )
    }

    /// Puts a document: START `{op:"put", collection, id}`, then DATA of at
    /// most 64 KiB each and never beyond credit (the rest follows as credit
    /// arrives), then END naming the object. Ends with
    /// [`ClientEvent::PutDone`].
    pub fn put_doc(
        &mut self,
        now: Instant,
        collection: &str,
        id: &str,
        bytes: Bytes,
    ) -> Result<(RequestId, ObjectId), CommandError> {
        let obj = ObjectId::of(&bytes);
        self.put_object(now, collection, id, obj, bytes)
    }

    /// [`ClientSession::put_doc`] with the object's id already computed
    /// (hashing a large object may belong on another thread; see
    /// `oap-node`'s client). An `obj` that is not the BLAKE3 of `bytes`
    /// makes the server refuse the put with `bad_digest`.
    pub fn put_object(
        &mut self,
        now: Instant,
        collection: &str,
        id: &str,
        obj: ObjectId,
        bytes: Bytes,
    ) -> Result<(RequestId, ObjectId), CommandError> {
        let start = Start {
            op: Some("put".into()),
            collection: Some(collection.to_owned()),
            id: Some(id.to_owned()),
            ..Start::default()
        };
        let rid = self.conn.start(now, start)?;
        let object = OutgoingObject {
            obj,
            total_len: bytes.len() as u64,
            content_type: None,
            e2e: false,
        };
        self.conn.begin_object(rid, object)?;
        self.puts.insert(
            rid,
            Put {
                data: bytes,
                pos: 0,
                obj,
                finished: false,
                answer: None,
            },
        );
        self.pump(rid);
        Ok((rid, obj))
    }

    /// Gets object `obj`: START `{op:"get", addr}` and END at once. Ends
    /// with [`ClientEvent::GetDone`], whose bytes are only ever the verified
    /// object.
    pub fn get(&mut self, now: Instant, obj: ObjectId) -> Result<RequestId, CommandError> {
        let start = Start {
            op: Some("get".into()),
            addr: Some(obj.to_string()),
            ..Start::default()
        };
        let rid = self.conn.start(now, start)?;
        self.conn.finish(rid, None)?;
        self.gets.insert(
            rid,
            Get {
                want: obj,
                buf: BytesMut::new(),
                verified: false,
            },
        );
        Ok(rid)
    }

    /// Subscribes to `topic` (START only); the server streams matching
    /// events as DATA until this side ENDs the request.
    pub fn subscribe(&mut self, now: Instant, topic: &str) -> Result<RequestId, CommandError> {
        self.conn.start(
            now,
            Start {
                op: Some("subscribe".into()),
                topic: Some(topic.to_owned()),
                ..Start::default()
            },
        )
    }

    fn pump(&mut self, id: RequestId) {
        let Some(p) = self.puts.get_mut(&id) else {
            return;
        };
        if p.pos < p.data.len() {
            match self.conn.send_data(id, p.data.slice(p.pos..)) {
                Ok(n) => p.pos += n,
                Err(_) => return,
            }
        }
        if p.pos == p.data.len() && !p.finished && self.conn.finish(id, Some(p.obj)).is_ok() {
            p.finished = true;
        }
    }

    fn drain_get(&mut self, id: RequestId) {
        let Some(g) = self.gets.get_mut(&id) else {
            return;
        };
        while let Some(chunk) = self.conn.read(id, usize::MAX) {
            g.buf.extend_from_slice(&chunk.bytes);
        }
    }

    /// Takes the next event. Call until `None` after every input.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        loop {
            let ev = self.conn.poll_event()?;
            if let Some(out) = self.handle(ev) {
                return Some(out);
            }
        }
    }

    /// Consumes the events of puts and gets; passes everything else on.
    fn handle(&mut self, ev: Event) -> Option<ClientEvent> {
        match ev {
            Event::Connected(n) => Some(ClientEvent::Connected(n)),
            Event::CreditGranted { id, .. } if self.puts.contains_key(&id) => {
                self.pump(id);
                None
            }
            Event::Finished { id, obj } if self.puts.contains_key(&id) => {
                if let Some(p) = self.puts.get_mut(&id) {
                    p.answer = obj;
                }
                None
            }
            Event::Readable { id } if self.gets.contains_key(&id) => {
                self.drain_get(id);
                None
            }
            Event::ObjectVerified { id, obj, len, .. } if self.gets.contains_key(&id) => {
                self.drain_get(id);
                if let Some(g) = self.gets.get_mut(&id) {
                    g.verified |= g.want == obj && g.buf.len() as u64 == len;
                }
                None
            }
            Event::Accepted { id } | Event::Finished { id, .. }
                if self.puts.contains_key(&id) || self.gets.contains_key(&id) =>
            {
                None
            }
            Event::RequestEnded { id, outcome } if self.puts.contains_key(&id) => {
                let p = self.puts.remove(&id)?;
                let result = match outcome {
                    RequestOutcome::Completed if p.answer == Some(p.obj) => Ok(p.obj),
                    RequestOutcome::Completed => Err(RequestError::Unconfirmed(p.answer)),
                    other => Err(failure(other)),
                };
                Some(ClientEvent::PutDone { id, result })
            }
            Event::RequestEnded { id, outcome } if self.gets.contains_key(&id) => {
                let g = self.gets.remove(&id)?;
                let result = match outcome {
                    RequestOutcome::Completed if g.verified => Ok(g.buf.freeze()),
                    RequestOutcome::Completed => Err(RequestError::NoObject),
                    other => Err(failure(other)),
                };
                Some(ClientEvent::GetDone { id, result })
            }
            other => Some(ClientEvent::Connection(other)),
        }
    }
}

fn failure(outcome: RequestOutcome) -> RequestError {
    match outcome {
        RequestOutcome::Failed { error, .. } => RequestError::Failed(error),
        _ => RequestError::Aborted,
    }
}
