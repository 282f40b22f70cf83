//! OAP/1 over TCP on loopback with tokio: put a document, get it back,
//! verify it. Run: `cargo run -p runtime-tokio --example tcp_demo`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    oap_node::demo::tcp(runtime_tokio::runtime()).await
}
