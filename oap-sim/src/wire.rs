//! A perfect zero-delay wire between two connections, for tests that want
//! to drive roles directly rather than through a [`crate::Simulation`].

use std::time::Instant;

use oap_core::client::{ClientEvent, ClientSession};
use oap_core::connection::Connection;
use oap_core::server::{ServerEvent, ServerSession, TenantQuotas};

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

/// Runs a client session and a gateway over the perfect wire until neither
/// has anything to say: moves bytes both ways, hands each gateway event
/// (admitted with `quotas`) to `on_gateway` with the gateway to act on, and
/// each client event to `on_client`.
pub fn settle(
    now: Instant,
    client: &mut ClientSession,
    gateway: &mut ServerSession,
    mut quotas: Option<&mut TenantQuotas>,
    mut on_gateway: impl FnMut(&mut ServerSession, ServerEvent),
    mut on_client: impl FnMut(ClientEvent),
) {
    loop {
        let mut moved = transfer(now, client.connection(), gateway.connection());
        moved += transfer(now, gateway.connection(), client.connection());
        while let Some(ev) = gateway.poll_event(now, quotas.as_deref_mut()) {
            on_gateway(gateway, ev);
            moved += 1;
        }
        while let Some(ev) = client.poll_event() {
            on_client(ev);
            moved += 1;
        }
        if moved == 0 {
            return;
        }
    }
}
