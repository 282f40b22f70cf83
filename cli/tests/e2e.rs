//! End-to-end tests of the built `oap` binary: a real `oap serve` in the
//! background, real `put`/`get` processes, HTTP against the admin port.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    Server, http_get, lines_of, metric, new_token, oap, run, run_in, run_with_env, run_with_input,
    stderr, stdout, wait_bounded, write_pattern,
};

/// BLAKE3 of the empty input (the reference test vector).
const EMPTY_ID: &str = "b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

/// The two ways `oap serve` runs its connections: on connection workers
/// (the default on Linux), and on one shared runtime.
const LAYOUTS: [&[&str]; 2] = [&[], &["--workers", "0"]];

#[test]
fn put_then_get_is_byte_identical_and_admin_endpoints_report_it() {
    for layout in LAYOUTS {
        put_then_get_and_admin_endpoints(layout);
    }
}

fn put_then_get_and_admin_endpoints(layout: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(layout);

    let (code, body) = http_get(server.admin, "/healthz");
    assert_eq!(code, 200, "{body}");
    let (code, body) = http_get(server.admin, "/readyz");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"ready\":true"), "{body}");
    let (code, before) = http_get(server.admin, "/metrics");
    assert_eq!(code, 200);
    // The supervised accept loop shows up at zero restarts; the labelled
    // `rejected_total{reason}` appears with its first rejection (below).
    assert_eq!(
        metric(&before, "service_restarts_total{service=\"gateway\"}"),
        Some(0.0),
        "{before}"
    );
    for name in [
        "bus_lagged_total",
        "request_latency_seconds_count",
        "bytes_in_total",
        "bytes_out_total",
    ] {
        assert!(before.contains(name), "{name} missing from:\n{before}");
    }

    let file = dir.path().join("input.bin");
    write_pattern(&file, 300_000);
    let put = run(&["put", file.to_str().unwrap(), "--server", &server.oap]);
    assert!(put.status.success(), "put failed: {}", stderr(&put));
    let id = stdout(&put).trim().to_owned();
    assert!(id.starts_with("b3:") && id.len() == 67, "{id:?}");
    // The id the server confirmed is the file's own id.
    let local = run(&["id", file.to_str().unwrap()]);
    assert_eq!(stdout(&local).trim(), id);

    let out = dir.path().join("sub").join("output.bin");
    std::fs::create_dir(out.parent().unwrap()).unwrap();
    let get = run(&[
        "get",
        &id,
        "-o",
        out.to_str().unwrap(),
        "--server",
        &server.oap,
    ]);
    assert!(get.status.success(), "get failed: {}", stderr(&get));
    assert!(get.stdout.is_empty());
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&file).unwrap());
    // No temporary file left next to the output.
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 1);

    let to_stdout = run(&["get", &id, "--server", &server.oap]);
    assert!(to_stdout.status.success(), "{}", stderr(&to_stdout));
    assert_eq!(to_stdout.stdout, std::fs::read(&file).unwrap());

    let unknown = run(&["get", EMPTY_ID, "--server", &server.oap]);
    assert!(!unknown.status.success());

    let (_, after) = http_get(server.admin, "/metrics");
    let count = |t: &str, n: &str| metric(t, n).unwrap_or_else(|| panic!("{n} in:\n{t}"));
    assert!(
        count(&after, "request_latency_seconds_count") >= 3.0,
        "{after}"
    );
    assert!(count(&after, "bytes_in_total") >= 300_000.0, "{after}");
    assert!(count(&after, "bytes_out_total") >= 600_000.0, "{after}");
    assert!(
        count(&after, "rejected_total{reason=\"not_found\"}") >= 1.0,
        "{after}"
    );

    let (code, _) = http_get(server.admin, "/nope");
    assert_eq!(code, 404);
    let status = server.stop();
    assert!(status.success(), "serve exited with {status}");
}

