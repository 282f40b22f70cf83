//! Gateways over a real S3-compatible store: a 3-node Garage cluster on
//! loopback with replication factor 3, started by `scripts/garage.sh`.
//!
//! These tests need that cluster, so they are ignored by a plain
//! `cargo test`; `scripts/test.d/50-s3.sh` (run by CI) starts the cluster,
//! exports what `scripts/garage.sh env` prints, and runs them with
//! `--ignored`, one at a time (one of them stops a Garage node). Each test
//! keeps its objects under a prefix of its own.
//!
//! Gateway A talks to Garage node 1, gateway B to node 2; node 3 is the one
//! the outage test stops, so each gateway keeps its endpoint while the
//! cluster loses a replica.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use common::{Server, http_get, metric, run, stderr, stdout, write_pattern};
use oap_core::ObjectId;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as S3Path;
use object_store::{ObjectStoreExt, PutPayload};

/// The cluster `scripts/garage.sh start` made, from its environment.
struct Cluster {
    bucket: String,
    /// Node N's S3 endpoint at index N-1.
    endpoints: Vec<String>,
    /// `scripts/garage.sh`, to stop and start a node.
    script: String,
}

fn cluster() -> Cluster {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!("{k} is not set: run these tests through scripts/test.d/50-s3.sh")
        })
    };
    Cluster {
        bucket: var("OAP_S3_BUCKET"),
        endpoints: var("OAP_S3_ENDPOINTS")
            .split(',')
            .map(str::to_owned)
            .collect(),
        script: var("OAP_GARAGE"),
    }
}

impl Cluster {
    /// `oap serve --store s3://BUCKET/PREFIX` talking to Garage node `node`.
    fn gateway(&self, node: usize, prefix: &str) -> Server {
        self.gateway_with(node, prefix, &[])
    }

    /// [`Cluster::gateway`] with more flags.
    fn gateway_with(&self, node: usize, prefix: &str, extra: &[&str]) -> Server {
        let store = format!("s3://{}/{prefix}", self.bucket);
        let mut args = vec![
            "--store",
            &store,
            "--s3-endpoint",
            &self.endpoints[node - 1],
            // A stopped node is noticed within this, not S3's 30 s default.
            "--s3-timeout-ms",
            "10000",
        ];
        args.extend_from_slice(extra);
        Server::start(&args)
    }

    /// A plain S3 client of node `node`, beside the gateways.
    fn s3(&self, node: usize) -> AmazonS3 {
        let _ = rustls::crypto::ring::default_provider().install_default();
        AmazonS3Builder::from_env()
            .with_bucket_name(&self.bucket)
            .with_endpoint(&self.endpoints[node - 1])
            .with_allow_http(true)
            .build()
            .expect("S3 client")
    }

    fn garage(&self, args: &[&str]) {
        let status = Command::new(&self.script)
            .args(args)
            .status()
            .expect("run scripts/garage.sh");
        assert!(status.success(), "garage.sh {args:?} failed");
    }
}

/// A prefix no other test or run uses.
fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{test}-{}-{nanos}", std::process::id())
}

