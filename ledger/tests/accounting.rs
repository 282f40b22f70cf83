//! The `accounting-adapter` feature: settling straight from kernel-core's counters.
#![cfg(feature = "accounting-adapter")]

use kernel_core::Metrics;
use ledger::{Credits, Ledger, UsageRead, Weights};

#[test]
fn settles_from_the_counters_the_gateway_feeds() {
    let metrics = Metrics::new();
    metrics.record_bytes_in("acme", 1_000);
    metrics.record_bytes_out("acme", 4_000);
    metrics.record_bytes_out("globex", 9);
    let counters = metrics.tenants();
    assert_eq!(UsageRead::bytes_out(counters, "acme"), 4_000);

    let mut ledger = Ledger::new(Weights {
        alpha_out_per_byte: Credits::from_micros(2),
        beta_in_per_byte: Credits::from_micros(1),
    });
    let s = ledger.integrate_accounting(counters, "acme").unwrap();
    assert_eq!(s.charge, Credits::from_micros(4_000 * 2 + 1_000));

    metrics.record_bytes_out("acme", 500);
    let s = ledger.integrate_accounting(counters, "acme").unwrap();
    assert_eq!((s.bytes_in, s.bytes_out), (0, 500));
    assert_eq!(s.total, Credits::from_micros(10_000));
    assert_eq!(
        ledger
            .integrate_accounting(counters, "nobody")
            .unwrap()
            .charge,
        Credits::ZERO
    );
}