#[test]
fn get_failures_exit_non_zero_with_a_message_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.bin");
    let out_s = out.to_str().unwrap();
    let server = Server::start(&[]);

    let unknown = run(&["get", EMPTY_ID, "-o", out_s, "--server", &server.oap]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("not_found"),
        "{}",
        stderr(&unknown)
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let bad_addr = run(&["get", EMPTY_ID, "-o", out_s, "--server", "no-port-here"]);
    assert_eq!(bad_addr.status.code(), Some(1));
    assert!(
        stderr(&bad_addr).contains("bad server address"),
        "{}",
        stderr(&bad_addr)
    );

    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = run(&[
        "get",
        EMPTY_ID,
        "-o",
        out_s,
        "--server",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("cannot connect"),
        "{}",
        stderr(&refused)
    );

    // A malformed id is a usage error.
    let malformed = run(&["get", "b3:1234", "--server", &server.oap]);
    assert_eq!(malformed.status.code(), Some(2));
    assert!(!out.exists());

    let put_refused = run(&["put", "/definitely/missing", "--server", &server.oap]);
    assert_eq!(put_refused.status.code(), Some(1));
    assert!(stderr(&put_refused).contains("cannot open"));
    assert!(server.stop().success());
}

#[test]
fn dir_store_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("dir:{}", dir.path().join("store").display());
    let file = dir.path().join("doc.bin");
    write_pattern(&file, 100_000);

    let first = Server::start(&["--store", &store]);
    let put = run(&["put", file.to_str().unwrap(), "--server", &first.oap]);
    assert!(put.status.success(), "{}", stderr(&put));
    let id = stdout(&put).trim().to_owned();
    assert!(first.stop().success());

    let second = Server::start(&["--store", &store]);
    let get = run(&["get", &id, "--server", &second.oap]);
    assert!(get.status.success(), "{}", stderr(&get));
    assert_eq!(get.stdout, std::fs::read(&file).unwrap());
    assert!(second.stop().success());
}

#[test]
fn large_files_and_stdin_stream_through_a_dir_store_and_rot_never_reaches_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let store = format!("dir:{}", store_dir.display());
    let server = Server::start(&["--store", &store]);

    // Larger than any window or read piece: streamed in both directions.
    let file = dir.path().join("large.bin");
    write_pattern(&file, 40 * 1024 * 1024 + 7);
    let put = run(&["put", file.to_str().unwrap(), "--server", &server.oap]);
    assert!(put.status.success(), "{}", stderr(&put));
    let id = stdout(&put).trim().to_owned();
    assert_eq!(stdout(&run(&["id", file.to_str().unwrap()])).trim(), id);

    let out = dir.path().join("copy.bin");
    let get = run(&[
        "get",
        &id,
        "-o",
        out.to_str().unwrap(),
        "--server",
        &server.oap,
    ]);
    assert!(get.status.success(), "{}", stderr(&get));
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&file).unwrap());
    let to_stdout = run(&["get", &id, "--server", &server.oap]);
    assert!(to_stdout.status.success(), "{}", stderr(&to_stdout));
    assert!(to_stdout.stdout == std::fs::read(&file).unwrap());

    // `put -` spools standard input and names it by its own id.
    let input: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let piped = run_with_input(&["put", "-", "--server", &server.oap], &input);
    assert!(piped.status.success(), "{}", stderr(&piped));
    let piped_id = stdout(&piped).trim().to_owned();
    assert_eq!(
        stdout(&run_with_input(&["id", "-"], &input)).trim(),
        piped_id
    );
    let back = run(&["get", &piped_id, "--server", &server.oap]);
    assert_eq!(back.stdout, input);

    // A stored file that rotted: nothing reaches stdout, the exit says so.
    let stored = store_dir.join(piped_id.trim_start_matches("b3:"));
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[12_345] ^= 1;
    std::fs::write(&stored, &bytes).unwrap();
    let rotten = run(&["get", &piped_id, "--server", &server.oap]);
    assert_eq!(rotten.status.code(), Some(1), "{}", stderr(&rotten));
    assert!(rotten.stdout.is_empty(), "unverified bytes reached stdout");
    assert!(stderr(&rotten).contains("corrupt"), "{}", stderr(&rotten));
    let (_, metrics) = http_get(server.admin, "/metrics");
    assert_eq!(
        metric(&metrics, "corrupt_objects_total"),
        Some(1.0),
        "{metrics}"
    );
    assert!(server.stop().success());
}

