//! A client and a server `Connection` over a faulty frame-level network.
//!
//! Limits are tiny so a few frames cover every mechanism: `max_inflight`
//! 2, credit 4 bytes, DATA bodies of at most 3 bytes, objects of 6 bytes
//! (so the second half of each object waits for an ACK the server sends
//! only after its application read the first half). Each direction of the
//! network is a FIFO of whole frames; the explorer chooses which head
//! frame to deliver, drop or duplicate (within a fault budget), which
//! application step to take, and when time jumps to the next deadline.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use oap_core::ObjectId;
use oap_core::connection::{
    Connection, ConnectionConfig, Event, OutgoingObject, RequestId, RequestOutcome, SendStream,
};
use oap_core::frame::{Frame, FrameDecoder, FrameEncoder, FrameType};
use oap_core::payload::{Ack, ControlPayload, decode_data_payload};

use crate::System;

/// The objects the client puts, one per request, in order.
pub const OBJECTS: [&[u8]; 3] = [b"abcdef", b"ghijkl", b"mnopqr"];

/// Fault budget and sizes of one exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairParams {
    /// Requests the client may start (one more than `max_inflight` probes
    /// the limit).
    pub requests: usize,
    /// Frames the network may drop on one path.
    pub drops: u8,
    /// Frames the network may duplicate on one path.
    pub dups: u8,
    /// Frames whose DATA body the network may corrupt on one path.
    pub corrupts: u8,
    /// Time jumps (to the next deadline) the explorer may take on one path.
    pub ticks: u8,
    /// Whether the connections run with timeouts (the liveness check fails
    /// without them once a frame is lost: kept as a self-test).
    pub timeouts: bool,
}

impl PairParams {
    /// The default bounded run used by `cargo test`.
    pub const CI: PairParams = PairParams {
        requests: 2,
        drops: 1,
        dups: 1,
        corrupts: 0,
        ticks: 1,
        timeouts: true,
    };
}

/// The instant every state starts at: replays must rebuild the very same
/// deadlines, and `Instant` has no constant to start from. Set once, never
/// changed, so explorations running at once do not disturb each other.
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// The connections' settings.
pub fn config(timeouts: bool) -> ConnectionConfig {
    let t = |s| timeouts.then(|| Duration::from_secs(s));
    ConnectionConfig {
        max_frame: 256,
        max_inflight: 2,
        credit: 4,
        data_chunk: 3,
        handshake_timeout: t(10),
        idle_timeout: t(60),
        request_timeout: t(30),
        ..ConnectionConfig::default()
    }
}

/// Which way a frame travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dir {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// One step of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairAction {
    /// Deliver the head frame.
    Deliver(Dir),
    /// Lose the head frame.
    Drop(Dir),
    /// Deliver the head frame and keep a copy at the head.
    Duplicate(Dir),
    /// Flip a bit of the head DATA frame's body.
    Corrupt(Dir),
    /// Client: start the next request and send what credit allows.
    Start,
    /// Client: send more of request's object (credit arrived).
    Pump(u64),
    /// Client: END after the whole object.
    ClientFinish(u64),
    /// Server: accept a started request.
    Accept(u64),
    /// Server: read up to 2 bytes of a request.
    Read(u64),
    /// Server: END naming the object, once it is verified and the peer ended.
    ServerFinish(u64),
    /// Jump to the earliest deadline of either side.
    Tick,
}

/// Client-side application state of one request.
#[derive(Debug, Default, Hash)]
struct ClientReq {
    object: usize,
    /// The object going out (END is a separate action, `ClientFinish`).
    stream: Option<SendStream<Bytes>>,
    finished: bool,
    answer: Option<ObjectId>,
    outcome: Option<RequestOutcome>,
}

/// Server-side application state of one request.
#[derive(Debug, Default, Hash)]
struct ServerReq {
    accepted: bool,
    peer_finished: bool,
    finished: bool,
    staged: Vec<u8>,
    verified: Vec<(ObjectId, u64)>,
    committed: Vec<ObjectId>,
    readable: bool,
    outcome: Option<RequestOutcome>,
}

