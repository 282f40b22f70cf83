//! Supervisor policy driven with explicit time: `t0 + Duration` values, no clock reads
//! inside the supervisor and no sleeping here.

use std::time::{Duration, Instant};

use kernel_core::supervisor::backoff::base_delay;
use kernel_core::supervisor::{
    Exit, Restart, RestartPolicy, ServiceStatus, Supervisor, UnknownService,
};
use kernel_core::{KernelEvent, Metrics};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn policy(jitter_percent: u8) -> RestartPolicy {
    RestartPolicy {
        restart: Restart::Permanent,
        backoff_initial: ms(100),
        backoff_max: ms(1_000),
        jitter_percent,
        max_restarts: 10,
        window: Duration::from_secs(3600),
    }
}

fn crash(reason: &str) -> Exit {
    Exit::Crashed(reason.into())
}

/// Crashes `name` and restarts it as soon as allowed, `n` times; returns each delay.
fn crash_loop(sup: &mut Supervisor, name: &str, t0: Instant, n: usize) -> Vec<Duration> {
    let mut now = t0;
    let mut delays = Vec::new();
    for i in 0..n {
        sup.on_exit(name, crash(&format!("crash {i}")), now)
            .unwrap();
        let at = sup.poll_timeout().expect("restart pending");
        delays.push(at - now);
        assert_eq!(
            sup.poll_restart(at - ms(1)),
            None,
            "restart before deadline"
        );
        assert_eq!(sup.poll_restart(at).as_deref(), Some(name));
        now = at;
    }
    delays
}

#[test]
fn backoff_doubles_up_to_the_cap_without_jitter() {
    let t0 = Instant::now();
    let mut sup = Supervisor::new(1);
    sup.add_service("svc", policy(0));
    let delays = crash_loop(&mut sup, "svc", t0, 7);
    assert_eq!(
        delays,
        vec![
            ms(100),
            ms(200),
            ms(400),
            ms(800),
            ms(1000),
            ms(1000),
            ms(1000)
        ]
    );
    assert_eq!(sup.restarts_total("svc"), Some(7));
}

#[test]
fn jitter_is_bounded_and_deterministic_for_a_seed() {
    let t0 = Instant::now();
    let run = |seed| {
        let mut sup = Supervisor::new(seed);
        sup.add_service("svc", policy(50));
        crash_loop(&mut sup, "svc", t0, 8)
    };
    let a = run(42);
    assert_eq!(a, run(42), "same seed, same deadlines");
    assert_ne!(a, run(43), "another seed jitters differently");
    for (attempt, delay) in a.iter().enumerate() {
        let base = base_delay(&policy(50), attempt as u32);
        assert!(*delay <= base, "{delay:?} above {base:?}");
        assert!(*delay >= base / 2, "{delay:?} below half of {base:?}");
    }
}

#[test]
fn crash_loop_gives_up_after_max_restarts_in_the_window() {
    let t0 = Instant::now();
    let mut sup = Supervisor::new(7);
    let p = RestartPolicy {
        max_restarts: 3,
        window: Duration::from_secs(60),
        ..policy(0)
    };
    sup.add_service("flaky", p);
    sup.add_service("steady", p);
    let delays = crash_loop(&mut sup, "flaky", t0, 3);
    let now = t0 + delays.iter().sum::<Duration>();
    // The fourth crash within 60 s exceeds the intensity.
    sup.on_exit("flaky", crash("again"), now).unwrap();
    assert_eq!(sup.status("flaky"), Some(ServiceStatus::Failed));
    assert_eq!(
        sup.poll_timeout(),
        None,
        "no restart scheduled after giving up"
    );
    assert_eq!(sup.poll_restart(now + Duration::from_secs(3600)), None);

    let events: Vec<_> = std::iter::from_fn(|| sup.poll_event()).collect();
    assert_eq!(events.len(), 5);
    assert!(events[..4].iter().all(|e| matches!(
        e,
        KernelEvent::ServiceCrashed { service, .. } if service == "flaky"
    )));
    assert_eq!(
        events[4],
        KernelEvent::Health {
            service: "flaky".into(),
            ok: false
        }
    );
    assert_eq!(sup.status("steady"), Some(ServiceStatus::Running));
}

#[test]
fn restarts_spread_beyond_the_window_never_give_up_and_backoff_resets() {
    let t0 = Instant::now();
    let mut sup = Supervisor::new(7);
    sup.add_service(
        "svc",
        RestartPolicy {
            max_restarts: 2,
            window: Duration::from_secs(10),
            ..policy(0)
        },
    );
    let mut now = t0;
    for _ in 0..20 {
        sup.on_exit("svc", crash("rare"), now).unwrap();
        let at = sup.poll_timeout().unwrap();
        assert_eq!(at - now, ms(100), "old restarts left the window");
        assert!(sup.poll_restart(at).is_some());
        now = at + Duration::from_secs(11);
    }
    assert_eq!(sup.restarts_total("svc"), Some(20));
}