#[test]
fn id_matches_the_blake3_vector() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let out = run(&["id", empty.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{EMPTY_ID}\n"));

    let stdin = run_with_input(&["id", "-"], b"");
    assert_eq!(stdout(&stdin), format!("{EMPTY_ID}\n"));

    let missing = run(&["id", "/definitely/missing"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn demo_exits_zero_after_verifying() {
    let out = run(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for step in [
        "HELLO",
        "START",
        "ACK",
        "put",
        "get",
        "match = true",
        "Shutdown",
    ] {
        assert!(text.contains(step), "{step:?} missing from:\n{text}");
    }
}

#[test]
fn help_and_usage_errors() {
    for args in [&["--help"][..], &["serve", "--help"], &["get", "--help"]] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        assert!(stdout(&out).contains("Usage"), "{args:?}");
    }
    assert_eq!(run(&[]).status.code(), Some(2));
    assert_eq!(run(&["serve", "--store", "disk"]).status.code(), Some(2));
}

#[test]
fn a_corrupted_stored_object_is_never_written_out() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let file = dir.path().join("doc.bin");
    write_pattern(&file, 70_000);
    let server = Server::start(&["--store", &format!("dir:{}", store_dir.display())]);
    let put = run(&["put", file.to_str().unwrap(), "--server", &server.oap]);
    assert!(put.status.success(), "{}", stderr(&put));
    let id = stdout(&put).trim().to_owned();

    // Flip one byte of the stored object behind the server's back.
    let stored = store_dir.join(id.trim_start_matches("b3:"));
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[1234] ^= 0x01;
    std::fs::write(&stored, bytes).unwrap();

    let out = dir.path().join("out.bin");
    let get = run(&[
        "get",
        &id,
        "-o",
        out.to_str().unwrap(),
        "--server",
        &server.oap,
    ]);
    assert_eq!(get.status.code(), Some(1), "{}", stderr(&get));
    assert!(
        stderr(&get).contains("oap: error: get b3:"),
        "{}",
        stderr(&get)
    );
    assert!(!out.exists());
    let to_stdout = run(&["get", &id, "--server", &server.oap]);
    assert_eq!(to_stdout.status.code(), Some(1));
    assert!(to_stdout.stdout.is_empty());
    assert!(server.stop().success());
}

#[test]
fn serve_loads_a_config_file_and_rejects_an_invalid_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "max_inflight = 8\nbus_capacity = 16\n").unwrap();
    let server = Server::start(&["--config", good.to_str().unwrap()]);
    let (code, body) = http_get(server.admin, "/readyz");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"config\":true"), "{body}");
    assert!(server.stop().success());

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "no_such_setting = 1\n").unwrap();
    let out = run(&[
        "serve",
        "--config",
        bad.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot load config"),
        "{}",
        stderr(&out)
    );
    let missing = run(&["serve", "--config", "/definitely/missing.toml"]);
    assert_eq!(missing.status.code(), Some(1));
}

/// Reads one OAP frame from a blocking socket.
fn read_frame(s: &mut std::net::TcpStream) -> oap_core::Frame {
    use std::io::Read;
    let mut head = [0u8; 6];
    s.read_exact(&mut head).expect("frame header");
    let len = u32::from_be_bytes([head[2], head[3], head[4], head[5]]) as usize;
    let mut frame = head.to_vec();
    frame.resize(6 + len, 0);
    s.read_exact(&mut frame[6..]).expect("frame payload");
    let mut buf = bytes::BytesMut::from(&frame[..]);
    oap_core::FrameDecoder::new()
        .decode(&mut buf)
        .expect("a valid frame")
        .expect("a whole frame")
}

