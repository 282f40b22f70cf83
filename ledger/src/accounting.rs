//! Adapter to kernel-core's per-tenant accounting counters (feature `accounting-adapter`).

use kernel_core::metrics::accounting::TenantCounters;

use crate::{Ledger, LedgerError, Settlement, UsageRead};

impl UsageRead for TenantCounters {
    fn bytes_in(&self, tenant_id: &str) -> u64 {
        TenantCounters::bytes_in(self, tenant_id)
    }

    fn bytes_out(&self, tenant_id: &str) -> u64 {
        TenantCounters::bytes_out(self, tenant_id)
    }
}

impl Ledger {
    /// Settles `tenant_id` from the kernel's accounting counters (the same series the
    /// gateway feeds and `/metrics` exposes). Equivalent to [`Ledger::settle_with`].
    ///
    /// # Errors
    /// As [`Ledger::settle_with`].
    pub fn integrate_accounting(
        &mut self,
        counters: &TenantCounters,
        tenant_id: &str,
    ) -> Result<Settlement, LedgerError> {
        self.settle_with(counters, tenant_id)
    }
}
