//! Protocol-wide defaults and hard limits.
//!
//! These are the values a peer assumes before the HELLO exchange and the
//! ceilings that negotiation may never exceed.

/// Protocol version carried in byte 0 of every frame.
pub const OAP_VERSION: u8 = 1;

/// Size of the fixed frame header: `ver:u8 | typ:u8 | len:u32 BE`.
pub const HEADER_LEN: usize = 6;

/// Default and ceiling of `max_frame`: the largest payload (header excluded)
/// a peer accepts, 1 MiB. Negotiation may only lower it, unless both ends are
/// configured out of band to allow more.
pub const DEFAULT_MAX_FRAME: u32 = 1024 * 1024;

/// Storage streaming chunk: the body size a sender puts in one DATA frame when
/// streaming a large object. An implementation detail of the object store,
/// deliberately distinct from `max_frame`.
pub const STORAGE_CHUNK: usize = 64 * 1024;

/// Most bytes a driver hands [`crate::connection::Connection::handle_input`]
/// in one call while a legacy request (request 0, which never waits for
/// credit) is open: what such a request may receive past its window before
/// the driver stops reading (OAP-1 §6.3).
pub const LEGACY_READ_SLACK: usize = 256 * 1024;

/// Initial per-request credit in DATA body bytes granted by the first ACK.
pub const DEFAULT_CREDIT: u64 = 64 * 1024;

/// Default receive-window growth budget per connection (see
/// `ConnectionConfig::window_growth`): enough for a request to keep a
/// loopback or LAN link busy, where the 64 KiB initial credit allows one
/// 64 KiB burst per round trip.
pub const DEFAULT_WINDOW_GROWTH: u64 = 4 * 1024 * 1024;

/// Default largest object a receiver accepts, 64 GiB (see
/// `ConnectionConfig::max_object_bytes`). A finite default, so that one
/// DATA header's `total_len` cannot commit a receiver to an unbounded
/// object.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 64 * 1024 * 1024 * 1024;

/// Default cap on concurrently open requests per connection.
pub const DEFAULT_MAX_INFLIGHT: u32 = 32;

/// Largest control (JSON) payload accepted, well below `max_frame`: control
/// frames are small, and capping them bounds JSON parsing work.
pub const MAX_CONTROL_JSON: usize = 64 * 1024;

/// Longest `app_proto_id`, `tenant` or `token` a HELLO may carry, in
/// bytes: identity strings are peer-chosen, and a receiver may log them or
/// keep them for the connection's life.
pub const MAX_HELLO_STRING: usize = 128;

/// Deepest JSON nesting accepted in any payload. Real payloads are flat; the
/// bound exists so a hostile `[[[[...` costs a scan, never a deep recursion.
pub const MAX_JSON_DEPTH: usize = 16;