#[test]
fn sigterm_drains_a_transfer_in_flight_like_ctrl_c() {
    for layout in LAYOUTS {
        sigterm_drains_a_transfer_in_flight(layout);
    }
}

fn sigterm_drains_a_transfer_in_flight(layout: &[&str]) {
    use oap_core::payload::{ControlPayload, DataHeader, End, Hello, Start, encode_data_payload};
    use oap_core::{FrameEncoder, FrameType, ObjectId};
    use std::io::Write;

    let server = Server::start(layout);
    let mut s = std::net::TcpStream::connect(&server.oap).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let enc = FrameEncoder::new();
    let mut send = |typ: FrameType, payload: &[u8]| {
        s.write_all(&enc.to_bytes(typ, payload).unwrap()).unwrap();
    };
    send(FrameType::Hello, &Hello::legacy().encode());
    let start = Start {
        corr_id: Some(1),
        op: Some("put".into()),
        ..Start::default()
    };
    send(FrameType::Start, &start.encode());
    let doc = b"in flight while the node is told to stop";
    let header = DataHeader {
        corr_id: Some(1),
        ..DataHeader::whole(doc)
    };
    send(FrameType::Data, &encode_data_payload(&header, doc).unwrap());
    let mut reader = s.try_clone().unwrap();
    assert_eq!(read_frame(&mut reader).typ, FrameType::Hello);
    assert_eq!(read_frame(&mut reader).typ, FrameType::Ack);

    // The put is open (no END yet) when SIGTERM arrives; the node drains:
    // it stops being ready, and serves the open request to its end.
    server.signal("TERM");
    let mut ready = 200;
    for _ in 0..1000 {
        ready = http_get(server.admin, "/readyz").0;
        if ready != 200 {
            break;
        }
    }
    assert_eq!(ready, 503, "still ready after SIGTERM");
    let end = End {
        corr_id: Some(1),
        obj: Some(ObjectId::of(doc)),
    };
    s.write_all(&enc.to_bytes(FrameType::End, &end.encode()).unwrap())
        .unwrap();
    let answer = loop {
        let f = read_frame(&mut reader);
        if f.typ != FrameType::Ack {
            break f;
        }
    };
    assert_eq!(answer.typ, FrameType::End, "{answer:?}");
    assert_eq!(
        End::decode(&answer.payload).unwrap().obj,
        Some(ObjectId::of(doc))
    );
    let status = server.wait();
    assert!(status.success(), "serve exited with {status} after SIGTERM");
}

