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
//! * [`gateway`] and [`client`] — the two roles with admission, quotas and
//!   request helpers on top of a connection.
//!
//! The normative description of the protocol is `docs/specs/OAP-1.md` in the
//! repository.

pub mod client;
pub mod connection;
pub mod frame;
pub mod gateway;
pub mod limits;
pub mod object_id;
pub mod payload;

pub use frame::{DecodeError, EncodeError, Frame, FrameDecoder, FrameEncoder, FrameRef, FrameType};
pub use object_id::ObjectId;
