//! The runtime pieces every test binary of runtime-async-std hands the shared
//! suite: how to block on a future, and the harness.

use std::future::Future;
use std::sync::Arc;

use oap_suite::Harness;

pub(crate) fn block_on<F: Future<Output = ()>>(f: F) {
    async_std::task::block_on(f)
}

pub(crate) fn harness() -> Harness {
    Harness {
        runtime: runtime_async_std::runtime(),
        tls_acceptor: Arc::new(runtime_async_std::tls::acceptor),
        tls_connect: Arc::new(|addr, name, config| {
            Box::pin(async move { runtime_async_std::tls::connect(addr, &name, config).await })
        }),
        duplex: Arc::new(oap_suite::futures_io_duplex),
    }
}
