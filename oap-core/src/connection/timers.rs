//! Deadlines: handshake, idle, frame and per-request timeouts, and the
//! keepalives of long-lived requests.

use std::time::Instant;

use super::{CommandError, Connection, RequestId, State};
use crate::payload::{Ack, ErrorCode, ErrorEnvelope};

impl Connection {
    /// When to call [`Connection::handle_timeout`] next, if ever: no
    /// deadline falls before this instant. Re-read it after every input
    /// and command.
    ///
    /// It may come before any deadline. A request's deadline moves later
    /// with each frame on it, and finding the earliest again would take a
    /// pass over every open request at each call, which drivers make once
    /// per round (on a client with 32 requests open, 480 instructions per
    /// small object, 4% of what it runs besides BLAKE3: issue #18). So the
    /// requests' part is the earliest of their deadlines when
    /// [`Connection::handle_timeout`] last looked, or a new request's if
    /// sooner; called then, `handle_timeout` expires nothing and brings
    /// this up to date. That is at most one early call per request timeout
    /// on a busy connection.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, State::Closing | State::Closed) {
            return None;
        }
        let handshake = match self.state {
            State::Handshake => self.handshake_deadline,
            _ => None,
        };
        let requests = match self.requests.is_empty() {
            true => None,
            false => self.requests_due,
        };
        [handshake, self.idle_deadline, self.frame_deadline, requests]
            .into_iter()
            .flatten()
            .min()
    }

    /// Notes that an open request has a deadline or keepalive at `at`:
    /// every one set sooner than those before goes through here.
    pub(super) fn request_due_at(&mut self, at: Option<Instant>) {
        if let Some(at) = at {
            self.requests_due = Some(self.requests_due.map_or(at, |due| due.min(at)));
        }
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
        // Exact again, for `poll_timeout`.
        self.requests_due = self
            .requests
            .values()
            .flat_map(|r| [r.deadline, r.keepalive])
            .flatten()
            .min();
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
            self.request_due_at(Some(now + interval));
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
        // Later than the one it replaces: `requests_due` holds.
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
            // A long-lived request has no deadline to push. Pushed later:
            // `requests_due` holds.
            if r.keepalive.is_none() {
                r.deadline = deadline;
            }
        }
    }
}
