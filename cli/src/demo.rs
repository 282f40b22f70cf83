//! `oap demo`: a server and a client in this process on loopback, every
//! step and every bus event printed.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use kernel_core::bus::Receiver;
use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_node::{Client, Gateway, GatewayConfig, MemStore, Services};

/// Prints the bus events published so far. Taken between steps (rather
/// than by a concurrent task) so the output is in a stable order.
fn drain(bus: &mut Receiver) {
    while let Ok(ev) = bus.try_recv() {
        println!("  bus    <- {ev:?}");
    }
}

/// Runs the demo; fails if any step does.
pub(crate) async fn run() -> Result<()> {
    let runtime = runtime_tokio::runtime();
    let services = Services::new(64);
    let mut bus = services.bus.subscribe();
    let server = Gateway::new(
        Arc::clone(&runtime),
        GatewayConfig::default(),
        Arc::new(MemStore::new()),
        services.clone(),
    );
    let addr = server.listen("127.0.0.1:0".parse()?).await?;
    let s = server.clone();
    let serving = tokio::spawn(async move { s.serve().await });
    println!("1. gateway listening on {addr} (in-memory store)");

    println!("2. client -> HELLO {{\"hello\":\"oap/1\",\"app_proto_id\":\"demo/1\"}}");
    let stream = runtime.connect(addr).await.context("connect")?;
    let client = Client::over(
        Arc::clone(&runtime),
        stream,
        ConnectionConfig::default(),
        "demo/1",
    )
    .await
    .context("HELLO")?;
    let n = client.negotiated();
    println!(
        "   server -> HELLO max_frame={} max_inflight={} credit={}",
        n.max_frame, n.max_inflight, n.credit
    );
    // The gateway publishes the peer's health before it answers HELLO.
    drain(&mut bus);

    println!("3. client -> START {{\"corr_id\":1,\"op\":\"put\"}}");
    let (req, credit) = client.start(1, "put").await.context("START")?;
    println!("   server -> ACK request {req} credit={credit}");

    let doc = Bytes::from(
        "OAP/1 moves content-addressed objects: every byte is verified against its BLAKE3 id.\n"
            .repeat(2000),
    );
    let expected = ObjectId::of(&doc);
    println!("4. put {} bytes (local id {expected})", doc.len());
    let id = client
        .put_doc("docs", "readme", doc.clone())
        .await
        .context("put")?;
    println!("   server confirmed {id}");
    if id != expected {
        bail!("the server confirmed {id}, expected {expected}");
    }

    println!("5. get {id}");
    let back = client.get(id).await.context("get")?;
    println!("   received {} bytes", back.len());

    let verified = back == doc && id.verify(&back);
    println!("6. verify: digest and bytes match = {verified}");
    if !verified {
        bail!("the document came back different");
    }
    drain(&mut bus);

    client.close();
    println!("7. shutdown: publishing Shutdown on the bus");
    services
        .bus
        .publish_lossy(kernel_core::KernelEvent::Shutdown);
    serving.await.context("gateway task")??;
    server.wait_for_open_connections(0).await;
    drain(&mut bus);
    println!("done");
    Ok(())
}
