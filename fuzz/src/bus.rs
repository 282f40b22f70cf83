//! Bus harness: operation sequences against the reference model.

use kernel_core::bus::core::{BusCore, SubId};
use kernel_core::bus::model::{Op, check};
use kernel_core::bus::outcome::Recv;

use crate::Reader;

/// Decodes `input` into a capacity and a sequence of bus operations.
pub fn ops(input: &[u8]) -> (usize, Vec<Op>) {
    let mut r = Reader::new(input);
    let capacity = 8 + r.below(5);
    let mut ops = Vec::new();
    while !r.is_empty() {
        let b = r.u8();
        let arg = usize::from(b >> 3);
        ops.push(match b % 8 {
            0 => Op::Subscribe,
            1 => Op::Unsubscribe(arg),
            2..=4 => Op::Publish(u64::from(b)),
            _ => Op::Recv(arg),
        });
    }
    (capacity, ops)
}

/// `bus_ops`: arbitrary publish / subscribe / recv / drop sequences.
///
/// The sequence runs in lock step against `kernel_core::bus::model` (same
/// outcomes, receiver counts and lag totals, retained ≤ capacity). On top of
/// that, per subscriber: a `Lagged` is never followed by another `Lagged`
/// unless an event was published in between (lag reported once per gap),
/// and events received plus events reported missed equals events published
/// since it subscribed, once it has drained.
pub fn bus_ops(input: &[u8]) {
    let (capacity, ops) = ops(input);
    if let Err(d) = check(capacity, &ops) {
        panic!("bus core diverged from the model: {d:?}");
    }
    let mut core = BusCore::new_clamped(capacity);
    // (id, published since subscribe, received, missed, last was lag)
    let mut subs: Vec<(SubId, u64, u64, u64, bool)> = Vec::new();
    for op in ops {
        match op {
            Op::Subscribe => subs.push((core.subscribe(), 0, 0, 0, false)),
            Op::Unsubscribe(n) if !subs.is_empty() => {
                let (id, ..) = subs.remove(n % subs.len());
                assert!(core.unsubscribe(id));
            }
            Op::Unsubscribe(_) => {}
            Op::Publish(v) => {
                let n = core.publish(kernel_core::KernelEvent::ConfigUpdated { version: v });
                assert_eq!(n, subs.len());
                for s in &mut subs {
                    s.1 += 1;
                    s.4 = false;
                }
            }
            Op::Recv(n) if !subs.is_empty() => {
                let len = subs.len();
                let s = &mut subs[n % len];
                match core.try_recv(s.0).expect("live subscriber") {
                    Recv::Event(_) => {
                        s.2 += 1;
                        s.4 = false;
                    }
                    Recv::Lagged { missed } => {
                        assert!(!s.4, "lag reported twice for one gap");
                        assert!(missed > 0, "lag of zero events");
                        s.3 += missed;
                        s.4 = true;
                    }
                    Recv::Empty => {
                        assert_eq!(s.1, s.2 + s.3, "drained subscriber lost events");
                    }
                }
                assert!(s.2 + s.3 <= s.1, "more events accounted than published");
            }
            Op::Recv(_) => {}
        }
        assert!(core.retained() <= core.capacity());
    }
}
