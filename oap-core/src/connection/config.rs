//! Connection settings and the values HELLO settles on.

use std::time::Duration;

use crate::limits::{
    DEFAULT_CREDIT, DEFAULT_MAX_FRAME, DEFAULT_MAX_INFLIGHT, DEFAULT_MAX_OBJECT_BYTES,
    DEFAULT_WINDOW_GROWTH, STORAGE_CHUNK,
};

/// Smallest `max_frame` either side may negotiate: below it a DATA header
/// with a full object id no longer fits in a frame.
pub const MIN_MAX_FRAME: u32 = 256;

/// Default [`ConnectionConfig::keepalive_interval`]: a quarter of the
/// default idle timeout (60 s).
pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends HELLO first and opens requests.
    Client,
    /// Answers HELLO and serves requests.
    Server,
}

/// Local settings of one connection.
///
/// The three limits are this side's proposal (client) or ceiling (server);
/// what applies is what the HELLO exchange settles on, see [`Negotiated`].
///
/// `Debug` never shows the `token`: it prints `Some("<redacted>")`.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Largest payload this side accepts. At most 1 MiB unless
    /// `allow_large_frames` is set.
    pub max_frame: u32,
    /// Permits `max_frame` above 1 MiB (an out-of-band agreement).
    pub allow_large_frames: bool,
    /// Most requests open at once.
    pub max_inflight: u32,
    /// Per-request receive window in DATA body bytes (the initial credit).
    pub credit: u64,
    /// Receive window, beyond the initial credit, this side may add across
    /// all open requests. A request whose sender used up all its credit
    /// (so the window, not the sender, limits the transfer) gets its window
    /// doubled from this budget at each credit update; the budget returns
    /// when the request ends. 0 keeps every window at the initial credit.
    /// It adds to the receive memory bound, see
    /// [`super::Connection::buffered_input_bound`].
    pub window_growth: u64,
    /// Largest object, in bytes, this side accepts from its peer (`None`:
    /// no limit). Checked on the first DATA frame of each incoming object,
    /// against its `total_len` (or, for a whole-object DATA frame without
    /// one, its body length), before any byte of it becomes readable: an
    /// object over the limit ends its request with ERROR `too_large`; the
    /// connection goes on. Local only, never negotiated. Default
    /// [`crate::limits::DEFAULT_MAX_OBJECT_BYTES`] (64 GiB).
    pub max_object_bytes: Option<u64>,
    /// Largest DATA body this side puts in one frame when sending.
    pub data_chunk: usize,
    /// Time allowed from creation until the HELLO exchange completes.
    pub handshake_timeout: Option<Duration>,
    /// Time allowed without receiving any byte.
    pub idle_timeout: Option<Duration>,
    /// Time a request may go without any frame of its own. Long-lived
    /// requests ([`super::Connection::keep_alive`]) have none.
    pub request_timeout: Option<Duration>,
    /// Time a frame may take to arrive whole once its first byte arrived:
    /// a peer that drips a frame byte by byte (each byte keeping the idle
    /// timeout at bay) is closed with ERROR `timeout` when it passes.
    /// Allow for the largest frame (`max_frame`) at the slowest link you
    /// serve. Default 30 s.
    pub frame_timeout: Option<Duration>,
    /// Time the transport may go without taking any of the bytes this side
    /// has to send (the peer stopped reading). The driver then drops the
    /// connection without waiting any longer, whatever state it is in,
    /// closing included. Read by drivers, not by [`super::Connection`]
    /// itself (it never sees the transport). Default 30 s.
    pub write_timeout: Option<Duration>,
    /// How often this side sends a keepalive (an ACK restating its grant)
    /// on each long-lived request, so neither side's idle timeout fires
    /// while both are alive. Keep it well under the peer's idle timeout
    /// (default: a quarter of the default).
    pub keepalive_interval: Duration,
    /// Application protocol announced in HELLO (client).
    pub app_proto_id: Option<String>,
    /// Tenant announced in HELLO (client). With a `token`, it must be the
    /// token's tenant or absent; without one, absent or `anonymous`.
    pub tenant: Option<String>,
    /// Bearer token sent in HELLO (client): names the tenant the server
    /// accounts and authorizes the connection as. Send it only over TLS or
    /// to loopback (the SDK's plaintext `Client::connect` refuses anything
    /// else).
    pub token: Option<String>,
    /// Most bytes of control frames (ACK, ERROR, END, ...) allowed to wait
    /// for the transport. A peer that keeps provoking answers without
    /// reading them is cut off here instead of growing the queue.
    pub max_control_backlog: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            max_frame: DEFAULT_MAX_FRAME,
            allow_large_frames: false,
            max_inflight: DEFAULT_MAX_INFLIGHT,
            credit: DEFAULT_CREDIT,
            window_growth: DEFAULT_WINDOW_GROWTH,
            max_object_bytes: Some(DEFAULT_MAX_OBJECT_BYTES),
            keepalive_interval: DEFAULT_KEEPALIVE_INTERVAL,
            data_chunk: STORAGE_CHUNK,
            handshake_timeout: Some(Duration::from_secs(10)),
            idle_timeout: Some(Duration::from_secs(60)),
            request_timeout: Some(Duration::from_secs(30)),
            frame_timeout: Some(Duration::from_secs(30)),
            write_timeout: Some(Duration::from_secs(30)),
            app_proto_id: None,
            tenant: None,
            token: None,
            max_control_backlog: 256 * 1024,
        }
    }
}

impl std::fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("max_frame", &self.max_frame)
            .field("allow_large_frames", &self.allow_large_frames)
            .field("max_inflight", &self.max_inflight)
            .field("credit", &self.credit)
            .field("window_growth", &self.window_growth)
            .field("max_object_bytes", &self.max_object_bytes)
            .field("data_chunk", &self.data_chunk)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("frame_timeout", &self.frame_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("keepalive_interval", &self.keepalive_interval)
            .field("app_proto_id", &self.app_proto_id)
            .field("tenant", &self.tenant)
            .field(
                "token",
                &self.token.as_ref().map(|_| crate::payload::REDACTED),
            )
            .field("max_control_backlog", &self.max_control_backlog)
            .finish()
    }
}

impl ConnectionConfig {
    /// `max_frame` as this side may actually use it: clamped to 1 MiB unless
    /// large frames are allowed, and never below [`MIN_MAX_FRAME`].
    pub fn effective_max_frame(&self) -> u32 {
        let cap = if self.allow_large_frames {
            u32::MAX
        } else {
            DEFAULT_MAX_FRAME
        };
        self.max_frame.clamp(MIN_MAX_FRAME, cap)
    }
}

/// The limits both sides apply once the HELLO exchange is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// Largest payload either side sends.
    pub max_frame: u32,
    /// Most requests open at once.
    pub max_inflight: u32,
    /// Initial per-request credit in each direction.
    pub credit: u64,
}
