//! Hostile peers leave no descriptors or memory behind on smol: alone in its
//! test binary, under a counting allocator.

mod common;

oap_suite::resources_test!(common::block_on, common::harness());
