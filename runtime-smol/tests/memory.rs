//! A transfer's memory is bounded by its window, not by the object's
//! size, on smol: alone in its test binary, under a counting allocator.

mod common;

oap_suite::memory_bound_test!(common::block_on, common::harness());