/// `oap token new`: the token on the first line, the `[[tenants]]` entry
/// after it.
#[test]
fn token_new_pasted_into_the_config_lets_that_token_put_and_get_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (token, entry) = new_token("ci", "put,get");
    let (other, _) = new_token("other", "get");
    assert_ne!(token, other, "fresh every time");
    let bad_name = run(&["token", "new", "--name", "not a name"]);
    assert_eq!(bad_name.status.code(), Some(1));
    assert!(
        stderr(&bad_name).contains("tenants[0].name"),
        "{}",
        stderr(&bad_name)
    );
    assert!(
        bad_name.stdout.is_empty(),
        "no token printed for a bad entry"
    );
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!("[auth]\nanonymous = \"none\"\n\n{entry}\n"),
    )
    .unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let wrong_file = dir.path().join("wrong");
    std::fs::write(&wrong_file, &other).unwrap();
    let file = dir.path().join("doc.bin");
    write_pattern(&file, 100_000);
    let file = file.to_str().unwrap();

    let server = Server::start(&["--config", config.to_str().unwrap()]);
    let tf = token_file.to_str().unwrap();
    let put = run(&["put", file, "--server", &server.oap, "--token-file", tf]);
    assert!(put.status.success(), "put with the token: {}", stderr(&put));
    let id = stdout(&put).trim().to_owned();
    let get = run(&["get", &id, "--server", &server.oap, "--token-file", tf]);
    assert!(get.status.success(), "get with the token: {}", stderr(&get));
    assert_eq!(get.stdout, std::fs::read(file).unwrap());

    // Anonymous `none`: without a token the node refuses the connection.
    let anonymous = run(&["put", file, "--server", &server.oap]);
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(
        stderr(&anonymous).contains("unauthorized"),
        "{}",
        stderr(&anonymous)
    );
    let wrong = run(&[
        "get",
        &id,
        "--server",
        &server.oap,
        "--token-file",
        wrong_file.to_str().unwrap(),
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("unauthorized"),
        "{}",
        stderr(&wrong)
    );
    assert!(!stderr(&wrong).contains(&other), "no token in messages");
    assert!(wrong.stdout.is_empty());

    // OAP_TOKEN does what --token-file does.
    let env_put = run_with_env(
        &["put", file, "--server", &server.oap],
        &[("OAP_TOKEN", &token)],
    );
    assert!(
        env_put.status.success(),
        "put with OAP_TOKEN: {}",
        stderr(&env_put)
    );
    assert_eq!(stdout(&env_put).trim(), id);

    let (_, metrics) = http_get(server.admin, "/metrics");
    assert!(
        metric(&metrics, "tenant_bytes_in_total{tenant=\"ci\"}").unwrap_or(0.0) >= 200_000.0,
        "{metrics}"
    );
    assert!(
        metric(&metrics, "rejected_total{reason=\"unauthorized\"}").unwrap_or(0.0) >= 2.0,
        "{metrics}"
    );
    assert!(server.stop().success());
}

#[test]
fn a_token_is_refused_in_plaintext_to_a_non_loopback_address_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "some-token").unwrap();
    let file = dir.path().join("doc.bin");
    write_pattern(&file, 10);
    // 192.0.2.1 is TEST-NET-1: never contacted, because the refusal comes
    // before any connection attempt (a connect there could only hang or
    // fail as unreachable, with another message).
    let started = std::time::Instant::now();
    let put = run(&[
        "put",
        file.to_str().unwrap(),
        "--server",
        "192.0.2.1:9444",
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    assert_eq!(put.status.code(), Some(1));
    let err = stderr(&put);
    assert!(
        err.contains("refusing to send a token in plaintext"),
        "{err}"
    );
    assert!(err.contains("--tls-ca"), "{err}");
    assert!(!err.contains("some-token"), "{err}");
    assert!(
        !err.contains("cannot connect"),
        "no connection was tried: {err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // OAP_TOKEN is held to the same rule.
    let get = run_with_env(
        &["get", EMPTY_ID, "--server", "192.0.2.1:9444"],
        &[("OAP_TOKEN", "some-token")],
    );
    assert_eq!(get.status.code(), Some(1));
    assert!(stderr(&get).contains("--tls-ca"), "{}", stderr(&get));
}

#[test]
fn ten_thousand_small_files_put_in_one_run_on_a_default_loopback_node() {
    const FILES: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..FILES).map(|i| format!("f{i:05}")).collect();
    for (i, name) in names.iter().enumerate() {
        std::fs::write(dir.path().join(name), format!("small file {i}\n")).unwrap();
    }
    let server = Server::start(&[]);
    let mut args = vec!["put", "--server", server.oap.as_str()];
    args.extend(names.iter().map(String::as_str));
    let put = run_in(dir.path(), &args);
    assert!(put.status.success(), "{}", stderr(&put));
    let ids: Vec<String> = stdout(&put).lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), FILES, "one id per file");
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), FILES, "every file is its own object");
    assert!(server.stop().success());
}

