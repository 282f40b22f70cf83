//! Backoff delay computation.

use std::time::Duration;

use super::policy::RestartPolicy;
use super::rng::SplitMix64;

/// Un-jittered delay before restart number `attempt` (0-based) within the window.
pub fn base_delay(policy: &RestartPolicy, attempt: u32) -> Duration {
    let cap = policy.backoff_max.as_nanos();
    // Past 2^100 the product is beyond any cap anyway.
    let factor = 1u128 << attempt.min(100);
    let nanos = policy
        .backoff_initial
        .as_nanos()
        .saturating_mul(factor)
        .min(cap);
    duration_from_nanos(nanos)
}

/// [`base_delay`] minus a jitter drawn from `rng` of up to `jitter_percent` % of it.
pub fn jittered_delay(policy: &RestartPolicy, attempt: u32, rng: &mut SplitMix64) -> Duration {
    let base = base_delay(policy, attempt).as_nanos();
    let span = base * u128::from(policy.jitter_percent.min(100)) / 100;
    let span = u64::try_from(span).unwrap_or(u64::MAX);
    let jitter = u128::from(rng.up_to(span));
    duration_from_nanos(base - jitter)
}

fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // The remainder is below 10^9 and fits in u32.
    let sub = u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0);
    Duration::new(secs, sub)
}
