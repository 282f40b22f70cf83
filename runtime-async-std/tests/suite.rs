//! The shared integration suite on async-std.

mod common;

oap_suite::suite!(common::block_on, common::harness());
