//! Application commands: open, accept, send, finish, reject, read, close.

use std::time::Instant;

use bytes::Bytes;

use super::request::{OutObject, Request};
use super::{Chunk, CommandError, Connection, RequestId, Role, State};
use crate::frame::FrameType;
use crate::limits::HEADER_LEN;
use crate::object_id::ObjectId;
use crate::payload::{Ack, DataHeader, End, ErrorEnvelope, Start, StartRef};

/// An object this side is about to send on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingObject {
    /// BLAKE3 of the whole object (hash it before sending the first byte).
    pub obj: ObjectId,
    /// Object length.
    pub total_len: u64,
    /// Media type, if any.
    pub content_type: Option<String>,
    /// APP_E2E: the bytes are ciphertext, `obj` hashes them as sent.
    pub e2e: bool,
}

impl OutgoingObject {
    /// Describes `bytes` as an object to send.
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            obj: ObjectId::of(bytes),
            total_len: bytes.len() as u64,
            content_type: None,
            e2e: false,
        }
    }
}

impl Connection {
    fn check_open(&self) -> Result<(), CommandError> {
        match self.state {
            State::Handshake => Err(CommandError::NotEstablished),
            State::Established => Ok(()),
            State::Closing | State::Closed => Err(CommandError::Closed),
        }
    }

    pub(super) fn request_mut(&mut self, id: RequestId) -> Result<&mut Request, CommandError> {
        self.check_open()?;
        self.requests
            .get_mut(&id)
            .map(|r| &mut **r)
            .ok_or(CommandError::UnknownRequest(id))
    }

    /// (Client) opens a request with `start`. Its `corr_id` is chosen here
    /// when unset. The request may send up to the negotiated initial credit
    /// at once; the server's ACK (an [`super::Event::Accepted`]) follows.
    pub fn start(&mut self, now: Instant, start: Start) -> Result<RequestId, CommandError> {
        self.start_ref(now, StartRef::from(&start))
    }

    /// [`Connection::start`] from borrowed fields: this crate's client
    /// names its requests' documents and objects without copying them.
    pub(crate) fn start_ref(
        &mut self,
        now: Instant,
        mut start: StartRef<'_>,
    ) -> Result<RequestId, CommandError> {
        if self.role != Role::Client {
            return Err(CommandError::WrongRole);
        }
        self.check_open()?;
        let Some(limits) = self.negotiated else {
            return Err(CommandError::NotEstablished);
        };
        if self.requests.len() >= limits.max_inflight as usize {
            return Err(CommandError::TooManyInflight);
        }
        let id = match start.corr_id {
            Some(c) if self.requests.contains_key(&RequestId(c)) => {
                return Err(CommandError::DuplicateRequest(RequestId(c)));
            }
            Some(c) => RequestId(c),
            None => self.allocate_id(),
        };
        start.corr_id = Some(id.0);
        self.queue_frame_with(FrameType::Start, false, |dst| start.encode_into(dst));
        self.open_request(id, false, limits.credit, now);
        Ok(id)
    }

    fn allocate_id(&mut self) -> RequestId {
        loop {
            let id = RequestId(self.next_corr_id);
            self.next_corr_id = self.next_corr_id.wrapping_add(1).max(1);
            if !self.requests.contains_key(&id) {
                return id;
            }
        }
    }

    /// (Server) accepts a request announced by
    /// [`super::Event::RequestStarted`]: sends the ACK carrying its initial
    /// credit. Call it (or [`Connection::reject`]) for every started
    /// request.
    pub fn accept(&mut self, id: RequestId) -> Result<(), CommandError> {
        if self.role != Role::Server {
            return Err(CommandError::WrongRole);
        }
        let req = self.request_mut(id)?;
        if req.accepted {
            return Err(CommandError::AlreadyAccepted);
        }
        req.accepted = true;
        let ack = Ack {
            corr_id: req.wire_id(id),
            credit: req.recv.granted,
        };
        self.queue_control(&ack, true);
        Ok(())
    }

    /// Ends request `id` with `error`, which is sent to the peer (its
    /// `corr_id` is set here). Frames the peer already sent for it are
    /// dropped quietly.
    pub fn reject(&mut self, id: RequestId, error: ErrorEnvelope) -> Result<(), CommandError> {
        self.request_mut(id)?;
        self.fail_request(id, error);
        Ok(())
    }

    /// Announces the object the next [`Connection::send_data`] calls carry.
    /// A zero-length object is sent at once.
    pub fn begin_object(
        &mut self,
        id: RequestId,
        object: OutgoingObject,
    ) -> Result<(), CommandError> {
        let req = self.request_mut(id)?;
        if req.send.finished {
            return Err(CommandError::AlreadyFinished);
        }
        if req.send.object.is_some() {
            return Err(CommandError::ObjectState);
        }
        let empty = object.total_len == 0;
        req.send.object = Some(OutObject {
            obj: object.obj,
            total_len: object.total_len,
            next_offset: 0,
            content_type: object.content_type,
            e2e: object.e2e,
        });
        if empty {
            self.send_data(id, Bytes::new())?;
        }
        Ok(())
    }

