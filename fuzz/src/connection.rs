//! Connection harness: one real [`Connection`] against a fuzzed peer.
//!
//! The peer is the fuzz input: it sends raw bytes and well-formed frames
//! (HELLO, START, DATA, END, ACK, ERROR with fuzzed fields), lets time pass,
//! closes its half, while the application side issues fuzzed commands. After
//! every step the connection's own invariants are checked:
//!
//! * **credit**: DATA body bytes it sent on a request never exceed the
//!   credit the peer granted (the negotiated initial credit or the largest
//!   ACK it received for that request since it opened);
//! * **inflight**: open requests never exceed the negotiated `max_inflight`,
//!   and match the requests reported started minus those reported ended;
//! * **buffered bytes**: `buffered_input() ≤ buffered_input_bound()`;
//! * **no unverified object**: every `ObjectVerified` names the BLAKE3 of
//!   exactly the bytes `read` returned for that object, and nothing else
//!   is ever reported verified;
//! * **output**: every frame it writes decodes, fits the negotiated
//!   `max_frame`, and exactly one `RequestEnded` per request and one
//!   `Closed` per connection are reported.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use oap_core::ObjectId;
use oap_core::connection::{Connection, ConnectionConfig, Event, OutgoingObject, RequestId, Role};
use oap_core::frame::{FrameDecoder, FrameEncoder, FrameType};
use oap_core::payload::{
    Ack, ControlPayload, DataHeader, End, ErrorCode, ErrorEnvelope, Hello, Start,
    decode_data_payload, encode_data_payload,
};

use crate::Reader;

/// Objects the peer and the application send (and fuzzed ids pick from).
const OBJECTS: [&[u8]; 4] = [
    b"",
    b"x",
    b"hello, object world: 0123456789abcdef",
    &[0x5a; 700],
];

/// Per-request bookkeeping of the harness.
#[derive(Debug, Default)]
struct Tracked {
    /// Largest credit the peer granted (initial or ACK).
    granted: u64,
    /// DATA body bytes the connection wrote.
    sent: u64,
    /// Bytes `read` returned, not yet matched to a verified object.
    staged: Vec<u8>,
    /// Objects reported verified whose bytes were not all read yet.
    verified: VecDeque<(ObjectId, u64)>,
    /// Offset the peer's next DATA would continue at, per object index.
    peer_next: u64,
    /// Object index the peer is sending.
    peer_obj: usize,
    /// Object the application is sending: (index, bytes taken so far).
    sending: Option<(usize, usize)>,
}

/// The harness state around one connection.
struct Harness {
    conn: Connection,
    role: Role,
    now: Instant,
    config: ConnectionConfig,
    open: BTreeMap<RequestId, Tracked>,
    ended: u64,
    closed: bool,
    /// The peer's byte stream, decoded as the connection decodes it, to
    /// learn which ACKs the connection really saw.
    peer_stream: BytesMut,
    peer_decoder: FrameDecoder,
    /// The shadow decoder lost sync with the connection (it closed on bad
    /// input): stop interpreting the peer's stream.
    blind: bool,
    out: Vec<u8>,
}

fn config_from(r: &mut Reader<'_>) -> ConnectionConfig {
    let timeout = |r: &mut Reader<'_>, secs: u64| r.bool().then(|| Duration::from_secs(secs));
    ConnectionConfig {
        max_frame: 256 + u32::from(r.u16() % 1024),
        max_inflight: 1 + u32::from(r.u8() % 4),
        credit: 1 + u64::from(r.u16() % 1024),
        data_chunk: 1 + r.below(400),
        handshake_timeout: timeout(r, 10),
        idle_timeout: timeout(r, 60),
        request_timeout: timeout(r, 30),
        max_control_backlog: 512 + r.below(8192),
        ..ConnectionConfig::default()
    }
}

