//! Seeded chaos: publishers run while subscribers are slow, dropped and re-subscribed at
//! random. Every receiver must see its events in order, and every gap must be accounted
//! for exactly by a `Lagged { missed }`. Failures print the seed.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use futures_lite::future::block_on;
use kernel_core::bus::{Receiver, RecvError, TryRecvError};
use kernel_core::supervisor::rng::SplitMix64;
use kernel_core::{Bus, KernelEvent, Metrics};

/// What one receiver has seen, checked as it goes.
struct Tracker {
    seed: u64,
    /// Version of the next event this receiver must see.
    expected: u64,
    lags: u64,
}

impl Tracker {
    fn event(&mut self, event: &KernelEvent) {
        let KernelEvent::ConfigUpdated { version } = event else {
            panic!("seed {}: unexpected {event:?}", self.seed);
        };
        assert_eq!(
            *version, self.expected,
            "seed {}: gap or reorder not explained by Lagged",
            self.seed
        );
        self.expected += 1;
    }

    fn lagged(&mut self, missed: u64) {
        assert!(missed > 0, "seed {}: empty lag", self.seed);
        self.expected += missed;
        self.lags += 1;
    }
}

/// Single-threaded, fully reproducible interleaving chosen by the seed.
#[test]
fn random_interleavings_account_for_every_event() {
    for seed in 0..200u64 {
        let mut rng = SplitMix64::new(seed);
        let bus = Bus::new(8 + (seed % 5) as usize);
        let mut next_version = 0u64;
        let mut subs: Vec<(Receiver, Tracker)> = Vec::new();
        for _ in 0..2_000 {
            match rng.up_to(99) {
                0..=44 => {
                    let n = bus.publish(KernelEvent::ConfigUpdated {
                        version: next_version,
                    });
                    assert_eq!(n, subs.len(), "seed {seed}");
                    if n > 0 {
                        next_version += 1;
                    }
                }
                45..=84 if !subs.is_empty() => {
                    let i = rng.up_to(subs.len() as u64 - 1) as usize;
                    let (rx, tracker) = &mut subs[i];
                    match rx.try_recv() {
                        Ok(event) => tracker.event(&event),
                        Err(TryRecvError::Lagged { missed }) => tracker.lagged(missed),
                        Err(TryRecvError::Empty) => {
                            assert_eq!(tracker.expected, next_version, "seed {seed}");
                        }
                        Err(TryRecvError::Closed) => panic!("seed {seed}: closed"),
                    }
                }
                85..=92 if !subs.is_empty() => {
                    let i = rng.up_to(subs.len() as u64 - 1) as usize;
                    subs.swap_remove(i);
                }
                _ => subs.push((
                    bus.subscribe(),
                    Tracker {
                        seed,
                        expected: next_version,
                        lags: 0,
                    },
                )),
            }
            assert!(bus.stats().retained <= bus.capacity(), "seed {seed}");
        }
        for (rx, tracker) in &mut subs {
            loop {
                match rx.try_recv() {
                    Ok(event) => tracker.event(&event),
                    Err(TryRecvError::Lagged { missed }) => tracker.lagged(missed),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => panic!("seed {seed}: closed"),
                }
            }
            assert_eq!(
                tracker.expected, next_version,
                "seed {seed}: unaccounted events"
            );
        }
    }
}

/// Real threads: publishers and subscribers race; subscribers block in `recv` (exercising
/// cross-thread wake-ups) and finish on `Closed` once every publisher dropped its handle.
#[test]
fn threaded_publishers_and_flaky_subscribers() {
    const PUBLISHERS: u64 = 3;
    const PER_PUBLISHER: u64 = 20_000;
    const SUBSCRIBERS: u64 = 4;
    let base_seed = 0x5EED_u64;

    let metrics = Metrics::new();
    let bus = Bus::with_metrics(16, &metrics);
    // Publishers take this lock around `publish`, so versions follow bus order; a
    // subscriber takes it around `subscribe` to learn the first version it will see.
    let next_version = Arc::new(Mutex::new(0u64));

    let mut subscribers = Vec::new();
    for s in 0..SUBSCRIBERS {
        let seed = base_seed + s;
        let rx = bus.subscribe();
        let next_version = Arc::clone(&next_version);
        subscribers.push(thread::spawn(move || {
            let mut rng = SplitMix64::new(seed);
            let mut rx = rx;
            let mut tracker = Tracker {
                seed,
                expected: 0,
                lags: 0,
            };
            let mut resubscribes = 0u64;
            loop {
                match block_on(rx.recv()) {
                    Ok(event) => tracker.event(&event),
                    Err(RecvError::Lagged { missed }) => tracker.lagged(missed),
                    Err(RecvError::Closed) => break,
                }
                match rng.up_to(999) {
                    // Slow: burn time without sleeping.
                    0..=99 => {
                        for _ in 0..rng.up_to(20_000) {
                            std::hint::spin_loop();
                        }
                    }
                    100..=104 => thread::yield_now(),
                    // Drop and re-subscribe.
                    105..=109 => {
                        let guard = next_version.lock().unwrap_or_else(PoisonError::into_inner);
                        let fresh = rx.resubscribe();
                        tracker.expected = *guard;
                        drop(guard);
                        rx = fresh;
                        resubscribes += 1;
                    }
                    _ => {}
                }
            }
            let last = *next_version.lock().unwrap_or_else(PoisonError::into_inner);
            assert_eq!(tracker.expected, last, "seed {seed}: unaccounted events");
            (tracker.lags, resubscribes)
        }));
    }

    publish_from_threads(bus, &next_version, PUBLISHERS, PER_PUBLISHER);
    let mut lags = 0;
    for s in subscribers {
        let (l, _) = s.join().expect("subscriber failed");
        lags += l;
    }
    assert_eq!(
        *next_version.lock().unwrap(),
        PUBLISHERS * PER_PUBLISHER,
        "every publish had receivers"
    );
    assert_eq!(metrics.bus_lagged_total(), lags);
}

