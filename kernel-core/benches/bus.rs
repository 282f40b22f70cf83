//! Bus benchmarks against `tokio::sync::broadcast` and `async-broadcast`, same capacity,
//! same run.
//!
//! - `throughput/<impl>/<subs>`: publish a batch of `CAPACITY` events, then every
//!   subscriber drains them; throughput counts deliveries (events × subscribers).
//! - `fanout_latency/<impl>/<subs>`: publish one event and receive it on every
//!   subscriber, single-threaded: the uncontended cost of one event's fan-out.
//! - `wakeup_rtt/<impl>`: one event to a receiver parked on another thread, echoed back
//!   on a second channel: two cross-thread wake-ups per iteration.
//!
//! Run with `cargo bench -p kernel-core --bench bus`.
// criterion_group!/criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::thread;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_lite::future::block_on;
use kernel_core::{Bus, KernelEvent};

const CAPACITY: usize = 64;
const SUBSCRIBERS: [usize; 3] = [1, 8, 64];

fn event(version: u64) -> KernelEvent {
    KernelEvent::ConfigUpdated { version }
}

/// One publish-side and one receive-side operation per implementation.
trait Channel {
    fn new(subscribers: usize) -> Self;
    fn publish(&mut self, event: KernelEvent);
    /// Receives one event on subscriber `i` (it must be there).
    fn recv(&mut self, i: usize) -> KernelEvent;
    fn subscribers(&self) -> usize;
}

struct Kernel {
    bus: Bus,
    rxs: Vec<kernel_core::bus::Receiver>,
}

impl Channel for Kernel {
    fn new(subscribers: usize) -> Self {
        let bus = Bus::new(CAPACITY);
        let rxs = (0..subscribers).map(|_| bus.subscribe()).collect();
        Self { bus, rxs }
    }
    fn publish(&mut self, event: KernelEvent) {
        self.bus.publish_lossy(event);
    }
    fn recv(&mut self, i: usize) -> KernelEvent {
        self.rxs[i].try_recv().expect("event ready")
    }
    fn subscribers(&self) -> usize {
        self.rxs.len()
    }
}

struct Tokio {
    tx: tokio::sync::broadcast::Sender<KernelEvent>,
    rxs: Vec<tokio::sync::broadcast::Receiver<KernelEvent>>,
}

impl Channel for Tokio {
    fn new(subscribers: usize) -> Self {
        let (tx, _) = tokio::sync::broadcast::channel(CAPACITY);
        let rxs = (0..subscribers).map(|_| tx.subscribe()).collect();
        Self { tx, rxs }
    }
    fn publish(&mut self, event: KernelEvent) {
        let _ = self.tx.send(event);
    }
    fn recv(&mut self, i: usize) -> KernelEvent {
        self.rxs[i].try_recv().expect("event ready")
    }
    fn subscribers(&self) -> usize {
        self.rxs.len()
    }
}

struct AsyncBroadcast {
    tx: async_broadcast::Sender<KernelEvent>,
    rxs: Vec<async_broadcast::Receiver<KernelEvent>>,
}

impl Channel for AsyncBroadcast {
    fn new(subscribers: usize) -> Self {
        let (mut tx, rx) = async_broadcast::broadcast(CAPACITY);
        // Overwrite the oldest like the other two instead of blocking the sender.
        tx.set_overflow(true);
        let rxs = (0..subscribers).map(|_| rx.new_receiver()).collect();
        drop(rx);
        Self { tx, rxs }
    }
    fn publish(&mut self, event: KernelEvent) {
        let _ = self.tx.try_broadcast(event);
    }
    fn recv(&mut self, i: usize) -> KernelEvent {
        self.rxs[i].try_recv().expect("event ready")
    }
    fn subscribers(&self) -> usize {
        self.rxs.len()
    }
}

