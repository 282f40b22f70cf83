//! The runtime pieces every test binary of runtime-tokio hands the shared
//! suite: how to block on a future, and the harness.

use std::future::Future;
use std::sync::Arc;

use oap_io::BoxStream;
use oap_suite::Harness;
use tokio_util::compat::TokioAsyncReadCompatExt;

pub(crate) fn block_on<F: Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f);
}

pub(crate) fn harness() -> Harness {
    Harness {
        runtime: runtime_tokio::runtime(),
        tls_acceptor: Arc::new(runtime_tokio::tls::acceptor),
        tls_connect: Arc::new(|addr, name, config| {
            Box::pin(async move { runtime_tokio::tls::connect(addr, &name, config).await })
        }),
        duplex: Arc::new(|| {
            let (a, b) = tokio::io::duplex(256 * 1024);
            (
                Box::new(a.compat()) as BoxStream,
                Box::new(b.compat()) as BoxStream,
            )
        }),
    }
}
