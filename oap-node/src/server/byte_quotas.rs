//! Byte quotas: each tenant's stored bytes against its `max_stored_bytes`,
//! kept by the `ledger` crate's [`StorageLedger`] and, for a node whose
//! store survives restarts, its [`UsageJournal`].
//!
//! Who pays: the tenant whose put first stores an object. Putting an
//! object the store already has costs nothing (content addressing: no
//! second copy is kept). Objects are never deleted through OAP/1, so usage
//! only grows.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use ledger::{StorageError, StorageLedger, UsageJournal};
use oap_core::server::{ANONYMOUS_TENANT, Tenants};

/// The byte quotas of a gateway's tenants (see the module docs).
#[derive(Debug)]
pub struct ByteQuotas {
    ledger: Mutex<StorageLedger>,
    journal: Option<Mutex<UsageJournal>>,
}

impl ByteQuotas {
    /// In-memory accounts for every tenant of `tenants` and `anonymous`,
    /// with the limits of `limits` (tenant name → most bytes; a tenant not
    /// named has no limit, and is still counted).
    pub fn new(tenants: &Tenants, limits: &BTreeMap<String, u64>) -> Self {
        let mut ledger = StorageLedger::new();
        ledger.open_account(ANONYMOUS_TENANT, limits.get(ANONYMOUS_TENANT).copied());
        for t in tenants.tenants() {
            ledger.open_account(&t.name, limits.get(&t.name).copied());
        }
        Self {
            ledger: Mutex::new(ledger),
            journal: None,
        }
    }

    /// The same quotas, persisted in the journal at `path` (created if
    /// needed): what it recorded is restored now, and every stored object
    /// is recorded from now on.
    ///
    /// # Errors
    /// The journal cannot be opened (see [`UsageJournal::open`]).
    pub fn with_journal(self, path: impl Into<PathBuf>) -> io::Result<Self> {
        let (journal, totals) = UsageJournal::open(path)?;
        let mut ledger = self.ledger.into_inner().unwrap_or_else(|p| p.into_inner());
        for (tenant, stored) in &totals {
            ledger.restore(tenant, *stored);
        }
        Ok(Self {
            ledger: Mutex::new(ledger),
            journal: Some(Mutex::new(journal)),
        })
    }

    /// After a reload: opens accounts for tenants of `tenants` that have
    /// none and sets every configured tenant's limit from `limits`; what
    /// each has stored is kept.
    pub fn update_limits(&self, tenants: &Tenants, limits: &BTreeMap<String, u64>) {
        let mut ledger = self.lock();
        ledger.open_account(ANONYMOUS_TENANT, limits.get(ANONYMOUS_TENANT).copied());
        for t in tenants.tenants() {
            ledger.open_account(&t.name, limits.get(&t.name).copied());
        }
    }

    /// Bytes `tenant` has stored (0 for a tenant without an account).
    pub fn stored(&self, tenant: &str) -> u64 {
        self.lock().account(tenant).map_or(0, |a| a.stored)
    }

    fn lock(&self) -> MutexGuard<'_, StorageLedger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves `bytes` for a put by `tenant`, released when the returned
    /// reservation drops unless it is settled first.
    ///
    /// # Errors
    /// The put would pass the tenant's limit, or the tenant has no account.
    pub(crate) fn reserve(
        self: &Arc<Self>,
        tenant: &str,
        bytes: u64,
    ) -> Result<Reservation, StorageError> {
        self.lock().reserve(tenant, bytes)?;
        Ok(Reservation {
            quotas: Arc::clone(self),
            tenant: tenant.to_owned(),
            bytes,
        })
    }
}

/// Bytes reserved for one object of a put; released on drop.
#[derive(Debug)]
pub(crate) struct Reservation {
    quotas: Arc<ByteQuotas>,
    tenant: String,
    bytes: u64,
}

impl Reservation {
    /// The new object committed: charge it to the tenant and record that
    /// in the journal. May write to a file: call it where blocking is
    /// allowed (the commit's place).
    pub(crate) fn settle(mut self) {
        let stored = self.bytes;
        self.quotas.lock().settle(&self.tenant, self.bytes, stored);
        if stored > 0 {
            if let Some(journal) = &self.quotas.journal {
                let mut j = journal.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = j.record(&self.tenant, stored) {
                    // The object is stored and charged in memory; only
                    // the next restart would forget it.
                    tracing::warn!(
                        tenant = %self.tenant,
                        journal = %j.path().display(),
                        error = %e,
                        "cannot record stored bytes in the usage journal"
                    );
                }
            }
        }
        self.bytes = 0;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.quotas.lock().release(&self.tenant, self.bytes);
        }
    }
}
