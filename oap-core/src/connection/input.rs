//! Bytes from the peer: decoding and dispatching frames.

use std::time::Instant;

use bytes::Bytes;

use super::assembly::{Assembly, Progress};
use super::{
    Chunk, Connection, DISCARD_MEMORY, Event, Negotiated, RequestId, RequestOutcome, Role, State,
    Violation,
};
use crate::frame::{DecodedFrame, FrameType};
use crate::limits::{DEFAULT_CREDIT, DEFAULT_MAX_FRAME, DEFAULT_MAX_INFLIGHT, LEGACY_READ_SLACK};
use crate::payload::{
    Ack, ControlPayload, DataHeader, End, ErrorEnvelope, Hello, PayloadError, Start,
    decode_data_bytes, decode_data_payload,
};

/// Room the frame decoder may keep between frames; more is freed, so idle
/// connections stay small (see `StreamDecoder::release_if_idle`).
const IDLE_DECODER_ROOM: usize = 4 * 1024;

impl Connection {
    /// Feeds bytes read from the transport. Every byte is taken; frames are
    /// processed as they complete, a partial frame is kept (bounded by
    /// `max_frame + 6`). Drain `poll_event` and `poll_transmit` afterwards.
    ///
    /// Hostile input never panics: a malformed stream queues an ERROR and
    /// closes the connection, a misbehaving request queues an ERROR for that
    /// request only.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        self.handle_some_input(now, bytes, usize::MAX, u64::MAX);
    }

    /// Like [`Connection::handle_input`], but stops after the frame that
    /// brings the bytes taken to `max_bytes` or the requests it started to
    /// `max_requests`, and returns how many bytes it took: all of them
    /// unless it stopped, and at least that one frame's when it did (once
    /// the connection stops taking input, the rest counts as taken). Call
    /// it again with the rest until all is taken.
    ///
    /// In between, a host can drain [`Connection::poll_event`] and
    /// [`Connection::poll_transmit`] so that the answers to what came so
    /// far go out while the rest of a large read is taken: the peer works
    /// on them meanwhile, instead of the two sides taking turns a whole
    /// window at a time. The frames and events are the same as with one
    /// call; only answers go out earlier.
    pub fn handle_some_input(
        &mut self,
        now: Instant,
        bytes: &[u8],
        max_bytes: usize,
        max_requests: u64,
    ) -> usize {
        let total = bytes.len();
        if !self.accepts_input() || bytes.is_empty() {
            return total;
        }
        let mut rest = bytes;
        let started = self.stats.requests_started;
        self.touch_idle(now);
        while !rest.is_empty() && self.accepts_input() {
            match self.decoder.feed_ref(&mut rest) {
                Ok(Some(frame)) => {
                    self.stats.frames_in += 1;
                    // The next frame's clock starts with its first byte.
                    self.frame_deadline = None;
                    self.handle_frame(now, frame);
                    if self.out.control_bytes() > self.config.max_control_backlog {
                        self.protocol_error(Violation::NotReading);
                    }
                    if total - rest.len() >= max_bytes
                        || self.stats.requests_started - started >= max_requests
                    {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.peer_speaks_tls = self.stats.frames_in == 0 && e.is_tls_record();
                    self.protocol_error(Violation::MalformedFrame(e));
                }
            }
        }
        // Once closed, what is left is dropped unread: taken all the same.
        let taken = if self.accepts_input() {
            total - rest.len()
        } else {
            total
        };
        self.stats.bytes_in += taken as u64;
        if self.decoder.buffered() == 0 {
            self.frame_deadline = None;
        } else if self.frame_deadline.is_none() {
            self.frame_deadline = self.config.frame_timeout.map(|t| now + t);
        }
        self.decoder.release_if_idle(IDLE_DECODER_ROOM);
        taken
    }

    /// The peer closed its sending half: nothing more will arrive.
    ///
    /// Requests the peer had already ended (its END arrived) are still
    /// answered, so a client that half-closes after END gets its END;
    /// the connection closes once they are done. Every other open request
    /// fails with ERROR `proto` (it can never complete). What is queued is
    /// still sent.
    pub fn handle_eof(&mut self, now: Instant) {
        let _ = now;
        if !self.accepts_input() {
            return;
        }
        if let Err(e) = self.decoder.finish() {
            return self.protocol_error(Violation::MalformedFrame(e));
        }
        self.frame_deadline = None;
        if self.state != State::Established {
            return self.close_with(None, true, true);
        }
        self.peer_eof = true;
        let unfinished: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| !r.recv.finished)
            .map(|(id, _)| *id)
            .collect();
        for id in unfinished {
            self.request_violated(id, Violation::EofBeforeEnd);
        }
        self.close_if_peer_done();
    }

    /// After the peer's end of stream, closes once no request is left.
    pub(super) fn close_if_peer_done(&mut self) {
        if self.peer_eof && self.requests.is_empty() {
            self.close_with(None, true, true);
        }
    }

    fn accepts_input(&self) -> bool {
        matches!(self.state, State::Handshake | State::Established) && !self.peer_eof
    }

    /// Control payloads are parsed where they lie (in the read, most
    /// often); only a DATA body is copied out, to outlive the read.
    fn handle_frame(&mut self, now: Instant, frame: DecodedFrame<'_>) {
        let payload = frame.payload();
        match (self.state, frame.typ()) {
            (State::Closing | State::Closed, _) => {}
            (State::Handshake, FrameType::Hello) => self.on_hello(payload),
            (State::Established, FrameType::Hello) => {
                self.protocol_error(Violation::DuplicateHello)
            }
            (_, FrameType::Error) => self.on_error(payload),
            (State::Handshake, _) => self.protocol_error(Violation::FirstFrameNotHello),
            (_, FrameType::Start) => self.on_start(now, payload),
            (_, FrameType::Data) => self.on_data(now, frame),
            (_, FrameType::End) => self.on_end(now, payload),
            (_, FrameType::Ack) => self.on_ack(now, payload),
        }
    }

    fn on_hello(&mut self, payload: &[u8]) {
        let hello = match Hello::decode(payload) {
            Ok(h) => h,
            Err(e) => return self.malformed(FrameType::Hello, e),
        };
        if let Err(violation) = Self::check_hello(&hello) {
            return self.protocol_error(violation);
        }
        let negotiated = match self.role {
            Role::Server => {
                let n = Negotiated {
                    max_frame: hello
                        .max_frame
                        .unwrap_or(DEFAULT_MAX_FRAME)
                        .min(self.config.effective_max_frame()),
                    max_inflight: hello
                        .max_inflight
                        .unwrap_or(DEFAULT_MAX_INFLIGHT)
                        .min(self.config.max_inflight.max(1)),
                    credit: hello
                        .credit
                        .unwrap_or(DEFAULT_CREDIT)
                        .min(self.config.credit.max(1)),
                };
                let answer = Hello {
                    max_frame: Some(n.max_frame),
                    max_inflight: Some(n.max_inflight),
                    credit: Some(n.credit),
                    app_proto_id: hello.app_proto_id.clone(),
                    ..Hello::legacy()
                };
                // Urgent like ACKs, which overtake the FIFO: an ACK for a
                // START pipelined behind the client's HELLO (in the same
                // read) must not reach the peer before this HELLO does.
                self.queue_control(&answer, true);
                n
            }
            Role::Client => {
                let mine = Negotiated {
                    max_frame: self.config.effective_max_frame(),
                    max_inflight: self.config.max_inflight.max(1),
                    credit: self.config.credit.max(1),
                };
                let n = Negotiated {
                    max_frame: hello.max_frame.unwrap_or(mine.max_frame),
                    max_inflight: hello.max_inflight.unwrap_or(mine.max_inflight),
                    credit: hello.credit.unwrap_or(mine.credit),
                };
                if n.max_frame > mine.max_frame
                    || n.max_inflight > mine.max_inflight
                    || n.credit > mine.credit
                {
                    return self.protocol_error(Violation::RaisedLimit);
                }
                n
            }
        };
        // Only now, after the exchange, do the new limits apply.
        self.encoder.set_max_frame(negotiated.max_frame);
        self.decoder.set_max_frame(negotiated.max_frame);
        self.negotiated = Some(negotiated);
        self.peer_hello = Some(Box::new(hello));
        self.state = State::Established;
        self.push_event(Event::Connected(negotiated));
    }

    fn on_start(&mut self, now: Instant, payload: &[u8]) {
        if self.role == Role::Client {
            return self.protocol_error(Violation::StartFromServer);
        }
        let start = match Start::decode(payload) {
            Ok(s) => s,
            Err(e) => return self.malformed(FrameType::Start, e),
        };
        let id = RequestId(start.corr_id.unwrap_or(0));
        let legacy = start.corr_id.is_none();
        if self.requests.contains_key(&id) {
            return self.request_violated(id, Violation::CorrIdInUse);
        }
        self.discarded.retain(|d| *d != id);
        let Some(limits) = self.negotiated else {
            return;
        };
        if self.requests.len() >= limits.max_inflight as usize {
            return self.refuse_unopened(id, legacy, Violation::TooManyInflight);
        }
        self.open_request(id, legacy, limits.credit, now);
        self.push_event(Event::RequestStarted {
            id,
            start: Box::new(start),
        });
    }

    fn on_data(&mut self, now: Instant, frame: DecodedFrame<'_>) {
        let decoded = match &frame {
            DecodedFrame::Owned(f) => decode_data_bytes(&f.payload),
            DecodedFrame::Borrowed(f) => {
                decode_data_payload(f.payload).map(|(h, body)| (h, Bytes::copy_from_slice(body)))
            }
        };
        let (header, body) = match decoded {
            Ok(v) => v,
            Err(e) => return self.malformed(FrameType::Data, e),
        };
        let id = RequestId(header.corr_id.unwrap_or(0));
        if !self.requests.contains_key(&id) {
            return self.stray_frame(id, header.corr_id.is_none(), FrameType::Data);
        }
        self.touch_request(id, now);
        match self.accept_data(id, &header, body) {
            Ok(()) => {}
            Err(violation) => self.request_violated(id, violation),
        }
    }

    /// Checks a DATA frame against the request's state and credit and feeds
    /// its object; the error ends the request.
    fn accept_data(
        &mut self,
        id: RequestId,
        header: &DataHeader,
        body: Bytes,
    ) -> Result<(), Violation> {
        let Some(req) = self.requests.get_mut(&id) else {
            return Ok(());
        };
        let recv = &mut req.recv;
        if recv.finished {
            return Err(Violation::DataAfterEnd);
        }
        let len = body.len() as u64;
        // The original client never waited for credit: request 0 is held
        // back by the transport instead (`wants_input`), and refused only
        // past what one read may carry beyond its window.
        let limit = if req.legacy {
            recv.granted
                .saturating_add(u64::from(self.decoder.max_frame()))
                .saturating_add(LEGACY_READ_SLACK as u64)
        } else {
            recv.granted
        };
        if recv.received.saturating_add(len) > limit {
            return Err(Violation::CreditExceeded);
        }
        let offset;
        let (progress, total_len, obj) = match recv.assembly.take() {
            Some(mut asm) => {
                offset = asm.next_offset();
                let progress = asm.push(header, &body)?;
                let done = (progress, asm.total_len(), asm.obj());
                if progress == Progress::Partial {
                    recv.assembly = Some(asm);
                }
                done
            }
            None => {
                // The object's first frame: its length is known (claimed)
                // before any byte of it is taken. An object that this frame
                // completes (every small one) is verified here and never
                // boxed: its hasher lives on the stack.
                let mut asm = Assembly::begin(header, len)?;
                check_object_size(asm.total_len(), self.config.max_object_bytes)?;
                offset = 0;
                let progress = asm.push(header, &body)?;
                let done = (progress, asm.total_len(), asm.obj());
                if progress == Progress::Partial {
                    recv.assembly = Some(Box::new(asm));
                }
                done
            }
        };
        recv.received += len;
        self.stats.data_bytes_in += len;
        if let Progress::DigestMismatch { obj } = progress {
            self.stats.objects_failed += 1;
            return Err(Violation::DigestMismatch { obj });
        }
        if !body.is_empty() {
            let was_empty = recv.chunks.is_empty();
            recv.buffered += len;
            recv.chunks.push_back(Chunk {
                obj,
                offset,
                total_len,
                bytes: body,
            });
            if was_empty {
                self.push_event(Event::Readable { id });
            }
        }
        if let Progress::Verified { obj, len, e2e } = progress {
            self.stats.objects_verified += 1;
            self.push_event(Event::ObjectVerified { id, obj, len, e2e });
        }
        Ok(())
    }

    fn on_end(&mut self, now: Instant, payload: &[u8]) {
        let end = match End::decode(payload) {
            Ok(e) => e,
            Err(e) => return self.malformed(FrameType::End, e),
        };
        let id = RequestId(end.corr_id.unwrap_or(0));
        let Some(req) = self.requests.get_mut(&id) else {
            return self.stray_frame(id, end.corr_id.is_none(), FrameType::End);
        };
        if req.recv.finished {
            return self.request_violated(id, Violation::DuplicateEnd);
        }
        if req.recv.assembly.is_some() {
            return self.request_violated(id, Violation::EndMidObject);
        }
        req.recv.finished = true;
        self.touch_request(id, now);
        self.push_event(Event::Finished { id, obj: end.obj });
        self.maybe_complete(id);
    }

    fn on_ack(&mut self, now: Instant, payload: &[u8]) {
        let ack = match Ack::decode(payload) {
            Ok(a) => a,
            Err(e) => return self.malformed(FrameType::Ack, e),
        };
        let id = RequestId(ack.corr_id.unwrap_or(0));
        let role = self.role;
        // A late ACK for a request that already ended is harmless.
        let Some(req) = self.requests.get_mut(&id) else {
            return;
        };
        // On the server, `accepted` is the application's decision
        // (`accept`), which a peer's ACK must not take: the peer may grant
        // credit for a request in the very read that started it.
        let newly_accepted = role == Role::Client && !req.accepted;
        if role == Role::Client {
            req.accepted = true;
        }
        // Credit is absolute: keep the maximum, so duplicates and reordering
        // change nothing.
        let raised = ack.credit > req.send.limit;
        req.send.limit = req.send.limit.max(ack.credit);
        let available = req.send.available();
        self.touch_request(id, now);
        if newly_accepted {
            self.push_event(Event::Accepted { id });
        }
        if raised {
            self.push_event(Event::CreditGranted { id, available });
        }
    }

    fn on_error(&mut self, payload: &[u8]) {
        let env = match ErrorEnvelope::decode(payload) {
            Ok(e) => e,
            Err(e) => return self.malformed(FrameType::Error, e),
        };
        *self.stats.errors_received.entry(env.code).or_default() += 1;
        match env.corr_id {
            Some(c) => {
                let id = RequestId(c);
                self.discarded.retain(|d| *d != id);
                if self.requests.remove(&id).is_some() {
                    self.push_event(Event::RequestEnded {
                        id,
                        outcome: RequestOutcome::Failed {
                            error: env,
                            by_peer: true,
                            violation: None,
                        },
                    });
                    self.close_if_peer_done();
                }
            }
            None => self.close_with(Some(env), true, false),
        }
    }

    /// A DATA or END for a request that is not open: quietly dropped if
    /// this side ended the request recently (the peer had not heard yet),
    /// otherwise refused.
    fn stray_frame(&mut self, id: RequestId, legacy: bool, frame: FrameType) {
        if self.discarded.contains(&id) {
            return;
        }
        self.refuse_unopened(id, legacy, Violation::RequestNotOpen { frame });
    }

    /// Closes the connection for a frame whose payload does not decode.
    fn malformed(&mut self, frame: FrameType, error: PayloadError) {
        self.protocol_error(Violation::MalformedPayload { frame, error });
    }

    /// Sends an ERROR for a request that has no state here (so no event
    /// reports it: the application never saw the request).
    fn refuse_unopened(&mut self, id: RequestId, legacy: bool, violation: Violation) {
        let mut env = violation.envelope();
        env.corr_id = (!legacy).then_some(id.0);
        *self.stats.rejects.entry(env.code).or_default() += 1;
        self.queue_error(&env);
        self.remember_discarded(id);
    }

    /// Ends request `id` with a local error, telling the peer.
    pub(super) fn fail_request(&mut self, id: RequestId, env: ErrorEnvelope) {
        self.end_failed(id, env, None);
    }

    /// Ends request `id` for the peer's `violation`, telling the peer.
    fn request_violated(&mut self, id: RequestId, violation: Violation) {
        self.end_failed(id, violation.envelope(), Some(violation));
    }

    fn end_failed(&mut self, id: RequestId, mut env: ErrorEnvelope, violation: Option<Violation>) {
        let Some(req) = self.requests.remove(&id) else {
            return;
        };
        env.corr_id = req.wire_id(id);
        *self.stats.rejects.entry(env.code).or_default() += 1;
        self.queue_error(&env);
        self.remember_discarded(id);
        self.push_event(Event::RequestEnded {
            id,
            outcome: RequestOutcome::Failed {
                error: env,
                by_peer: false,
                violation,
            },
        });
        self.close_if_peer_done();
    }

    fn remember_discarded(&mut self, id: RequestId) {
        if !self.discarded.contains(&id) {
            if self.discarded.len() >= DISCARD_MEMORY {
                self.discarded.pop_front();
            }
            self.discarded.push_back(id);
        }
    }

    /// Retires request `id` if both halves are done and all was read.
    pub(super) fn maybe_complete(&mut self, id: RequestId) {
        if self.requests.get(&id).is_some_and(|r| r.is_complete()) {
            self.requests.remove(&id);
            self.push_event(Event::RequestEnded {
                id,
                outcome: RequestOutcome::Completed,
            });
            self.close_if_peer_done();
        }
    }
}

/// Refuses an object whose length (claimed by its first DATA frame) is over
/// `max_object_bytes`, so that a single header cannot make the receiver
/// store without bound.
fn check_object_size(total_len: u64, max_object_bytes: Option<u64>) -> Result<(), Violation> {
    match max_object_bytes {
        Some(max) if total_len > max => Err(Violation::ObjectTooLarge { total_len, max }),
        _ => Ok(()),
    }
}
