//! The integration suite every runtime crate runs against itself.
//!
//! Each case is an async function taking a [`Harness`] (the runtime's
//! pieces and its TLS glue); [`suite!`] turns the whole list into `#[test]`
//! functions for one runtime, so the three runtimes run the very same
//! checks.
//!
//! Large objects in the suite are patterns, known by id without being held
//! in memory:
//!
//! ```
//! use futures_lite::AsyncReadExt;
//! use oap_core::ObjectId;
//! use oap_suite::{PatternReader, pattern_id};
//!
//! let mut bytes = Vec::new();
//! futures_lite::future::block_on(PatternReader::new(1000, 7).read_to_end(&mut bytes))?;
//! assert_eq!(bytes.len(), 1000);
//! assert_eq!(ObjectId::of(&bytes), pattern_id(1000, 7));
//! assert_ne!(pattern_id(1000, 7), pattern_id(1000, 8));
//! # Ok::<(), std::io::Error>(())
//! ```

mod auth;
mod blocking_store;
mod cases;
mod harness;
mod hostile;
mod mtls;
mod pattern_store;
mod raw;
mod streaming;
mod tls;

pub use auth::{
    byte_quota_is_refused_before_storage_and_survives_a_restart,
    tenants_authenticate_by_token_and_permissions_hold_per_request,
};
pub use blocking_store::{
    blocking_store_keeps_connections_moving, one_request_cannot_queue_commits_without_end,
};
pub use cases::*;
pub use harness::{Harness, TlsConnect, futures_io_duplex, with_deadline};
pub use hostile::*;
pub use mtls::*;
pub use pattern_store::{PatternReader, PatternStore, pattern_id};
pub use raw::RawPeer;
pub use streaming::*;
pub use tls::{TestCa, TestPki};

/// The counting allocator [`memory_bound_test!`] installs.
pub use cap;

/// Expands to one `#[test]` per suite case. `$block_on` runs a future to
/// completion on the runtime under test; `$harness` builds the harness.
#[macro_export]
macro_rules! suite {
    ($block_on:path, $harness:expr) => {
        $crate::suite!(@cases $block_on, $harness;
            put_get_sizes, tenant_byte_counters_are_exact_once_a_connection_is_idle,
            concurrent_requests_and_the_33rd, bad_digest_stores_nothing,
            object_over_max_object_bytes_is_refused_before_storage,
            oversize_frame_closes_only_that_connection, client_that_stops_reading_is_bounded,
            disconnect_mid_object_stores_nothing, idle_timeout_closes, max_connections_busy,
            tls_put_get, tls_handshake_failure,
            plaintext_client_at_a_tls_port_is_told_to_use_tls,
            tls_client_at_a_plaintext_port_is_told_it_is_plaintext,
            graceful_shutdown_with_request_in_flight,
            legacy_client_is_served, legacy_client_writing_past_its_credit_is_held_back_not_failed,
            subscribe_streams_matching_events,
            idle_subscription_outlives_the_timeouts, in_memory_duplex,
            client_into_io_speaks_raw_frames, blocking_store_keeps_connections_moving,
            large_objects_stream_through_the_directory_store,
            corrupted_file_is_quarantined_and_never_served,
            dropped_transfers_free_their_requests_on_both_sides,
            a_dropped_request_sends_its_cancel_without_another_call,
            full_store_refuses_the_put_and_keeps_serving,
            tenants_authenticate_by_token_and_permissions_hold_per_request,
            mtls_client_certificate_names_its_tenant,
            mtls_certificate_from_another_ca_fails_the_handshake,
            mtls_client_without_a_certificate_is_anonymous, tls_alpn_is_oap1,
            byte_quota_is_refused_before_storage_and_survives_a_restart,
            hostile_peer_that_stops_reading_loses_its_connection_at_the_write_timeout,
            hostile_unfinished_frame_is_closed_at_the_frame_timeout,
            hostile_half_close_after_end_still_gets_the_end,
            hostile_tls_handshakes_count_toward_max_connections,
            hostile_one_address_cannot_take_every_slot,
            hostile_subscriptions_are_capped_server_wide,
            hostile_made_up_identities_leave_no_keys,
            hostile_slow_subscriber_is_told_missed_and_holds_a_bounded_queue,
            hostile_server_that_breaks_framing_gets_a_typed_close,
            one_request_cannot_queue_commits_without_end);
    };
    (@cases $block_on:path, $harness:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let harness = $harness;
                $block_on($crate::with_deadline(harness.clone(), $crate::$case(harness)));
            }
        )*
    };
}

/// Expands to the hostile-resources test: a counting global allocator for
/// the whole test binary and one `#[test]` running
/// [`hostile_peers_leave_no_descriptors_or_memory_behind`] against it. Use
/// it in a test file of its own, so no other test opens descriptors or
/// allocates meanwhile.
#[macro_export]
macro_rules! resources_test {
    ($block_on:path, $harness:expr) => {
        #[global_allocator]
        static ALLOC: $crate::cap::Cap<::std::alloc::System> =
            $crate::cap::Cap::new(::std::alloc::System, usize::MAX);

        #[test]
        fn hostile_peers_leave_no_descriptors_or_memory_behind() {
            let harness = $harness;
            $block_on($crate::with_deadline(
                harness.clone(),
                $crate::hostile_peers_leave_no_descriptors_or_memory_behind(harness, || {
                    ALLOC.allocated()
                }),
            ));
        }
    };
}

/// Expands to the memory-bound test: a counting global allocator for the
/// whole test binary and one `#[test]` running
/// [`transfer_memory_is_bounded_by_the_window`] against it. Use it in a
/// test file of its own, so no other test allocates meanwhile.
#[macro_export]
macro_rules! memory_bound_test {
    ($block_on:path, $harness:expr) => {
        #[global_allocator]
        static ALLOC: $crate::cap::Cap<::std::alloc::System> =
            $crate::cap::Cap::new(::std::alloc::System, usize::MAX);

        #[test]
        fn transfer_memory_is_bounded_by_the_window() {
            let harness = $harness;
            $block_on($crate::with_deadline(
                harness.clone(),
                $crate::transfer_memory_is_bounded_by_the_window(harness, || {
                    (ALLOC.allocated(), ALLOC.max_allocated())
                }),
            ));
        }
    };
}