impl Harness {
    fn new(role: Role, config: ConnectionConfig) -> Self {
        let now = Instant::now();
        let conn = match role {
            Role::Client => Connection::client(config.clone(), now),
            Role::Server => Connection::server(config.clone(), now),
        };
        // The connection never accepts a frame above this (a bigger header
        // closes it), and the shadow must not reserve what a hostile header
        // announces.
        let peer_decoder = FrameDecoder::with_max_frame(config.effective_max_frame());
        let mut h = Self {
            conn,
            role,
            now,
            config,
            open: BTreeMap::new(),
            ended: 0,
            closed: false,
            peer_stream: BytesMut::new(),
            peer_decoder,
            blind: false,
            out: Vec::new(),
        };
        h.settle();
        h
    }

    fn initial_credit(&self) -> u64 {
        self.conn.negotiated().map_or(0, |n| n.credit)
    }

    fn feed(&mut self, bytes: &[u8]) {
        if !self.blind && !self.closed {
            self.peer_stream.extend_from_slice(bytes);
            loop {
                match self.peer_decoder.decode(&mut self.peer_stream) {
                    Ok(Some(f)) if f.typ == FrameType::Ack => match Ack::decode(&f.payload) {
                        Ok(ack) => {
                            let id = RequestId(ack.corr_id.unwrap_or(0));
                            if let Some(t) = self.open.get_mut(&id) {
                                t.granted = t.granted.max(ack.credit);
                            }
                        }
                        Err(_) => {
                            self.blind = true;
                            break;
                        }
                    },
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        self.blind = true;
                        break;
                    }
                }
            }
        }
        // Odd-length inputs go in parts, as the driver hands a read over
        // (`handle_some_input`), with every invariant checked in between;
        // the others at once.
        let (max_bytes, max_requests) = if bytes.len() % 2 == 1 {
            (1 + bytes.len() % 997, 1 + (bytes.len() % 3) as u64)
        } else {
            (usize::MAX, u64::MAX)
        };
        let mut rest = bytes;
        loop {
            let taken = self
                .conn
                .handle_some_input(self.now, rest, max_bytes, max_requests);
            assert!(
                taken > 0 || rest.is_empty(),
                "handle_some_input took nothing"
            );
            rest = &rest[taken..];
            if rest.is_empty() {
                break;
            }
            self.settle();
        }
        self.settle();
    }

    /// Drains events and output, checking every invariant.
    fn settle(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(ev) = self.conn.poll_event() {
                progressed = true;
                self.on_event(ev);
            }
            self.out.clear();
            while let Some(t) = self.conn.poll_transmit(self.now, &mut self.out) {
                progressed = true;
                if let Some(body) = t.body {
                    self.out.extend_from_slice(&body);
                }
            }
            if !self.out.is_empty() {
                let out = std::mem::take(&mut self.out);
                self.check_output(&out);
                self.out = out;
            }
            if !progressed {
                break;
            }
        }
        self.check_state();
    }

    fn on_event(&mut self, ev: Event) {
        assert!(!self.closed, "event after Closed: {ev:?}");
        match ev {
            Event::Connected(n) => {
                assert!(n.max_inflight <= self.config.max_inflight.max(1));
                assert!(n.credit <= self.config.credit.max(1));
                assert!(n.max_frame <= self.config.effective_max_frame());
            }
            Event::RequestStarted { id, .. } => {
                assert_eq!(self.role, Role::Server);
                let granted = self.initial_credit();
                let fresh = Tracked {
                    granted,
                    ..Tracked::default()
                };
                assert!(self.open.insert(id, fresh).is_none(), "{id} started twice");
            }
            Event::ObjectVerified { id, obj, len, .. } => {
                let t = self.open.get_mut(&id).expect("verified on an open request");
                t.verified.push_back((obj, len));
            }
            Event::RequestEnded { id, .. } => {
                assert!(
                    self.open.remove(&id).is_some(),
                    "{id} ended twice or never started"
                );
                self.ended += 1;
            }
            Event::Closed { .. } => {
                assert!(self.open.is_empty(), "closed with requests still open");
                self.closed = true;
            }
            Event::Accepted { id } | Event::Readable { id } | Event::Finished { id, .. } => {
                assert!(
                    self.open.contains_key(&id),
                    "event for a request not open: {id}"
                );
            }
            Event::CreditGranted { id, available } => {
                assert!(self.open.contains_key(&id));
                assert_eq!(self.conn.send_credit(id), Some(available));
            }
        }
    }

    fn check_output(&mut self, out: &[u8]) {
        let frames = crate::codec::split_frames(out).expect("the connection writes whole frames");
        let max_frame = self
            .conn
            .negotiated()
            .map_or(self.config.effective_max_frame(), |n| n.max_frame)
            .max(self.config.effective_max_frame());
        for f in frames {
            assert!(
                f.payload.len() <= max_frame as usize,
                "frame above max_frame"
            );
            if f.typ != FrameType::Data {
                continue;
            }
            let (header, body) = decode_data_payload(&f.payload).expect("own DATA unpacks");
            let id = RequestId(header.corr_id.unwrap_or(0));
            // DATA queued before the request ended may still flush.
            if let Some(t) = self.open.get_mut(&id) {
                t.sent += body.len() as u64;
                assert!(
                    t.sent <= t.granted,
                    "sent {} body bytes on {id} with {} credit",
                    t.sent,
                    t.granted
                );
            }
        }
    }

    fn check_state(&mut self) {
        let limit = self.conn.negotiated().map_or(0, |n| n.max_inflight) as usize;
        assert!(
            self.conn.open_requests() <= limit,
            "inflight above max_inflight"
        );
        if !self.closed {
            assert_eq!(
                self.conn.open_requests(),
                self.open.len(),
                "open requests disagree"
            );
        }
        assert!(
            self.conn.buffered_input() <= self.conn.buffered_input_bound(),
            "buffered {} > bound {}",
            self.conn.buffered_input(),
            self.conn.buffered_input_bound()
        );
        for (id, t) in &mut self.open {
            while let Some(&(obj, len)) = t.verified.front() {
                if (t.staged.len() as u64) < len {
                    break;
                }
                let bytes: Vec<u8> = t.staged.drain(..len as usize).collect();
                assert_eq!(
                    ObjectId::of(&bytes),
                    obj,
                    "{id}: unverified bytes released as {obj}"
                );
                t.verified.pop_front();
            }
        }
    }

    /// Encodes a frame from the peer with a fuzzed shape.
    fn peer_frame(&mut self, r: &mut Reader<'_>) -> Vec<u8> {
        // Mostly requests that are open, so frames reach deep states.
        let open: Vec<u64> = self.open.keys().map(|id| id.0).collect();
        let corr = |r: &mut Reader<'_>| match r.u8() % 8 {
            0 => None,
            n if n < 4 || open.is_empty() => Some(u64::from(n % 6)),
            n => Some(open[usize::from(n) % open.len()]),
        };
        let enc = FrameEncoder::with_max_frame(u32::MAX);
        // Frame kinds weighted by what the peer of this role sends; the
        // connection-ending ones (HELLO once established, START to a
        // client) stay possible but rare.
        let established = self.conn.is_established();
        let kind = match (self.role, r.u8() % 16) {
            (_, 0) => 0,
            (_, k) if k <= 3 && !established => 0,
            (_, 1) => 6,
            (Role::Server, 2..=5) => 1,
            (Role::Client, 2) => 1,
            (Role::Client, 3..=7) => 5,
            (_, 6..=11) => 2,
            (_, 12 | 13) => 4,
            _ => 5,
        };
        let (typ, payload): (FrameType, Vec<u8>) = match kind {
            0 => {
                let lim = |r: &mut Reader<'_>, v: u64| match r.u8() % 4 {
                    0 => None,
                    1 => Some(v),
                    2 => Some(v / 2),
                    _ => Some(u64::from(r.u16())),
                };
                let hello = Hello {
                    hello: if r.u8() == 0xff {
                        "oap/2".into()
                    } else {
                        "oap/1".into()
                    },
                    max_frame: lim(r, u64::from(self.config.effective_max_frame()))
                        .map(|v| v as u32),
                    max_inflight: lim(r, u64::from(self.config.max_inflight)).map(|v| v as u32),
                    credit: lim(r, self.config.credit),
                    app_proto_id: None,
                    tenant: None,
                    token: None,
                };
                (FrameType::Hello, hello.encode().to_vec())
            }
            1 => {
                let start = Start {
                    corr_id: corr(r),
                    op: Some("put".into()),
                    ..Start::default()
                };
                (FrameType::Start, start.encode().to_vec())
            }
            2 | 3 => {
                let c = corr(r);
                (FrameType::Data, self.peer_data(r, c))
            }
            4 => {
                let end = End {
                    corr_id: corr(r),
                    obj: r
                        .bool()
                        .then(|| ObjectId::of(OBJECTS[r.below(OBJECTS.len())])),
                };
                (FrameType::End, end.encode().to_vec())
            }
            5 => {
                let ack = Ack {
                    corr_id: corr(r),
                    credit: u64::from(r.u16()),
                };
                (FrameType::Ack, ack.encode().to_vec())
            }
            _ => {
                let code = ErrorCode::ALL[r.below(ErrorCode::ALL.len())];
                let mut env = ErrorEnvelope::new(code, "fuzz");
                env.corr_id = corr(r);
                (FrameType::Error, env.encode().to_vec())
            }
        };
        let mut out = BytesMut::new();
        enc.encode(typ, &payload, &mut out)
            .expect("u32::MAX max_frame");
        out.to_vec()
    }

    /// A DATA payload from the peer: usually the next piece of a real
    /// object, sometimes with a wrong offset, length or digest.
    fn peer_data(&mut self, r: &mut Reader<'_>, corr: Option<u64>) -> Vec<u8> {
        let id = RequestId(corr.unwrap_or(0));
        let (mut idx, mut next) = self
            .open
            .get(&id)
            .map_or((r.below(OBJECTS.len()), 0), |t| (t.peer_obj, t.peer_next));
        if next == 0 {
            idx = r.below(OBJECTS.len());
        }
        let object = OBJECTS[idx];
        let len = 1 + r.below(300);
        let mut from = next as usize;
        match r.u8() % 8 {
            0 => from = r.below(object.len() + 2),
            1 => next = u64::MAX,
            _ => {}
        }
        let from = from.min(object.len());
        let to = (from + len).min(object.len());
        let mut body = object[from..to].to_vec();
        let whole = r.u8() % 4 == 0;
        let mut header = DataHeader {
            offset: (!whole).then_some(from as u64),
            total_len: (!whole).then_some(object.len() as u64),
            corr_id: corr,
            e2e: r.u8() == 7,
            ..DataHeader::whole(object)
        };
        if whole {
            body = object.to_vec();
        }
        match r.u8() % 16 {
            0 => header.obj = ObjectId::of(OBJECTS[r.below(OBJECTS.len())]),
            1 => {
                if let Some(b) = body.first_mut() {
                    *b ^= 1;
                }
            }
            2 => header.total_len = Some(u64::from(r.u16())),
            _ => {}
        }
        if let Some(t) = self.open.get_mut(&id) {
            t.peer_obj = idx;
            t.peer_next = if whole || next == u64::MAX || to == object.len() {
                0
            } else {
                to as u64
            };
        }
        encode_data_payload(&header, &body).expect("small header")
    }

    /// Picks an open request, or a fresh small id.
    fn pick(&self, r: &mut Reader<'_>) -> RequestId {
        let ids: Vec<RequestId> = self.open.keys().copied().collect();
        match r.below(ids.len() + 1) {
            i if i < ids.len() => ids[i],
            _ => RequestId(u64::from(r.u8() % 6)),
        }
    }

    fn command(&mut self, r: &mut Reader<'_>) {
        let id = self.pick(r);
        match r.u8() % 8 {
            0 | 1 if self.role == Role::Client => {
                let start = Start {
                    corr_id: r.bool().then(|| u64::from(r.u8() % 6)),
                    op: Some("put".into()),
                    ..Start::default()
                };
                if let Ok(id) = self.conn.start(self.now, start) {
                    let fresh = Tracked {
                        granted: self.initial_credit(),
                        ..Tracked::default()
                    };
                    assert!(self.open.insert(id, fresh).is_none());
                }
            }
            0 | 1 => {
                let _ = self.conn.accept(id);
            }
            2 => {
                let idx = r.below(OBJECTS.len());
                let object = OutgoingObject::of(OBJECTS[idx]);
                if self.conn.begin_object(id, object).is_ok() {
                    if let Some(t) = self.open.get_mut(&id) {
                        t.sending = (!OBJECTS[idx].is_empty()).then_some((idx, 0));
                    }
                    if r.bool() {
                        self.send_more(id, r);
                    }
                }
            }
            3 => self.send_more(id, r),
            4 => {
                let obj = r
                    .bool()
                    .then(|| ObjectId::of(OBJECTS[r.below(OBJECTS.len())]));
                let _ = self.conn.finish(id, obj);
            }
            5 | 6 => {
                let max = 1 + r.below(512);
                if let Some(chunk) = self.conn.read(id, max) {
                    assert!(chunk.bytes.len() <= max);
                    let t = self.open.get_mut(&id).expect("read on an open request");
                    t.staged.extend_from_slice(&chunk.bytes);
                }
            }
            _ => {
                if r.u8() % 8 == 0 {
                    let env = r
                        .bool()
                        .then(|| ErrorEnvelope::new(ErrorCode::Internal, "bye"));
                    self.conn.close(env);
                } else {
                    let _ = self
                        .conn
                        .reject(id, ErrorEnvelope::new(ErrorCode::NotFound, "no"));
                }
            }
        }
        self.settle();
    }

    /// Sends the next bytes of the object being sent on `id` (or a stray
    /// `send_data` when there is none, which must be refused).
    fn send_more(&mut self, id: RequestId, r: &mut Reader<'_>) {
        let Some((idx, pos)) = self.open.get(&id).and_then(|t| t.sending) else {
            let _ = self.conn.send_data(id, Bytes::from_static(b"stray"));
            return;
        };
        let object = OBJECTS[idx];
        let n = (1 + r.below(800)).min(object.len() - pos);
        let data = Bytes::from_static(object).slice(pos..pos + n);
        if let Ok(taken) = self.conn.send_data(id, data) {
            if let Some(t) = self.open.get_mut(&id) {
                let pos = pos + taken;
                t.sending = (pos < object.len()).then_some((idx, pos));
            }
        }
    }

    fn step(&mut self, r: &mut Reader<'_>) {
        match r.u8() % 16 {
            0 if r.u8() % 4 == 0 => {
                let raw = r.bytes(64).to_vec();
                self.feed(&raw);
            }
            1..=6 => {
                let bytes = self.peer_frame(r);
                // Sometimes split the frame across two reads.
                let cut = r.below(bytes.len() + 1);
                self.feed(&bytes[..cut]);
                self.feed(&bytes[cut..]);
            }
            7 => {
                let ms = u64::from(r.u16()) * if r.bool() { 1000 } else { 1 };
                self.now += Duration::from_millis(ms);
                self.conn.handle_timeout(self.now);
                self.settle();
            }
            8 if r.u8() % 4 == 0 => {
                if let Some(deadline) = self.conn.poll_timeout() {
                    assert!(!self.closed);
                    self.now = self.now.max(deadline);
                    self.conn.handle_timeout(self.now);
                    self.settle();
                }
            }
            9 if r.u8() % 16 == 0 => {
                self.conn.handle_eof(self.now);
                self.settle();
            }
            _ => self.command(r),
        }
    }
}

/// `connection_server` / `connection_client`: a [`Connection`] of `role`
/// driven by `input` (config, then a sequence of peer frames, raw bytes,
/// time steps and commands). Panics on the first broken invariant.
pub fn run(role: Role, input: &[u8]) {
    let mut r = Reader::new(input);
    let config = config_from(&mut r);
    let mut h = Harness::new(role, config);
    if r.u8() % 4 != 0 {
        // Usually complete the HELLO exchange properly so requests get going
        // (the client's own HELLO is already queued; a server needs one).
        let answer = Hello::legacy().encode();
        let mut buf = BytesMut::new();
        FrameEncoder::new()
            .encode(FrameType::Hello, &answer, &mut buf)
            .expect("small");
        h.feed(&buf);
    }
    let mut steps = 0;
    while !r.is_empty() && steps < 4096 {
        h.step(&mut r);
        steps += 1;
    }
    // Whatever happened, the connection can always be closed cleanly and
    // then reports every request ended.
    h.conn.close(None);
    h.settle();
    assert!(h.conn.is_closed() && h.closed, "close(None) did not close");
    assert!(h.open.is_empty());
}
