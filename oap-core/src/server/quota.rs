//! Per-tenant request quotas: token buckets driven by the caller's clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::ANONYMOUS_TENANT;

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
    config: QuotaConfig,
    /// Tokens × 1e9.
    scaled: u128,
    /// When `scaled` was last brought up to date; none before the first
    /// request, which finds a full bucket.
    last: Option<Instant>,
}

const SCALE: u128 = 1_000_000_000;

impl Bucket {
    fn new(config: QuotaConfig) -> Self {
        Self {
            config,
            scaled: u128::from(config.burst) * SCALE,
            last: None,
        }
    }

    fn try_acquire(&mut self, now: Instant) -> bool {
        let cap = u128::from(self.config.burst) * SCALE;
        let rate = u128::from(self.config.requests_per_sec);
        let last = *self.last.get_or_insert(now);
        let elapsed = now.saturating_duration_since(last);
        self.last = Some(last.max(now));
        self.scaled = (self.scaled + elapsed.as_nanos() * rate).min(cap);
        if self.scaled >= SCALE {
            self.scaled -= SCALE;
            true
        } else {
            false
        }
    }

    fn retry_after(&self) -> Duration {
        if self.scaled >= SCALE {
            return Duration::ZERO;
        }
        if self.config.requests_per_sec == 0 {
            return Duration::MAX;
        }
        let missing = SCALE - self.scaled;
        let nanos = missing.div_ceil(u128::from(self.config.requests_per_sec));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// Token buckets for a fixed set of tenants: `anonymous` and those added
/// with [`TenantQuotas::with_tenant`] (see also
/// [`Tenants::quotas`](super::Tenants::quotas)). A name without a bucket
/// is charged to `anonymous`'s, so no input ever adds a bucket: the map is
/// bounded by configuration, not by what peers claim.
///
/// Share one instance across a server's connections (behind a lock) so the
/// quota is per tenant, not per connection.
#[derive(Debug, Clone)]
pub struct TenantQuotas {
    anonymous: Bucket,
    tenants: BTreeMap<String, Bucket>,
}

impl TenantQuotas {
    /// Quotas with one bucket, `anonymous`'s, of `anonymous`.
    pub fn new(anonymous: QuotaConfig) -> Self {
        Self {
            anonymous: Bucket::new(anonymous),
            tenants: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) `tenant`'s bucket, of `config` (`anonymous`
    /// replaces the anonymous bucket).
    #[must_use]
    pub fn with_tenant(mut self, tenant: &str, config: QuotaConfig) -> Self {
        if tenant == ANONYMOUS_TENANT {
            self.anonymous = Bucket::new(config);
        } else {
            self.tenants.insert(tenant.to_owned(), Bucket::new(config));
        }
        self
    }

    /// How many buckets there are (configured tenants plus `anonymous`).
    pub fn bucket_count(&self) -> usize {
        self.tenants.len() + 1
    }

    fn bucket_mut(&mut self, tenant: &str) -> &mut Bucket {
        self.tenants.get_mut(tenant).unwrap_or(&mut self.anonymous)
    }

    /// Takes one request token for `tenant` at `now`; `false` when the
    /// bucket is empty. A bucket's first request finds it full.
    pub fn try_acquire(&mut self, tenant: &str, now: Instant) -> bool {
        self.bucket_mut(tenant).try_acquire(now)
    }

    /// How long until `tenant` has a token again (zero if it has one).
    pub fn retry_after(&self, tenant: &str) -> Duration {
        self.tenants
            .get(tenant)
            .unwrap_or(&self.anonymous)
            .retry_after()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_at_the_configured_rate() {
        let t0 = Instant::now();
        let config = QuotaConfig {
            requests_per_sec: 2,
            burst: 3,
        };
        let mut q = TenantQuotas::new(config)
            .with_tenant("a", config)
            .with_tenant("b", config);
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

    #[test]
    fn each_tenant_has_its_own_rate_and_unknown_names_share_anonymous() {
        let t0 = Instant::now();
        let mut q = TenantQuotas::new(QuotaConfig {
            requests_per_sec: 1,
            burst: 1,
        })
        .with_tenant(
            "big",
            QuotaConfig {
                requests_per_sec: 10,
                burst: 5,
            },
        );
        assert!((0..5).all(|_| q.try_acquire("big", t0)));
        assert!(!q.try_acquire("big", t0));
        assert!(q.try_acquire("never-configured", t0));
        assert!(!q.try_acquire("anonymous", t0), "the same bucket");
        assert!(!q.try_acquire("someone-else", t0));
        assert_eq!(q.bucket_count(), 2, "no bucket was made for a name");
    }
}
