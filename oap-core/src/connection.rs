//! The OAP/1 connection state machine, for both roles.
//!
//! A [`Connection`] never performs IO and never reads a clock. The caller
//! owns the socket and the timer and runs this loop:
//!
//! ```text
//! loop {
//!     // 1. Feed whatever happened, each with the current time:
//!     //      bytes read            -> conn.handle_input(now, &bytes)
//!     //      peer closed its half  -> conn.handle_eof(now)
//!     //      timer fired           -> conn.handle_timeout(now)
//!     //      application command   -> conn.start / accept / send_data /
//!     //                               finish / reject / read / close
//!     // 2. Drain, in this order, until each returns None:
//!     //      conn.poll_event()                -> act on events (commands allowed)
//!     //      conn.poll_transmit(now, &mut buf) -> write buf (then the body, if any)
//!     // 3. Re-arm the timer with conn.poll_timeout() and wait for the next
//!     //    socket readiness, timer expiry or command.
//! }
//! ```
//!
//! To send an object, open a [`SendStream`] on its request and poll it
//! after opening, on every [`Event::CreditGranted`] for that request and
//! whenever its source got bytes: it is the one place that writes an
//! object under credit (`send_data` is the primitive beneath it).
//!
//! Keep reading while a write is pending: the peer may be blocked on its own
//! write until this side reads (both sides sending large objects), and
//! `handle_input` never blocks on the transmit queue. Stop once
//! [`Connection::is_closed`] is true and `poll_transmit` has nothing left.
//!
//! Debug builds assert on misuse (events left undrained for too long,
//! commands on a closed connection are errors, not panics).
//!
//! # Protocol summary
//! HELLO negotiation, requests, credit and errors are specified in
//! `docs/specs/OAP-1.md`; this module implements exactly that text.

mod assembly;
mod commands;
mod config;
mod error;
mod event;
mod input;
mod request;
mod request_map;
mod send_stream;
mod stats;
mod timers;
mod transmit;
mod violation;

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

pub use commands::OutgoingObject;
pub use config::{ConnectionConfig, DEFAULT_KEEPALIVE_INTERVAL, MIN_MAX_FRAME, Negotiated, Role};
pub use error::CommandError;
pub use event::{Chunk, Event, RequestOutcome};
pub use request::RequestId;
pub use request_map::RequestMap;
pub use send_stream::{ChunkSource, ObjectSource, SendState, SendStream};
pub use stats::ConnectionStats;
pub use transmit::Transmit;
pub use violation::Violation;

use crate::frame::{FrameEncoder, FrameType, StreamDecoder};
use crate::limits::{HEADER_LEN, LEGACY_READ_SLACK, MAX_HELLO_STRING};
use crate::payload::{ControlPayload, ErrorEnvelope, Hello, PROTOCOL_NAME};
use request::Request;
use transmit::OutQueue;

/// How many ids of requests this side ended early it remembers, so that
/// frames the peer sent before learning of the end are dropped quietly.
const DISCARD_MEMORY: usize = 128;

/// Events beyond this many undrained means the caller forgot the drain loop.
const EVENT_BACKLOG_HINT: usize = 1 << 16;

