//! Reading per-tenant usage.

use std::collections::BTreeMap;

/// Cumulative bytes per tenant. Values must only grow; the ledger charges the difference
/// between two reads.
pub trait UsageRead {
    /// Total bytes received from `tenant_id` (0 if unknown).
    fn bytes_in(&self, tenant_id: &str) -> u64;
    /// Total bytes sent to `tenant_id` (0 if unknown).
    fn bytes_out(&self, tenant_id: &str) -> u64;
}

/// A plain in-memory usage table, for tests and for callers that aggregate usage
/// themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InMemoryUsage {
    tenants: BTreeMap<String, (u64, u64)>,
}

impl InMemoryUsage {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `tenant_id`'s cumulative totals.
    pub fn set(&mut self, tenant_id: &str, bytes_in: u64, bytes_out: u64) {
        self.tenants
            .insert(tenant_id.to_owned(), (bytes_in, bytes_out));
    }
}

impl UsageRead for InMemoryUsage {
    fn bytes_in(&self, tenant_id: &str) -> u64 {
        self.tenants.get(tenant_id).map_or(0, |t| t.0)
    }

    fn bytes_out(&self, tenant_id: &str) -> u64 {
        self.tenants.get(tenant_id).map_or(0, |t| t.1)
    }
}