fn throughput_of<C: Channel>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group("throughput");
    for subs in SUBSCRIBERS {
        group.throughput(Throughput::Elements((CAPACITY * subs) as u64));
        group.bench_with_input(BenchmarkId::new(name, subs), &subs, |b, &subs| {
            let mut channel = C::new(subs);
            b.iter(|| {
                for v in 0..CAPACITY as u64 {
                    channel.publish(event(v));
                }
                for i in 0..channel.subscribers() {
                    for _ in 0..CAPACITY {
                        black_box(channel.recv(i));
                    }
                }
            });
        });
    }
    group.finish();
}

fn fanout_latency_of<C: Channel>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group("fanout_latency");
    for subs in SUBSCRIBERS {
        group.bench_with_input(BenchmarkId::new(name, subs), &subs, |b, &subs| {
            let mut channel = C::new(subs);
            b.iter(|| {
                channel.publish(event(1));
                for i in 0..channel.subscribers() {
                    black_box(channel.recv(i));
                }
            });
        });
    }
    group.finish();
}

fn throughput(c: &mut Criterion) {
    throughput_of::<Kernel>(c, "kernel_bus");
    throughput_of::<Tokio>(c, "tokio_broadcast");
    throughput_of::<AsyncBroadcast>(c, "async_broadcast");
}

fn fanout_latency(c: &mut Criterion) {
    fanout_latency_of::<Kernel>(c, "kernel_bus");
    fanout_latency_of::<Tokio>(c, "tokio_broadcast");
    fanout_latency_of::<AsyncBroadcast>(c, "async_broadcast");
}

fn wakeup_rtt(c: &mut Criterion) {
    let mut group = c.benchmark_group("wakeup_rtt");

    group.bench_function("kernel_bus", |b| {
        let (ping, pong) = (Bus::new(CAPACITY), Bus::new(CAPACITY));
        let mut ping_rx = ping.subscribe();
        let mut pong_rx = pong.subscribe();
        let echo = thread::spawn(move || {
            while let Ok(ev) = block_on(ping_rx.recv()) {
                if ev == KernelEvent::Shutdown {
                    break;
                }
                pong.publish_lossy(ev);
            }
        });
        b.iter(|| {
            ping.publish_lossy(event(1));
            black_box(block_on(pong_rx.recv()).expect("echo"));
        });
        ping.publish_lossy(KernelEvent::Shutdown);
        echo.join().expect("echo thread");
    });

    group.bench_function("tokio_broadcast", |b| {
        let (ping, mut ping_rx) = tokio::sync::broadcast::channel(CAPACITY);
        let (pong, mut pong_rx) = tokio::sync::broadcast::channel(CAPACITY);
        let echo = thread::spawn(move || {
            while let Ok(ev) = block_on(ping_rx.recv()) {
                if ev == KernelEvent::Shutdown {
                    break;
                }
                let _ = pong.send(ev);
            }
        });
        b.iter(|| {
            let _ = ping.send(event(1));
            black_box(block_on(pong_rx.recv()).expect("echo"));
        });
        let _ = ping.send(KernelEvent::Shutdown);
        echo.join().expect("echo thread");
    });

    group.bench_function("async_broadcast", |b| {
        let (mut ping, mut ping_rx) = async_broadcast::broadcast(CAPACITY);
        let (mut pong, mut pong_rx) = async_broadcast::broadcast(CAPACITY);
        ping.set_overflow(true);
        pong.set_overflow(true);
        let echo = thread::spawn(move || {
            while let Ok(ev) = block_on(ping_rx.recv()) {
                if ev == KernelEvent::Shutdown {
                    break;
                }
                let _ = pong.try_broadcast(ev);
            }
        });
        b.iter(|| {
            let _ = ping.try_broadcast(event(1));
            black_box(block_on(pong_rx.recv()).expect("echo"));
        });
        let _ = ping.try_broadcast(KernelEvent::Shutdown);
        echo.join().expect("echo thread");
    });

    group.finish();
}

criterion_group!(benches, throughput, fanout_latency, wakeup_rtt);
criterion_main!(benches);
