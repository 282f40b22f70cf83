//! The runtime pieces every test binary of runtime-smol hands the shared
//! suite: how to block on a future, and the harness.

use std::future::Future;
use std::sync::Arc;

use oap_suite::Harness;

pub(crate) fn block_on<F: Future<Output = ()>>(f: F) {
    smol::block_on(f)
}

// Unused in `suite_own_executor`, which builds its harness with
// `harness_on`; every other test binary uses it.
#[allow(dead_code)]
pub(crate) fn harness() -> Harness {
    harness_on(runtime_smol::runtime())
}

/// The harness on `runtime` (smol's global executor, or one of the test's
/// own through `runtime_smol::runtime_on`).
pub(crate) fn harness_on(runtime: Arc<dyn oap_io::Runtime>) -> Harness {
    Harness {
        runtime,
        tls_acceptor: Arc::new(runtime_smol::tls::acceptor),
        tls_connect: Arc::new(|addr, name, config| {
            Box::pin(async move { runtime_smol::tls::connect(addr, &name, config).await })
        }),
        duplex: Arc::new(oap_suite::futures_io_duplex),
    }
}