#[test]
fn restart_modes_follow_otp() {
    let t0 = Instant::now();
    let mut sup = Supervisor::new(0);
    for (name, restart) in [
        ("perm", Restart::Permanent),
        ("trans", Restart::Transient),
        ("temp", Restart::Temporary),
    ] {
        sup.add_service(
            name,
            RestartPolicy {
                restart,
                ..policy(0)
            },
        );
    }
    sup.on_exit("perm", Exit::Normal, t0).unwrap();
    sup.on_exit("trans", Exit::Normal, t0).unwrap();
    sup.on_exit("temp", crash("x"), t0).unwrap();
    assert!(matches!(
        sup.status("perm"),
        Some(ServiceStatus::RestartPending { .. })
    ));
    assert_eq!(sup.status("trans"), Some(ServiceStatus::Stopped));
    assert_eq!(sup.status("temp"), Some(ServiceStatus::Stopped));
    // A normal exit is not a crash: only `temp` produced an event.
    assert!(matches!(
        sup.poll_event(),
        Some(KernelEvent::ServiceCrashed { service, reason }) if service == "temp" && reason == "x"
    ));
    assert_eq!(sup.poll_event(), None);

    sup.add_service(
        "trans2",
        RestartPolicy {
            restart: Restart::Transient,
            ..policy(0)
        },
    );
    sup.on_exit("trans2", crash("y"), t0).unwrap();
    assert!(matches!(
        sup.status("trans2"),
        Some(ServiceStatus::RestartPending { .. })
    ));
}

#[test]
fn poll_timeout_is_the_earliest_deadline_and_restarts_come_out_in_order() {
    let t0 = Instant::now();
    let mut sup = Supervisor::new(0);
    sup.add_service("a", policy(0));
    sup.add_service("b", policy(0));
    sup.on_exit("b", crash("x"), t0).unwrap();
    sup.on_exit("a", crash("x"), t0 + ms(50)).unwrap();
    assert_eq!(sup.poll_timeout(), Some(t0 + ms(100)));
    let late = t0 + ms(500);
    assert_eq!(sup.poll_restart(late).as_deref(), Some("b"));
    assert_eq!(sup.poll_restart(late).as_deref(), Some("a"));
    assert_eq!(sup.poll_restart(late), None);
    assert_eq!(sup.poll_timeout(), None);
}

#[test]
fn restarts_feed_service_restarts_total() {
    let t0 = Instant::now();
    let metrics = Metrics::new();
    let mut sup = Supervisor::with_metrics(3, metrics.clone());
    sup.add_service("svc", policy(20));
    crash_loop(&mut sup, "svc", t0, 4);
    assert_eq!(metrics.service_restarts_total("svc"), 4);
    assert!(
        metrics
            .encode()
            .contains("service_restarts_total{service=\"svc\"} 4")
    );
}

#[test]
fn shutdown_cancels_pending_restarts_and_duplicate_exits_are_ignored() {
    let t0 = Instant::now();
    let mut sup = Supervisor::new(0);
    sup.add_service("svc", policy(0));
    sup.on_exit("svc", crash("x"), t0).unwrap();
    sup.on_exit("svc", crash("dup"), t0).unwrap();
    assert_eq!(
        std::iter::from_fn(|| sup.poll_event()).count(),
        1,
        "an exit while not running is ignored"
    );
    sup.shutdown();
    assert_eq!(sup.status("svc"), Some(ServiceStatus::Stopped));
    assert_eq!(sup.poll_timeout(), None);
    sup.revive("svc").unwrap();
    sup.on_exit("svc", crash("late"), t0).unwrap();
    assert_eq!(sup.status("svc"), Some(ServiceStatus::Stopped));
    assert_eq!(
        sup.on_exit("nope", Exit::Normal, t0),
        Err(UnknownService("nope".into()))
    );
}

#[test]
fn a_supervised_service_is_exposed_at_zero_restarts() {
    let metrics = kernel_core::Metrics::new();
    let mut sup = kernel_core::supervisor::Supervisor::with_metrics(1, metrics.clone());
    assert!(!metrics.encode().contains("service=\"gateway\""));
    sup.add_service("gateway", kernel_core::supervisor::RestartPolicy::default());
    let text = metrics.encode();
    assert!(
        text.lines()
            .any(|l| l == "service_restarts_total{service=\"gateway\"} 0"),
        "{text}"
    );
}
