//! Sans-IO core of OAP/1, the framed protocol of the RustyOnions services
//! plane.
//!
//! Nothing in this crate reads a clock, spawns a task, sleeps or touches a
//! socket: bytes and time go in, bytes and events come out. That keeps it
//! deterministic, fuzzable and callable from any async runtime or from C.
//!
//! * [`frame`] — the wire codec: 6-byte header, incremental decoders, encoder.
//! * [`payload`] — typed JSON payloads and DATA packing.
//! * [`object_id`] — `b3:<hex>` object addressing and verification.
//! * [`limits`] — protocol defaults and ceilings.
//! * [`connection`] — the connection state machine (both roles).
//! * [`server`] and [`client`] — the two roles with admission, quotas and
//!   request helpers on top of a connection.
//!
//! The normative description of the protocol is `docs/specs/OAP-1.md` in the
//! repository.
//!
//! A client and a server connection completing HELLO, the caller moving the
//! bytes (here straight from one to the other) and the time:
//!
//! ```
//! use std::time::Instant;
//! use oap_core::connection::{Connection, ConnectionConfig, Event};
//!
//! /// Hands what `from` has to send to `to`; false if it had nothing.
//! fn pump(from: &mut Connection, to: &mut Connection, now: Instant) -> bool {
//!     let mut wire = Vec::new();
//!     while let Some(t) = from.poll_transmit(now, &mut wire) {
//!         wire.extend_from_slice(t.body.as_deref().unwrap_or_default());
//!     }
//!     to.handle_input(now, &wire);
//!     !wire.is_empty()
//! }
//!
//! let now = Instant::now();
//! let mut client = Connection::client(ConnectionConfig::default(), now);
//! let mut server = Connection::server(ConnectionConfig::default(), now);
//! while pump(&mut client, &mut server, now) | pump(&mut server, &mut client, now) {}
//! assert!(matches!(client.poll_event(), Some(Event::Connected(_))));
//! assert!(matches!(server.poll_event(), Some(Event::Connected(_))));
//! assert!(client.is_established() && server.is_established());
//! ```

pub mod client;
pub mod connection;
pub mod frame;
pub mod limits;
pub mod object_id;
pub mod payload;
pub mod pieces;
pub mod server;
pub mod spill_deque;

pub use frame::{DecodeError, EncodeError, Frame, FrameDecoder, FrameEncoder, FrameRef, FrameType};
pub use object_id::ObjectId;
