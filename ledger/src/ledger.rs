//! The ledger: per-tenant settled usage and charges.

use std::collections::BTreeMap;

use crate::error::{Direction, LedgerError};
use crate::{Credits, UsageRead};

/// Prices, in micro-credits per byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weights {
    /// Price of each byte sent to a tenant (α).
    pub alpha_out_per_byte: Credits,
    /// Price of each byte received from a tenant (β).
    pub beta_in_per_byte: Credits,
}

/// One tenant's settled state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    /// `bytes_in` counter value at the last settlement.
    pub settled_in: u64,
    /// `bytes_out` counter value at the last settlement.
    pub settled_out: u64,
    /// Sum of every charge so far.
    pub charged: Credits,
}

/// The outcome of one settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The tenant.
    pub tenant: String,
    /// Bytes received since the previous settlement.
    pub bytes_in: u64,
    /// Bytes sent since the previous settlement.
    pub bytes_out: u64,
    /// `bytes_out × α + bytes_in × β` for this settlement.
    pub charge: Credits,
    /// The tenant's total charged so far, this settlement included.
    pub total: Credits,
}

/// Settles cumulative usage into credits, charging each byte once.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    weights: Weights,
    accounts: BTreeMap<String, Account>,
}

impl Ledger {
    /// An empty ledger with these prices.
    pub fn new(weights: Weights) -> Self {
        Self {
            weights,
            accounts: BTreeMap::new(),
        }
    }

    /// The prices in force.
    pub fn weights(&self) -> Weights {
        self.weights
    }

    /// `tenant_id`'s account, if it was ever settled.
    pub fn account(&self, tenant_id: &str) -> Option<&Account> {
        self.accounts.get(tenant_id)
    }

    /// Reads `tenant_id`'s cumulative usage from `usage` and charges what was used since
    /// the previous settlement. Call it periodically and at disconnect; calling it twice
    /// without new traffic charges nothing.
    ///
    /// # Errors
    /// [`LedgerError::Overflow`] if the charge or the running total overflows,
    /// [`LedgerError::CounterRegressed`] if a counter went backwards. On error the
    /// account is left unchanged.
    pub fn settle_with<U>(&mut self, usage: &U, tenant_id: &str) -> Result<Settlement, LedgerError>
    where
        U: UsageRead + ?Sized,
    {
        let observed_in = usage.bytes_in(tenant_id);
        let observed_out = usage.bytes_out(tenant_id);
        let account = self.accounts.get(tenant_id).copied().unwrap_or_default();
        let regressed = |direction, settled, observed| LedgerError::CounterRegressed {
            tenant: tenant_id.to_owned(),
            direction,
            settled,
            observed,
        };
        let bytes_in = observed_in
            .checked_sub(account.settled_in)
            .ok_or_else(|| regressed(Direction::In, account.settled_in, observed_in))?;
        let bytes_out = observed_out
            .checked_sub(account.settled_out)
            .ok_or_else(|| regressed(Direction::Out, account.settled_out, observed_out))?;

        let overflow = || LedgerError::Overflow {
            tenant: tenant_id.to_owned(),
        };
        let charge = self.charge(bytes_in, bytes_out).ok_or_else(overflow)?;
        let total = account.charged.checked_add(charge).ok_or_else(overflow)?;

        self.accounts.insert(
            tenant_id.to_owned(),
            Account {
                settled_in: observed_in,
                settled_out: observed_out,
                charged: total,
            },
        );
        Ok(Settlement {
            tenant: tenant_id.to_owned(),
            bytes_in,
            bytes_out,
            charge,
            total,
        })
    }

    /// Takes `usage`'s current counters as `tenant_id`'s new baseline without charging
    /// (after a counter reset reported by [`LedgerError::CounterRegressed`]).
    pub fn rebase<U>(&mut self, usage: &U, tenant_id: &str)
    where
        U: UsageRead + ?Sized,
    {
        let account = self.accounts.entry(tenant_id.to_owned()).or_default();
        account.settled_in = usage.bytes_in(tenant_id);
        account.settled_out = usage.bytes_out(tenant_id);
    }

    /// `bytes_out × α + bytes_in × β`, or `None` if it does not fit in `u64` micro-credits.
    fn charge(&self, bytes_in: u64, bytes_out: u64) -> Option<Credits> {
        // u64 × u64 always fits in u128, and so does the sum of two such products.
        let out = u128::from(bytes_out) * u128::from(self.weights.alpha_out_per_byte.as_micros());
        let inn = u128::from(bytes_in) * u128::from(self.weights.beta_in_per_byte.as_micros());
        u64::try_from(out + inn).ok().map(Credits::from_micros)
    }
}
