//! The client role: HELLO, requests, puts paced by credit (a whole
//! object in memory, or one streamed in as the caller reads it), gets
//! that deliver exactly one verified object (collected, or streamed out
//! as provisional chunks with a verdict at the end), subscriptions and
//! cancellation. Sans-IO like the [`Connection`] it wraps.

use std::time::Instant;

use bytes::Bytes;

use crate::connection::{
    Chunk, ChunkSource, CommandError, Connection, ConnectionConfig, Event, Negotiated,
    OutgoingObject, RequestId, RequestMap, RequestOutcome, SendState, SendStream, Violation,
};
use crate::object_id::ObjectId;
use crate::payload::{ErrorCode, ErrorEnvelope, StartRef};
use crate::pieces::Pieces;

/// How a put or get ended badly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The server (or this side, cancelling) ended the request with an
    /// ERROR.
    #[error("request failed: {} ({})", .0.code, .0.msg)]
    Failed(ErrorEnvelope),
    /// The server broke a rule of the protocol within the request, so this
    /// side ended it with an ERROR of [`Violation::code`] (the connection
    /// goes on).
    #[error("the server broke the protocol: {0}")]
    Violated(Violation),
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
    /// A get's answer carried bytes of an object other than the one
    /// requested, or more than one object; the request was refused.
    #[error("the server answered with something other than the requested object")]
    WrongObject,
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
    /// A streamed put ([`ClientSession::put_stream`]) can take up to
    /// `want` more bytes: hand them over with [`ClientSession::push`].
    PutWants {
        /// The request.
        id: RequestId,
        /// Bytes the server's credit would take now.
        want: u64,
    },
    /// A streamed get ([`ClientSession::get_stream`]) has bytes to take
    /// with [`ClientSession::read`].
    GetReadable {
        /// The request.
        id: RequestId,
    },
    /// A streamed get ended: `Ok(len)` only if exactly the requested
    /// object arrived, every byte was read and its digest matched.
    StreamDone {
        /// The request.
        id: RequestId,
        /// The verified length, or why there is no verified object.
        result: Result<u64, RequestError>,
    },
    /// Any other connection event, unchanged (subscriptions' data, ...).
    Connection(Event),
}

#[derive(Debug)]
struct Put {
    stream: SendStream<ChunkSource>,
    obj: ObjectId,
    answer: Option<ObjectId>,
    /// Bytes the credit would take now (a streamed put's caller asks).
    want: u64,
}

#[derive(Debug)]
struct Get {
    want: ObjectId,
    /// `Some`: collect the object here; `None`: the caller reads it.
    collect: Option<Pieces>,
    /// Bytes of the object read so far.
    read: u64,
    /// The length the first DATA frame announced (unverified).
    announced: Option<u64>,
    /// The length of the object the connection verified.
    verified: Option<u64>,
    /// The answer was not exactly the requested object.
    wrong: bool,
}

impl Get {
    /// Checks a chunk against what a get may receive: bytes of the
    /// requested object, in order, and nothing past its verified length.
    fn admit(&mut self, chunk: &Chunk) -> bool {
        self.announced.get_or_insert(chunk.total_len);
        let end = self.read + chunk.bytes.len() as u64;
        let fits = chunk.obj == self.want
            && chunk.offset == self.read
            && self.verified.is_none_or(|len| end <= len);
        self.read = end;
        self.wrong |= !fits;
        fits
    }
}

