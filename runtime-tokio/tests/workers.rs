//! Connection workers over real sockets: the kernel spreads connections
//! over them, each is served, they stop at shutdown, and a restarted
//! worker serves the same address.
#![cfg(target_os = "linux")]

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;

use bytes::Bytes;
use oap_node::{Gateway, GatewayConfig, MemStore, Services};
use runtime_tokio::workers::Workers;

const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

fn two() -> NonZeroUsize {
    NonZeroUsize::new(2).expect("not zero")
}

fn gateway() -> Gateway {
    Gateway::new(
        runtime_tokio::runtime(),
        GatewayConfig::default(),
        Arc::new(MemStore::new()),
        Services::new(64),
    )
}

/// Puts a document of its own on each of `n` connections, one after the
/// other, and gets it back on the same connection.
async fn put_and_get_on_connections(addr: SocketAddr, n: usize) {
    for i in 0..n {
        let client = runtime_tokio::connect(addr).await.expect("connect");
        let doc = Bytes::from(format!("document {i}"));
        let id = client
            .put_doc("workers", &i.to_string(), doc.clone())
            .await
            .expect("put");
        assert_eq!(client.get(id).await.expect("get"), doc);
    }
}

#[tokio::test]
async fn connections_spread_over_the_workers_and_every_one_is_served() {
    let gateway = gateway();
    let workers = Workers::serve(&gateway, &[LOOPBACK], two(), None).expect("workers");
    let addr = workers.local_addrs()[0];
    assert_ne!(addr.port(), 0, "the free port is reported");

    put_and_get_on_connections(addr, 64).await;

    let accepted = workers.accepted();
    assert_eq!(accepted.iter().sum::<u64>(), 64, "{accepted:?}");
    // Each connection has a new source port, which the kernel hashes to
    // pick a socket: all 64 on one of two has a chance of 2^-63.
    assert!(accepted.iter().all(|&n| n > 0), "{accepted:?}");
    assert_eq!(workers.serving(), 2);
}

#[tokio::test]
async fn shutdown_ends_every_workers_accept_loops_and_join_ends_their_threads() {
    let gateway = gateway();
    let mut workers = Workers::serve(&gateway, &[LOOPBACK], two(), None).expect("workers");
    let addr = workers.local_addrs()[0];
    put_and_get_on_connections(addr, 4).await;

    gateway.shutdown();
    let mut exits = Vec::new();
    while let Some((index, result)) = workers.next_exit().await {
        result.expect("a clean stop");
        exits.push(index);
    }
    exits.sort_unstable();
    assert_eq!(exits, [0, 1]);
    assert_eq!(workers.serving(), 0);
    gateway.wait_for_open_connections(0).await;
    tokio::task::spawn_blocking(move || workers.join())
        .await
        .expect("joined");
    assert!(
        runtime_tokio::connect(addr).await.is_err(),
        "nothing listens after shutdown"
    );
}

#[tokio::test]
async fn a_restarted_worker_binds_the_same_port_and_takes_connections() {
    let gateway = gateway();
    let one = NonZeroUsize::MIN;
    let mut workers = Workers::serve(&gateway, &[LOOPBACK], one, None).expect("workers");
    let addr = workers.local_addrs()[0];
    workers.restart().expect("another worker");
    assert_eq!(workers.local_addrs(), [addr]);
    assert_eq!(workers.serving(), 2);

    put_and_get_on_connections(addr, 64).await;
    let accepted = workers.accepted();
    assert!(accepted.iter().all(|&n| n > 0), "{accepted:?}");
}

#[tokio::test]
async fn an_address_taken_by_a_socket_that_does_not_share_fails_serve() {
    // A plain listener does not set SO_REUSEPORT, so no worker may join it.
    let taken = std::net::TcpListener::bind(LOOPBACK).expect("bind");
    let addr = taken.local_addr().expect("addr");
    let error = Workers::serve(&gateway(), &[addr], two(), None)
        .err()
        .expect("refused");
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}");
}

/// `join` while the workers serve (as `serve` does when a later worker
/// cannot bind) stops their accept loops instead of waiting for them.
#[tokio::test]
async fn join_while_serving_stops_the_workers() {
    let gateway = gateway();
    let workers = Workers::serve(&gateway, &[LOOPBACK], two(), None).expect("workers");
    let addr = workers.local_addrs()[0];
    put_and_get_on_connections(addr, 4).await;
    // On a thread of its own, with a guard (not a synchronisation): a
    // join that waited for the accept loops would never return, and a
    // runtime waits for its blocking tasks when it stops.
    let (joined, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        workers.join();
        let _ = joined.send(());
    });
    done.recv_timeout(std::time::Duration::from_secs(10))
        .expect("join returned while serving");
    assert!(
        runtime_tokio::connect(addr).await.is_err(),
        "nothing listens after join"
    );
}

/// Blocking work a worker's connections hand to the runtime (a store's
/// calls that may wait) runs on the pool of the runtime that started the
/// workers, not on a pool per worker.
#[test]
fn blocking_work_on_a_worker_runs_on_the_pool_of_the_runtime_that_started_it() {
    let starter = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("starter")
        .enable_all()
        .build()
        .expect("runtime");
    starter.block_on(async {
        let (ran_on, thread_name) = std::sync::mpsc::channel();
        let ran_on = std::sync::Mutex::new(ran_on);
        let mut workers = Workers::run(&[LOOPBACK], NonZeroUsize::MIN, move |_listener| {
            let ran_on = ran_on.lock().expect("not poisoned").clone();
            Box::pin(async move {
                let name_it = move || {
                    let _ = ran_on.send(std::thread::current().name().map(str::to_owned));
                };
                runtime_tokio::runtime()
                    .spawn_blocking(Box::new(name_it))
                    .await;
                Ok(())
            })
        })
        .expect("workers");
        let name = thread_name
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the blocking work ran");
        assert_eq!(name.as_deref(), Some("starter"));
        let (_, ended) = workers.next_exit().await.expect("the loop ended");
        ended.expect("cleanly");
    });
}
