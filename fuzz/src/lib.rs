//! Fuzz harnesses for OAP/1 and the kernel bus.
//!
//! Every harness is a plain function from bytes to `()` that panics when a
//! property fails, so the same code runs three ways:
//!
//! * as an ordinary `cargo test` (the bolero targets in `tests/targets.rs`
//!   run a fixed, small number of random inputs plus the seed corpus);
//! * as a libFuzzer / AFL campaign through `cargo bolero test`;
//! * from a reproducer file, by calling the harness on its bytes.
//!
//! The harnesses decode their own structure from the bytes (see [`Reader`])
//! instead of relying on a generator, so a corpus stays valid across bolero
//! versions and engines.
//!
//! A harness called by hand, on a reproducer's bytes:
//!
//! ```
//! // An END frame (version 1, type 4, empty payload), then garbage: the
//! // harness panics only if a property breaks, never for bad input.
//! oap_fuzz::codec::frame_decode(b"\x01\x04\x00\x00\x00\x00not a frame");
//! let frames = oap_fuzz::codec::split_frames(b"\x01\x04\x00\x00\x00\x00")?;
//! assert_eq!(frames.len(), 1);
//! # Ok::<(), oap_core::DecodeError>(())
//! ```

mod reader;

pub mod bus;
pub mod codec;
pub mod connection;

pub use reader::Reader;
