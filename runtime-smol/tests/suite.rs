//! The shared integration suite on smol.

use std::future::Future;
use std::sync::Arc;

use oap_suite::Harness;

fn block_on<F: Future<Output = ()>>(f: F) {
    smol::block_on(f)
}

fn harness() -> Harness {
    Harness {
        runtime: runtime_smol::runtime(),
        tls_acceptor: Arc::new(runtime_smol::tls::acceptor),
        tls_connect: Arc::new(|addr, name, config| {
            Box::pin(async move { runtime_smol::tls::connect(addr, &name, config).await })
        }),
        duplex: Arc::new(oap_suite::futures_io_duplex),
    }
}

oap_suite::suite!(block_on, harness());
