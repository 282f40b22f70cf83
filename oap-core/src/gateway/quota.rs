//! Per-tenant request quotas: token buckets driven by the caller's clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Refill rate and burst of one tenant's bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaConfig {
    /// Requests added to the bucket per second.
    pub requests_per_sec: u32,
    /// Bucket capacity: requests allowed at once after idling.
    pub burst: u32,
}

/// A token bucket in integer arithmetic: tokens are counted in
/// nanosecond-scaled units so refills never round a request away.
#[derive(Debug, Clone)]
struct Bucket {
    /// Tokens × 1e9.
    scaled: u128,
    last: Instant,
}

const SCALE: u128 = 1_000_000_000;

/// Token buckets for every tenant seen, all with the same [`QuotaConfig`].
///
/// Share one instance across a server's connections (behind a lock) so the
/// quota is per tenant, not per connection.
#[derive(Debug, Clone)]
pub struct TenantQuotas {
    config: QuotaConfig,
    buckets: BTreeMap<String, Bucket>,
}

impl TenantQuotas {
    /// Quotas with `config` for every tenant.
    pub fn new(config: QuotaConfig) -> Self {
        Self {
            config,
            buckets: BTreeMap::new(),
        }
    }

    /// Takes one request token for `tenant` at `now`; `false` when the
    /// bucket is empty. A tenant's first request finds a full bucket.
    pub fn try_acquire(&mut self, tenant: &str, now: Instant) -> bool {
        let cap = u128::from(self.config.burst) * SCALE;
        let rate = u128::from(self.config.requests_per_sec);
        let bucket = self.buckets.entry(tenant.to_owned()).or_insert(Bucket {
            scaled: cap,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last);
        bucket.last = bucket.last.max(now);
        bucket.scaled = (bucket.scaled + elapsed.as_nanos() * rate).min(cap);
        if bucket.scaled >= SCALE {
            bucket.scaled -= SCALE;
            true
        } else {
            false
        }
    }

    /// How long until `tenant` has a token again (zero if it has one).
    pub fn retry_after(&self, tenant: &str) -> Duration {
        let Some(b) = self.buckets.get(tenant) else {
            return Duration::ZERO;
        };
        if b.scaled >= SCALE || self.config.requests_per_sec == 0 {
            return if b.scaled >= SCALE {
                Duration::ZERO
            } else {
                Duration::MAX
            };
        }
        let missing = SCALE - b.scaled;
        let nanos = missing.div_ceil(u128::from(self.config.requests_per_sec));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_at_the_configured_rate() {
        let t0 = Instant::now();
        let mut q = TenantQuotas::new(QuotaConfig {
            requests_per_sec: 2,
            burst: 3,
        });
        assert!((0..3).all(|_| q.try_acquire("a", t0)));
        assert!(!q.try_acquire("a", t0), "burst used up");
        assert!(q.try_acquire("b", t0), "tenants are independent");
        assert_eq!(q.retry_after("a"), Duration::from_millis(500));
        assert!(!q.try_acquire("a", t0 + Duration::from_millis(499)));
        assert!(q.try_acquire("a", t0 + Duration::from_millis(500)));
        // A long idle refills to the burst, not beyond.
        let later = t0 + Duration::from_secs(3600);
        assert!((0..3).all(|_| q.try_acquire("a", later)));
        assert!(!q.try_acquire("a", later));
    }
}
