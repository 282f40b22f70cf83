//! In-memory OAP/1 on tokio: HELLO → START → ACK, and the health event the
//! gateway published on the kernel bus. Run: `cargo run -p runtime-tokio --example demo`.

use tokio_util::compat::TokioAsyncReadCompatExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    oap_node::demo::in_memory(runtime_tokio::runtime(), {
        let (a, b) = tokio::io::duplex(64 * 1024);
        (
            Box::new(a.compat()) as oap_io::BoxStream,
            Box::new(b.compat()) as oap_io::BoxStream,
        )
    })
    .await
}