fn key(prefix: &str, obj: &ObjectId) -> S3Path {
    S3Path::from(format!("{prefix}/{}", obj.to_hex()))
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `oap put FILE` through `server`: the id it printed.
fn put_file(server: &Server, file: &std::path::Path) -> String {
    let put = run(&["put", file.to_str().unwrap(), "--server", &server.oap]);
    assert!(put.status.success(), "put failed: {}", stderr(&put));
    stdout(&put).trim().to_owned()
}

/// `oap get ID -o OUT` through `server`; whether it succeeded, and stderr.
fn get_file(server: &Server, id: &str, out: &std::path::Path) -> (bool, String) {
    let get = run(&[
        "get",
        id,
        "-o",
        out.to_str().unwrap(),
        "--server",
        &server.oap,
    ]);
    (get.status.success(), stderr(&get))
}

fn same_bytes(a: &std::path::Path, b: &std::path::Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

#[test]
#[ignore = "needs a Garage cluster: scripts/test.d/50-s3.sh"]
fn a_put_through_one_gateway_is_got_verified_through_another() {
    let c = cluster();
    let p = prefix("across");
    let (a, b) = (c.gateway(1, &p), c.gateway(2, &p));
    let (s3, rt) = (c.s3(2), tokio_rt());
    let dir = tempfile::tempdir().unwrap();
    // One object in a single PUT, one in a multipart upload of three parts.
    for (name, len) in [("small", 300_000), ("large", 20 << 20)] {
        let file = dir.path().join(name);
        write_pattern(&file, len);
        let id = put_file(&a, &file);
        let out = dir.path().join(format!("{name}.out"));
        let (ok, err) = get_file(&b, &id, &out);
        assert!(ok, "get through B: {err}");
        assert!(same_bytes(&file, &out), "{name}: bytes differ");

        // Put again, through B: the bucket has it, so nothing is uploaded
        // (the stored version is the same one).
        let obj: ObjectId = id.parse().unwrap();
        let before = rt.block_on(s3.head(&key(&p, &obj))).expect("stored");
        assert_eq!(put_file(&b, &file), id);
        let after = rt.block_on(s3.head(&key(&p, &obj))).expect("stored");
        assert_eq!(
            (after.e_tag, after.last_modified),
            (before.e_tag, before.last_modified),
            "{name}: uploaded a second time"
        );
    }
    assert!(a.stop().success());
    assert!(b.stop().success());
}

#[test]
#[ignore = "needs a Garage cluster: scripts/test.d/50-s3.sh"]
fn with_a_garage_node_down_both_gateways_serve_and_everything_stays_readable() {
    let c = cluster();
    let p = prefix("outage");
    let (a, b) = (c.gateway(1, &p), c.gateway(2, &p));
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before");
    write_pattern(&before, 9 << 20);
    let before_id = put_file(&a, &before);

    c.garage(&["kill", "3"]);
    let mut written = Vec::new();
    for (i, gw) in [&a, &b].into_iter().enumerate() {
        let file = dir.path().join(format!("during{i}"));
        write_pattern(&file, 1_000_000 + i);
        written.push((put_file(gw, &file), file));
    }
    for (i, gw) in [&b, &a].into_iter().enumerate() {
        let out = dir.path().join(format!("during{i}.out"));
        let (ok, err) = get_file(gw, &written[i].0, &out);
        assert!(ok, "get with node 3 down: {err}");
        assert!(same_bytes(&written[i].1, &out));
    }
    c.garage(&["revive", "3"]);

    written.push((before_id, before));
    for (n, (id, file)) in written.iter().enumerate() {
        for gw in [&a, &b] {
            let out = dir.path().join(format!("after{n}"));
            let (ok, err) = get_file(gw, id, &out);
            assert!(ok, "get after node 3 came back: {err}");
            assert!(same_bytes(file, &out));
        }
    }
    assert!(a.stop().success());
    assert!(b.stop().success());
}

#[test]
#[ignore = "needs a Garage cluster: scripts/test.d/50-s3.sh"]
fn a_gateway_killed_mid_put_leaves_no_object_and_the_next_put_succeeds() {
    const LEN: usize = 32 << 20;
    let c = cluster();
    let p = prefix("killed");
    let a = c.gateway(1, &p);
    let b = c.gateway(2, &p);
    let body: Bytes = (0..LEN)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let obj = ObjectId::of(&body);
    let rt = tokio_rt();
    rt.block_on(async {
        let addr: SocketAddr = a.oap.parse().unwrap();
        let client = runtime_tokio::connect(addr).await.expect("connect A");
        let mut put = client
            .put_stream("c", "d", obj, LEN as u64)
            .expect("open the put");
        // 20 MiB went out within A's credit, so A has read at least 20 MiB
        // less one window: more than one 8 MiB part of a multipart upload.
        put.write(body.slice(..20 << 20))
            .await
            .expect("first 20 MiB");
        a.signal("KILL");
        drop(put);
    });
    let _ = a.wait();

    // Nothing under the object's key, through S3 or through B.
    let s3 = c.s3(2);
    let head = rt.block_on(s3.head(&key(&p, &obj)));
    assert!(
        matches!(head, Err(object_store::Error::NotFound { .. })),
        "{head:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (ok, err) = get_file(&b, &obj.to_string(), &out);
    assert!(!ok && err.contains("not_found"), "{err}");
    assert!(!out.exists());

    // The same object, whole, through B.
    let file = dir.path().join("whole");
    std::fs::write(&file, &body).unwrap();
    assert_eq!(put_file(&b, &file), obj.to_string());
    let (ok, err) = get_file(&b, &obj.to_string(), &out);
    assert!(ok, "{err}");
    assert!(same_bytes(&file, &out));
    assert!(b.stop().success());
}

#[test]
#[ignore = "needs a Garage cluster: scripts/test.d/50-s3.sh"]
fn an_object_overwritten_behind_the_gateway_is_refused_and_moved_aside() {
    let c = cluster();
    let p = prefix("rot");
    let gw = c.gateway(1, &p);
    let s3 = c.s3(1);
    let rt = tokio_rt();
    let dir = tempfile::tempdir().unwrap();
    // Same length and a different one; a single PUT and a multipart object.
    let cases = [
        ("same-len", 100_000, 100_000),
        ("shorter", 100_000, 99_999),
        ("large", 12 << 20, 12 << 20),
    ];
    for (n, (name, len, rotten_len)) in cases.into_iter().enumerate() {
        let file = dir.path().join(name);
        write_pattern(&file, len);
        let id = put_file(&gw, &file);
        let obj: ObjectId = id.parse().unwrap();
        let rotten: Vec<u8> = (0..rotten_len).map(|i| (i % 7) as u8).collect();
        rt.block_on(s3.put(&key(&p, &obj), PutPayload::from(rotten)))
            .expect("overwrite behind the gateway's back");

        let out = dir.path().join(format!("{name}.out"));
        let (ok, err) = get_file(&gw, &id, &out);
        assert!(!ok, "{name}: a rotten object was served");
        assert!(!out.exists(), "{name}: unverified bytes reached the file");
        assert!(err.contains("corrupt"), "{name}: {err}");
        let (_, metrics) = http_get(gw.admin, "/metrics");
        assert_eq!(
            metric(&metrics, "corrupt_objects_total"),
            Some((n + 1) as f64),
            "{metrics}"
        );
        // Moved aside: gone from its key, so a new put can store it again.
        let head = rt.block_on(s3.head(&key(&p, &obj)));
        assert!(matches!(head, Err(object_store::Error::NotFound { .. })));
        assert_eq!(put_file(&gw, &file), id);
        let (ok, err) = get_file(&gw, &id, &out);
        assert!(ok, "{name}: after a new put: {err}");
        assert!(same_bytes(&file, &out));
    }
    assert!(gw.stop().success());
}

/// Object `i` of the many-clients test: mixed sizes, from empty to a
/// two-part multipart upload, each with bytes of its own.
fn object(i: usize) -> Bytes {
    let len = match i {
        _ if i % 500 == 7 => (9 << 20) + i,
        _ if i % 10 == 3 => (256 << 10) + i,
        _ => (i % 37) * 1024 + i % 13,
    };
    let seed = (i as u32).wrapping_mul(0x9E37_79B9);
    (0..len)
        .map(|k| ((k as u32).wrapping_mul(2_654_435_761) ^ seed).to_le_bytes()[3])
        .collect::<Vec<u8>>()
        .into()
}

#[test]
#[ignore = "needs a Garage cluster: scripts/test.d/50-s3.sh"]
fn sixty_four_clients_put_two_thousand_objects_through_one_gateway_and_get_them_through_another() {
    const OBJECTS: usize = 2_000;
    const CLIENTS: usize = 64;
    let c = cluster();
    let p = prefix("many");
    let (a, b) = (c.gateway(1, &p), c.gateway(2, &p));
    let rt = tokio_rt();
    let policy = oap_node::RetryPolicy::default();
    let mine = |client: usize| (client..OBJECTS).step_by(CLIENTS);
    let (a_addr, b_addr): (SocketAddr, SocketAddr) =
        (a.oap.parse().unwrap(), b.oap.parse().unwrap());
    // Every client connects, and none puts or gets before all have: the
    // gateways serve 64 connections at once, not one after another.
    let ids: Vec<(usize, ObjectId)> = rt
        .block_on(at_once(CLIENTS, move |n, all_connected| async move {
            let client = runtime_tokio::connect(a_addr).await.expect("connect A");
            all_connected.wait().await;
            let mut ids = Vec::new();
            for i in mine(n) {
                let body = object(i);
                let id = client
                    .with_retries(&policy, || client.put_doc("many", "d", body.clone()))
                    .await
                    .unwrap_or_else(|e| panic!("put {i}: {e}"));
                assert_eq!(id, ObjectId::of(&body));
                ids.push((i, id));
            }
            ids
        }))
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ids.len(), OBJECTS);
    let ids = Arc::new(ids);
    let got: usize = rt
        .block_on(at_once(CLIENTS, move |n, all_connected| {
            let ids = Arc::clone(&ids);
            async move {
                let client = runtime_tokio::connect(b_addr).await.expect("connect B");
                all_connected.wait().await;
                let mut got = 0;
                for (i, id) in ids.iter().skip(n).step_by(CLIENTS) {
                    let bytes = client
                        .with_retries(&policy, || client.get(*id))
                        .await
                        .unwrap_or_else(|e| panic!("get {i}: {e}"));
                    assert!(bytes == object(*i), "object {i} came back different");
                    got += 1;
                }
                got
            }
        }))
        .into_iter()
        .sum();
    assert_eq!(got, OBJECTS, "every object came back");
    assert!(a.stop().success());
    assert!(b.stop().success());
}

/// Runs `client(n, all_connected)` for `n` in `0..clients` as tasks at
/// once and returns their results in order. Each client waits on
/// `all_connected` once it is set up, so no client starts its work before
/// every one is there. Bounded: a client that never arrives fails the test
/// after five minutes rather than hanging it.
async fn at_once<T, F, Fut>(clients: usize, client: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, Arc<tokio::sync::Barrier>) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let all_connected = Arc::new(tokio::sync::Barrier::new(clients));
    // Spawned together before any is awaited: an iterator awaited one task
    // at a time would run the clients one after another.
    let tasks: Vec<_> = (0..clients)
        .map(|n| {
            let barrier = Arc::clone(&all_connected);
            tokio::spawn(tokio::time::timeout(
                std::time::Duration::from_secs(300),
                client(n, barrier),
            ))
        })
        .collect();
    let mut results = Vec::with_capacity(clients);
    for t in tasks {
        results.push(
            t.await
                .expect("client task")
                .expect("every client done within five minutes"),
        );
    }
    results
}

/// The peak resident memory (`VmHWM`) of process `pid`, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in kB");
    kib * 1024
}