/// The two connections, the network and both applications.
#[derive(Debug)]
pub struct PairSystem {
    params: PairParams,
    now: Instant,
    client: Connection,
    server: Connection,
    net: BTreeMap<Dir, VecDeque<Frame>>,
    client_reqs: BTreeMap<u64, ClientReq>,
    server_reqs: BTreeMap<u64, ServerReq>,
    /// Credit granted per request to the client, as ACKs it received say.
    client_granted: BTreeMap<u64, u64>,
    /// DATA body bytes the client wrote per request.
    client_sent: BTreeMap<u64, u64>,
    started: usize,
    drops: u8,
    dups: u8,
    corrupts: u8,
    ticks: u8,
    client_closed: bool,
    server_closed: bool,
}

fn frames_of(bytes: &[u8]) -> Vec<Frame> {
    let mut dec = FrameDecoder::with_max_frame(u32::MAX);
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Ok(Some(f)) = dec.decode(&mut buf) {
        out.push(f);
    }
    out
}

fn encode(f: &Frame) -> Vec<u8> {
    let mut out = BytesMut::new();
    // The frame was decoded with no limit; encode it with none either.
    let _ = FrameEncoder::with_max_frame(u32::MAX).encode_frame(f, &mut out);
    out.to_vec()
}

impl PairSystem {
    fn conn(&mut self, dir: Dir) -> &mut Connection {
        match dir {
            Dir::ToServer => &mut self.server,
            Dir::ToClient => &mut self.client,
        }
    }

    fn deliver(&mut self, dir: Dir, frame: &Frame) {
        if dir == Dir::ToClient && frame.typ == FrameType::Ack {
            if let Ok(ack) = Ack::decode(&frame.payload) {
                let g = self
                    .client_granted
                    .entry(ack.corr_id.unwrap_or(0))
                    .or_default();
                *g = (*g).max(ack.credit);
            }
        }
        let now = self.now;
        self.conn(dir).handle_input(now, &encode(frame));
    }

    /// Drains events and transmits of both sides until quiet, checking the
    /// invariants.
    fn settle(&mut self) -> Result<(), String> {
        loop {
            let mut busy = false;
            while let Some(ev) = self.client.poll_event() {
                busy = true;
                self.client_event(ev)?;
            }
            while let Some(ev) = self.server.poll_event() {
                busy = true;
                self.server_event(ev)?;
            }
            for dir in [Dir::ToServer, Dir::ToClient] {
                let now = self.now;
                let from = match dir {
                    Dir::ToServer => &mut self.client,
                    Dir::ToClient => &mut self.server,
                };
                let mut buf = Vec::new();
                while let Some(t) = from.poll_transmit(now, &mut buf) {
                    if let Some(b) = t.body {
                        buf.extend_from_slice(&b);
                    }
                }
                if buf.is_empty() {
                    continue;
                }
                busy = true;
                for f in frames_of(&buf) {
                    if dir == Dir::ToServer && f.typ == FrameType::Data {
                        self.check_credit(&f)?;
                    }
                    self.net.entry(dir).or_default().push_back(f);
                }
            }
            if !busy {
                break;
            }
        }
        self.check_state()
    }

    /// Credit never exceeded: what the client wrote on a request is within
    /// the initial credit or the largest ACK it received for it.
    fn check_credit(&mut self, f: &Frame) -> Result<(), String> {
        let (header, body) = decode_data_payload(&f.payload).map_err(|e| e.to_string())?;
        let id = header.corr_id.unwrap_or(0);
        let sent = self.client_sent.entry(id).or_default();
        *sent += body.len() as u64;
        let initial = self.client.negotiated().map_or(0, |n| n.credit);
        let limit = self
            .client_granted
            .get(&id)
            .copied()
            .unwrap_or(0)
            .max(initial);
        if *sent > limit {
            return Err(format!(
                "client sent {sent} bytes on #{id} with {limit} credit"
            ));
        }
        Ok(())
    }