    /// Queues the next bytes of the current object, as many as the peer's
    /// credit allows, and returns how many were taken (possibly 0: wait for
    /// [`super::Event::CreditGranted`] and call again with the rest).
    ///
    /// Bodies are split into DATA frames of at most `data_chunk` bytes that
    /// fit the negotiated `max_frame`; the bytes are not copied.
    pub fn send_data(&mut self, id: RequestId, data: Bytes) -> Result<usize, CommandError> {
        let data_chunk = self.config.data_chunk.max(1);
        let max_frame = self.encoder.max_frame() as usize;
        self.check_open()?;
        // The request, the queue and the encoder are borrowed apart, so
        // each frame is queued as it is cut.
        let Self {
            requests,
            out,
            encoder,
            stats,
            ..
        } = self;
        let req = requests
            .get_mut(&id)
            .ok_or(CommandError::UnknownRequest(id))?;
        if req.send.finished {
            return Err(CommandError::AlreadyFinished);
        }
        let wire_id = req.wire_id(id);
        let available = req.send.available();
        let Some(object) = req.send.object.as_mut() else {
            return Err(CommandError::ObjectState);
        };
        let remaining = object.total_len - object.next_offset;
        if data.len() as u64 > remaining {
            return Err(CommandError::ObjectOverrun);
        }
        let take = (data.len() as u64).min(available) as usize;
        let mut pos = 0;
        let mut first = true;
        // One frame even for an empty object, so the peer learns of it.
        while pos < take || (object.total_len == 0 && first) {
            first = false;
            let header = DataHeader {
                obj: object.obj,
                offset: Some(object.next_offset),
                total_len: Some(object.total_len),
                corr_id: wire_id,
                content_type: object.content_type.clone(),
                e2e: object.e2e,
            };
            let json = header.json_parts();
            let overhead = HEADER_LEN + 2 + json.len();
            let room = max_frame.saturating_sub(overhead).min(data_chunk).max(1);
            let n = room.min(take - pos);
            if let Err(e) = out.push_data(encoder, &json, data.slice(pos..pos + n)) {
                debug_assert!(false, "DATA frame sized to fit: {e}");
            }
            object.next_offset += n as u64;
            pos += n;
        }
        if object.next_offset == object.total_len {
            req.send.object = None;
        }
        req.send.sent += take as u64;
        stats.data_bytes_out += take as u64;
        Ok(take)
    }

    /// Sends END on request `id`: this side sends nothing more on it.
    /// `obj` names the object the request produced (a put's answer).
    pub fn finish(&mut self, id: RequestId, obj: Option<ObjectId>) -> Result<(), CommandError> {
        let req = self.request_mut(id)?;
        if req.send.finished {
            return Err(CommandError::AlreadyFinished);
        }
        if req.send.object.is_some() {
            return Err(CommandError::ObjectState);
        }
        req.send.finished = true;
        let end = End {
            corr_id: req.wire_id(id),
            obj,
        };
        self.queue_control(&end, false);
        self.maybe_complete(id);
        Ok(())
    }

    /// Takes up to `max` received body bytes of request `id`.
    ///
    /// Reading is what returns credit to the peer: once half a window has
    /// been read, an ACK raising the credit is queued. The bytes are
    /// provisional until [`super::Event::ObjectVerified`] (see [`Chunk`]).
    pub fn read(&mut self, id: RequestId, max: usize) -> Option<Chunk> {
        let req = self.requests.get_mut(&id)?;
        let mut chunk = req.recv.chunks.pop_front()?;
        if chunk.bytes.len() > max.max(1) {
            let rest = Chunk {
                bytes: chunk.bytes.split_off(max.max(1)),
                offset: chunk.offset + max.max(1) as u64,
                ..chunk.clone()
            };
            req.recv.chunks.push_front(rest);
        }
        let n = chunk.bytes.len() as u64;
        req.recv.buffered -= n;
        req.recv.consumed += n;
        // The spare growth sums over every open request: only when the
        // window would grow (measured: on every read it cost a put among
        // 32 in flight about 700 instructions).
        let spare = if req.recv.wants_growth() {
            self.window_growth_spare()
        } else {
            0
        };
        let Some(req) = self.requests.get_mut(&id) else {
            return Some(chunk);
        };
        if let Some(credit) = req.recv.credit_update(spare, self.learned_window) {
            self.learned_window = self.learned_window.max(req.recv.window);
            let ack = Ack {
                corr_id: req.wire_id(id),
                credit,
            };
            self.queue_control(&ack, true);
        }
        self.maybe_complete(id);
        Some(chunk)
    }

    /// Closes the connection. With an error, it is sent to the peer first;
    /// without, the connection just stops after flushing what is queued.
    /// Open requests end as aborted.
    pub fn close(&mut self, error: Option<ErrorEnvelope>) {
        let error = error.map(|mut e| {
            e.corr_id = None;
            e
        });
        self.close_with(error, false, true);
    }
}
