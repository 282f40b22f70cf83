//! Per-request state: the two halves and their credit.

use std::fmt;
use std::time::Instant;

use super::Chunk;
use super::assembly::Assembly;
use crate::object_id::ObjectId;
use crate::spill_deque::SpillDeque;

/// Identifies a request on one connection: its `corr_id` (0 for the legacy
/// single request that carries none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One open request.
#[derive(Debug, Hash)]
pub(super) struct Request {
    /// The peer omitted `corr_id`; our frames for it omit it too.
    pub legacy: bool,
    /// (Server) the application has accepted it.
    pub accepted: bool,
    pub send: SendHalf,
    pub recv: RecvHalf,
    /// Latest instant by which the request must see a frame.
    pub deadline: Option<Instant>,
    /// (Long-lived requests) when the next keepalive is due.
    pub keepalive: Option<Instant>,
}

impl Request {
    pub(super) fn new(legacy: bool, credit: u64, deadline: Option<Instant>) -> Self {
        Self {
            legacy,
            accepted: false,
            send: SendHalf {
                sent: 0,
                limit: credit,
                finished: false,
                object: None,
            },
            recv: RecvHalf {
                base_window: credit,
                window: credit,
                granted: credit,
                received: 0,
                consumed: 0,
                finished: false,
                chunks: SpillDeque::new(),
                buffered: 0,
                assembly: None,
            },
            deadline,
            keepalive: None,
        }
    }

    /// Both halves done and nothing left to read.
    pub(super) fn is_complete(&self) -> bool {
        self.send.finished && self.recv.finished && self.recv.chunks.is_empty()
    }

    /// The `corr_id` to put in our frames for request `id`.
    pub(super) fn wire_id(&self, id: RequestId) -> Option<u64> {
        (!self.legacy).then_some(id.0)
    }
}

/// What this side sends.
#[derive(Debug, Hash)]
pub(super) struct SendHalf {
    /// DATA body bytes queued so far.
    pub sent: u64,
    /// Absolute credit the peer granted: `sent` never exceeds it.
    pub limit: u64,
    /// END queued.
    pub finished: bool,
    /// The object being sent.
    pub object: Option<OutObject>,
}

impl SendHalf {
    pub(super) fn available(&self) -> u64 {
        self.limit.saturating_sub(self.sent)
    }
}

/// An object being sent.
#[derive(Debug, Clone, Hash)]
pub(super) struct OutObject {
    pub obj: ObjectId,
    pub total_len: u64,
    pub next_offset: u64,
    pub content_type: Option<String>,
    pub e2e: bool,
}

/// What this side receives.
#[derive(Debug, Hash)]
pub(super) struct RecvHalf {
    /// The window the request started with (the negotiated credit).
    pub base_window: u64,
    /// The credit window: how far `granted` runs ahead of `consumed`.
    pub window: u64,
    /// Absolute credit granted to the peer.
    pub granted: u64,
    /// DATA body bytes received.
    pub received: u64,
    /// Body bytes the application has read.
    pub consumed: u64,
    /// The peer sent END.
    pub finished: bool,
    /// Received, unread body bytes.
    pub chunks: SpillDeque<Chunk>,
    /// Sum of the unread chunks' lengths.
    pub buffered: u64,
    /// The object being received.
    /// Boxed: it holds a BLAKE3 hasher (about 2 KiB), needed only while an
    /// object arrives, not for every open request.
    pub assembly: Option<Box<Assembly>>,
}

impl RecvHalf {
    /// The new absolute credit to announce, if the application has consumed
    /// at least half a window since the last grant. Granting on consumption
    /// (not receipt) is what bounds the receive buffer by the window.
    ///
    /// If the peer had used all its credit, the window, not the peer, was
    /// what limited the transfer: the window then grows to twice its size,
    /// or at once to `learned` (the largest window an earlier request on
    /// the connection needed) if that is larger, taking at most `spare`
    /// bytes (the connection's growth budget left), so one window round
    /// trip carries more next time.
    pub(super) fn credit_update(&mut self, spare: u64, learned: u64) -> Option<u64> {
        if !self.update_due() {
            return None;
        }
        if self.received >= self.granted {
            let want = self.window.saturating_mul(2).max(learned);
            self.window += (want - self.window).min(spare);
        }
        self.granted = self.consumed.saturating_add(self.window);
        Some(self.granted)
    }

    /// Whether reading has freed enough of the window (half of it) that a
    /// credit update is worth an ACK.
    fn update_due(&self) -> bool {
        let target = self.consumed.saturating_add(self.window);
        !self.finished && target.saturating_sub(self.granted) >= self.window.div_ceil(2)
    }

    /// Whether the next [`credit_update`](Self::credit_update) would grow
    /// the window, and so needs the connection's spare growth (a sum over
    /// every open request, not worth computing on every read).
    pub(super) fn wants_growth(&self) -> bool {
        self.update_due() && self.received >= self.granted
    }

    /// How far the window has grown beyond where it started.
    pub(super) fn growth(&self) -> u64 {
        self.window - self.base_window
    }
}
