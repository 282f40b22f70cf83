//! In-memory OAP/1 on smol: HELLO → START → ACK, and the health event the
//! gateway published on the kernel bus. Run: `cargo run -p runtime-smol --example demo`.

fn main() -> std::io::Result<()> {
    smol::block_on(async {
        oap_node::demo::in_memory(runtime_smol::runtime(), oap_io::duplex(64 * 1024)).await
    })
}