/// Runs `oap args…` under python3's `resource` module: whether it
/// succeeded, and the child's peak resident memory in bytes.
fn run_measured(args: &[&str]) -> (bool, u64) {
    let script = "import resource, subprocess, sys\n\
                  ok = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode == 0\n\
                  print(int(ok), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = Command::new("python3")
        .args(["-c", script, env!("CARGO_BIN_EXE_oap")])
        .args(args)
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace();
    let ok = fields.next() == Some("1");
    if !ok {
        eprintln!(
            "oap {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let kib: u64 = fields.next().and_then(|n| n.parse().ok()).expect("maxrss");
    (ok, kib * 1024)
}

/// Forgets process `pid`'s peak resident memory, so the next
/// [`peak_rss`] reads the peak from now on.
fn reset_peak_rss(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset VmHWM");
}

/// Puts and gets a `len`-byte file through `gw`: the peak resident memory
/// of the gateway and of each client, and whether the object came back.
fn transfer_measured(gw: &Server, dir: &std::path::Path, len: usize) -> [u64; 3] {
    let file = dir.join(format!("in-{len}"));
    write_pattern(&file, len);
    let id = stdout(&run(&["id", file.to_str().unwrap()]))
        .trim()
        .to_owned();
    reset_peak_rss(gw.pid());
    let (ok, client_put) = run_measured(&["put", file.to_str().unwrap(), "--server", &gw.oap]);
    assert!(ok, "put of {len} bytes failed");
    let out = dir.join(format!("out-{len}"));
    let (ok, client_get) =
        run_measured(&["get", &id, "-o", out.to_str().unwrap(), "--server", &gw.oap]);
    assert!(ok, "get of {len} bytes failed");
    let server = peak_rss(gw.pid());
    let got = stdout(&run(&["id", out.to_str().unwrap()]));
    assert_eq!(got.trim(), id, "the file got is the object put");
    std::fs::remove_file(&file).unwrap();
    std::fs::remove_file(&out).unwrap();
    [server, client_put, client_get]
}

#[test]
#[ignore = "needs a Garage cluster: scripts/test.d/50-s3.sh"]
fn a_one_gib_object_streams_through_a_gateway_on_s3_in_bounded_memory() {
    // What a put through the S3 store holds: up to three 8 MiB parts and
    // two windows, besides the process itself and its HTTP client; the
    // clients hold about a window. Never the object.
    const SERVER_BOUND: u64 = 96 << 20;
    const CLIENT_BOUND: u64 = 64 << 20;
    // Four times the bytes may cost the gateway no more than this.
    const GROWTH: u64 = 16 << 20;
    let c = cluster();
    // One connection worker: each worker's thread keeps the memory its
    // connections freed for its next ones (glibc's arena per thread), so
    // with two the 1 GiB put could land on the one the 256 MiB put did not
    // use and add that arena's 26-29 MiB to the process's peak: growth by
    // worker, not by object (docs/PERFORMANCE.md, "connection workers").
    let gw = c.gateway_with(1, &prefix("gib"), &["--workers", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let small = transfer_measured(&gw, dir.path(), 256 << 20);
    let large = transfer_measured(&gw, dir.path(), 1 << 30);
    eprintln!(
        "peak RSS in MiB (server, put client, get client): 256 MiB object {:?}, 1 GiB object {:?}",
        small.map(|b| b >> 20),
        large.map(|b| b >> 20)
    );
    assert!(
        large[0] <= SERVER_BOUND,
        "server peaked at {} bytes",
        large[0]
    );
    assert!(
        large[0] <= small[0] + GROWTH,
        "the server's peak grew with the object: {} then {} bytes",
        small[0],
        large[0]
    );
    for client in &large[1..] {
        assert!(*client <= CLIENT_BOUND, "a client peaked at {client} bytes");
    }
    assert!(gw.stop().success());
}

#[test]
fn an_unreachable_store_fails_requests_with_unavailable_and_the_node_is_not_ready() {
    // A port nothing listens on: every S3 call is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let server = Server::start_with_env(
        &[
            "--store",
            "s3://nowhere",
            "--s3-endpoint",
            &endpoint,
            "--s3-region",
            "garage",
            "--s3-timeout-ms",
            "3000",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "GK00000000000000000000"),
            ("AWS_SECRET_ACCESS_KEY", "0000"),
        ],
    );
    let (code, body) = http_get(server.admin, "/readyz");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("not ready: store"), "{body}");

    let rt = tokio_rt();
    rt.block_on(async {
        let addr: SocketAddr = server.oap.parse().unwrap();
        let client = runtime_tokio::connect(addr).await.expect("connect");
        let doc = Bytes::from_static(b"an object for a store that is down");
        // Twice on one connection: the gateway goes on serving it.
        for _ in 0..2 {
            let e = client
                .put_doc("c", "d", doc.clone())
                .await
                .expect_err("no store, no put");
            assert_eq!(
                e.code(),
                Some(oap_core::payload::ErrorCode::Unavailable),
                "{e}"
            );
            assert!(e.is_retryable(), "{e}");
        }
        let e = client.get(ObjectId::of(&doc)).await.expect_err("no get");
        assert_eq!(
            e.code(),
            Some(oap_core::payload::ErrorCode::Unavailable),
            "{e}"
        );
    });
    assert!(server.stop().success());
}