/// What to report when a closing connection has drained its queue.
#[derive(Debug, Hash)]
struct Closing {
    error: Option<ErrorEnvelope>,
    by_peer: bool,
    violation: Option<Violation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum State {
    /// HELLO not yet exchanged.
    Handshake,
    /// HELLO exchanged; requests flow.
    Established,
    /// An ERROR or close is queued; input is ignored until it is sent.
    Closing,
    /// Nothing more happens.
    Closed,
}

/// One OAP/1 connection: a sans-IO state machine (see the module docs for
/// the drain loop the caller runs).
#[derive(Debug)]
pub struct Connection {
    role: Role,
    /// Behind a pointer, as is `peer_hello`: together they are a third of
    /// the connection, read seldom, and without them a gateway's endpoint
    /// fits an allocation glibc serves from its per-thread cache (up to
    /// 1 KiB) instead of its larger bins, which first consolidate freed
    /// chunks. Shared, not boxed: a server's connections all take the same
    /// settings, and need not each copy them (see [`Connection::server`]).
    config: Arc<ConnectionConfig>,
    state: State,
    negotiated: Option<Negotiated>,
    decoder: StreamDecoder,
    encoder: FrameEncoder,
    out: OutQueue,
    events: VecDeque<Event>,
    /// Boxed: a peer choosing ids out of order makes inserts shift
    /// entries, and small boxes keep that cheap.
    requests: RequestMap<Box<Request>>,
    /// Ids this side ended early; the peer's late frames for them are dropped.
    discarded: VecDeque<RequestId>,
    next_corr_id: u64,
    handshake_deadline: Option<Instant>,
    idle_deadline: Option<Instant>,
    /// When the frame the decoder holds part of must be whole.
    frame_deadline: Option<Instant>,
    /// No open request's deadline or keepalive comes before this: the
    /// earliest of them when last computed, or earlier. See
    /// [`Connection::poll_timeout`].
    requests_due: Option<Instant>,
    /// The peer closed its sending half (clean end of stream) while
    /// requests it had ended were still being answered: they finish, then
    /// the connection closes.
    peer_eof: bool,
    /// The error or close to report once the queue has drained.
    closing: Option<Closing>,
    /// The peer's HELLO (its tenant and application protocol).
    peer_hello: Option<Box<Hello>>,
    /// The peer's first bytes were a TLS record ([`Connection::peer_speaks_tls`]).
    peer_speaks_tls: bool,
    stats: ConnectionStats,
    /// The largest receive window a request on this connection has needed:
    /// a later request held back by credit grows straight to it instead of
    /// doubling from the initial credit again.
    learned_window: u64,
}

impl Connection {
    /// A client connection. Its HELLO is queued at once: drain
    /// `poll_transmit` before waiting for input. `config` is a
    /// [`ConnectionConfig`], or an `Arc` of one to share among connections.
    pub fn client(config: impl Into<Arc<ConnectionConfig>>, now: Instant) -> Self {
        let mut conn = Self::new(Role::Client, config.into(), now);
        let hello = Hello {
            max_frame: Some(conn.config.effective_max_frame()),
            max_inflight: Some(conn.config.max_inflight.max(1)),
            credit: Some(conn.config.credit.max(1)),
            app_proto_id: conn.config.app_proto_id.clone(),
            tenant: conn.config.tenant.clone(),
            token: conn.config.token.clone(),
            ..Hello::legacy()
        };
        conn.queue_control(&hello, false);
        conn
    }

    /// A server connection, waiting for the client's HELLO. Pass `config`
    /// as an `Arc<ConnectionConfig>` the server keeps, to share one copy
    /// among all its connections (a plain [`ConnectionConfig`] is moved
    /// into an `Arc` of its own).
    pub fn server(config: impl Into<Arc<ConnectionConfig>>, now: Instant) -> Self {
        Self::new(Role::Server, config.into(), now)
    }

