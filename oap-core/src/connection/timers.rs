//! Deadlines: handshake, idle, frame and per-request timeouts, and the
//! keepalives of long-lived requests.

use std::time::Instant;

use super::{CommandError, Connection, RequestId, State};
use crate::payload::{Ack, ErrorCode, ErrorEnvelope};

impl Connection {
    /// The earliest instant at which [`Connection::handle_timeout`] must be
    /// called, if any. Re-read it after every input.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, State::Closing | State::Closed) {
            return None;
        }
        let handshake = match self.state {
            State::Handshake => self.handshake_deadline,
            _ => None,
        };
        // A plain loop: drivers ask at every round, ten times per request
        // or more, and the chained iterators cost three times as much.
        let mut next = None;
        let mut consider = |d: Option<Instant>| {
            if let Some(d) = d {
                if next.is_none_or(|n| d < n) {
                    next = Some(d);
                }
            }
        };
        consider(handshake);
        consider(self.idle_deadline);
        consider(self.frame_deadline);
        for r in self.requests.values() {
            consider(r.deadline);
            consider(r.keepalive);
        }
        next
    }

    /// The soonest instant a deadline set by an input or command at `now`
    /// or later can fall: `now` plus the shortest of the idle, request,
    /// frame and write timeouts (the handshake's is set only at creation,
    /// and keepalives only for long-lived requests). `None` if all four
    /// are off.
    ///
    /// For a driver's timer: armed no later than this (and than
    /// [`Connection::poll_timeout`]), it never has to be replaced because
    /// a later input brought a deadline earlier than it, as happens on
    /// every connection that sends its first request (a request's
    /// deadline before the idle one). The price is a wake-up before the
    /// idle deadline, once per shortest timeout of an idle connection.
    pub fn soonest_new_deadline(&self, now: Instant) -> Option<Instant> {
        let c = &self.config;
        [
            c.idle_timeout,
            c.request_timeout,
            c.frame_timeout,
            c.write_timeout,
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| now + t)
    }

    /// Expires every deadline at or before `now`. Calling it early is
    /// harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, State::Closing | State::Closed) {
            return;
        }
        let handshake_due =
            self.state == State::Handshake && self.handshake_deadline.is_some_and(|d| d <= now);
        if handshake_due {
            return self.close_with(
                Some(ErrorEnvelope::new(
                    ErrorCode::Timeout,
                    "HELLO not completed in time",
                )),
                false,
                true,
            );
        }
        if self.frame_deadline.is_some_and(|d| d <= now) {
            return self.close_with(
                Some(ErrorEnvelope::new(
                    ErrorCode::Timeout,
                    "frame not completed in time",
                )),
                false,
                true,
            );
        }
        if self.idle_deadline.is_some_and(|d| d <= now) {
            return self.close_with(
                Some(ErrorEnvelope::new(ErrorCode::Timeout, "connection idle")),
                false,
                true,
            );
        }
        let due: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.fail_request(
                id,
                ErrorEnvelope::new(ErrorCode::Timeout, "request made no progress in time"),
            );
        }
        let keepalives: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.keepalive.is_some_and(|k| k <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in keepalives {
            self.send_keepalive(id, now);
        }
    }

    /// Makes request `id` long-lived: it has no request timeout, and while
    /// it is open this side sends a keepalive every
    /// [`super::ConnectionConfig::keepalive_interval`], whatever else flows
    /// (so each side hears the other at that pace: keepalives that waited
    /// for silence would silence each other), and an idle subscription
    /// keeps its connection open as long as both peers are alive. Call it when opening a subscription (client) or
    /// accepting one (server). Requests of legacy peers (request 0) stay as
    /// they are: the original client expects no keepalive.
    pub fn keep_alive(&mut self, id: RequestId, now: Instant) -> Result<(), CommandError> {
        let interval = self.config.keepalive_interval;
        let req = self.request_mut(id)?;
        if !req.legacy {
            req.deadline = None;
            req.keepalive = Some(now + interval);
        }
        Ok(())
    }

    /// An ACK restating what this side granted on `id`: harmless to the
    /// peer (credit is absolute), and a frame on the request and the
    /// connection for its timers.
    fn send_keepalive(&mut self, id: RequestId, now: Instant) {
        let interval = self.config.keepalive_interval;
        let Some(req) = self.requests.get_mut(&id) else {
            return;
        };
        req.keepalive = Some(now + interval);
        let ack = Ack {
            corr_id: req.wire_id(id),
            credit: req.recv.granted,
        };
        self.queue_control(&ack, true);
    }

    /// Pushes the idle deadline back after input from the peer.
    pub(super) fn touch_idle(&mut self, now: Instant) {
        self.idle_deadline = self.config.idle_timeout.map(|t| now + t);
    }

    /// Pushes a request's deadline back after a frame arrived on it.
    pub(super) fn touch_request(&mut self, id: RequestId, now: Instant) {
        let deadline = self.config.request_timeout.map(|t| now + t);
        if let Some(r) = self.requests.get_mut(&id) {
            // A long-lived request has no deadline to push.
            if r.keepalive.is_none() {
                r.deadline = deadline;
            }
        }
    }
}