    fn check_state(&mut self) -> Result<(), String> {
        for (name, c) in [("client", &self.client), ("server", &self.server)] {
            let limit = c.negotiated().map_or(0, |n| n.max_inflight) as usize;
            if c.open_requests() > limit || c.open_requests() > 2 {
                return Err(format!("{name}: {} requests open", c.open_requests()));
            }
            if c.buffered_input() > c.buffered_input_bound() {
                return Err(format!("{name}: buffered input above its bound"));
            }
        }
        // No object completed unverified, on the server...
        for (id, r) in &mut self.server_reqs {
            while let Some(&(obj, len)) = r.verified.first() {
                if (r.staged.len() as u64) < len {
                    break;
                }
                let bytes: Vec<u8> = r.staged.drain(..len as usize).collect();
                if ObjectId::of(&bytes) != obj {
                    return Err(format!("server #{id}: {obj} verified over other bytes"));
                }
                r.committed.push(obj);
                r.verified.remove(0);
            }
        }
        // ...and a put the client saw complete names the object it sent.
        for (id, r) in &self.client_reqs {
            if r.outcome == Some(RequestOutcome::Completed) {
                let want = ObjectId::of(OBJECTS[r.object]);
                if r.answer != Some(want) {
                    return Err(format!("client #{id} completed with answer {:?}", r.answer));
                }
            }
        }
        Ok(())
    }

    fn client_event(&mut self, ev: Event) -> Result<(), String> {
        match ev {
            Event::Finished { id, obj } => {
                if let Some(r) = self.client_reqs.get_mut(&id.0) {
                    r.answer = obj;
                }
            }
            Event::RequestEnded { id, outcome } => {
                let r = self
                    .client_reqs
                    .get_mut(&id.0)
                    .ok_or(format!("client: {id} ended but never started"))?;
                if r.outcome.is_some() {
                    return Err(format!("client: {id} ended twice"));
                }
                r.outcome = Some(outcome);
            }
            Event::ObjectVerified { .. } | Event::Readable { .. } => {
                return Err("client received DATA the server never sends".into());
            }
            Event::Closed { .. } => self.client_closed = true,
            _ => {}
        }
        Ok(())
    }

    fn server_event(&mut self, ev: Event) -> Result<(), String> {
        match ev {
            Event::RequestStarted { id, .. } => {
                if let Some(r) = self.server_reqs.get(&id.0) {
                    if r.outcome.is_none() {
                        return Err(format!("server: {id} started twice"));
                    }
                }
                self.server_reqs.insert(id.0, ServerReq::default());
            }
            Event::Readable { id } => {
                if let Some(r) = self.server_reqs.get_mut(&id.0) {
                    r.readable = true;
                }
            }
            Event::ObjectVerified { id, obj, len, .. } => {
                let r = self
                    .server_reqs
                    .get_mut(&id.0)
                    .ok_or("server: verified on unknown request")?;
                r.verified.push((obj, len));
            }
            Event::Finished { id, .. } => {
                if let Some(r) = self.server_reqs.get_mut(&id.0) {
                    r.peer_finished = true;
                }
            }
            Event::RequestEnded { id, outcome } => {
                let r = self
                    .server_reqs
                    .get_mut(&id.0)
                    .ok_or(format!("server: {id} ended but never started"))?;
                if r.outcome.is_some() {
                    return Err(format!("server: {id} ended twice"));
                }
                r.outcome = Some(outcome);
            }
            Event::Closed { .. } => self.server_closed = true,
            _ => {}
        }
        Ok(())
    }