/// Filtered receivers (`Bus::subscribe_filtered`) in the same race: parked in `recv` while
/// the events they do not take are read for them, or awake and passing over them. Every
/// event a receiver gets is one it takes, in order; between two it got with no `Lagged`
/// between, none it takes was skipped; the events it takes but never got are no more
/// than the gaps its `Lagged`s reported; and each gets the last event, which all take and
/// nothing comes after.
#[test]
fn threaded_publishers_and_filtered_subscribers() {
    const PUBLISHERS: u64 = 3;
    const PER_PUBLISHER: u64 = 20_000;

    let metrics = Metrics::new();
    let bus = Bus::with_metrics(16, &metrics);
    let next_version = Arc::new(Mutex::new(0u64));

    let mut subscribers = Vec::new();
    for (s, every) in [(0u64, 2u64), (1, 7), (2, 1_000)] {
        let seed = 0xF117 + s;
        let mut rx = bus.subscribe_filtered(
            move |e| matches!(e, KernelEvent::ConfigUpdated { version } if version % every == 0),
        );
        subscribers.push(thread::spawn(move || {
            let mut rng = SplitMix64::new(seed);
            let (mut last, mut lagged_since, mut got, mut missed, mut lags) =
                (None::<u64>, false, 0u64, 0u64, 0u64);
            loop {
                match block_on(rx.recv()) {
                    Ok(KernelEvent::ConfigUpdated { version }) => {
                        assert_eq!(version % every, 0, "seed {seed}: one it does not take");
                        let from = last.map_or(0, |l| l + 1);
                        assert!(version >= from, "seed {seed}: out of order");
                        if !lagged_since {
                            let first_taken = from.div_ceil(every) * every;
                            assert_eq!(version, first_taken, "seed {seed}: skipped, no Lagged");
                        }
                        (last, lagged_since, got) = (Some(version), false, got + 1);
                    }
                    Ok(other) => panic!("seed {seed}: unexpected {other:?}"),
                    Err(RecvError::Lagged { missed: m }) => {
                        (missed, lags, lagged_since) = (missed + m, lags + 1, true);
                    }
                    Err(RecvError::Closed) => break,
                }
                if rng.up_to(9) == 0 {
                    for _ in 0..rng.up_to(20_000) {
                        std::hint::spin_loop();
                    }
                }
            }
            (every, last, got, missed, lags)
        }));
    }

    publish_from_threads(bus.clone(), &next_version, PUBLISHERS, PER_PUBLISHER);
    let raced = *next_version.lock().unwrap();
    assert_eq!(
        raced,
        PUBLISHERS * PER_PUBLISHER,
        "every publish had receivers"
    );
    // Then, from here, up to a version every receiver takes, with nothing after
    // it to push it out of the ring: a receiver may lose every event of the
    // race to lag (the one taking every 1,000th did on a loaded machine), but
    // not that one.
    let final_version = raced.next_multiple_of(2 * 7 * 1_000);
    for version in raced..=final_version {
        assert!(bus.publish(KernelEvent::ConfigUpdated { version }) > 0);
    }
    drop(bus);
    let published = final_version + 1;
    let mut lags = 0;
    for s in subscribers {
        let (every, last, got, missed, l) = s.join().expect("subscriber failed");
        let taken = published.div_ceil(every);
        assert_eq!(last, Some(final_version), "every {every}: the last");
        assert!(
            taken - got <= missed,
            "every {every}: {taken} taken, {got} got, {missed} missed"
        );
        lags += l;
    }
    assert_eq!(metrics.bus_lagged_total(), lags);
}

/// Publishes `ConfigUpdated` events numbered in bus order from `threads` threads, `each`
/// per thread, then drops `bus` (its last handle, so receivers end on `Closed`) once all
/// are done. Each publish takes `next_version`'s lock, and counts only if it had a
/// receiver.
fn publish_from_threads(bus: Bus, next_version: &Arc<Mutex<u64>>, threads: u64, each: u64) {
    let publishers: Vec<_> = (0..threads)
        .map(|_| {
            let bus = bus.clone();
            let next_version = Arc::clone(next_version);
            thread::spawn(move || {
                for _ in 0..each {
                    let mut version = next_version.lock().unwrap_or_else(PoisonError::into_inner);
                    if bus.publish(KernelEvent::ConfigUpdated { version: *version }) > 0 {
                        *version += 1;
                    }
                }
            })
        })
        .collect();
    drop(bus);
    for p in publishers {
        p.join().expect("publisher panicked");
    }
}
