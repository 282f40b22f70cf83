//! Stored bytes per tenant, against each tenant's `max_stored_bytes`.
//!
//! A put reserves its object's length before any byte is stored; the
//! reservation becomes stored bytes when the object commits, or is released
//! when the put fails or the object was already stored. Reserving counts
//! what is in flight too, so concurrent puts cannot together pass a limit.

use std::collections::BTreeMap;

use thiserror::Error;

/// One tenant's storage account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StorageAccount {
    /// Bytes of the objects the tenant stored.
    pub stored: u64,
    /// Bytes reserved by puts in flight.
    pub reserved: u64,
    /// The most `stored + reserved` may reach (none: no limit).
    pub limit: Option<u64>,
}

/// Why a reservation was refused. A refused reservation changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StorageError {
    /// The reservation would pass the tenant's limit.
    #[error(
        "tenant {tenant} would pass its max_stored_bytes of {limit} \
         ({stored} stored, {reserved} in flight, {requested} more asked)"
    )]
    QuotaExceeded {
        /// The tenant.
        tenant: String,
        /// Its limit.
        limit: u64,
        /// What it has stored.
        stored: u64,
        /// What its puts in flight reserved.
        reserved: u64,
        /// What this put asked for.
        requested: u64,
    },
    /// The tenant has no account (see [`StorageLedger::open_account`]).
    #[error("tenant {0:?} has no storage account")]
    UnknownTenant(String),
}

/// Stored and reserved bytes of each tenant that has an account.
///
/// Accounts exist only for the tenants the caller opens (a node: its
/// configured tenants and `anonymous`), so no peer-chosen name ever becomes
/// a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageLedger {
    accounts: BTreeMap<String, StorageAccount>,
}

impl StorageLedger {
    /// No accounts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens `tenant`'s account with `limit`, or sets the limit of the
    /// account it has.
    pub fn open_account(&mut self, tenant: &str, limit: Option<u64>) {
        self.accounts.entry(tenant.to_owned()).or_default().limit = limit;
    }

    /// Sets what `tenant` has stored (from a journal, at start). Ignored
    /// for a tenant without an account.
    pub fn restore(&mut self, tenant: &str, stored: u64) {
        if let Some(a) = self.accounts.get_mut(tenant) {
            a.stored = stored;
        }
    }

    /// `tenant`'s account.
    pub fn account(&self, tenant: &str) -> Option<&StorageAccount> {
        self.accounts.get(tenant)
    }

    /// Reserves `bytes` for a put of `tenant`'s.
    ///
    /// # Errors
    /// [`StorageError::QuotaExceeded`] when stored, reserved and `bytes`
    /// together would pass the limit (or overflow);
    /// [`StorageError::UnknownTenant`] without an account.
    pub fn reserve(&mut self, tenant: &str, bytes: u64) -> Result<(), StorageError> {
        let a = self
            .accounts
            .get_mut(tenant)
            .ok_or_else(|| StorageError::UnknownTenant(tenant.to_owned()))?;
        let after = a
            .stored
            .checked_add(a.reserved)
            .and_then(|n| n.checked_add(bytes));
        match (after, a.limit) {
            (Some(n), Some(limit)) if n <= limit => {}
            (Some(_), None) => {}
            _ => {
                return Err(StorageError::QuotaExceeded {
                    tenant: tenant.to_owned(),
                    limit: a.limit.unwrap_or(u64::MAX),
                    stored: a.stored,
                    reserved: a.reserved,
                    requested: bytes,
                });
            }
        }
        a.reserved += bytes;
        Ok(())
    }

    /// Gives back `bytes` a put reserved and will not store.
    pub fn release(&mut self, tenant: &str, bytes: u64) {
        if let Some(a) = self.accounts.get_mut(tenant) {
            a.reserved = a.reserved.saturating_sub(bytes);
        }
    }

    /// A put's object committed: its `reserved` bytes become `stored`
    /// bytes (`stored` is 0 when the object was already in the store, so
    /// storing it again costs nothing).
    pub fn settle(&mut self, tenant: &str, reserved: u64, stored: u64) {
        if let Some(a) = self.accounts.get_mut(tenant) {
            a.reserved = a.reserved.saturating_sub(reserved);
            a.stored = a.stored.saturating_add(stored);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_count_against_the_limit_until_settled_or_released() {
        let mut l = StorageLedger::new();
        l.open_account("a", Some(100));
        l.reserve("a", 60).unwrap();
        assert!(matches!(
            l.reserve("a", 41),
            Err(StorageError::QuotaExceeded {
                reserved: 60,
                requested: 41,
                ..
            })
        ));
        l.reserve("a", 40).unwrap();
        l.settle("a", 60, 60);
        l.release("a", 40);
        assert_eq!(
            l.account("a"),
            Some(&StorageAccount {
                stored: 60,
                reserved: 0,
                limit: Some(100)
            })
        );
        l.reserve("a", 40).unwrap();
        l.settle("a", 40, 0);
        assert_eq!(l.account("a").unwrap().stored, 60, "a duplicate is free");
        assert!(l.reserve("a", 41).is_err());
    }

    #[test]
    fn no_limit_still_counts_and_overflow_is_refused() {
        let mut l = StorageLedger::new();
        l.open_account("free", None);
        l.reserve("free", u64::MAX).unwrap();
        assert!(
            l.reserve("free", 1).is_err(),
            "overflow is refused, not wrapped"
        );
        assert_eq!(
            l.reserve("nobody", 1),
            Err(StorageError::UnknownTenant("nobody".into()))
        );
        l.restore("nobody", 5);
        assert_eq!(l.account("nobody"), None, "restore opens no account");
    }
}
