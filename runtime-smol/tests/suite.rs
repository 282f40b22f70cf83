//! The shared integration suite on smol.

mod common;

oap_suite::suite!(common::block_on, common::harness());
