//! A perfect zero-delay wire between two connections, for tests that want
//! to drive roles directly rather than through a [`crate::Simulation`].

use std::time::Instant;

use oap_core::connection::Connection;

/// Moves everything `from` has to send into `to`. Returns the byte count.
pub fn transfer(now: Instant, from: &mut Connection, to: &mut Connection) -> usize {
    let mut buf = Vec::new();
    while let Some(t) = from.poll_transmit(now, &mut buf) {
        if let Some(body) = t.body {
            buf.extend_from_slice(&body);
        }
    }
    if !buf.is_empty() {
        to.handle_input(now, &buf);
    }
    buf.len()
}
