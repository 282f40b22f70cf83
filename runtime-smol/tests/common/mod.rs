//! The runtime pieces every test binary of runtime-smol hands the shared
//! suite: how to block on a future, and the harness.

use std::future::Future;
use std::sync::Arc;

use oap_suite::Harness;

pub(crate) fn block_on<F: Future<Output = ()>>(f: F) {
    smol::block_on(f)
}

pub(crate) fn harness() -> Harness {
    Harness {
        runtime: runtime_smol::runtime(),
        tls_acceptor: Arc::new(runtime_smol::tls::acceptor),
        tls_connect: Arc::new(|addr, name, config| {
            Box::pin(async move { runtime_smol::tls::connect(addr, &name, config).await })
        }),
        duplex: Arc::new(oap_suite::futures_io_duplex),
    }
}
