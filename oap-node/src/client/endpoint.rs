//! The client's side of the driven connection: results, bytes and room
//! waiting for the tasks that asked for them.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::client::{ClientEvent, ClientSession, RequestError};
use oap_core::connection::{
    CommandError, Connection, Event, Negotiated, RequestId, RequestMap, RequestOutcome,
};
use oap_io::Endpoint;

use super::ClientError;
use crate::TlsError;

/// One request a task waits on: its final event once it ended, and the
/// task to wake when anything about it changed (a result, room to send,
/// bytes to read).
#[derive(Default)]
struct Slot {
    done: Option<ClientEvent>,
    waker: Option<Waker>,
}

#[derive(Default)]
struct SubSlot {
    staging: Vec<u8>,
    messages: VecDeque<Bytes>,
    ended: bool,
    /// The server's ERROR that ended it, if one did.
    error: Option<ClientError>,
    waker: Option<Waker>,
}

/// A plain START waiting for the server's ACK.
#[derive(Default)]
struct Pending {
    answer: Option<Result<u64, ClientError>>,
    waker: Option<Waker>,
}

pub(crate) struct ClientEndpoint {
    pub session: ClientSession,
    starts: RequestMap<Pending>,
    connected: Option<Negotiated>,
    connect_waker: Option<Waker>,
    slots: RequestMap<Slot>,
    subs: RequestMap<SubSlot>,
    closed: Option<ClientError>,
    detach: bool,
}

impl ClientEndpoint {
    pub(crate) fn new(session: ClientSession) -> Self {
        Self {
            session,
            starts: RequestMap::new(),
            connected: None,
            connect_waker: None,
            slots: RequestMap::new(),
            subs: RequestMap::new(),
            closed: None,
            detach: false,
        }
    }

    /// Asks the driver to hand the stream back once idle.
    pub(crate) fn request_detach(&mut self) -> Result<(), ClientError> {
        if self.session.connection().open_requests() > 0 {
            return Err(ClientError::RequestsOpen);
        }
        if let Some(e) = &self.closed {
            return Err(e.clone());
        }
        self.detach = true;
        Ok(())
    }

