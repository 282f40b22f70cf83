//! Bounded exhaustive checks of the real bus core and connection pair.
//!
//! `cargo test -p oap-model-check` runs the CI bounds (about a minute in a
//! debug build on 2 cores). The `#[ignore]`d `*_deep` variants explore
//! further: `cargo test -p oap-model-check --release -- --ignored`.

use oap_model_check::bus::BusSystem;
use oap_model_check::pair::{PairParams, PairSystem};
use oap_model_check::{Bounds, explore};

fn run_pair(params: PairParams, bounds: Bounds) -> Result<oap_model_check::Report, String> {
    explore::<PairSystem>(&params, bounds).map_err(|c| format!("{}\npath: {:?}", c.error, c.path))
}

#[test]
fn bus_core_three_subscribers_capacity_8() {
    let report = explore::<BusSystem>(
        &(),
        Bounds {
            max_depth: 16,
            max_states: 2_000_000,
        },
    )
    .unwrap_or_else(|c| panic!("{}\npath: {:?}", c.error, c.path));
    eprintln!("bus: {report:?}");
    assert!(report.states > 1_000, "{report:?}");
}

#[test]
fn connection_pair_with_drops_and_duplicates() {
    let report = run_pair(
        PairParams::CI,
        Bounds {
            max_depth: 12,
            max_states: 2_000_000,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("pair: {report:?}");
    assert!(report.states > 1_000, "{report:?}");
}

#[test]
fn connection_pair_with_a_corrupted_data_frame() {
    let params = PairParams {
        requests: 1,
        drops: 0,
        dups: 0,
        corrupts: 1,
        ..PairParams::CI
    };
    let report = run_pair(
        params,
        Bounds {
            max_depth: 14,
            max_states: 2_000_000,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("pair, corruption: {report:?}");
}

/// The liveness check can fail: without timeouts, a dropped frame leaves
/// a request open forever, and the explorer must say so.
#[test]
fn liveness_fails_without_timeouts() {
    let params = PairParams {
        requests: 1,
        drops: 1,
        dups: 0,
        timeouts: false,
        ..PairParams::CI
    };
    let err = run_pair(
        params,
        Bounds {
            max_depth: 12,
            max_states: 200_000,
        },
    )
    .expect_err("a lost frame without timeouts must hang a request");
    assert!(err.contains("never end"), "{err}");
}

#[test]
#[ignore = "deep bounds: run in release, see specs/README.md"]
fn connection_pair_deep() {
    let params = PairParams {
        requests: 3,
        drops: 1,
        dups: 1,
        corrupts: 1,
        ticks: 2,
        timeouts: true,
    };
    let report = run_pair(
        params,
        Bounds {
            max_depth: 18,
            max_states: 1_000_000,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("pair, deep: {report:?}");
}

#[test]
#[ignore = "deep bounds: run in release, see specs/README.md"]
fn bus_core_deep() {
    let report = explore::<BusSystem>(
        &(),
        Bounds {
            max_depth: 24,
            max_states: 5_000_000,
        },
    )
    .unwrap_or_else(|c| panic!("{}\npath: {:?}", c.error, c.path));
    eprintln!("bus, deep: {report:?}");
}
