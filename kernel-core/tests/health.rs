//! Per-service health and readiness.

use kernel_core::{HealthState, KernelEvent};

#[test]
fn readiness_needs_at_least_one_service_and_all_healthy() {
    let health = HealthState::new();
    assert!(!health.all_ready(), "empty table is not ready");
    health.set("gateway", true);
    assert!(health.all_ready());
    health.set("storage", false);
    assert!(!health.all_ready());
    health.set("storage", true);
    assert!(health.all_ready());
    health.remove("storage");
    assert_eq!(health.get("storage"), None);
    assert_eq!(health.get("gateway"), Some(true));
}

#[test]
fn bus_events_drive_the_table_and_snapshots_serialise() {
    let health = HealthState::new();
    let shared = health.clone();
    health.apply(&KernelEvent::Health {
        service: "gateway".into(),
        ok: true,
    });
    health.apply(&KernelEvent::Health {
        service: "index".into(),
        ok: true,
    });
    health.apply(&KernelEvent::ServiceCrashed {
        service: "index".into(),
        reason: "panic".into(),
    });
    health.apply(&KernelEvent::Shutdown);
    let snap = shared.snapshot();
    assert!(!snap.ready);
    assert_eq!(snap.services.get("index"), Some(&false));
    assert_eq!(
        serde_json::to_string(&snap).unwrap(),
        r#"{"ready":false,"services":{"gateway":true,"index":false}}"#
    );
}
