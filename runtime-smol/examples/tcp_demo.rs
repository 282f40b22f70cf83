//! OAP/1 over TCP on loopback with smol: put a document, get it back,
//! verify it. Run: `cargo run -p runtime-smol --example tcp_demo`.

fn main() -> std::io::Result<()> {
    smol::block_on(async { oap_node::demo::tcp(runtime_smol::runtime()).await })
}
