//! The same async scenario under tokio (both flavours), async-std, smol and a plain
//! `block_on`: the bus and the `sub` timeouts depend on no particular runtime.

use std::thread;
use std::time::Duration;

use kernel_core::bus::RecvError;
use kernel_core::sub::{SubError, recv_matching, recv_with_timeout};
use kernel_core::{Bus, KernelEvent};

const EVENTS: u64 = 5_000;

async fn scenario() {
    let bus = Bus::new(16);
    let mut rx = bus.subscribe();
    let mut idle = bus.subscribe();

    // A timeout fires with nothing published (the timer works on this runtime).
    assert_eq!(
        recv_with_timeout(&mut idle, Duration::from_millis(20)).await,
        Err(SubError::Timeout)
    );

    // Another thread publishes while this task waits in `recv`.
    let publisher = {
        let bus = bus.clone();
        thread::spawn(move || {
            for version in 0..EVENTS {
                bus.publish_lossy(KernelEvent::ConfigUpdated { version });
            }
            bus.publish_lossy(KernelEvent::Health {
                service: "publisher".into(),
                ok: true,
            });
        })
    };
    let mut expected = 0u64;
    loop {
        match rx.recv().await {
            Ok(KernelEvent::ConfigUpdated { version }) => {
                assert_eq!(version, expected);
                expected += 1;
            }
            Ok(KernelEvent::Health { service, ok }) => {
                assert_eq!((service.as_str(), ok), ("publisher", true));
                break;
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(RecvError::Lagged { missed }) => expected += missed,
            Err(RecvError::Closed) => panic!("closed early"),
        }
    }
    assert_eq!(expected, EVENTS, "every event received or reported missed");
    publisher.join().expect("publisher panicked");

    // Topic filtering with a deadline: the idle receiver lagged badly, which it sees once.
    let first = recv_matching(
        &mut idle,
        |e| matches!(e, KernelEvent::Health { .. }),
        Duration::from_secs(10),
    )
    .await;
    assert!(matches!(first, Err(SubError::Lagged { .. })), "{first:?}");
    let second = recv_matching(
        &mut idle,
        |e| matches!(e, KernelEvent::Health { .. }),
        Duration::from_secs(10),
    )
    .await;
    assert!(
        matches!(second, Ok(KernelEvent::Health { .. })),
        "{second:?}"
    );

    drop(bus);
    assert_eq!(rx.recv().await, Err(RecvError::Closed));
}

#[tokio::test(flavor = "current_thread")]
async fn under_tokio_current_thread() {
    scenario().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_tokio_multi_thread() {
    scenario().await;
}

#[async_std::test]
async fn under_async_std() {
    scenario().await;
}

#[test]
fn under_smol() {
    smol::block_on(scenario());
}

#[test]
fn under_plain_block_on() {
    futures_lite::future::block_on(scenario());
}
