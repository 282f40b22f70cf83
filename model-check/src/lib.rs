//! Bounded exhaustive exploration of the real state machines.
//!
//! [`explore`] enumerates every interleaving of a [`System`]'s actions up
//! to a depth bound, breadth first, deduplicating states by fingerprint,
//! and checks invariants after every transition and a liveness property
//! (every request ends / every gap is reported) from every state reached.
//!
//! The systems wrap the real code, not a re-implementation:
//! [`bus::BusSystem`] drives `kernel_core::bus::core::BusCore` next to the
//! reference model, and [`pair::PairSystem`] drives two
//! `oap_core::connection::Connection`s over a frame-level network that can
//! drop and duplicate frames, with time advanced to the connections' own
//! deadlines.
//!
//! Neither `BusCore` nor `Connection` is `Clone`, which is why this is a
//! small explorer of its own rather than `stateright`: a state is stored as
//! the action path that reaches it and rebuilt by replaying that path
//! (everything is deterministic), while the visited set holds fingerprints
//! of the rebuilt states ([`System::fingerprint`]).
//!
//! A small exploration of the bus (the CI runs go much deeper):
//!
//! ```
//! use oap_model_check::bus::BusSystem;
//! use oap_model_check::{Bounds, explore};
//!
//! let bounds = Bounds { max_depth: 4, max_states: 100_000 };
//! let report = explore::<BusSystem>(&(), bounds).expect("no counterexample");
//! assert!(report.states > 10, "{report:?}");
//! // A bus can always take another step: the depth bound cut paths.
//! assert!(!report.complete);
//! ```

pub mod bus;
pub mod pair;

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

/// A deterministic system to explore.
pub trait System: Sized {
    /// One step.
    type Action: Clone + Debug;

    /// What one exploration is run with (sizes, fault budgets); every
    /// state of it is built from the same value.
    type Params;

    /// The initial state.
    fn init(params: &Self::Params) -> Self;

    /// Actions enabled in this state.
    fn actions(&self) -> Vec<Self::Action>;

    /// Takes `action`, then checks the invariants.
    ///
    /// # Errors
    /// The invariant that broke.
    fn apply(&mut self, action: &Self::Action) -> Result<(), String>;

    /// A fingerprint of everything that determines future behaviour: two
    /// states with equal fingerprints are explored once, so leaving out a
    /// field that matters hides the states only it tells apart.
    fn fingerprint(&self) -> u64;

    /// The liveness check run once from every new state (on a private copy,
    /// rebuilt by replay): e.g. "a fair continuation ends every request".
    ///
    /// # Errors
    /// Why the state cannot make progress.
    fn liveness(self) -> Result<(), String>;
}

/// Exploration limits.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Longest action path explored.
    pub max_depth: usize,
    /// Stop (and report `complete: false`) after this many distinct states.
    pub max_states: usize,
}

/// What an exploration covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Distinct states reached.
    pub states: usize,
    /// Transitions taken (including those to known states).
    pub transitions: usize,
    /// Whether every state within `max_depth` was explored.
    pub complete: bool,
}

/// A broken property and the action path that breaks it.
#[derive(Debug, Clone)]
pub struct Counterexample<A> {
    /// Actions from the initial state.
    pub path: Vec<A>,
    /// What broke.
    pub error: String,
}

/// Hashes a `Debug` rendering (the fingerprint of the systems here).
pub fn fingerprint_of(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

fn replay<S: System>(params: &S::Params, path: &[S::Action]) -> S {
    let mut s = S::init(params);
    for a in path {
        if let Err(e) = s.apply(a) {
            unreachable!("replay of a checked path failed: {e}");
        }
    }
    s
}

/// Explores `S`, built with `params`, breadth first within `bounds`.
///
/// # Errors
/// The first (shortest) counterexample found.
pub fn explore<S: System>(
    params: &S::Params,
    bounds: Bounds,
) -> Result<Report, Counterexample<S::Action>> {
    let init = S::init(params);
    let mut visited = HashSet::from([init.fingerprint()]);
    if let Err(error) = init.liveness() {
        return Err(Counterexample {
            path: Vec::new(),
            error,
        });
    }
    let mut queue: VecDeque<Vec<S::Action>> = VecDeque::from([Vec::new()]);
    let mut transitions = 0;
    let mut complete = true;
    while let Some(path) = queue.pop_front() {
        let actions = replay::<S>(params, &path).actions();
        for action in actions {
            transitions += 1;
            let mut next = replay::<S>(params, &path);
            let mut child = path.clone();
            child.push(action.clone());
            if let Err(error) = next.apply(&action) {
                return Err(Counterexample { path: child, error });
            }
            if !visited.insert(next.fingerprint()) {
                continue;
            }
            if let Err(error) = next.liveness() {
                return Err(Counterexample { path: child, error });
            }
            if visited.len() >= bounds.max_states {
                complete = false;
                queue.clear();
                break;
            }
            if child.len() < bounds.max_depth {
                queue.push_back(child);
            } else if !replay::<S>(params, &child).actions().is_empty() {
                complete = false;
            }
        }
    }
    Ok(Report {
        states: visited.len(),
        transitions,
        complete,
    })
}
