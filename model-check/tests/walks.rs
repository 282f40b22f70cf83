//! proptest state-machine tests: long random walks through the same systems
//! the explorer enumerates, with larger fault budgets than exhaustive
//! exploration can afford. Every step checks the invariants; the end of
//! every walk checks liveness (every request ends, every subscriber drains).

use oap_model_check::System;
use oap_model_check::bus::BusSystem;
use oap_model_check::pair::{PairParams, PairSystem};
use proptest::prelude::*;

/// Applies the `choices[i] % enabled`-th enabled action at each step.
fn walk<S: System>(params: &S::Params, choices: &[u16]) -> Result<(), String> {
    let mut s = S::init(params);
    let mut path = Vec::new();
    for &c in choices {
        let actions = s.actions();
        if actions.is_empty() {
            break;
        }
        let a = actions[usize::from(c) % actions.len()].clone();
        path.push(a.clone());
        s.apply(&a).map_err(|e| format!("{e}\npath: {path:?}"))?;
    }
    s.liveness().map_err(|e| format!("{e}\npath: {path:?}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// 3 requests (one more than max_inflight), 2 drops, 2 duplicates,
    /// 1 corruption, 3 time jumps, up to 120 steps.
    #[test]
    fn connection_pair_random_walks(choices in prop::collection::vec(any::<u16>(), 0..120)) {
        let params = PairParams {
            requests: 3,
            drops: 2,
            dups: 2,
            corrupts: 1,
            ticks: 3,
            timeouts: true,
        };
        if let Err(e) = walk::<PairSystem>(&params, &choices) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn bus_random_walks(choices in prop::collection::vec(any::<u16>(), 0..200)) {
        if let Err(e) = walk::<BusSystem>(&(), &choices) {
            prop_assert!(false, "{}", e);
        }
    }
}
