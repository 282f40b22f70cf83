//! `runtime_on`: a gateway and a client on an executor the program runs
//! itself, on threads of its own, rather than on smol's global one.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use runtime_smol::{Client, Gateway, GatewayConfig};

/// Threads that run `executor` until `stop` closes.
fn run_on_threads(
    executor: &Arc<smol::Executor<'static>>,
    threads: usize,
    stop: &smol::channel::Receiver<()>,
) -> Vec<thread::JoinHandle<()>> {
    (0..threads)
        .map(|i| {
            let (executor, stop) = (executor.clone(), stop.clone());
            thread::Builder::new()
                .name(format!("own-executor-{i}"))
                .spawn(move || {
                    // `recv` fails once every sender is gone: the stop.
                    let _ = smol::block_on(executor.run(stop.recv()));
                })
                .expect("thread")
        })
        .collect()
}

#[test]
fn a_gateway_and_a_client_run_on_the_callers_executor() {
    let executor = Arc::new(smol::Executor::new());
    let (stop_tx, stop_rx) = smol::channel::bounded::<()>(1);
    let threads = run_on_threads(&executor, 2, &stop_rx);
    let runtime = runtime_smol::runtime_on(executor.clone());

    let work = async {
        // Tasks go to the executor's threads, not smol's global ones.
        let (tx, rx) = smol::channel::bounded(1);
        runtime.spawn(Box::pin(async move {
            let _ = tx.send(thread::current().name().map(str::to_owned)).await;
        }));
        let name = rx.recv().await.expect("the task ran").unwrap_or_default();
        assert!(name.starts_with("own-executor-"), "{name:?}");

        // The gateway's accept loop and connection tasks, and the client's
        // driver, all spawn through the runtime: a put and a get complete
        // only if they run there.
        let gateway = Gateway::bind(
            runtime.clone(),
            "127.0.0.1:0".parse().expect("address"),
            GatewayConfig::default(),
        )
        .await
        .expect("bound");
        let addr = gateway.local_addr().expect("bound");
        let server = gateway.clone();
        runtime.spawn(Box::pin(async move {
            let _ = server.serve().await;
        }));
        let client = Client::connect(runtime.clone(), addr, Default::default())
            .await
            .expect("connected");
        let body = vec![7u8; 100_000];
        let id = client
            .put_doc("docs", "on-own-executor", body.clone().into())
            .await
            .expect("put");
        assert_eq!(client.get(id).await.expect("get")[..], body[..]);
    };
    // A deadline, so that a spawner that loses its tasks fails the test
    // instead of hanging it.
    smol::block_on(smol::future::or(work, async {
        smol::Timer::after(Duration::from_secs(30)).await;
        panic!("the gateway and client made no progress on the executor");
    }));

    drop(stop_tx);
    for t in threads {
        t.join().expect("executor thread");
    }
}
