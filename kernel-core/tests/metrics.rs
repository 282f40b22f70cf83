//! The exposition is parsed back and every series checked by name, labels and value.

use std::collections::BTreeMap;
use std::time::Duration;

use kernel_core::bus::TryRecvError;
use kernel_core::{Bus, KernelEvent, Metrics};

/// `name{labels}` → value, for every sample line of an OpenMetrics text exposition.
fn parse(text: &str) -> BTreeMap<String, f64> {
    assert!(text.ends_with("# EOF\n"), "exposition must be complete");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            (series.to_owned(), value.parse().expect("numeric value"))
        })
        .collect()
}

fn metric_names(samples: &BTreeMap<String, f64>) -> Vec<String> {
    let mut names: Vec<String> = samples
        .keys()
        .map(|k| k.split('{').next().unwrap().to_owned())
        .collect();
    names.dedup();
    names
}

#[test]
fn fresh_metrics_expose_every_series_under_its_exact_name() {
    let samples = parse(&Metrics::new().encode());
    let names = metric_names(&samples);
    for name in [
        "bus_lagged_total",
        "bus_missed_events_total",
        "request_latency_seconds_count",
        "request_latency_seconds_sum",
        "request_latency_seconds_bucket",
        "bytes_in_total",
        "bytes_out_total",
        "open_connections",
        "inflight_requests",
        "corrupt_objects_total",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
    }
    assert!(
        names.iter().all(|n| !n.ends_with("_total_total")),
        "{names:?}"
    );
    assert_eq!(samples["bus_lagged_total"], 0.0);
}

#[test]
fn recorded_values_come_back_from_the_exposition() {
    let metrics = Metrics::new();
    metrics.record_rejected("quota");
    metrics.record_rejected("quota");
    metrics.record_rejected("bad_frame");
    metrics.record_tls_handshake_failure("timeout");
    metrics.record_service_restart("gateway");
    metrics.observe_request_latency(Duration::from_millis(3));
    metrics.observe_request_latency(Duration::from_millis(300));
    metrics.record_bytes_in("acme", 100);
    metrics.record_bytes_in("globex", 5);
    metrics.record_bytes_out("acme", 40);
    metrics.connection_opened();
    metrics.connection_opened();
    metrics.connection_closed();
    metrics.request_started();
    metrics.request_started();

    let s = parse(&metrics.encode());
    assert_eq!(s["rejected_total{reason=\"quota\"}"], 2.0);
    assert_eq!(s["rejected_total{reason=\"bad_frame\"}"], 1.0);
    assert_eq!(s["tls_handshake_failures_total{reason=\"timeout\"}"], 1.0);
    assert_eq!(s["service_restarts_total{service=\"gateway\"}"], 1.0);
    assert_eq!(s["request_latency_seconds_count"], 2.0);
    assert!((s["request_latency_seconds_sum"] - 0.303).abs() < 1e-9);
    assert_eq!(s["request_latency_seconds_bucket{le=\"+Inf\"}"], 2.0);
    assert_eq!(s["request_latency_seconds_bucket{le=\"0.004\"}"], 1.0);
    assert_eq!(s["bytes_in_total"], 105.0);
    assert_eq!(s["bytes_out_total"], 40.0);
    assert_eq!(s["tenant_bytes_in_total{tenant=\"acme\"}"], 100.0);
    assert_eq!(s["tenant_bytes_in_total{tenant=\"globex\"}"], 5.0);
    assert_eq!(s["tenant_bytes_out_total{tenant=\"acme\"}"], 40.0);
    assert_eq!(s["open_connections"], 1.0);
    assert_eq!(s["inflight_requests"], 2.0);

    let usage = metrics.tenants().usage("acme");
    assert_eq!((usage.bytes_in, usage.bytes_out), (100, 40));
    assert_eq!(metrics.tenants().bytes_out("nobody"), 0);
}

#[test]
fn a_tenant_meter_counts_into_the_same_series_as_a_lookup() {
    let metrics = Metrics::new();
    metrics.record_bytes_in("acme", 100);
    let acme = metrics.tenants().meter("acme");
    metrics.record_bytes_in_to(&acme, 20);
    metrics.record_bytes_out_to(&acme, 7);
    // A tenant first met through a meter gets its series too.
    let globex = metrics.tenants().meter("globex");
    metrics.record_bytes_out_to(&globex, 3);
    metrics.record_bytes_out("globex", 1);
    // A meter made again (kept since the first) counts there too.
    let again = metrics.tenants().meter("acme");
    metrics.record_bytes_in_to(&again, 5);

    let s = parse(&metrics.encode());
    assert_eq!(s["bytes_in_total"], 125.0);
    assert_eq!(s["bytes_out_total"], 11.0);
    assert_eq!(s["tenant_bytes_in_total{tenant=\"acme\"}"], 125.0);
    assert_eq!(s["tenant_bytes_out_total{tenant=\"acme\"}"], 7.0);
    assert_eq!(s["tenant_bytes_out_total{tenant=\"globex\"}"], 4.0);
    let usage = metrics.tenants().usage("acme");
    assert_eq!((usage.bytes_in, usage.bytes_out), (125, 7));
}

#[test]
fn bus_lagged_total_counts_real_lags() {
    let metrics = Metrics::new();
    let bus = Bus::with_metrics(8, &metrics);
    let mut a = bus.subscribe();
    let mut b = bus.subscribe();
    for version in 0..20 {
        bus.publish_lossy(KernelEvent::ConfigUpdated { version });
    }
    assert_eq!(a.try_recv(), Err(TryRecvError::Lagged { missed: 12 }));
    assert_eq!(b.try_recv(), Err(TryRecvError::Lagged { missed: 12 }));
    // `b` catches up; `a` does not.
    for _ in 12..20 {
        assert!(b.try_recv().is_ok());
    }
    for version in 20..28 {
        bus.publish_lossy(KernelEvent::ConfigUpdated { version });
    }
    // `a` lags a second time; `b` reads on.
    assert_eq!(a.try_recv(), Err(TryRecvError::Lagged { missed: 8 }));
    assert_eq!(b.try_recv(), Ok(KernelEvent::ConfigUpdated { version: 20 }));
    let s = parse(&metrics.encode());
    assert_eq!(s["bus_lagged_total"], 3.0);
    assert_eq!(s["bus_missed_events_total"], 12.0 + 12.0 + 8.0);
}
