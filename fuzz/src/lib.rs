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

mod reader;

pub mod bus;
pub mod codec;
pub mod connection;

pub use reader::Reader;