    /// Application steps enabled now (no network, no time).
    fn app_actions(&self) -> Vec<PairAction> {
        let mut v = Vec::new();
        if self.client.is_established()
            && self.started < self.params.requests
            && self.client.open_requests() < 2
        {
            v.push(PairAction::Start);
        }
        for (&id, r) in &self.client_reqs {
            if r.outcome.is_some() {
                continue;
            }
            let unsent = r.stream.as_ref().map_or(0, SendStream::unsent);
            let credit = self.client.send_credit(RequestId(id)).unwrap_or(0);
            if unsent > 0 && credit > 0 {
                v.push(PairAction::Pump(id));
            }
            if unsent == 0 && !r.finished {
                v.push(PairAction::ClientFinish(id));
            }
        }
        for (&id, r) in &self.server_reqs {
            if r.outcome.is_some() {
                continue;
            }
            if !r.accepted {
                v.push(PairAction::Accept(id));
            }
            if r.readable {
                v.push(PairAction::Read(id));
            }
            if r.peer_finished && !r.finished && !r.committed.is_empty() && r.verified.is_empty() {
                v.push(PairAction::ServerFinish(id));
            }
        }
        v
    }

    fn deadline(&self) -> Option<Instant> {
        [self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    fn do_tick(&mut self) {
        if let Some(d) = self.deadline() {
            self.now = self.now.max(d);
        }
        let now = self.now;
        self.client.handle_timeout(now);
        self.server.handle_timeout(now);
    }

    fn pump(&mut self, id: u64) {
        if let Some(stream) = self
            .client_reqs
            .get_mut(&id)
            .and_then(|r| r.stream.as_mut())
        {
            let _ = stream.poll(&mut self.client);
        }
    }
}

impl System for PairSystem {
    type Action = PairAction;
    type Params = PairParams;

    fn init(params: &PairParams) -> Self {
        let params = *params;
        let now = *EPOCH.get_or_init(Instant::now);
        let cfg = config(params.timeouts);
        let mut s = Self {
            params,
            now,
            client: Connection::client(cfg.clone(), now),
            server: Connection::server(cfg, now),
            net: BTreeMap::new(),
            client_reqs: BTreeMap::new(),
            server_reqs: BTreeMap::new(),
            client_granted: BTreeMap::new(),
            client_sent: BTreeMap::new(),
            started: 0,
            drops: 0,
            dups: 0,
            corrupts: 0,
            ticks: 0,
            client_closed: false,
            server_closed: false,
        };
        if let Err(e) = s.settle() {
            unreachable!("initial state broken: {e}");
        }
        s
    }

    fn actions(&self) -> Vec<PairAction> {
        let mut v = Vec::new();
        for (&dir, q) in &self.net {
            let Some(head) = q.front() else { continue };
            v.push(PairAction::Deliver(dir));
            if self.drops < self.params.drops {
                v.push(PairAction::Drop(dir));
            }
            if self.dups < self.params.dups {
                v.push(PairAction::Duplicate(dir));
            }
            if self.corrupts < self.params.corrupts && head.typ == FrameType::Data {
                v.push(PairAction::Corrupt(dir));
            }
        }
        v.extend(self.app_actions());
        if self.ticks < self.params.ticks && self.deadline().is_some() {
            v.push(PairAction::Tick);
        }
        v
    }

    fn apply(&mut self, action: &PairAction) -> Result<(), String> {
        match *action {
            PairAction::Deliver(dir) | PairAction::Duplicate(dir) => {
                let q = self.net.entry(dir).or_default();
                let frame = if *action == PairAction::Deliver(dir) {
                    q.pop_front()
                } else {
                    self.dups += 1;
                    q.front().cloned()
                };
                if let Some(f) = frame {
                    self.deliver(dir, &f);
                }
            }
            PairAction::Drop(dir) => {
                self.drops += 1;
                self.net.entry(dir).or_default().pop_front();
            }
            PairAction::Corrupt(dir) => {
                self.corrupts += 1;
                if let Some(f) = self.net.entry(dir).or_default().front_mut() {
                    let mut p = f.payload.to_vec();
                    if let Some(last) = p.last_mut() {
                        *last ^= 1;
                    }
                    f.payload = p.into();
                }
            }
            PairAction::Start => {
                let object = self.started;
                self.started += 1;
                let now = self.now;
                let start = oap_core::payload::Start {
                    op: Some("put".into()),
                    ..Default::default()
                };
                let id = self.client.start(now, start).map_err(|e| e.to_string())?;
                let bytes = Bytes::from_static(OBJECTS[object]);
                let stream =
                    SendStream::open(&mut self.client, id, OutgoingObject::of(&bytes), bytes)
                        .map_err(|e| e.to_string())?;
                self.client_reqs.insert(
                    id.0,
                    ClientReq {
                        object,
                        stream: Some(stream),
                        ..ClientReq::default()
                    },
                );
                self.pump(id.0);
            }
            PairAction::Pump(id) => self.pump(id),
            PairAction::ClientFinish(id) => {
                if let Some(r) = self.client_reqs.get_mut(&id) {
                    r.finished = true;
                    let obj = ObjectId::of(OBJECTS[r.object]);
                    self.client
                        .finish(RequestId(id), Some(obj))
                        .map_err(|e| format!("client finish: {e}"))?;
                }
            }
            PairAction::Accept(id) => {
                if let Some(r) = self.server_reqs.get_mut(&id) {
                    r.accepted = true;
                    self.server
                        .accept(RequestId(id))
                        .map_err(|e| format!("accept: {e}"))?;
                }
            }
            PairAction::Read(id) => {
                if let Some(r) = self.server_reqs.get_mut(&id) {
                    match self.server.read(RequestId(id), 2) {
                        Some(c) => r.staged.extend_from_slice(&c.bytes),
                        None => r.readable = false,
                    }
                }
            }
            PairAction::ServerFinish(id) => {
                if let Some(r) = self.server_reqs.get_mut(&id) {
                    r.finished = true;
                    let obj = r.committed.last().copied();
                    self.server
                        .finish(RequestId(id), obj)
                        .map_err(|e| format!("server finish: {e}"))?;
                }
            }
            PairAction::Tick => {
                self.ticks += 1;
                self.do_tick();
            }
        }
        self.settle()
    }

    /// Every field, named so that a new one must be hashed or left out
    /// here on purpose; each connection hashes its own
    /// (`Connection::model_fingerprint`).
    fn fingerprint(&self) -> u64 {
        let Self {
            // The same for every state of one exploration.
            params: _,
            now,
            client,
            server,
            net,
            client_reqs,
            server_reqs,
            client_granted,
            client_sent,
            started,
            drops,
            dups,
            corrupts,
            ticks,
            client_closed,
            server_closed,
        } = self;
        let mut h = DefaultHasher::new();
        client.model_fingerprint(&mut h);
        server.model_fingerprint(&mut h);
        (
            now,
            net,
            client_reqs,
            server_reqs,
            client_granted,
            client_sent,
        )
            .hash(&mut h);
        (
            started,
            drops,
            dups,
            corrupts,
            ticks,
            client_closed,
            server_closed,
        )
            .hash(&mut h);
        h.finish()
    }

    /// Every request ends: from this state, a fair continuation (deliver
    /// everything, take every application step, let time run to the next
    /// deadline when nothing else can happen) ends every request the
    /// client started, on both sides, within a bounded number of rounds.
    fn liveness(mut self) -> Result<(), String> {
        self.params.requests = self.started;
        for _ in 0..200 {
            let all_ended = self.client_reqs.values().all(|r| r.outcome.is_some())
                && self.server_reqs.values().all(|r| r.outcome.is_some());
            if all_ended {
                return Ok(());
            }
            let mut acted = false;
            for dir in [Dir::ToServer, Dir::ToClient] {
                if self.net.get(&dir).is_some_and(|q| !q.is_empty()) {
                    self.apply(&PairAction::Deliver(dir))?;
                    acted = true;
                }
            }
            for a in self.app_actions() {
                self.apply(&a)?;
                acted = true;
            }
            if !acted {
                if self.deadline().is_none() {
                    let open: BTreeSet<u64> = self
                        .client_reqs
                        .iter()
                        .filter(|(_, r)| r.outcome.is_none())
                        .map(|(id, _)| *id)
                        .collect();
                    return Err(format!(
                        "stuck: requests {open:?} never end and no deadline is set"
                    ));
                }
                self.do_tick();
                self.settle()?;
            }
        }
        Err("requests still open after 200 fair rounds".into())
    }
}
