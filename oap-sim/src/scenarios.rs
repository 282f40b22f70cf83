//! Named, seeded scenarios shared by the tests and the `oap-chaos` binary.

use std::time::Duration;

use bytes::Bytes;
use oap_core::connection::ConnectionConfig;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{ClientApp, FaultPlan, Scenario, ServerApp, Simulation};

/// A scenario builder: seed in, ready-to-run simulation out.
pub type Build = fn(u64) -> Simulation;

/// Every scenario, by name.
pub const ALL: [(&str, Build); 9] = [
    ("network", network),
    ("small_limits", small_limits),
    ("slow_reader", slow_reader),
    ("both_directions", both_directions),
    ("oap_frame_drop", oap_frame_drop),
    ("oap_frame_duplicate", oap_frame_duplicate),
    ("oap_frame_reorder", oap_frame_reorder),
    ("oap_frame_corrupt", oap_frame_corrupt),
    ("hostile", hostile),
];

/// Small limits so that a handful of objects exercise many frames, ACKs and
/// the inflight cap.
pub fn tight_config() -> ConnectionConfig {
    ConnectionConfig {
        max_frame: 1024,
        max_inflight: 2,
        credit: 2048,
        // Small enough that windows grow and hit the budget within a run.
        window_growth: 3072,
        data_chunk: 512,
        handshake_timeout: Some(Duration::from_secs(5)),
        idle_timeout: Some(Duration::from_secs(30)),
        request_timeout: Some(Duration::from_secs(10)),
        ..ConnectionConfig::default()
    }
}

/// Seeded objects: a mix of empty, tiny and multi-frame sizes.
pub fn objects(seed: u64, count: usize, max_len: usize) -> Vec<Bytes> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x006f_626a_6563_7473);
    (0..count)
        .map(|i| {
            let len = match i % 4 {
                0 => 0,
                1 => 1,
                _ => rng.random_range(2..=max_len),
            };
            Bytes::from((0..len).map(|_| rng.random::<u8>()).collect::<Vec<u8>>())
        })
        .collect()
}

fn tight(seed: u64, plan: FaultPlan) -> Simulation {
    let scenario = Scenario {
        client: tight_config(),
        server: tight_config(),
        ..Scenario::default()
    }
    .with_faults(plan);
    Simulation::new(
        seed,
        scenario,
        ClientApp::new(objects(seed, 6, 6000), 4),
        ServerApp::new(),
    )
}

/// Splits, coalesces and delays only: every put must succeed.
pub fn network(seed: u64) -> Simulation {
    let scenario = Scenario::default().with_faults(FaultPlan::network());
    Simulation::new(
        seed,
        scenario,
        ClientApp::new(objects(seed, 8, 200_000), 8),
        ServerApp::new(),
    )
}

/// Tiny `max_frame`, credit and inflight over a clean network.
pub fn small_limits(seed: u64) -> Simulation {
    tight(seed, FaultPlan::network())
}

/// The server reads 300 bytes per step: credit must hold the sender back.
pub fn slow_reader(seed: u64) -> Simulation {
    let scenario = Scenario {
        client: tight_config(),
        server: tight_config(),
        ..Scenario::default()
    }
    .with_faults(FaultPlan::network());
    Simulation::new(
        seed,
        scenario,
        ClientApp::new(objects(seed, 4, 8000), 2),
        ServerApp::new().with_read_budget(300),
    )
}

/// Both sides send an object on every request at once, with small credit.
pub fn both_directions(seed: u64) -> Simulation {
    let scenario = Scenario {
        client: tight_config(),
        server: tight_config(),
        ..Scenario::default()
    }
    .with_faults(FaultPlan::network());
    let response = objects(seed.wrapping_add(1), 3, 9000)
        .pop()
        .unwrap_or_default();
    Simulation::new(
        seed,
        scenario,
        ClientApp::new(objects(seed, 4, 9000), 2).with_read_budget(700),
        ServerApp::new()
            .responding_with(response)
            .with_read_budget(500),
    )
}

/// Frames dropped.
pub fn oap_frame_drop(seed: u64) -> Simulation {
    tight(
        seed,
        FaultPlan {
            drop: 0.05,
            ..FaultPlan::network()
        },
    )
}

/// Frames duplicated.
pub fn oap_frame_duplicate(seed: u64) -> Simulation {
    tight(
        seed,
        FaultPlan {
            duplicate: 0.05,
            ..FaultPlan::network()
        },
    )
}

/// Frames reordered.
pub fn oap_frame_reorder(seed: u64) -> Simulation {
    tight(
        seed,
        FaultPlan {
            reorder: 0.05,
            ..FaultPlan::network()
        },
    )
}

/// Bytes flipped and frames cut short.
pub fn oap_frame_corrupt(seed: u64) -> Simulation {
    tight(
        seed,
        FaultPlan {
            corrupt: 0.05,
            truncate: 0.01,
            ..FaultPlan::network()
        },
    )
}

/// Every fault at once.
pub fn hostile(seed: u64) -> Simulation {
    tight(seed, FaultPlan::hostile(0.03))
}
