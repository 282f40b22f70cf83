//! Connection slots: how many connections the server holds at once, in all
//! and per source address. A slot is taken when a connection is accepted,
//! before any TLS handshake, and given back when the connection ends, so
//! handshakes in progress count too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::Inner;

/// Open connections per source address. An address has an entry only
/// while it holds a connection, so the map is bounded by the slots.
#[derive(Debug, Default)]
pub(crate) struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a connection got no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `max_connections` are open.
    Full,
    /// Its source address holds `max_connections_per_ip`.
    PerAddress,
    /// The server is shutting down.
    Draining,
}

/// One connection's slot; given back on drop.
pub(crate) struct Slot {
    inner: Arc<Inner>,
    peer: Option<IpAddr>,
}

impl Inner {
    /// Takes a slot for a connection from `peer` (none: not a socket, such
    /// as an in-memory pipe, which only the total bounds).
    pub(crate) fn admit(self: &Arc<Self>, peer: Option<IpAddr>) -> Result<Slot, Refusal> {
        if self.draining.load(Ordering::SeqCst) {
            return Err(Refusal::Draining);
        }
        let max = self.config.max_connections;
        self.open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| Refusal::Full)?;
        // From here on the slot gives the total back on drop.
        let mut slot = Slot {
            inner: Arc::clone(self),
            peer: None,
        };
        if let Some(ip) = peer {
            let mut open = self
                .per_address
                .open
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let n = open.entry(ip).or_default();
            if *n >= self.config.max_connections_per_ip {
                if *n == 0 {
                    open.remove(&ip);
                }
                return Err(Refusal::PerAddress);
            }
            *n += 1;
            slot.peer = Some(ip);
        }
        Ok(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(ip) = self.peer {
            let mut open = self
                .inner
                .per_address
                .open
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(n) = open.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&ip);
                }
            }
        }
        self.inner.open.fetch_sub(1, Ordering::SeqCst);
        self.inner.closed_event.notify(usize::MAX);
    }
}

impl Refusal {
    /// The `reason` label it is counted under in `rejected_total`.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Full | Self::Draining => "busy",
            Self::PerAddress => "per_ip_limit",
        }
    }

    /// The ERROR `busy` message a plaintext peer gets.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Full => "too many connections",
            Self::PerAddress => "too many connections from this address",
            Self::Draining => "the server is shutting down",
        }
    }
}
