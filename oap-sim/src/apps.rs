//! Scripted applications driving each end of the simulated connection.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::connection::{
    CommandError, Connection, Event, OutgoingObject, RequestId, RequestOutcome, SendStream,
};
use oap_core::payload::{ErrorCode, ErrorEnvelope, Start};

use crate::InvariantViolation;

/// How one put ended, from the client's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutResult {
    /// The request completed and the server's END named the object sent.
    Stored,
    /// The request completed but the server's END did not name the object
    /// sent (it named nothing, or — through corruption — something else).
    Unconfirmed(Option<ObjectId>),
    /// An ERROR ended the request.
    Failed(ErrorCode),
    /// The connection closed first.
    Aborted,
}

/// Received bytes of one request, waiting for their object to verify.
#[derive(Debug, Default)]
struct Staging {
    bytes: Vec<u8>,
    /// `(obj, len)` once the connection reported the object verified.
    verified: Option<(ObjectId, u64)>,
}

impl Staging {
    /// Commits the object once all its verified bytes have been read; the
    /// invariant "nothing verified unless its bytes match" is checked here.
    fn try_commit(&mut self, who: &str) -> Result<Option<(ObjectId, Vec<u8>)>, InvariantViolation> {
        let Some((obj, len)) = self.verified else {
            return Ok(None);
        };
        if (self.bytes.len() as u64) < len {
            return Ok(None);
        }
        let bytes: Vec<u8> = self.bytes.drain(..len as usize).collect();
        self.verified = None;
        if ObjectId::of(&bytes) != obj {
            return Err(InvariantViolation(format!(
                "{who}: object {obj} reported verified but its bytes hash elsewhere"
            )));
        }
        Ok(Some((obj, bytes)))
    }
}

/// Reads what is readable on `id`, up to `budget` bytes, counting what
/// was consumed per request.
fn read_into(
    conn: &mut Connection,
    id: RequestId,
    staging: &mut Staging,
    budget: &mut usize,
    consumed: &mut BTreeMap<u64, u64>,
) {
    while *budget > 0 {
        let Some(chunk) = conn.read(id, *budget) else {
            break;
        };
        *budget -= chunk.bytes.len();
        *consumed.entry(id.0).or_default() += chunk.bytes.len() as u64;
        staging.bytes.extend_from_slice(&chunk.bytes);
    }
}

#[derive(Debug)]
struct Put {
    index: usize,
    stream: SendStream<Bytes>,
    answer: Option<ObjectId>,
}

/// A client that puts a list of objects, several requests at a time, and
/// verifies whatever the server sends back.
#[derive(Debug)]
pub struct ClientApp {
    objects: Vec<Bytes>,
    concurrency: usize,
    read_budget: usize,
    next: usize,
    puts: BTreeMap<RequestId, Put>,
    staging: BTreeMap<RequestId, Staging>,
    /// One entry per object, once its request ended.
    pub results: BTreeMap<usize, PutResult>,
    /// Objects the server sent back, verified.
    pub received: Vec<ObjectId>,
    /// Requests this client opened.
    pub started: u64,
    /// Starts refused locally with `TooManyInflight` (never sent).
    pub local_inflight_refusals: u64,
    /// Body bytes read, per `corr_id`.
    pub consumed: BTreeMap<u64, u64>,
}

impl ClientApp {
    /// Puts `objects`, at most `concurrency` at once (beyond the negotiated
    /// `max_inflight`, `start` is refused locally and retried later).
    pub fn new(objects: Vec<Bytes>, concurrency: usize) -> Self {
        Self {
            objects,
            concurrency: concurrency.max(1),
            read_budget: usize::MAX,
            next: 0,
            puts: BTreeMap::new(),
            staging: BTreeMap::new(),
            results: BTreeMap::new(),
            received: Vec::new(),
            started: 0,
            local_inflight_refusals: 0,
            consumed: BTreeMap::new(),
        }
    }

    /// Reads at most `bytes` per step (a slow reader).
    pub fn with_read_budget(mut self, bytes: usize) -> Self {
        self.read_budget = bytes.max(1);
        self
    }

    /// The objects this client puts.
    pub fn objects(&self) -> &[Bytes] {
        &self.objects
    }

