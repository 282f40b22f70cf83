//! Small capacity, slow receiver: lag is reported and counted, memory stays bounded.

use kernel_core::bus::TryRecvError;
use kernel_core::{Bus, KernelEvent, Metrics};

const CAPACITY: usize = 8;
const EVENTS: u64 = 20_000;

#[test]
fn slow_receiver_lags_without_panic_and_every_event_is_accounted_for() {
    let metrics = Metrics::new();
    let bus = Bus::with_metrics(CAPACITY, &metrics);
    let mut slow = bus.subscribe();
    let mut received = 0u64;
    let mut missed = 0u64;
    let mut lags = 0u64;
    let mut expected = 0u64;

    for version in 0..EVENTS {
        assert_eq!(bus.publish(KernelEvent::ConfigUpdated { version }), 1);
        let stats = bus.stats();
        assert!(
            stats.retained <= CAPACITY,
            "ring grew to {}",
            stats.retained
        );
        // The slow receiver reads three outcomes every 37 publishes.
        if version % 37 == 0 {
            for _ in 0..3 {
                match slow.try_recv() {
                    Ok(KernelEvent::ConfigUpdated { version: got }) => {
                        assert_eq!(got, expected, "events out of order");
                        expected += 1;
                        received += 1;
                    }
                    Ok(other) => panic!("unexpected {other:?}"),
                    Err(TryRecvError::Lagged { missed: m }) => {
                        assert!(m > 0);
                        expected += m;
                        missed += m;
                        lags += 1;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => panic!("closed while a handle is alive"),
                }
            }
        }
    }
    // Drain what is left.
    loop {
        match slow.try_recv() {
            Ok(KernelEvent::ConfigUpdated { version }) => {
                assert_eq!(version, expected);
                expected += 1;
                received += 1;
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(TryRecvError::Lagged { missed: m }) => {
                expected += m;
                missed += m;
                lags += 1;
            }
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Closed) => panic!("closed while a handle is alive"),
        }
    }

    assert!(lags > 100, "only {lags} lags");
    assert_eq!(received + missed, EVENTS);
    assert_eq!(expected, EVENTS);
    let stats = bus.stats();
    assert_eq!(stats.lagged_total, lags);
    assert_eq!(stats.missed_total, missed);
    assert_eq!(metrics.bus_lagged_total(), lags);
    assert!(stats.retained <= CAPACITY);
}

#[test]
fn retained_memory_is_bounded_and_released_when_nobody_listens() {
    let bus = Bus::new(CAPACITY);
    let rx = bus.subscribe();
    for version in 0..1000 {
        bus.publish_lossy(KernelEvent::ConfigUpdated { version });
        assert!(bus.stats().retained <= CAPACITY);
    }
    assert_eq!(bus.stats().retained, CAPACITY);
    drop(rx);
    assert_eq!(bus.stats().retained, 0);
    bus.publish_lossy(KernelEvent::Shutdown);
    assert_eq!(
        bus.stats().retained,
        0,
        "events nobody can read are not kept"
    );
}

#[test]
fn a_fast_receiver_is_unaffected_by_a_slow_one() {
    let bus = Bus::new(CAPACITY);
    let mut fast = bus.subscribe();
    let mut slow = bus.subscribe();
    for version in 0..100 {
        bus.publish_lossy(KernelEvent::ConfigUpdated { version });
        assert_eq!(fast.try_recv(), Ok(KernelEvent::ConfigUpdated { version }));
    }
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged { missed: 92 }));
    assert_eq!(
        slow.try_recv(),
        Ok(KernelEvent::ConfigUpdated { version: 92 })
    );
}
