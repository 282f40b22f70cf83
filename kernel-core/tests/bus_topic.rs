//! Topic-style filtering with `sub::recv_matching` and the other `sub` helpers.

use std::time::Duration;

use futures_lite::future::block_on;
use kernel_core::sub::{SubError, recv_matching, recv_with_timeout, try_recv_now};
use kernel_core::{Bus, KernelEvent};

const LONG: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(30);

fn health(service: &str, ok: bool) -> KernelEvent {
    KernelEvent::Health {
        service: service.into(),
        ok,
    }
}

fn crash(service: &str) -> KernelEvent {
    KernelEvent::ServiceCrashed {
        service: service.into(),
        reason: "test".into(),
    }
}

fn is_crash_of(service: &'static str) -> impl FnMut(&KernelEvent) -> bool {
    move |e| matches!(e, KernelEvent::ServiceCrashed { service: s, .. } if s == service)
}

#[test]
fn recv_matching_returns_only_the_intended_events() {
    let bus = Bus::new(16);
    let mut rx = bus.subscribe();
    for event in [
        health("gateway", true),
        crash("storage"),
        KernelEvent::ConfigUpdated { version: 2 },
        crash("gateway"),
        health("storage", false),
        crash("gateway"),
    ] {
        bus.publish_lossy(event);
    }
    let mut seen = Vec::new();
    while let Ok(event) = block_on(recv_matching(&mut rx, is_crash_of("gateway"), SHORT)) {
        seen.push(event);
    }
    assert_eq!(seen, vec![crash("gateway"), crash("gateway")]);
}

#[test]
fn recv_matching_leaves_events_after_the_match_unread() {
    let bus = Bus::new(16);
    let mut rx = bus.subscribe();
    bus.publish_lossy(health("a", true));
    bus.publish_lossy(crash("a"));
    bus.publish_lossy(health("b", true));
    let got = block_on(recv_matching(&mut rx, is_crash_of("a"), LONG));
    assert_eq!(got, Ok(crash("a")));
    assert_eq!(try_recv_now(&mut rx), Ok(Some(health("b", true))));
    assert_eq!(try_recv_now(&mut rx), Ok(None));
}

#[test]
fn recv_matching_times_out_when_nothing_matches_and_consumes_the_rest() {
    let bus = Bus::new(16);
    let mut rx = bus.subscribe();
    bus.publish_lossy(health("a", true));
    bus.publish_lossy(KernelEvent::Shutdown);
    let got = block_on(recv_matching(&mut rx, is_crash_of("a"), SHORT));
    assert_eq!(got, Err(SubError::Timeout));
    assert_eq!(try_recv_now(&mut rx), Ok(None));
}

#[test]
fn recv_matching_surfaces_a_lag_instead_of_hiding_it() {
    let bus = Bus::new(8);
    let mut rx = bus.subscribe();
    for _ in 0..10 {
        bus.publish_lossy(health("noise", true));
    }
    bus.publish_lossy(crash("a"));
    let first = block_on(recv_matching(&mut rx, is_crash_of("a"), LONG));
    assert_eq!(first, Err(SubError::Lagged { missed: 3 }));
    let second = block_on(recv_matching(&mut rx, is_crash_of("a"), LONG));
    assert_eq!(second, Ok(crash("a")));
}

#[test]
fn recv_with_timeout_returns_an_event_or_times_out() {
    let bus = Bus::new(8);
    let mut rx = bus.subscribe();
    assert_eq!(
        block_on(recv_with_timeout(&mut rx, SHORT)),
        Err(SubError::Timeout)
    );
    bus.publish_lossy(KernelEvent::Shutdown);
    assert_eq!(
        block_on(recv_with_timeout(&mut rx, LONG)),
        Ok(KernelEvent::Shutdown)
    );
    drop(bus);
    assert_eq!(
        block_on(recv_with_timeout(&mut rx, LONG)),
        Err(SubError::Closed)
    );
}

#[test]
fn try_recv_now_reports_lag_once_then_resumes() {
    let bus = Bus::new(8);
    let mut rx = bus.subscribe();
    for version in 0..12 {
        bus.publish_lossy(KernelEvent::ConfigUpdated { version });
    }
    assert_eq!(try_recv_now(&mut rx), Err(SubError::Lagged { missed: 4 }));
    assert_eq!(
        try_recv_now(&mut rx),
        Ok(Some(KernelEvent::ConfigUpdated { version: 4 }))
    );
}
