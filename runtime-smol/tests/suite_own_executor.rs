//! The shared integration suite on smol, with every task on an executor
//! the test runs itself on two threads (`runtime_smol::runtime_on`)
//! rather than on smol's global one.

mod common;

use std::sync::{Arc, OnceLock};

/// This binary's executor, run on two threads for as long as it lives.
fn executor() -> Arc<smol::Executor<'static>> {
    static EXECUTOR: OnceLock<Arc<smol::Executor<'static>>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| {
            let executor = Arc::new(smol::Executor::new());
            for i in 0..2 {
                let executor = executor.clone();
                std::thread::Builder::new()
                    .name(format!("own-executor-{i}"))
                    .spawn(move || smol::block_on(executor.run(std::future::pending::<()>())))
                    .expect("executor thread");
            }
            executor
        })
        .clone()
}

oap_suite::suite!(
    common::block_on,
    common::harness_on(runtime_smol::runtime_on(executor()))
);
