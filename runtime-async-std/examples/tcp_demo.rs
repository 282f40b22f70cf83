//! OAP/1 over TCP on loopback with async-std: put a document, get it back,
//! verify it. Run: `cargo run -p runtime-async-std --example tcp_demo`.

fn main() -> std::io::Result<()> {
    async_std::task::block_on(async { oap_node::demo::tcp(runtime_async_std::runtime()).await })
}