    pub(crate) fn poll_connected(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Negotiated, ClientError>> {
        if let Some(n) = self.connected {
            return Poll::Ready(Ok(n));
        }
        if let Some(e) = &self.closed {
            return Poll::Ready(Err(e.clone()));
        }
        self.connect_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Registers a request that a task will wait on.
    fn track(&mut self, rid: Result<RequestId, CommandError>) -> Result<RequestId, ClientError> {
        // On a closed connection, say why it closed (the server's ERROR,
        // e.g. `unauthorized`) rather than only that it is closed.
        let rid = rid.map_err(|e| self.closed.clone().unwrap_or(ClientError::Command(e)))?;
        self.slots.insert(rid, Slot::default());
        Ok(rid)
    }

    pub(crate) fn put_doc(
        &mut self,
        now: Instant,
        collection: &str,
        doc_id: &str,
        obj: ObjectId,
        bytes: Bytes,
    ) -> Result<RequestId, ClientError> {
        let rid = self
            .session
            .put_object(now, collection, doc_id, obj, bytes)
            .map(|(rid, _)| rid);
        self.track(rid)
    }

    pub(crate) fn put_stream(
        &mut self,
        now: Instant,
        collection: &str,
        doc_id: &str,
        obj: ObjectId,
        len: u64,
    ) -> Result<RequestId, ClientError> {
        let rid = self.session.put_stream(now, collection, doc_id, obj, len);
        self.track(rid)
    }

    pub(crate) fn get(&mut self, now: Instant, obj: ObjectId) -> Result<RequestId, ClientError> {
        let rid = self.session.get(now, obj);
        self.track(rid)
    }

    pub(crate) fn get_stream(
        &mut self,
        now: Instant,
        obj: ObjectId,
    ) -> Result<RequestId, ClientError> {
        let rid = self.session.get_stream(now, obj);
        self.track(rid)
    }

    pub(crate) fn start(
        &mut self,
        now: Instant,
        req_id: u64,
        op: &str,
    ) -> Result<RequestId, CommandError> {
        let rid = self.session.start(now, req_id, op)?;
        self.starts.insert(rid, Pending::default());
        Ok(rid)
    }

    /// The task waiting on `rid` stopped waiting (its future or stream was
    /// dropped): if the request is still open, cancel it on the wire and
    /// forget it, so nothing of it stays behind. Returns whether it
    /// cancelled, so queued an ERROR the driver must be woken to send.
    pub(crate) fn abandon(&mut self, rid: RequestId) -> bool {
        let open = self.slots.remove(&rid).is_some_and(|s| s.done.is_none());
        let start_open = self.starts.remove(&rid).is_some_and(|p| p.answer.is_none());
        if open || start_open {
            self.session.cancel(rid);
        }
        open || start_open
    }

    /// Resolves with the credit the server's ACK granted.
    pub(crate) fn poll_accepted(
        &mut self,
        rid: RequestId,
        cx: &mut Context<'_>,
    ) -> Poll<Result<u64, ClientError>> {
        let Some(p) = self.starts.get_mut(&rid) else {
            return Poll::Ready(Err(ClientError::UnknownRequest));
        };
        if let Some(answer) = p.answer.take() {
            self.starts.remove(&rid);
            return Poll::Ready(answer);
        }
        if let Some(e) = &self.closed {
            return Poll::Ready(Err(e.clone()));
        }
        p.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    pub(crate) fn subscribe(
        &mut self,
        now: Instant,
        topic: &str,
    ) -> Result<RequestId, CommandError> {
        let rid = self.session.subscribe(now, topic)?;
        self.subs.insert(rid, SubSlot::default());
        Ok(rid)
    }

    pub(crate) fn unsubscribe(&mut self, id: RequestId) {
        if self.subs.remove(&id).is_some() {
            let _ = self.session.connection().finish(id, None);
        }
    }

    /// Resolves with the request's final event (and forgets the request).
    pub(crate) fn poll_result(
        &mut self,
        rid: RequestId,
        cx: &mut Context<'_>,
    ) -> Poll<Result<ClientEvent, ClientError>> {
        // A close's reason comes with `Event::Closed`, once the
        // connection's last bytes are taken, and reaches this endpoint at
        // the driver's next `handle_events`; the driver writes without the
        // endpoint's lock, so this task may run in between.
        let conn = self.session.connection();
        let reason_to_come = self.closed.is_none() && (conn.is_closing() || conn.is_closed());
        let Some(slot) = self.slots.get_mut(&rid) else {
            return Poll::Ready(Err(ClientError::UnknownRequest));
        };
        if let Some(ev) = slot.done.take() {
            if reason_to_come && aborted(&ev) {
                // Woken with every waiter when the close completes.
                slot.done = Some(ev);
                slot.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            self.slots.remove(&rid);
            // A request aborted by a connection the server closed with an
            // ERROR (e.g. `unauthorized` right after HELLO), or that TLS
            // ended, fails with that reason, not only "aborted".
            if aborted(&ev) {
                if let Some(
                    e @ (ClientError::Closed { error: Some(_), .. } | ClientError::Tls(_)),
                ) = &self.closed
                {
                    return Poll::Ready(Err(e.clone()));
                }
            }
            return Poll::Ready(Ok(ev));
        }
        if let Some(e) = &self.closed {
            self.slots.remove(&rid);
            return Poll::Ready(Err(e.clone()));
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Resolves with how many more bytes streamed put `rid` takes now;
    /// 0 once it ended (its result says how).
    pub(crate) fn poll_room(&mut self, rid: RequestId, cx: &mut Context<'_>) -> Poll<u64> {
        let want = self.session.put_want(rid).unwrap_or(0);
        let Some(slot) = self.slots.get_mut(&rid) else {
            return Poll::Ready(0);
        };
        if want > 0 || slot.done.is_some() || self.closed.is_some() {
            return Poll::Ready(want);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The object length streamed get `rid` announced (unverified).
    pub(crate) fn announced_len(&self, rid: RequestId) -> Option<u64> {
        self.session.announced_len(rid)
    }

    /// Hands the next bytes of streamed put `rid` over.
    pub(crate) fn push(&mut self, rid: RequestId, bytes: Bytes) -> Result<(), ClientError> {
        Ok(self.session.push(rid, bytes)?)
    }

    /// Resolves with the next bytes of streamed get `rid` (at most `max`),
    /// or `None` once no more will come (its result says why).
    pub(crate) fn poll_chunk(
        &mut self,
        rid: RequestId,
        max: usize,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Bytes>> {
        if let Some(bytes) = self.session.read(rid, max) {
            return Poll::Ready(Some(bytes));
        }
        let Some(slot) = self.slots.get_mut(&rid) else {
            return Poll::Ready(None);
        };
        if slot.done.is_some() || self.closed.is_some() {
            return Poll::Ready(None);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Why subscription `id` ended: the server's ERROR for it, or the
    /// connection's close; `None` while it is open or after an orderly end.
    pub(crate) fn subscription_error(&self, id: RequestId) -> Option<ClientError> {
        let sub = self.subs.get(&id)?;
        if !sub.ended && self.closed.is_none() {
            return None;
        }
        sub.error.clone().or_else(|| self.closed.clone())
    }

    pub(crate) fn poll_message(
        &mut self,
        id: RequestId,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Bytes>> {
        let Some(sub) = self.subs.get_mut(&id) else {
            return Poll::Ready(None);
        };
        if let Some(m) = sub.messages.pop_front() {
            return Poll::Ready(Some(m));
        }
        if sub.ended || self.closed.is_some() {
            return Poll::Ready(None);
        }
        sub.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn wake_slot(&mut self, id: RequestId) {
        if let Some(slot) = self.slots.get_mut(&id) {
            wake(&mut slot.waker);
        }
    }

    fn on_connection_event(&mut self, ev: Event) {
        match ev {
            Event::Accepted { id } => {
                // Gone already: the RequestEnded right behind says why.
                let Some(credit) = self.session.connection().send_credit(id) else {
                    return;
                };
                if let Some(p) = self.starts.get_mut(&id) {
                    p.answer = Some(Ok(credit));
                    wake(&mut p.waker);
                }
            }
            Event::RequestEnded { id, outcome } if self.starts.contains_key(&id) => {
                if let Some(p) = self.starts.get_mut(&id) {
                    if p.answer.is_none() {
                        let err = ClientError::Request(RequestError::from_outcome(outcome));
                        p.answer = Some(Err(err));
                    }
                    wake(&mut p.waker);
                }
            }
            Event::Readable { id } => {
                let Some(sub) = self.subs.get_mut(&id) else {
                    return;
                };
                while let Some(chunk) = self.session.connection().read(id, usize::MAX) {
                    sub.staging.extend_from_slice(&chunk.bytes);
                }
            }
            Event::ObjectVerified { id, len, .. } => {
                let Some(sub) = self.subs.get_mut(&id) else {
                    return;
                };
                while let Some(chunk) = self.session.connection().read(id, usize::MAX) {
                    sub.staging.extend_from_slice(&chunk.bytes);
                }
                let len = usize::try_from(len)
                    .unwrap_or(usize::MAX)
                    .min(sub.staging.len());
                let msg: Vec<u8> = sub.staging.drain(..len).collect();
                sub.messages.push_back(Bytes::from(msg));
                wake(&mut sub.waker);
            }
            Event::RequestEnded { id, outcome } => {
                if let Some(sub) = self.subs.get_mut(&id) {
                    sub.ended = true;
                    if let RequestOutcome::Failed { .. } = outcome {
                        sub.error = Some(ClientError::Request(RequestError::from_outcome(outcome)));
                    }
                    wake(&mut sub.waker);
                }
            }
            Event::Closed {
                error,
                by_peer,
                violation,
            } => {
                let reason = if self.session.connection().peer_speaks_tls() {
                    ClientError::Tls(TlsError::ServerExpectsTls)
                } else {
                    ClientError::Closed {
                        error,
                        by_peer,
                        violation,
                    }
                };
                self.mark_closed(reason);
            }
            _ => {}
        }
    }

    fn mark_closed(&mut self, reason: ClientError) {
        self.closed.get_or_insert(reason);
        wake(&mut self.connect_waker);
        for slot in self.slots.values_mut() {
            wake(&mut slot.waker);
        }
        for p in self.starts.values_mut() {
            wake(&mut p.waker);
        }
        for sub in self.subs.values_mut() {
            wake(&mut sub.waker);
        }
    }
}

/// Whether `ev` ended its request because the connection closed.
fn aborted(ev: &ClientEvent) -> bool {
    matches!(
        ev,
        ClientEvent::PutDone {
            result: Err(RequestError::Aborted),
            ..
        } | ClientEvent::GetDone {
            result: Err(RequestError::Aborted),
            ..
        } | ClientEvent::StreamDone {
            result: Err(RequestError::Aborted),
            ..
        }
    )
}

fn wake(w: &mut Option<Waker>) {
    if let Some(w) = w.take() {
        w.wake();
    }
}

impl Endpoint for ClientEndpoint {
    fn connection(&mut self) -> &mut Connection {
        self.session.connection()
    }

    fn wants_detach(&self) -> bool {
        self.detach
    }

    fn handle_events(&mut self, _now: Instant) {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                ClientEvent::Connected(n) => {
                    self.connected = Some(n);
                    wake(&mut self.connect_waker);
                }
                ClientEvent::PutDone { id, .. }
                | ClientEvent::GetDone { id, .. }
                | ClientEvent::StreamDone { id, .. } => {
                    if let Some(slot) = self.slots.get_mut(&id) {
                        slot.done = Some(ev);
                        wake(&mut slot.waker);
                    }
                }
                ClientEvent::PutWants { id, .. } | ClientEvent::GetReadable { id } => {
                    self.wake_slot(id);
                }
                ClientEvent::Connection(ev) => self.on_connection_event(ev),
            }
        }
    }

    fn on_driver_exit(&mut self, error: Option<&std::io::Error>) {
        let reason = match error {
            // A TLS failure (an alert such as "certificate required", which
            // TLS 1.3 sends after the client's handshake finished) says more
            // than the bare close the connection reported for the broken
            // transport just before: it replaces it.
            Some(e) => match TlsError::from_io(e) {
                Some(tls) => {
                    self.closed = None;
                    ClientError::Tls(tls)
                }
                None => ClientError::Io(std::sync::Arc::new(std::io::Error::new(
                    e.kind(),
                    e.to_string(),
                ))),
            },
            None => ClientError::Closed {
                error: None,
                by_peer: false,
                violation: None,
            },
        };
        self.mark_closed(reason);
    }
}