    /// Whether every object has a result.
    pub fn done(&self) -> bool {
        self.results.len() == self.objects.len()
    }

    pub(crate) fn on_event(
        &mut self,
        conn: &mut Connection,
        ev: &Event,
    ) -> Result<(), InvariantViolation> {
        match ev {
            Event::CreditGranted { id, .. } => self.advance(conn, *id),
            Event::ObjectVerified { id, obj, len, .. } => {
                self.staging.entry(*id).or_default().verified = Some((*obj, *len));
            }
            Event::Finished { id, obj } => {
                if let Some(p) = self.puts.get_mut(id) {
                    p.answer = *obj;
                }
            }
            Event::RequestEnded { id, outcome } => {
                self.staging.remove(id);
                if let Some(p) = self.puts.remove(id) {
                    let sent = ObjectId::of(&self.objects[p.index]);
                    let r = match outcome {
                        RequestOutcome::Completed if p.answer == Some(sent) => PutResult::Stored,
                        RequestOutcome::Completed => PutResult::Unconfirmed(p.answer),
                        RequestOutcome::Failed { error, .. } => PutResult::Failed(error.code),
                        RequestOutcome::Aborted => PutResult::Aborted,
                    };
                    self.results.insert(p.index, r);
                }
            }
            Event::Closed { .. } => {
                // Objects never started will not be: the connection is gone.
                for i in self.next..self.objects.len() {
                    self.results.insert(i, PutResult::Aborted);
                }
                self.next = self.objects.len();
            }
            _ => {}
        }
        Ok(())
    }

    fn advance(&mut self, conn: &mut Connection, id: RequestId) {
        if let Some(p) = self.puts.get_mut(&id) {
            let _ = p.stream.poll(conn);
        }
    }

    /// Starts puts, reads and verifies; returns whether anything happened.
    pub(crate) fn tick(
        &mut self,
        conn: &mut Connection,
        now: Instant,
    ) -> Result<bool, InvariantViolation> {
        let mut acted = false;
        while conn.is_established()
            && self.next < self.objects.len()
            && self.puts.len() < self.concurrency
        {
            let start = Start {
                op: Some("put".into()),
                ..Start::default()
            };
            let id = match conn.start(now, start) {
                Ok(id) => id,
                Err(CommandError::TooManyInflight) => {
                    self.local_inflight_refusals += 1;
                    break;
                }
                Err(_) => break,
            };
            self.started += 1;
            let data = &self.objects[self.next];
            // END names the object, so a server that lost it can tell.
            let stream = SendStream::open(conn, id, OutgoingObject::of(data), data.clone())
                .map_err(|e| InvariantViolation(format!("client: begin_object: {e}")))?
                .end_with(Some(ObjectId::of(data)));
            self.puts.insert(
                id,
                Put {
                    index: self.next,
                    stream,
                    answer: None,
                },
            );
            self.next += 1;
            self.advance(conn, id);
            acted = true;
        }
        let mut budget = self.read_budget;
        let ids: Vec<RequestId> = self.puts.keys().copied().collect();
        for id in ids {
            let staging = self.staging.entry(id).or_default();
            let before = budget;
            read_into(conn, id, staging, &mut budget, &mut self.consumed);
            acted |= budget != before;
            if let Some((obj, _)) = staging.try_commit("client")? {
                self.received.push(obj);
            }
        }
        Ok(acted)
    }
}

/// A server that accepts every request, stores verified objects, and can
/// answer each request with an object of its own while still receiving.
#[derive(Debug, Default)]
pub struct ServerApp {
    read_budget: Option<usize>,
    respond_with: Option<Bytes>,
    reject_with: Option<ErrorCode>,
    staging: BTreeMap<RequestId, Staging>,
    responses: BTreeMap<RequestId, SendStream<Bytes>>,
    open: BTreeSet<RequestId>,
    peer_done: BTreeSet<RequestId>,
    last_stored: BTreeMap<RequestId, ObjectId>,
    announced: BTreeMap<RequestId, Option<ObjectId>>,
    /// Objects stored, verified.
    pub stored: BTreeMap<ObjectId, Vec<u8>>,
    /// Requests ended by an error, by code.
    pub failed: BTreeMap<ErrorCode, u64>,
    /// Body bytes read, per `corr_id`.
    pub consumed: BTreeMap<u64, u64>,
}

