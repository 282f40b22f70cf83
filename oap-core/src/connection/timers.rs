//! Deadlines: handshake, idle and per-request timeouts.

use std::time::Instant;

use super::{Connection, RequestId, State};
use crate::payload::{ErrorCode, ErrorEnvelope};

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
        let requests = self.requests.values().filter_map(|r| r.deadline).min();
        [handshake, self.idle_deadline, requests]
            .into_iter()
            .flatten()
            .min()
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
    }

    /// Pushes the idle deadline back after input from the peer.
    pub(super) fn touch_idle(&mut self, now: Instant) {
        self.idle_deadline = self.config.idle_timeout.map(|t| now + t);
    }

    /// Pushes a request's deadline back after activity on it.
    pub(super) fn touch_request(&mut self, id: RequestId, now: Instant) {
        let deadline = self.config.request_timeout.map(|t| now + t);
        if let Some(r) = self.requests.get_mut(&id) {
            r.deadline = deadline;
        }
    }
}