    fn new(role: Role, config: Arc<ConnectionConfig>, now: Instant) -> Self {
        let max_frame = config.effective_max_frame();
        Self {
            role,
            state: State::Handshake,
            negotiated: None,
            decoder: StreamDecoder::with_max_frame(max_frame),
            encoder: FrameEncoder::with_max_frame(max_frame),
            out: OutQueue::default(),
            events: VecDeque::new(),
            requests: RequestMap::new(),
            discarded: VecDeque::new(),
            next_corr_id: 1,
            handshake_deadline: config.handshake_timeout.map(|t| now + t),
            idle_deadline: config.idle_timeout.map(|t| now + t),
            frame_deadline: None,
            requests_due: None,
            peer_eof: false,
            closing: None,
            peer_hello: None,
            peer_speaks_tls: false,
            stats: ConnectionStats::default(),
            learned_window: 0,
            config,
        }
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The settings this connection was made with (drivers read
    /// [`ConnectionConfig::write_timeout`] here).
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    /// The negotiated limits, once the HELLO exchange is complete.
    pub fn negotiated(&self) -> Option<Negotiated> {
        self.negotiated
    }

    /// Whether the HELLO exchange completed and the connection is open.
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Whether the connection is over. Keep draining `poll_transmit` until
    /// it returns `None`: a final ERROR may still be queued.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Whether the connection is closing: every request has ended (as
    /// aborted), and its last bytes, a final ERROR perhaps, wait for
    /// `poll_transmit`. [`Event::Closed`], with the reason, follows once
    /// they are taken.
    pub fn is_closing(&self) -> bool {
        self.state == State::Closing
    }

    /// Whether the connection closed because the peer's first bytes were a
    /// TLS record ([`DecodeError::is_tls_record`]): the peer speaks TLS and
    /// this side plaintext, so a user should hear which side needs TLS
    /// rather than a version number. The close itself is the usual
    /// `bad_version` one (spec §2).
    ///
    /// [`DecodeError::is_tls_record`]: crate::frame::DecodeError::is_tls_record
    pub fn peer_speaks_tls(&self) -> bool {
        self.peer_speaks_tls
    }

    /// Feeds `h` everything that decides this connection's future
    /// behaviour, for the model checker (`model-check`), which merges
    /// states with equal fingerprints. Not a stable API.
    ///
    /// Every field is named below, so a new field does not compile until
    /// it is either hashed or left out here with its reason.
    #[doc(hidden)]
    pub fn model_fingerprint<H: Hasher>(&self, h: &mut H) {
        let Self {
            role,
            // Fixed when the connection is made: the same for every state
            // of one exploration.
            config: _,
            state,
            negotiated,
            decoder,
            encoder,
            out,
            events,
            requests,
            discarded,
            next_corr_id,
            handshake_deadline,
            idle_deadline,
            frame_deadline,
            requests_due,
            peer_eof,
            closing,
            peer_hello,
            peer_speaks_tls,
            // Counters for metrics: nothing reads them to decide.
            stats: _,
            learned_window,
        } = self;
        (role, state, negotiated).hash(h);
        decoder.model_fingerprint(h);
        encoder.max_frame().hash(h);
        (out, events, requests, discarded, next_corr_id).hash(h);
        (
            handshake_deadline,
            idle_deadline,
            frame_deadline,
            requests_due,
        )
            .hash(h);
        (
            peer_eof,
            closing,
            peer_hello,
            peer_speaks_tls,
            learned_window,
        )
            .hash(h);
    }

    /// Counters for metrics.
    pub fn stats(&self) -> &ConnectionStats {
        &self.stats
    }

    /// Requests currently open.
    pub fn open_requests(&self) -> usize {
        self.requests.len()
    }

    /// Whether the driver should read (and call [`Connection::handle_input`])
    /// now. `false` while the legacy request 0 — whose sender never waits
    /// for credit — holds a window's worth of unread bytes: not reading
    /// lets the transport's flow control hold the sender back until the
    /// application reads (OAP-1 §6.3). While it is open, feed at most
    /// [`crate::limits::LEGACY_READ_SLACK`] bytes per call.
    pub fn wants_input(&self) -> bool {
        self.requests
            .values()
            .filter(|r| r.legacy)
            .all(|r| r.recv.buffered < r.recv.window)
    }

    /// Bytes held because of the peer's input: the partial frame in the
    /// decoder plus unread received bodies. Bounded by `max_frame + 6 +
    /// credit × max_inflight + window_growth`, plus `max_frame +
    /// LEGACY_READ_SLACK` for the legacy request 0 (see
    /// [`Connection::buffered_input_bound`]), whatever the peer does.
    pub fn buffered_input(&self) -> u64 {
        let bodies: u64 = self.requests.values().map(|r| r.recv.buffered).sum();
        self.decoder.buffered() as u64 + bodies
    }

    /// What is left of [`ConnectionConfig::window_growth`] for growing one
    /// more request's receive window.
    fn window_growth_spare(&self) -> u64 {
        let used: u64 = self.requests.values().map(|r| r.recv.growth()).sum();
        self.config.window_growth.saturating_sub(used)
    }

    /// The bound [`Connection::buffered_input`] never exceeds.
    pub fn buffered_input_bound(&self) -> u64 {
        let limits = self.negotiated.unwrap_or(Negotiated {
            max_frame: self.config.effective_max_frame(),
            max_inflight: self.config.max_inflight,
            credit: self.config.credit,
        });
        let frame = u64::from(self.config.effective_max_frame().max(limits.max_frame));
        // Request 0 (legacy), while open, may run past its grant by a
        // frame and a read.
        let legacy = if self.requests.values().any(|r| r.legacy) {
            frame + LEGACY_READ_SLACK as u64
        } else {
            0
        };
        (frame + HEADER_LEN as u64)
            .saturating_add(limits.credit.saturating_mul(u64::from(limits.max_inflight)))
            .saturating_add(self.config.window_growth)
            .saturating_add(legacy)
    }

    /// Bytes of credit the peer has granted and this side has not used, for
    /// request `id`.
    pub fn send_credit(&self, id: RequestId) -> Option<u64> {
        self.requests.get(&id).map(|r| r.send.available())
    }

    /// Opens request `id` with `credit` for each half and the request
    /// timeout running from `now`.
    fn open_request(&mut self, id: RequestId, legacy: bool, credit: u64, now: Instant) {
        let deadline = self.config.request_timeout.map(|t| now + t);
        self.requests
            .insert(id, Box::new(Request::new(legacy, credit, deadline)));
        self.request_due_at(deadline);
        self.stats.requests_started += 1;
    }

    fn push_event(&mut self, ev: Event) {
        debug_assert!(
            self.events.len() < EVENT_BACKLOG_HINT,
            "poll_event is not being drained"
        );
        self.events.push_back(ev);
    }

    /// Takes the next event. Call until `None` after every input.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether [`Connection::poll_event`] has an event to give: for a
    /// caller whose event loop takes a shared lock first (a gateway's
    /// request quotas), so that a round with nothing to react to takes
    /// none.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Queues a control frame; `urgent` ones (ACK, HELLO) overtake the
    /// FIFO.
    fn queue_control<P: ControlPayload>(&mut self, payload: &P, urgent: bool) {
        self.queue_frame_with(P::FRAME_TYPE, urgent, |dst| payload.encode_into(dst));
    }

    /// Queues an ERROR, its message shortened (at a character boundary,
    /// ending in `…`) until the frame fits the peer's `max_frame`: an
    /// error this side must send is never dropped for its length.
    fn queue_error(&mut self, env: &ErrorEnvelope) {
        let max = self.encoder.max_frame() as usize;
        let mut bytes = env.encode();
        if bytes.len() > max {
            let mut short = env.clone();
            while bytes.len() > max && !short.msg.is_empty() {
                // Escaping may make a byte of text several bytes of JSON.
                let cut = short.msg.len().saturating_sub(bytes.len() - max + 3);
                let mut at = cut.min(short.msg.len());
                while !short.msg.is_char_boundary(at) {
                    at -= 1;
                }
                short.msg.truncate(at);
                short.msg.push('…');
                if at == 0 {
                    short.msg.clear();
                }
                bytes = short.encode();
            }
        }
        self.queue_frame(FrameType::Error, &bytes, false);
    }

    /// Ends the connection with `error` (sent to the peer unless it came
    /// from the peer), aborting every open request. With `flush`, what is
    /// queued is still sent before the connection reports itself closed.
    fn close_with(&mut self, error: Option<ErrorEnvelope>, by_peer: bool, flush: bool) {
        let closing = Closing {
            error,
            by_peer,
            violation: None,
        };
        self.close_as(closing, flush);
    }

    /// Ends the connection as `closing` says (see [`Connection::close_with`]).
    fn close_as(&mut self, closing: Closing, flush: bool) {
        if matches!(self.state, State::Closing | State::Closed) {
            return;
        }
        if !flush {
            self.out.clear();
        }
        if let (Some(e), false) = (&closing.error, closing.by_peer) {
            *self.stats.rejects.entry(e.code).or_default() += 1;
            let e = e.clone();
            self.queue_error(&e);
        }
        let ids: Vec<RequestId> = self.requests.keys().copied().collect();
        for id in ids {
            self.requests.remove(&id);
            self.push_event(Event::RequestEnded {
                id,
                outcome: RequestOutcome::Aborted,
            });
        }
        self.state = State::Closing;
        self.closing = Some(closing);
        self.maybe_finish_close();
    }

    /// Moves from Closing to Closed once nothing is left to send.
    fn maybe_finish_close(&mut self) {
        if self.state != State::Closing || !self.out.is_empty() {
            return;
        }
        self.state = State::Closed;
        let Closing {
            error,
            by_peer,
            violation,
        } = self.closing.take().unwrap_or(Closing {
            error: None,
            by_peer: false,
            violation: None,
        });
        self.push_event(Event::Closed {
            error,
            by_peer,
            violation,
        });
    }

    /// Closes the connection for an error of the peer's making.
    fn protocol_error(&mut self, violation: Violation) {
        let closing = Closing {
            error: Some(violation.envelope()),
            by_peer: false,
            violation: Some(violation),
        };
        self.close_as(closing, true);
    }

    /// The transport is gone (a read or write failed): queued output is
    /// discarded, open requests end as aborted and [`Event::Closed`]
    /// follows at once. Call it instead of `handle_eof` when the stream
    /// broke rather than ended.
    pub fn abort(&mut self) {
        self.close_with(None, true, false);
    }

    /// The peer's HELLO, once received (its tenant and application
    /// protocol, for the gateway's quotas and events).
    pub fn peer_hello(&self) -> Option<&Hello> {
        self.peer_hello.as_deref()
    }

    /// Takes the bearer token out of the peer's HELLO (server), so that it
    /// is held no longer than authentication needs: later calls, and
    /// [`Connection::peer_hello`], see none.
    pub fn take_peer_token(&mut self) -> Option<String> {
        self.peer_hello.as_mut()?.token.take()
    }

    fn check_hello(hello: &Hello) -> Result<(), Violation> {
        if hello.hello != PROTOCOL_NAME {
            return Err(Violation::UnsupportedProtocol);
        }
        if hello.max_frame.is_some_and(|m| m < MIN_MAX_FRAME) {
            return Err(Violation::MaxFrameBelowMinimum);
        }
        if hello.max_inflight == Some(0) || hello.credit == Some(0) {
            return Err(Violation::ZeroLimit);
        }
        let strings = [&hello.app_proto_id, &hello.tenant, &hello.token];
        if strings
            .iter()
            .any(|s| s.as_ref().is_some_and(|s| s.len() > MAX_HELLO_STRING))
        {
            return Err(Violation::HelloStringTooLong);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::DefaultHasher;

    use super::*;

    fn fingerprint(conn: &Connection) -> u64 {
        let mut h = DefaultHasher::new();
        conn.model_fingerprint(&mut h);
        h.finish()
    }

    /// The fingerprint once cut from `Debug` text before `stats:` also cut
    /// `learned_window`, which comes after it, and merged these two states:
    /// the second grows a held-back request's window at once, the first
    /// does not.
    #[test]
    fn states_that_differ_only_in_learned_window_fingerprint_apart() {
        let now = Instant::now();
        let a = Connection::server(ConnectionConfig::default(), now);
        let mut b = Connection::server(ConnectionConfig::default(), now);
        assert_eq!(fingerprint(&a), fingerprint(&b), "same path, same state");
        b.learned_window = 1 << 20;
        let before_stats = |c: &Connection| {
            let text = format!("{c:?}");
            let cut = text.find("stats:").expect("Debug shows stats");
            text[..cut].to_owned()
        };
        assert_eq!(before_stats(&a), before_stats(&b), "the old fingerprint");
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn counters_alone_do_not_tell_states_apart() {
        let now = Instant::now();
        let a = Connection::server(ConnectionConfig::default(), now);
        let mut b = Connection::server(ConnectionConfig::default(), now);
        b.stats.frames_in += 1;
        b.stats.bytes_in += 6;
        assert_eq!(fingerprint(&a), fingerprint(&b));
    }
}
