//! Seeded chaos runs of a real client/server pair. Each failing run prints
//! its seed; replay it with `cargo run -p oap-sim --bin oap-chaos -- 1 SEED`.

use std::collections::BTreeSet;

use oap_core::ObjectId;
use oap_core::payload::ErrorCode;
use oap_sim::scenarios::{self, Build};
use oap_sim::{PutResult, Report};

fn run_seeds(name: &str, build: Build, seeds: u64) -> Vec<Report> {
    (0..seeds)
        .map(|seed| {
            build(seed)
                .run()
                .unwrap_or_else(|v| panic!("{name}: {v} (replay: oap-chaos 1 {seed})"))
        })
        .collect()
}

fn original_ids(r: &Report) -> BTreeSet<ObjectId> {
    r.client.objects().iter().map(|o| ObjectId::of(o)).collect()
}

/// Under byte-level effects alone every put must succeed, answered with the
/// right id, and the server must hold exactly the objects sent.
fn assert_all_stored(r: &Report) {
    let originals = original_ids(r);
    for i in 0..r.client.objects().len() {
        assert_eq!(
            r.client.results.get(&i),
            Some(&PutResult::Stored),
            "object {i}"
        );
    }
    let stored: BTreeSet<ObjectId> = r.server.stored.keys().copied().collect();
    assert_eq!(stored, originals);
    assert_eq!(r.server_stats.objects_failed, 0);
}

/// Under frame-level faults requests may fail, but nothing forged is ever
/// stored and every answer names the object that was sent.
fn assert_nothing_forged(r: &Report) {
    let originals = original_ids(r);
    for obj in r.server.stored.keys() {
        assert!(
            originals.contains(obj),
            "server stored {obj}, which was never sent"
        );
    }
    for (i, res) in &r.client.results {
        if *res == PutResult::Stored {
            let id = ObjectId::of(&r.client.objects()[*i]);
            assert!(
                r.server.stored.contains_key(&id),
                "confirmed {id} is not stored"
            );
        }
    }
}

#[test]
fn network_split_coalesce_delay() {
    for r in run_seeds("network", scenarios::network, 40) {
        assert_all_stored(&r);
    }
}

#[test]
fn small_limits_many_frames() {
    let reports = run_seeds("small_limits", scenarios::small_limits, 200);
    for r in &reports {
        assert_all_stored(r);
    }
    // The client asked for 4 at once with max_inflight 2: the cap was hit
    // locally and no START was ever refused by the server.
    assert!(reports.iter().any(|r| r.client.local_inflight_refusals > 0));
    assert!(reports.iter().all(|r| {
        !r.server_stats
            .rejects
            .contains_key(&ErrorCode::TooManyInflight)
    }));
}

#[test]
fn slow_reader_is_held_back_by_credit() {
    for r in run_seeds("slow_reader", scenarios::slow_reader, 100) {
        assert_all_stored(&r);
        // Tight config: credit 2048 × inflight 2 + the 3072-byte growth
        // budget + one 1024-byte frame.
        assert!(
            r.peak_buffered <= 2048 * 2 + 3072 + 1024 + 6,
            "peak {}",
            r.peak_buffered
        );
    }
}

#[test]
fn both_sides_writing_with_small_credit_does_not_deadlock() {
    for r in run_seeds("both_directions", scenarios::both_directions, 100) {
        assert_all_stored(&r);
        assert_eq!(
            r.client.received.len(),
            r.client.objects().len(),
            "a response per request"
        );
    }
}

fn faulty(name: &str, build: Build) -> Vec<Report> {
    let reports = run_seeds(name, build, 300);
    for r in &reports {
        assert_nothing_forged(r);
    }
    reports
}

#[test]
fn oap_frame_drop() {
    let reports = faulty("oap_frame_drop", scenarios::oap_frame_drop);
    assert!(
        reports
            .iter()
            .map(|r| r.uplink.dropped + r.downlink.dropped)
            .sum::<u64>()
            > 100
    );
    // Losses surface as errors or timeouts, never as silence.
    assert!(reports.iter().any(|r| {
        r.client
            .results
            .values()
            .any(|x| matches!(x, PutResult::Failed(_)))
    }));
}

#[test]
fn oap_frame_duplicate() {
    let reports = faulty("oap_frame_duplicate", scenarios::oap_frame_duplicate);
    assert!(
        reports
            .iter()
            .map(|r| r.uplink.duplicated + r.downlink.duplicated)
            .sum::<u64>()
            > 100
    );
}

#[test]
fn oap_frame_reorder() {
    let reports = faulty("oap_frame_reorder", scenarios::oap_frame_reorder);
    assert!(
        reports
            .iter()
            .map(|r| r.uplink.reordered + r.downlink.reordered)
            .sum::<u64>()
            > 100
    );
}

#[test]
fn oap_frame_corrupt() {
    let reports = faulty("oap_frame_corrupt", scenarios::oap_frame_corrupt);
    assert!(
        reports
            .iter()
            .map(|r| r.uplink.corrupted + r.downlink.corrupted)
            .sum::<u64>()
            > 100
    );
    // Some corruption hit a body and was caught by the digest.
    assert!(reports.iter().any(|r| r.server_stats.objects_failed > 0));
}

#[test]
fn hostile_everything_at_once() {
    let reports = faulty("hostile", scenarios::hostile);
    // Most runs still store something: faults cost requests, not the link.
    let stored: usize = reports.iter().map(|r| r.server.stored.len()).sum();
    assert!(
        stored > reports.len(),
        "only {stored} objects stored in {} runs",
        reports.len()
    );
}
