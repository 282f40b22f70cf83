//! Property test: the bus core against the reference model in `bus::model`.

use kernel_core::KernelEvent;
use kernel_core::bus::core::BusCore;
use kernel_core::bus::model::{Model, Op, check};
use kernel_core::bus::outcome::Recv;
use proptest::prelude::*;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Subscribe),
        1 => (0usize..8).prop_map(Op::Unsubscribe),
        6 => any::<u64>().prop_map(Op::Publish),
        5 => (0usize..8).prop_map(Op::Recv),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn core_matches_model(capacity in 8usize..=12, ops in prop::collection::vec(op(), 0..300)) {
        if let Err(divergence) = check(capacity, &ops) {
            prop_assert!(false, "{divergence:?}");
        }
    }
}

#[test]
fn model_reports_lag_once_then_resumes_at_the_oldest_event() {
    let mut model = Model::new(8);
    let id = model.subscribe();
    for version in 0..10 {
        model.publish(KernelEvent::ConfigUpdated { version });
    }
    assert_eq!(model.recv(id), Recv::Lagged { missed: 2 });
    assert_eq!(
        model.recv(id),
        Recv::Event(KernelEvent::ConfigUpdated { version: 2 })
    );
}

#[test]
fn core_and_model_agree_on_a_fixed_scenario() {
    let ops = [
        Op::Subscribe,
        Op::Publish(1),
        Op::Subscribe,
        Op::Publish(2),
        Op::Recv(0),
        Op::Recv(1),
        Op::Unsubscribe(0),
        Op::Publish(3),
        Op::Recv(0),
        Op::Recv(0),
    ];
    assert_eq!(check(8, &ops), Ok(()));
}

#[test]
fn unknown_subscribers_are_refused_by_the_core() {
    let mut core = BusCore::new(8).unwrap();
    let id = core.subscribe();
    assert!(core.unsubscribe(id));
    assert!(core.try_recv(id).is_err());
    assert!(!core.unsubscribe(id));
}