/// A client connection with request helpers.
///
/// Drive IO through [`ClientSession::connection`] and take events from
/// [`ClientSession::poll_event`], which also paces puts as credit arrives:
/// call it until `None` after every input.
#[derive(Debug)]
pub struct ClientSession {
    conn: Connection,
    puts: RequestMap<Put>,
    gets: RequestMap<Get>,
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
            puts: RequestMap::new(),
            gets: RequestMap::new(),
        }
    }

    /// The underlying connection, for input, transmit, timers and commands.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Opens request `req_id` with operation `op` (START only).
    pub fn start(
        &mut self,
        now: Instant,
        req_id: u64,
        op: &str,
    ) -> Result<RequestId, CommandError> {
        self.conn.start_ref(
            now,
            StartRef {
                corr_id: Some(req_id),
                op: Some(op),
                ..StartRef::default()
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
        doc_id: &str,
        bytes: Bytes,
    ) -> Result<(RequestId, ObjectId), CommandError> {
        let obj = ObjectId::of(&bytes);
        self.put_object(now, collection, doc_id, obj, bytes)
    }

    /// [`ClientSession::put_doc`] with the object's id already computed
    /// (hashing a large object may belong on another thread; see
    /// `oap-node`'s client). An `obj` that is not the BLAKE3 of `bytes`
    /// makes the server refuse the put with `bad_digest`.
    pub fn put_object(
        &mut self,
        now: Instant,
        collection: &str,
        doc_id: &str,
        obj: ObjectId,
        bytes: Bytes,
    ) -> Result<(RequestId, ObjectId), CommandError> {
        let rid = self.put_stream(now, collection, doc_id, obj, bytes.len() as u64)?;
        self.push(rid, bytes)?;
        Ok((rid, obj))
    }

    /// Opens a put of object `obj`, `total_len` bytes long, whose bytes the
    /// caller supplies as they become available: on
    /// [`ClientEvent::PutWants`] (or while [`ClientSession::put_want`] is
    /// above 0), [`ClientSession::push`] at most that many. The object's id
    /// must be known before the first byte is sent; an `obj` that is not
    /// the BLAKE3 of the bytes makes the server refuse the put with
    /// `bad_digest`. Ends with [`ClientEvent::PutDone`].
    pub fn put_stream(
        &mut self,
        now: Instant,
        collection: &str,
        doc_id: &str,
        obj: ObjectId,
        total_len: u64,
    ) -> Result<RequestId, CommandError> {
        let start = StartRef {
            op: Some("put"),
            collection: Some(collection),
            doc_id: Some(doc_id),
            ..StartRef::default()
        };
        let rid = self.conn.start_ref(now, start)?;
        let object = OutgoingObject {
            obj,
            total_len,
            content_type: None,
            e2e: false,
        };
        let opened = SendStream::open(&mut self.conn, rid, object, ChunkSource::new(total_len));
        let stream = match opened {
            Ok(s) => s.end_with(Some(obj)),
            Err(e) => {
                self.cancel(rid);
                return Err(e);
            }
        };
        self.puts.insert(
            rid,
            Put {
                stream,
                obj,
                answer: None,
                want: 0,
            },
        );
        self.pump(rid);
        Ok(rid)
    }

    /// Hands the next bytes of streamed put `id` over; they are sent as
    /// credit allows. Refused if they run past the object's length.
    pub fn push(&mut self, id: RequestId, bytes: Bytes) -> Result<(), CommandError> {
        let put = self
            .puts
            .get_mut(&id)
            .ok_or(CommandError::UnknownRequest(id))?;
        put.want = put.want.saturating_sub(bytes.len() as u64);
        put.stream.source_mut().push(bytes)?;
        self.pump(id);
        Ok(())
    }

    /// Bytes streamed put `id` would send now if pushed (`None`: no such
    /// put is open).
    pub fn put_want(&self, id: RequestId) -> Option<u64> {
        self.puts.get(&id).map(|p| p.want)
    }

    /// Gets object `obj`: START `{op:"get", addr}` and END at once. Ends
    /// with [`ClientEvent::GetDone`], whose bytes are only ever the verified
    /// object. The whole object is collected in memory: for objects of any
    /// size use [`ClientSession::get_stream`].
    pub fn get(&mut self, now: Instant, obj: ObjectId) -> Result<RequestId, CommandError> {
        self.open_get(now, obj, Some(Pieces::new()))
    }

    /// Gets object `obj` without collecting it: on
    /// [`ClientEvent::GetReadable`] take its bytes with
    /// [`ClientSession::read`]. They are provisional until
    /// [`ClientEvent::StreamDone`] reports `Ok`. Reading is what returns
    /// credit to the server, so what waits here is bounded by the window.
    pub fn get_stream(&mut self, now: Instant, obj: ObjectId) -> Result<RequestId, CommandError> {
        self.open_get(now, obj, None)
    }

    fn open_get(
        &mut self,
        now: Instant,
        obj: ObjectId,
        collect: Option<Pieces>,
    ) -> Result<RequestId, CommandError> {
        let addr = obj.text();
        let start = StartRef {
            op: Some("get"),
            addr: Some(addr.as_str()),
            ..StartRef::default()
        };
        let rid = self.conn.start_ref(now, start)?;
        self.conn.finish(rid, None)?;
        self.gets.insert(
            rid,
            Get {
                want: obj,
                collect,
                read: 0,
                announced: None,
                verified: None,
                wrong: false,
            },
        );
        Ok(rid)
    }

    /// Takes up to `max` bytes of streamed get `id` (provisional until its
    /// [`ClientEvent::StreamDone`]). A chunk that is not the next piece of
    /// the requested object ends the request instead (it then ends with
    /// [`RequestError::WrongObject`]).
    pub fn read(&mut self, id: RequestId, max: usize) -> Option<Bytes> {
        let get = self.gets.get_mut(&id)?;
        if get.collect.is_some() {
            return None;
        }
        let chunk = self.conn.read(id, max)?;
        self.admit(id, chunk)
    }

    /// The length the server announced for get `id`'s object, once its
    /// first bytes were read: for progress reports only, since it is the
    /// server's unverified claim.
    pub fn announced_len(&self, id: RequestId) -> Option<u64> {
        self.gets.get(&id)?.announced
    }

    /// Checks a chunk read for get `id`; refuses the request on a wrong one.
    fn admit(&mut self, id: RequestId, chunk: Chunk) -> Option<Bytes> {
        let get = self.gets.get_mut(&id)?;
        if get.admit(&chunk) {
            return Some(chunk.bytes);
        }
        let env = ErrorEnvelope::new(ErrorCode::Proto, "not the requested object");
        let _ = self.conn.reject(id, env);
        None
    }

    /// Subscribes to `topic` (START only); the server streams matching
    /// events as DATA until this side ENDs the request. The request is
    /// long-lived ([`Connection::keep_alive`]): it stays open however long
    /// no event comes, as long as both peers are alive.
    pub fn subscribe(&mut self, now: Instant, topic: &str) -> Result<RequestId, CommandError> {
        let id = self.conn.start_ref(
            now,
            StartRef {
                op: Some("subscribe"),
                topic: Some(topic),
                ..StartRef::default()
            },
        )?;
        self.conn.keep_alive(id, now)?;
        Ok(id)
    }

    /// Gives up on request `id`: ERROR `cancelled` with its `corr_id`, so
    /// the server stops and frees it too. Only its
    /// [`Event::RequestEnded`] follows, passed on as
    /// [`ClientEvent::Connection`]; no `PutDone`, `GetDone` or
    /// `StreamDone`. Does nothing if it already ended.
    pub fn cancel(&mut self, id: RequestId) {
        self.puts.remove(&id);
        self.gets.remove(&id);
        let env = ErrorEnvelope::new(ErrorCode::Cancelled, "cancelled by the client");
        let _ = self.conn.reject(id, env);
    }

    /// Sends what credit and the put's source allow; remembers what more
    /// the credit would take. Returns that amount when the put waits for
    /// its caller's bytes.
    fn pump(&mut self, id: RequestId) -> Option<u64> {
        let put = self.puts.get_mut(&id)?;
        match put.stream.poll(&mut self.conn) {
            Ok(SendState::NeedBytes { want }) => {
                put.want = want;
                Some(want)
            }
            Ok(SendState::Done | SendState::Blocked) | Err(_) => {
                put.want = 0;
                None
            }
        }
    }

    fn drain_get(&mut self, id: RequestId) {
        while self.gets.get(&id).is_some_and(|g| g.collect.is_some()) {
            let Some(chunk) = self.conn.read(id, usize::MAX) else {
                return;
            };
            let Some(bytes) = self.admit(id, chunk) else {
                return;
            };
            if let Some(pieces) = self.gets.get_mut(&id).and_then(|g| g.collect.as_mut()) {
                pieces.push(bytes);
            }
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
                self.pump(id).map(|want| ClientEvent::PutWants { id, want })
            }
            Event::Finished { id, obj } if self.puts.contains_key(&id) => {
                if let Some(p) = self.puts.get_mut(&id) {
                    p.answer = obj;
                }
                None
            }
            Event::Readable { id } if self.gets.contains_key(&id) => {
                self.drain_get(id);
                let streamed = self.gets.get(&id).is_some_and(|g| g.collect.is_none());
                streamed.then_some(ClientEvent::GetReadable { id })
            }
            Event::ObjectVerified { id, obj, len, .. } if self.gets.contains_key(&id) => {
                self.drain_get(id);
                if let Some(g) = self.gets.get_mut(&id) {
                    // Exactly one object, the one asked for: a second one,
                    // even a valid one, is refused with the first.
                    let first = g.want == obj && g.verified.is_none() && !g.wrong;
                    g.wrong |= !first;
                    g.verified = Some(len);
                }
                if self.gets.get(&id).is_some_and(|g| g.wrong) {
                    let env = ErrorEnvelope::new(ErrorCode::Proto, "not the requested object");
                    let _ = self.conn.reject(id, env);
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
                    _ if g.wrong => Err(RequestError::WrongObject),
                    RequestOutcome::Completed if g.verified == Some(g.read) => Ok(()),
                    RequestOutcome::Completed => Err(RequestError::NoObject),
                    other => Err(failure(other)),
                };
                Some(match g.collect {
                    Some(pieces) => ClientEvent::GetDone {
                        id,
                        result: result.map(|()| pieces.freeze()),
                    },
                    None => ClientEvent::StreamDone {
                        id,
                        result: result.map(|()| g.read),
                    },
                })
            }
            other => Some(ClientEvent::Connection(other)),
        }
    }
}

impl RequestError {
    /// Why a request that did not complete ended: the ERROR that ended it
    /// ([`RequestError::Failed`], or [`RequestError::Violated`] when this
    /// side ended it for something the server did), else
    /// [`RequestError::Aborted`]. For applications that take
    /// [`Event::RequestEnded`] themselves.
    pub fn from_outcome(outcome: RequestOutcome) -> Self {
        failure(outcome)
    }
}

fn failure(outcome: RequestOutcome) -> RequestError {
    match outcome {
        RequestOutcome::Failed {
            violation: Some(v), ..
        } => RequestError::Violated(v),
        RequestOutcome::Failed { error, .. } => RequestError::Failed(error),
        _ => RequestError::Aborted,
    }
}
