//! The shared integration suite on tokio.

mod common;

oap_suite::suite!(common::block_on, common::harness());
