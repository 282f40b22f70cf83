//! The event ring on its own: wrap-around lookups and its `Debug` text.

use kernel_core::KernelEvent;
use kernel_core::bus::ring::{Ring, Slot};

fn event(version: u64) -> KernelEvent {
    KernelEvent::ConfigUpdated { version }
}

#[test]
fn lookups_follow_sequence_numbers_across_wrap_arounds() {
    let mut ring = Ring::new(8);
    for version in 0..21 {
        assert_eq!(ring.push(event(version)), version);
        let oldest = ring.oldest_seq();
        assert_eq!(oldest, (version + 1).saturating_sub(8));
        for seq in oldest..=version {
            assert_eq!(ring.get(seq), Slot::Present(&event(seq)));
        }
        assert_eq!(ring.get(version + 1), Slot::NotYet);
        if oldest > 0 {
            assert_eq!(ring.get(oldest - 1), Slot::Overwritten { oldest });
        }
    }
    ring.clear();
    assert!(ring.is_empty());
    assert_eq!(ring.push(event(21)), 21);
    assert_eq!(ring.get(21), Slot::Present(&event(21)));
    assert_eq!(ring.get(20), Slot::Overwritten { oldest: 21 });
}

/// oap-model-check fingerprints bus states by their `Debug` text: it must show the
/// retained events oldest first, whatever slot the oldest one occupies.
#[test]
fn debug_lists_retained_events_oldest_first() {
    let mut ring = Ring::new(8);
    for version in 0..11 {
        ring.push(event(version));
    }
    let events: Vec<_> = (3..11).map(event).collect();
    assert_eq!(
        format!("{ring:?}"),
        format!("Ring {{ events: {events:?}, capacity: 8, next_seq: 11 }}")
    );
}
