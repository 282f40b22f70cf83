//! Basic publish/subscribe behaviour of the async `Bus`.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_lite::future::block_on;
use kernel_core::bus::{BusStats, CapacityError, RecvError, TryRecvError};
use kernel_core::{Bus, KernelEvent};

fn health(service: &str, ok: bool) -> KernelEvent {
    KernelEvent::Health {
        service: service.into(),
        ok,
    }
}

/// Counts how often it was woken.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (Arc::clone(&counter), Waker::from(counter))
}

/// Polls a `recv` future once with `waker`: nothing is ready, so it must park.
fn park<F: Future>(recv: Pin<&mut F>, waker: &Waker) {
    assert!(recv.poll(&mut Context::from_waker(waker)).is_pending());
}

#[test]
fn events_arrive_in_publish_order() {
    let bus = Bus::new(16);
    let mut rx = bus.subscribe();
    let sent = [
        health("a", true),
        KernelEvent::ConfigUpdated { version: 2 },
        KernelEvent::ServiceCrashed {
            service: "b".into(),
            reason: "boom".into(),
        },
        KernelEvent::Shutdown,
    ];
    for event in &sent {
        assert_eq!(bus.publish(event.clone()), 1);
    }
    for event in &sent {
        assert_eq!(block_on(rx.recv()).as_ref(), Ok(event));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn publish_reports_receiver_count_and_every_receiver_gets_a_copy() {
    let bus = Bus::default();
    assert_eq!(bus.publish(KernelEvent::Shutdown), 0);
    bus.publish_lossy(KernelEvent::Shutdown);
    let mut a = bus.subscribe();
    let mut b = bus.subscribe();
    assert_eq!(bus.publish(health("x", true)), 2);
    assert_eq!(a.try_recv(), Ok(health("x", true)));
    assert_eq!(b.try_recv(), Ok(health("x", true)));
    drop(a);
    assert_eq!(bus.receiver_count(), 1);
    assert_eq!(bus.publish(health("y", false)), 1);
    assert_eq!(b.try_recv(), Ok(health("y", false)));
}

#[test]
fn a_subscriber_sees_only_events_published_after_it_subscribed() {
    let bus = Bus::new(8);
    let _keep = bus.subscribe();
    bus.publish_lossy(health("early", true));
    let mut late = bus.subscribe();
    bus.publish_lossy(health("late", true));
    assert_eq!(late.try_recv(), Ok(health("late", true)));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn capacity_is_clamped_by_new_and_refused_by_try_new() {
    assert_eq!(Bus::default().capacity(), 64);
    assert_eq!(Bus::new(0).capacity(), 8);
    assert_eq!(Bus::new(7).capacity(), 8);
    assert_eq!(Bus::new(9).capacity(), 9);
    assert_eq!(Bus::try_new(7).err(), Some(CapacityError { requested: 7 }));
    assert_eq!(Bus::try_new(8).map(|b| b.capacity()).ok(), Some(8));
}

#[test]
fn publish_wakes_every_parked_receiver_exactly_once() {
    let bus = Bus::new(8);
    let mut a = bus.subscribe();
    let mut b = bus.subscribe();
    let (count_a, waker_a) = counting_waker();
    let (count_b, waker_b) = counting_waker();
    {
        let mut fut_a = pin!(a.recv());
        let mut fut_b = pin!(b.recv());
        park(fut_a.as_mut(), &waker_a);
        park(fut_b.as_mut(), &waker_b);
        assert_eq!(bus.publish(KernelEvent::Shutdown), 2);
        assert_eq!(count_a.0.load(Ordering::SeqCst), 1);
        assert_eq!(count_b.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            fut_a.as_mut().poll(&mut Context::from_waker(&waker_a)),
            Poll::Ready(Ok(KernelEvent::Shutdown))
        );
        assert_eq!(
            fut_b.as_mut().poll(&mut Context::from_waker(&waker_b)),
            Poll::Ready(Ok(KernelEvent::Shutdown))
        );
    }
    // Nobody is parked now, so the next publish wakes nobody.
    bus.publish_lossy(KernelEvent::Shutdown);
    assert_eq!(count_a.0.load(Ordering::SeqCst), 1);
}

#[test]
fn repolling_with_a_new_waker_replaces_the_old_one() {
    let bus = Bus::new(8);
    let mut rx = bus.subscribe();
    let (old_count, old_waker) = counting_waker();
    let (new_count, new_waker) = counting_waker();
    let mut fut = pin!(rx.recv());
    assert!(
        fut.as_mut()
            .poll(&mut Context::from_waker(&old_waker))
            .is_pending()
    );
    assert!(
        fut.as_mut()
            .poll(&mut Context::from_waker(&new_waker))
            .is_pending()
    );
    bus.publish_lossy(KernelEvent::Shutdown);
    assert_eq!(old_count.0.load(Ordering::SeqCst), 0);
    assert_eq!(new_count.0.load(Ordering::SeqCst), 1);
}

#[test]
fn dropping_a_pending_recv_loses_no_event() {
    let bus = Bus::new(8);
    let mut rx = bus.subscribe();
    let (_count, waker) = counting_waker();
    {
        let mut fut = pin!(rx.recv());
        assert!(
            fut.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
    }
    bus.publish_lossy(health("kept", true));
    assert_eq!(block_on(rx.recv()), Ok(health("kept", true)));
}

#[test]
fn receivers_drain_then_see_closed_when_the_last_bus_handle_drops() {
    let bus = Bus::new(8);
    let second = bus.clone();
    let mut drained = bus.subscribe();
    let mut parked = bus.subscribe();
    bus.publish_lossy(KernelEvent::Shutdown);
    assert_eq!(parked.try_recv(), Ok(KernelEvent::Shutdown));

    let (count, waker) = counting_waker();
    let mut fut = pin!(parked.recv());
    assert!(
        fut.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    drop(bus);
    assert_eq!(count.0.load(Ordering::SeqCst), 0, "a handle is still alive");
    drop(second);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        fut.as_mut().poll(&mut Context::from_waker(&waker)),
        Poll::Ready(Err(RecvError::Closed))
    );

    assert_eq!(block_on(drained.recv()), Ok(KernelEvent::Shutdown));
    assert_eq!(block_on(drained.recv()), Err(RecvError::Closed));
    assert_eq!(drained.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn resubscribe_starts_at_the_next_event() {
    let bus = Bus::new(8);
    let mut rx = bus.subscribe();
    bus.publish_lossy(health("before", true));
    let mut again = rx.resubscribe();
    bus.publish_lossy(health("after", true));
    assert_eq!(rx.try_recv(), Ok(health("before", true)));
    assert_eq!(again.try_recv(), Ok(health("after", true)));
    assert_eq!(again.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn receivers_keep_their_own_position_when_earlier_receivers_leave() {
    // Each receiver caches where its cursor sits in the core; dropping receivers that
    // subscribed earlier shifts the cursors, and no receiver may then read another's.
    let bus = Bus::new(16);
    let mut rxs: Vec<_> = (0..6).map(|_| (bus.subscribe(), Vec::new())).collect();
    let mut published = Vec::new();
    for round in 0..4u64 {
        for version in [round, round + 100] {
            let event = KernelEvent::ConfigUpdated { version };
            bus.publish_lossy(event.clone());
            published.push(event);
        }
        // Only every other receiver reads each round, so their cursors differ.
        for (i, (rx, seen)) in rxs.iter_mut().enumerate() {
            if (i as u64 + round) % 2 == 0 {
                while let Ok(event) = rx.try_recv() {
                    seen.push(event);
                }
            }
        }
        if round < 2 {
            rxs.remove(0);
        }
    }
    for (rx, seen) in &mut rxs {
        while let Ok(event) = rx.try_recv() {
            seen.push(event);
        }
        assert_eq!(*seen, published);
    }
}

#[test]
fn stats_describe_the_bus() {
    let bus = Bus::new(8);
    let _rx = bus.subscribe();
    for version in 0..3 {
        bus.publish_lossy(KernelEvent::ConfigUpdated { version });
    }
    assert_eq!(
        bus.stats(),
        BusStats {
            capacity: 8,
            retained: 3,
            receivers: 1,
            lagged_total: 0,
            missed_total: 0,
        }
    );
}

#[test]
fn kernel_events_round_trip_through_serde() {
    let events = [
        health("svc", true),
        KernelEvent::ConfigUpdated { version: 7 },
        KernelEvent::ServiceCrashed {
            service: "svc".into(),
            reason: "oom".into(),
        },
        KernelEvent::Shutdown,
    ];
    for event in events {
        let json = serde_json::to_string(&event).unwrap();
        let back: KernelEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }
}

fn is_shutdown(event: &KernelEvent) -> bool {
    matches!(event, KernelEvent::Shutdown)
}

fn is_config(event: &KernelEvent) -> bool {
    matches!(event, KernelEvent::ConfigUpdated { .. })
}

#[test]
fn a_filtered_receiver_sleeps_through_what_it_does_not_take_without_falling_behind() {
    let bus = Bus::new(8);
    let mut watcher = bus.subscribe_filtered(is_shutdown);
    let (woken, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut shutdown = pin!(watcher.recv());
    assert!(shutdown.as_mut().poll(&mut cx).is_pending());
    // Four times the bus's capacity of events it does not take.
    for n in 0..32 {
        assert_eq!(bus.publish(health("gateway", n % 2 == 0)), 1);
    }
    assert_eq!(
        woken.0.load(Ordering::SeqCst),
        0,
        "woken by what it does not take"
    );
    assert!(shutdown.as_mut().poll(&mut cx).is_pending());
    bus.publish_lossy(KernelEvent::Shutdown);
    assert_eq!(woken.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        shutdown.as_mut().poll(&mut cx),
        Poll::Ready(Ok(KernelEvent::Shutdown))
    );
    assert_eq!(bus.stats().lagged_total, 0, "it never lagged");
    assert_eq!(bus.stats().missed_total, 0);
}

#[test]
fn a_filtered_receiver_beside_others_wakes_and_reads_only_its_events_in_order() {
    let bus = Bus::new(8);
    let mut all = bus.subscribe();
    let mut configs = bus.subscribe_filtered(is_config);
    let (woken_all, waker_all) = counting_waker();
    let (woken_configs, waker_configs) = counting_waker();
    {
        let mut next_any = pin!(all.recv());
        let mut next_config = pin!(configs.recv());
        park(next_any.as_mut(), &waker_all);
        park(next_config.as_mut(), &waker_configs);
        assert_eq!(bus.publish(health("a", true)), 2);
        assert_eq!(woken_all.0.load(Ordering::SeqCst), 1);
        assert_eq!(woken_configs.0.load(Ordering::SeqCst), 0);
    }
    // Awake (not parked), it passes over what it does not take as it reads.
    for event in [
        KernelEvent::ConfigUpdated { version: 1 },
        health("b", false),
        KernelEvent::Shutdown,
        KernelEvent::ConfigUpdated { version: 2 },
    ] {
        bus.publish_lossy(event);
    }
    assert_eq!(
        configs.try_recv(),
        Ok(KernelEvent::ConfigUpdated { version: 1 })
    );
    assert_eq!(
        block_on(configs.recv()),
        Ok(KernelEvent::ConfigUpdated { version: 2 })
    );
    assert_eq!(configs.try_recv(), Err(TryRecvError::Empty));
    // The unfiltered receiver still has every event, in order.
    let mut seen = Vec::new();
    while let Ok(event) = all.try_recv() {
        seen.push(event);
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[0], health("a", true));
    assert_eq!(seen[4], KernelEvent::ConfigUpdated { version: 2 });
}

#[test]
fn a_filtered_receiver_behind_while_awake_lags_for_events_of_every_kind() {
    let bus = Bus::new(8);
    let mut configs = bus.subscribe_filtered(is_config);
    for n in 0..20 {
        bus.publish_lossy(health("gateway", n % 2 == 0));
    }
    bus.publish_lossy(KernelEvent::ConfigUpdated { version: 7 });
    // 21 published, 8 retained: 13 overwritten before it read any.
    assert_eq!(configs.try_recv(), Err(TryRecvError::Lagged { missed: 13 }));
    assert_eq!(
        configs.try_recv(),
        Ok(KernelEvent::ConfigUpdated { version: 7 })
    );
    assert_eq!(configs.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_filtered_receiver_resubscribes_with_its_filter() {
    let bus = Bus::new(8);
    let configs = bus.subscribe_filtered(is_config);
    let mut again = configs.resubscribe();
    bus.publish_lossy(KernelEvent::Shutdown);
    bus.publish_lossy(KernelEvent::ConfigUpdated { version: 3 });
    assert_eq!(
        again.try_recv(),
        Ok(KernelEvent::ConfigUpdated { version: 3 })
    );
    assert_eq!(again.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_filter_may_hold_what_it_matches_against() {
    let bus = Bus::new(8);
    let wanted = String::from("storage");
    let mut storage = bus.subscribe_filtered(
        move |e| matches!(e, KernelEvent::Health { service, .. } if *service == wanted),
    );
    bus.publish_lossy(health("gateway", true));
    bus.publish_lossy(health("storage", false));
    assert_eq!(storage.try_recv(), Ok(health("storage", false)));
    assert_eq!(storage.try_recv(), Err(TryRecvError::Empty));
}
