//! Settlement arithmetic: deltas, exact integer charges, typed overflow, regressions.

use ledger::error::Direction;
use ledger::{Credits, InMemoryUsage, Ledger, LedgerError, Weights};
use proptest::prelude::*;

fn weights(alpha: u64, beta: u64) -> Weights {
    Weights {
        alpha_out_per_byte: Credits::from_micros(alpha),
        beta_in_per_byte: Credits::from_micros(beta),
    }
}

#[test]
fn charges_out_times_alpha_plus_in_times_beta() {
    let mut usage = InMemoryUsage::new();
    usage.set("acme", 1_000, 3_000);
    let mut ledger = Ledger::new(weights(5, 2));
    let s = ledger.settle_with(&usage, "acme").unwrap();
    assert_eq!((s.bytes_in, s.bytes_out), (1_000, 3_000));
    assert_eq!(s.charge, Credits::from_micros(3_000 * 5 + 1_000 * 2));
    assert_eq!(s.total, s.charge);
    assert_eq!(s.charge.to_string(), "0.017000");
}

#[test]
fn each_byte_is_charged_once() {
    let mut usage = InMemoryUsage::new();
    let mut ledger = Ledger::new(weights(3, 1));
    usage.set("t", 10, 10);
    let first = ledger.settle_with(&usage, "t").unwrap();
    let again = ledger.settle_with(&usage, "t").unwrap();
    assert_eq!(again.charge, Credits::ZERO);
    assert_eq!(again.total, first.total);
    usage.set("t", 15, 30);
    let third = ledger.settle_with(&usage, "t").unwrap();
    assert_eq!((third.bytes_in, third.bytes_out), (5, 20));
    assert_eq!(third.charge, Credits::from_micros(20 * 3 + 5));
    assert_eq!(third.total, Credits::from_micros(40 + 65));
    assert_eq!(ledger.account("t").unwrap().settled_out, 30);
    assert!(ledger.account("other").is_none());
}

#[test]
fn overflow_is_a_typed_error_and_changes_nothing() {
    let mut usage = InMemoryUsage::new();
    usage.set("big", 0, u64::MAX);
    let mut ledger = Ledger::new(weights(2, 0));
    assert_eq!(
        ledger.settle_with(&usage, "big"),
        Err(LedgerError::Overflow {
            tenant: "big".into()
        })
    );
    assert!(ledger.account("big").is_none());

    // The running total overflowing is refused too, and leaves the account as it was.
    let mut ledger = Ledger::new(weights(1, 1));
    usage.set("big", 0, u64::MAX - 1);
    ledger.settle_with(&usage, "big").unwrap();
    usage.set("big", 2, u64::MAX - 1);
    assert!(matches!(
        ledger.settle_with(&usage, "big"),
        Err(LedgerError::Overflow { .. })
    ));
    let account = ledger.account("big").unwrap();
    assert_eq!(account.charged, Credits::from_micros(u64::MAX - 1));
    assert_eq!(account.settled_in, 0);
    let mut ledger = Ledger::new(weights(u64::MAX, u64::MAX));
    usage.set("two", 1, 1);
    assert!(matches!(
        ledger.settle_with(&usage, "two"),
        Err(LedgerError::Overflow { .. })
    ));
}

#[test]
fn a_counter_going_backwards_is_refused_until_rebased() {
    let mut usage = InMemoryUsage::new();
    let mut ledger = Ledger::new(weights(1, 1));
    usage.set("t", 100, 100);
    ledger.settle_with(&usage, "t").unwrap();
    usage.set("t", 7, 100);
    assert_eq!(
        ledger.settle_with(&usage, "t"),
        Err(LedgerError::CounterRegressed {
            tenant: "t".into(),
            direction: Direction::In,
            settled: 100,
            observed: 7
        })
    );
    ledger.rebase(&usage, "t");
    usage.set("t", 10, 100);
    assert_eq!(
        ledger.settle_with(&usage, "t").unwrap().charge,
        Credits::from_micros(3)
    );
    assert_eq!(
        ledger.account("t").unwrap().charged,
        Credits::from_micros(203)
    );
}

#[test]
fn credits_format_as_fixed_point() {
    assert_eq!(Credits::from_credits(12).unwrap().to_string(), "12.000000");
    assert_eq!(Credits::from_micros(1_234_567).to_string(), "1.234567");
    assert_eq!(Credits::from_credits(u64::MAX), None);
}

proptest! {
    /// Settling in many steps charges exactly what settling once at the end charges.
    #[test]
    fn settlement_is_additive(
        alpha in 0u64..1_000,
        beta in 0u64..1_000,
        steps in prop::collection::vec((0u64..1_000_000, 0u64..1_000_000), 1..20),
    ) {
        let mut stepwise = Ledger::new(weights(alpha, beta));
        let mut usage = InMemoryUsage::new();
        let (mut total_in, mut total_out) = (0u64, 0u64);
        for (d_in, d_out) in steps {
            total_in += d_in;
            total_out += d_out;
            usage.set("t", total_in, total_out);
            stepwise.settle_with(&usage, "t").unwrap();
        }
        let mut once = Ledger::new(weights(alpha, beta));
        let s = once.settle_with(&usage, "t").unwrap();
        prop_assert_eq!(stepwise.account("t").unwrap().charged, s.total);
        prop_assert_eq!(
            u128::from(s.total.as_micros()),
            u128::from(total_out) * u128::from(alpha) + u128::from(total_in) * u128::from(beta)
        );
    }
}
