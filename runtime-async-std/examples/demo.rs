//! In-memory OAP/1 on async-std: HELLO → START → ACK, and the health event the
//! gateway published on the kernel bus. Run: `cargo run -p runtime-async-std --example demo`.

fn main() -> std::io::Result<()> {
    async_std::task::block_on(async {
        oap_node::demo::in_memory(runtime_async_std::runtime(), oap_io::duplex(64 * 1024)).await
    })
}
