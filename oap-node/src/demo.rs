//! The demos every runtime crate runs as its examples (and `oap demo`
//! builds on): the same steps, printed, on whatever runtime is given.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use kernel_core::KernelEvent;
use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_io::{BoxStream, Runtime};

use crate::{Client, ClientError, Gateway, GatewayConfig, MemStore, Services};

fn fail(e: ClientError) -> io::Error {
    io::Error::other(e.to_string())
}

/// In-memory pipe: HELLO → START → ACK, printing the health event the
/// gateway published on the bus. `pipe` gives the client and server ends.
pub async fn in_memory(runtime: Arc<dyn Runtime>, pipe: (BoxStream, BoxStream)) -> io::Result<()> {
    let (client_end, server_end) = pipe;
    let server = Gateway::new(
        Arc::clone(&runtime),
        GatewayConfig::default(),
        Arc::new(MemStore::new()),
        Services::new(64),
    );
    let mut bus = server.services().bus.subscribe();
    let s = server.clone();
    runtime.spawn(Box::pin(async move {
        let _ = s.handle_stream(server_end).await;
    }));
    println!("client -> HELLO {{\"hello\":\"oap/1\",\"app_proto_id\":\"demo/1\"}}");
    let client = Client::over(
        Arc::clone(&runtime),
        client_end,
        ConnectionConfig::default(),
        "demo/1",
    )
    .await
    .map_err(fail)?;
    let n = client.negotiated();
    println!(
        "server -> HELLO  max_frame={} max_inflight={} credit={}",
        n.max_frame, n.max_inflight, n.credit
    );
    match bus.recv().await {
        Ok(ev @ KernelEvent::Health { .. }) => println!("bus    <- {ev:?}"),
        other => {
            return Err(io::Error::other(format!(
                "expected a health event, got {other:?}"
            )));
        }
    }
    println!("client -> START  {{\"corr_id\":1,\"op\":\"put\"}}");
    let (id, credit) = client.start(1, "put").await.map_err(fail)?;
    println!("server -> ACK    request {id} credit={credit}");
    client.close();
    println!("done");
    Ok(())
}

/// TCP on loopback: put a real document, get it back, verify it, print
/// the ACK credit and the object id.
pub async fn tcp(runtime: Arc<dyn Runtime>) -> io::Result<()> {
    let server = Gateway::new(
        Arc::clone(&runtime),
        GatewayConfig::default(),
        Arc::new(MemStore::new()),
        Services::new(64),
    );
    let addr = server
        .listen("127.0.0.1:0".parse().map_err(io::Error::other)?)
        .await?;
    let s = server.clone();
    runtime.spawn(Box::pin(async move {
        let _ = s.serve().await;
    }));
    println!("gateway listening on {addr}");
    let client = Client::connect(Arc::clone(&runtime), addr, ConnectionConfig::default())
        .await
        .map_err(fail)?;
    let (_, credit) = client.start(1, "put").await.map_err(fail)?;
    println!("HELLO done; START answered by ACK with credit {credit}");
    let doc = Bytes::from(
        "OAP/1 moves content-addressed objects: every byte is verified against its BLAKE3 id.\n"
            .repeat(2000),
    );
    let id = client
        .put_doc("docs", "readme", doc.clone())
        .await
        .map_err(fail)?;
    println!("put {} bytes -> {id}", doc.len());
    let back = client.get(id).await.map_err(fail)?;
    let verified = back == doc && ObjectId::of(&back) == id;
    println!("get {id} -> {} bytes, verified={verified}", back.len());
    if !verified {
        return Err(io::Error::other("the document came back different"));
    }
    client.close();
    server.shutdown();
    println!("done");
    Ok(())
}
