//! The bolero fuzz targets.
//!
//! Under `cargo test` each target replays its seed corpus
//! (`tests/__fuzz__/targets__<name>/corpus`) and then a fixed number of
//! random inputs, so CI stays fast; `BOLERO_RANDOM_ITERATIONS` overrides
//! the count. Under `cargo bolero test <name>` the same function is a
//! libFuzzer (or AFL) target. See `fuzz/README.md`.

use oap_core::connection::Role;
use oap_fuzz::{bus, codec, connection};

/// Random inputs per target under plain `cargo test`.
const ITERATIONS: usize = 10_000;

/// Longest random input under plain `cargo test` (bolero's default is 64
/// bytes, too short for a connection to get past its first request).
const MAX_LEN: usize = 4096;

#[test]
fn frame_decode() {
    bolero::check!()
        .with_iterations(ITERATIONS)
        .with_max_len(MAX_LEN)
        .for_each(codec::frame_decode);
}

#[test]
fn data_payload() {
    bolero::check!()
        .with_iterations(ITERATIONS)
        .with_max_len(MAX_LEN)
        .for_each(codec::data_payload);
}

#[test]
fn fast_paths() {
    bolero::check!()
        .with_iterations(ITERATIONS)
        .with_max_len(MAX_LEN)
        .for_each(codec::fast_paths);
}

#[test]
fn payload_json() {
    bolero::check!()
        .with_iterations(ITERATIONS)
        .with_max_len(MAX_LEN)
        .for_each(codec::payload_json);
}

#[test]
fn connection_server() {
    bolero::check!()
        .with_iterations(ITERATIONS)
        .with_max_len(MAX_LEN)
        .for_each(|input| connection::run(Role::Server, input));
}

#[test]
fn connection_client() {
    bolero::check!()
        .with_iterations(ITERATIONS)
        .with_max_len(MAX_LEN)
        .for_each(|input| connection::run(Role::Client, input));
}

#[test]
fn bus_ops() {
    bolero::check!()
        .with_iterations(ITERATIONS)
        .with_max_len(MAX_LEN)
        .for_each(bus::bus_ops);
}

#[test]
fn object_id() {
    bolero::check!()
        .with_iterations(ITERATIONS)
        .with_max_len(MAX_LEN)
        .for_each(codec::object_id);
}