impl ServerApp {
    /// A server that reads eagerly and stores what it receives.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads at most `bytes` per step (a slow consumer).
    pub fn with_read_budget(mut self, bytes: usize) -> Self {
        self.read_budget = Some(bytes.max(1));
        self
    }

    /// Sends `object` back on every request while receiving.
    pub fn responding_with(mut self, object: Bytes) -> Self {
        self.respond_with = Some(object);
        self
    }

    /// Rejects every request with `code`.
    pub fn rejecting_with(mut self, code: ErrorCode) -> Self {
        self.reject_with = Some(code);
        self
    }

    pub(crate) fn on_event(
        &mut self,
        conn: &mut Connection,
        ev: &Event,
    ) -> Result<(), InvariantViolation> {
        match ev {
            Event::RequestStarted { id, .. } => {
                if let Some(code) = self.reject_with {
                    let _ = conn.reject(*id, ErrorEnvelope::new(code, "simulated rejection"));
                    return Ok(());
                }
                match conn.accept(*id) {
                    Ok(()) => {}
                    // Events queue up: the request (or connection) may have
                    // ended by the time its start is handled.
                    Err(CommandError::UnknownRequest(_) | CommandError::Closed) => return Ok(()),
                    Err(e) => return Err(InvariantViolation(format!("server: accept: {e}"))),
                }
                self.open.insert(*id);
                if let Some(obj) = &self.respond_with {
                    let stream = SendStream::open(conn, *id, OutgoingObject::of(obj), obj.clone())
                        .map_err(|e| InvariantViolation(format!("server: begin_object: {e}")))?;
                    self.responses.insert(*id, stream);
                    self.respond(conn, *id);
                }
            }
            Event::CreditGranted { id, .. } => self.respond(conn, *id),
            Event::ObjectVerified { id, obj, len, .. } => {
                self.staging.entry(*id).or_default().verified = Some((*obj, *len));
            }
            Event::Finished { id, obj } => {
                self.peer_done.insert(*id);
                self.announced.insert(*id, *obj);
            }
            Event::RequestEnded { id, outcome } => {
                self.staging.remove(id);
                self.responses.remove(id);
                self.open.remove(id);
                self.peer_done.remove(id);
                self.last_stored.remove(id);
                self.announced.remove(id);
                if let RequestOutcome::Failed { error, .. } = outcome {
                    *self.failed.entry(error.code).or_default() += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn respond(&mut self, conn: &mut Connection, id: RequestId) {
        if let Some(stream) = self.responses.get_mut(&id) {
            let _ = stream.poll(conn);
        }
    }

    pub(crate) fn tick(&mut self, conn: &mut Connection) -> Result<bool, InvariantViolation> {
        let mut acted = false;
        let mut budget = self.read_budget.unwrap_or(usize::MAX);
        for id in self.open.clone() {
            let staging = self.staging.entry(id).or_default();
            let before = budget;
            read_into(conn, id, staging, &mut budget, &mut self.consumed);
            acted |= budget != before;
            if let Some((obj, bytes)) = staging.try_commit("server")? {
                self.stored.insert(obj, bytes);
                self.last_stored.insert(id, obj);
            }
        }
        // Answer a finished request once everything was read and this
        // side's own response went out.
        for id in self.peer_done.clone() {
            let response_sent = self.responses.get(&id).is_none_or(|s| s.unsent() == 0);
            let drained = self
                .staging
                .get(&id)
                .is_none_or(|s| s.bytes.is_empty() && s.verified.is_none());
            if !(response_sent && drained) {
                continue;
            }
            let stored = self.last_stored.get(&id).copied();
            let announced = self.announced.get(&id).copied().flatten();
            if announced.is_some() && announced != stored {
                // The client's END names an object that never arrived whole.
                let env = ErrorEnvelope::new(ErrorCode::Proto, "END names an object not received");
                acted |= conn.reject(id, env).is_ok();
            } else if conn.finish(id, stored).is_ok() {
                acted = true;
            }
            self.peer_done.remove(&id);
        }
        Ok(acted)
    }
}
