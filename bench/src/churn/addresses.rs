//! The loopback addresses a churn server listens on, so that its clients
//! spread their connections over several.
//!
//! One client address churning to one server address runs out of
//! ephemeral ports: each closed connection keeps its port in TIME_WAIT on
//! the side that closed first (here the client's, as the gateway waits
//! for the client to close), and every `connect` then searches longer for
//! a port whose four-tuple is free. Measured with `perf` on 2026-11-29,
//! that search took 10–24% of the machine, more the faster the server, so
//! the run measured the client's kernel rather than the server. A port is
//! free again per destination, so eight destinations give the clients
//! eight times the room, as many clients on many addresses would.
//!
//! Linux routes all of 127.0.0.0/8 to the loopback interface; where
//! another address of it cannot be bound (another system), a server
//! listens on 127.0.0.1 alone and the clients share it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// How many loopback addresses a churn server tries to listen on:
/// 127.0.0.1 and the next ones, one per client thread by default.
pub const ADDRESSES: u8 = 8;

/// 127.0.0.2, 127.0.0.3, ... up to [`ADDRESSES`] in all with 127.0.0.1,
/// each at `port`: where a server listening on 127.0.0.1 at `port`
/// listens too, if it can.
pub fn aliases(port: u16) -> impl Iterator<Item = SocketAddr> {
    (2..=ADDRESSES)
        .map(move |last| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), port))
}

/// The address client thread `thread` connects to: the threads take the
/// server's addresses in turn.
pub fn for_thread(addrs: &[SocketAddr], thread: usize) -> Option<SocketAddr> {
    addrs.get(thread % addrs.len().max(1)).copied()
}
