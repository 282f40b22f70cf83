//! Per-tenant byte accounting: fed by the gateway, exposed as metrics, read by the ledger.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// Label set `{tenant="..."}`.
pub type TenantLabel = [(&'static str, String); 1];

fn label(tenant: &str) -> TenantLabel {
    [("tenant", tenant.to_owned())]
}

/// Cumulative bytes in and out per tenant.
///
/// The counters are the very series exposed as `tenant_bytes_in_total{tenant}` and
/// `tenant_bytes_out_total{tenant}`, so the ledger settles on exactly what the metrics
/// show. Cloning shares the counters. Values only grow (until the process restarts).
#[derive(Debug, Clone, Default)]
pub struct TenantCounters {
    bytes_in: Family<TenantLabel, Counter>,
    bytes_out: Family<TenantLabel, Counter>,
    /// The meters made so far, by tenant: a connection's meter is then one
    /// lookup by name, where the families take a label built for each of
    /// their two. It holds the tenants the families do, no others.
    meters: Arc<RwLock<HashMap<String, TenantMeter>>>,
}

/// One tenant's two counters, the very series of [`TenantCounters`]:
/// adding through it is [`TenantCounters::add_in`] / [`TenantCounters::add_out`]
/// without building the tenant's label and looking it up under the
/// family's lock at each call. For a connection, which reports its bytes
/// many times for one tenant.
#[derive(Debug, Clone)]
pub struct TenantMeter {
    bytes_in: Counter,
    bytes_out: Counter,
}

impl TenantMeter {
    /// Adds `n` bytes received from the tenant.
    pub fn add_in(&self, n: u64) {
        self.bytes_in.inc_by(n);
    }

    /// Adds `n` bytes sent to the tenant.
    pub fn add_out(&self, n: u64) {
        self.bytes_out.inc_by(n);
    }
}

/// Both directions for one tenant at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantUsage {
    /// Bytes received from the tenant.
    pub bytes_in: u64,
    /// Bytes sent to the tenant.
    pub bytes_out: u64,
}

impl TenantCounters {
    /// Adds `n` bytes received from `tenant`. Call once per read from the tenant's connection.
    pub fn add_in(&self, tenant: &str, n: u64) {
        self.bytes_in.get_or_create(&label(tenant)).inc_by(n);
    }

    /// Adds `n` bytes sent to `tenant`. Call once per write to the tenant's connection.
    pub fn add_out(&self, tenant: &str, n: u64) {
        self.bytes_out.get_or_create(&label(tenant)).inc_by(n);
    }

    /// The two counters of `tenant`, looked up once (see [`TenantMeter`]).
    pub fn meter(&self, tenant: &str) -> TenantMeter {
        let made = self.meters.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(meter) = made.get(tenant) {
            return meter.clone();
        }
        drop(made);
        let label = label(tenant);
        let meter = TenantMeter {
            bytes_in: self.bytes_in.get_or_create(&label).clone(),
            bytes_out: self.bytes_out.get_or_create(&label).clone(),
        };
        self.meters
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant.to_owned())
            .or_insert(meter)
            .clone()
    }

    /// Total bytes received from `tenant` (0 for an unknown tenant).
    pub fn bytes_in(&self, tenant: &str) -> u64 {
        self.bytes_in.get(&label(tenant)).map_or(0, |c| c.get())
    }

    /// Total bytes sent to `tenant` (0 for an unknown tenant).
    pub fn bytes_out(&self, tenant: &str) -> u64 {
        self.bytes_out.get(&label(tenant)).map_or(0, |c| c.get())
    }

    /// Both totals for `tenant`. The two reads are not one atomic snapshot; a concurrent
    /// add may land between them, and shows up in the next read.
    pub fn usage(&self, tenant: &str) -> TenantUsage {
        TenantUsage {
            bytes_in: self.bytes_in(tenant),
            bytes_out: self.bytes_out(tenant),
        }
    }

    pub(crate) fn families(&self) -> (Family<TenantLabel, Counter>, Family<TenantLabel, Counter>) {
        (self.bytes_in.clone(), self.bytes_out.clone())
    }
}