#[test]
fn peer_chosen_application_names_never_enter_the_health_table() {
    use oap_core::payload::{ControlPayload, Hello};
    use oap_core::{FrameEncoder, FrameType};
    use std::io::Write;

    let server = Server::start(&[]);
    let enc = FrameEncoder::new();
    for i in 0..300 {
        let mut s = std::net::TcpStream::connect(&server.oap).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let hello = Hello {
            app_proto_id: Some(format!("peer-app-{i}")),
            ..Hello::legacy()
        };
        s.write_all(&enc.to_bytes(FrameType::Hello, &hello.encode()).unwrap())
            .unwrap();
        // The answer means the server handled this HELLO (and published
        // its Health event) before the next connection.
        assert_eq!(read_frame(&mut s).typ, FrameType::Hello);
    }
    let (code, body) = http_get(server.admin, "/readyz");
    assert_eq!(code, 200, "{body}");
    assert!(!body.contains("peer-app-"), "peer names in /readyz: {body}");
    assert!(body.len() < 1024, "/readyz grew to {} bytes", body.len());
    assert!(server.stop().success());
}

#[test]
fn a_tenants_byte_quota_holds_across_a_restart_of_a_dir_store_node() {
    let dir = tempfile::tempdir().unwrap();
    let (token, entry) = new_token("small", "put,get");
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!("[auth]\nanonymous = \"none\"\n\n{entry}\nmax_stored_bytes = 150000\n"),
    )
    .unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let tf = token_file.to_str().unwrap();
    let store = format!("dir:{}", dir.path().join("store").display());
    let (first, second) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    write_pattern(&first, 100_000);
    std::fs::write(&second, vec![7u8; 100_000]).unwrap();
    let args = ["--config", config.to_str().unwrap(), "--store", &store];

    let node = Server::start(&args);
    let put = run(&[
        "put",
        first.to_str().unwrap(),
        "--server",
        &node.oap,
        "--token-file",
        tf,
    ]);
    assert!(put.status.success(), "within the quota: {}", stderr(&put));
    assert!(node.stop().success());

    let node = Server::start(&args);
    let over = run(&[
        "put",
        second.to_str().unwrap(),
        "--server",
        &node.oap,
        "--token-file",
        tf,
    ]);
    assert_eq!(over.status.code(), Some(1), "{}", stderr(&over));
    assert!(
        stderr(&over).contains("store_full") && stderr(&over).contains("max_stored_bytes"),
        "{}",
        stderr(&over)
    );
    let again = run(&[
        "put",
        first.to_str().unwrap(),
        "--server",
        &node.oap,
        "--token-file",
        tf,
    ]);
    assert!(
        again.status.success(),
        "an object already stored is free: {}",
        stderr(&again)
    );
    assert!(node.stop().success());
}

#[test]
fn watch_prints_bus_events_as_json_lines_until_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let (token, entry) = new_token("watcher", "subscribe");
    let config = dir.path().join("node.toml");
    std::fs::write(&config, format!("{entry}\n")).unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let server = Server::start(&["--config", config.to_str().unwrap()]);

    // Anonymous peers on loopback may put and get, not subscribe: the
    // refusal says what is missing.
    let refused = run(&["watch", "--server", &server.oap]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("`subscribe` permission"),
        "{}",
        stderr(&refused)
    );

    let mut watch = oap()
        .args(["watch", "health", "--server", &server.oap])
        .args(["--token-file", token_file.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn oap watch");
    let rx = lines_of(watch.stdout.take().expect("stdout"));
    // Every completed HELLO publishes a health event. The subscription is
    // open once the node has taken its START, which the watcher cannot
    // show: put until a line arrives, each try bounded.
    let file = dir.path().join("doc.bin");
    write_pattern(&file, 100);
    let line = (0..30)
        .find_map(|_| {
            let put = run(&["put", file.to_str().unwrap(), "--server", &server.oap]);
            assert!(put.status.success(), "{}", stderr(&put));
            rx.recv_timeout(Duration::from_secs(2)).ok()
        })
        .expect("a health event within 30 puts");
    let event: serde_json::Value = serde_json::from_str(&line).expect("one JSON value per line");
    assert!(
        line.to_lowercase().contains("health") && event.is_object(),
        "{line}"
    );

    let status = Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let status = wait_bounded(watch);
    assert!(status.success(), "Ctrl-C ends the watch cleanly: {status}");
    assert!(server.stop().success());
}
