//! Fixed-point credit amounts.

use std::fmt;

/// An amount of credits in micro-credits (1 credit = 1 000 000 units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Credits(u64);

impl Credits {
    /// Micro-credits in one credit.
    pub const MICROS_PER_CREDIT: u64 = 1_000_000;
    /// No credits.
    pub const ZERO: Credits = Credits(0);

    /// `micros` micro-credits.
    pub const fn from_micros(micros: u64) -> Self {
        Self(micros)
    }

    /// Whole credits, or `None` if the amount does not fit.
    pub const fn from_credits(credits: u64) -> Option<Self> {
        match credits.checked_mul(Self::MICROS_PER_CREDIT) {
            Some(micros) => Some(Self(micros)),
            None => None,
        }
    }

    /// The amount in micro-credits.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: Credits) -> Option<Credits> {
        match self.0.checked_add(other.0) {
            Some(sum) => Some(Credits(sum)),
            None => None,
        }
    }
}

impl fmt::Display for Credits {
    /// Formats as a decimal with six fractional digits, e.g. `12.000345`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Self::MICROS_PER_CREDIT;
        let frac = self.0 % Self::MICROS_PER_CREDIT;
        write!(f, "{whole}.{frac:06}")
    }
}
