//! `oap serve` reloads its configuration without a restart: SIGHUP and
//! `POST /reload` add and revoke tenants while open connections go on, an
//! invalid file changes nothing, and subscribers hear `ConfigUpdated`.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{Server, http_get, http_post, metric, new_token, run, stderr, write_pattern};
use oap_core::connection::ConnectionConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// The `max_frame` a plain HELLO is answered with.
fn hello_answer_max_frame(addr: SocketAddr) -> u64 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let hello = oap_core::frame::FrameEncoder::new()
        .to_bytes(oap_core::frame::FrameType::Hello, br#"{"hello":"oap/1"}"#)
        .unwrap();
    s.write_all(&hello).unwrap();
    let mut head = [0u8; 6];
    s.read_exact(&mut head).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes([head[2], head[3], head[4], head[5]]) as usize];
    s.read_exact(&mut body).unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    answer["max_frame"].as_u64().expect("max_frame")
}

/// A client with `token`, subscribed to `config`; a round trip on its
/// connection orders the subscription before anything that follows.
fn subscribed(
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    token: &str,
) -> (oap_node::Client, oap_node::Subscription) {
    let config = ConnectionConfig {
        token: Some(token.to_owned()),
        ..ConnectionConfig::default()
    };
    let client = rt
        .block_on(runtime_tokio::connect_with(addr, config))
        .expect("connect with the token");
    let sub = client.subscribe("config").expect("subscribe");
    rt.block_on(client.put_doc("docs", "sync", bytes::Bytes::from_static(b"sync")))
        .expect("put");
    (client, sub)
}

fn put(server: &Server, file: &str, token_file: &str) -> std::process::Output {
    run(&[
        "put",
        file,
        "--server",
        &server.oap,
        "--token-file",
        token_file,
    ])
}

#[test]
fn sighup_and_post_reload_apply_tenants_to_a_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let (a_token, a_entry) = new_token("alpha", "put,get,subscribe");
    let (b_token, b_entry) = new_token("beta", "put,get,subscribe");
    let config = dir.path().join("node.toml");
    let head = "[auth]\nanonymous = \"none\"\n\n";
    std::fs::write(&config, format!("{head}{a_entry}\n")).unwrap();
    let (a_file, b_file) = (dir.path().join("a.token"), dir.path().join("b.token"));
    std::fs::write(&a_file, &a_token).unwrap();
    std::fs::write(&b_file, &b_token).unwrap();
    let (a_tf, b_tf) = (a_file.to_str().unwrap(), b_file.to_str().unwrap());
    let doc = dir.path().join("doc.bin");
    write_pattern(&doc, 50_000);
    let doc = doc.to_str().unwrap();

    let server = Server::start(&["--config", config.to_str().unwrap()]);
    let (_, metrics) = http_get(server.admin, "/metrics");
    assert_eq!(metric(&metrics, "config_version"), Some(1.0));
    assert_eq!(
        put(&server, doc, b_tf).status.code(),
        Some(1),
        "beta is unknown yet"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr: SocketAddr = server.oap.parse().unwrap();
    // alpha stays connected, subscribed to `config`, across every reload.
    let (alpha, mut sub) = subscribed(&rt, addr, &a_token);

    // Add beta and lower max_frame (new connections only); SIGHUP.
    std::fs::write(
        &config,
        format!("max_frame = 65536\n{head}{a_entry}\n\n{b_entry}\n"),
    )
    .unwrap();
    server.signal("HUP");
    let event = rt
        .block_on(sub.next())
        .expect("ConfigUpdated reaches the subscriber");
    let event: serde_json::Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(event["ConfigUpdated"]["version"], 2, "{event}");
    assert_eq!(
        hello_answer_max_frame(addr),
        65_536,
        "a new connection negotiates the new max_frame"
    );
    let b_put = put(&server, doc, b_tf);
    assert!(b_put.status.success(), "beta now works: {}", stderr(&b_put));
    rt.block_on(alpha.put_doc("docs", "still", bytes::Bytes::from_static(b"open")))
        .expect("alpha's connection went on untouched");

    // An invalid file: refused with the key named, nothing changes.
    std::fs::write(&config, format!("{head}{b_entry}\nburst = 0\n")).unwrap();
    let (status, body) = http_post(server.admin, "/reload");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("tenants[0].burst"), "{body}");
    let (_, metrics) = http_get(server.admin, "/metrics");
    assert_eq!(metric(&metrics, "config_reload_failures_total"), Some(1.0));
    assert_eq!(metric(&metrics, "config_version"), Some(2.0));
    assert!(
        put(&server, doc, a_tf).status.success(),
        "alpha still works"
    );

    // Revoke alpha by SIGHUP: its open connection is closed with
    // `unauthorized`, and its token is refused from now on. Beta's
    // subscription says when the reload is in force.
    let (beta, mut beta_sub) = subscribed(&rt, addr, &b_token);
    std::fs::write(&config, format!("{head}{b_entry}\n")).unwrap();
    server.signal("HUP");
    let event = rt.block_on(beta_sub.next()).expect("ConfigUpdated");
    let event: serde_json::Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(event["ConfigUpdated"]["version"], 3, "{event}");
    let refused = rt
        .block_on(alpha.put_doc("docs", "after", bytes::Bytes::from_static(b"x")))
        .expect_err("alpha was revoked");
    assert!(refused.to_string().contains("unauthorized"), "{refused}");
    let a_put = put(&server, doc, a_tf);
    assert_eq!(a_put.status.code(), Some(1));
    assert!(
        stderr(&a_put).contains("unauthorized"),
        "{}",
        stderr(&a_put)
    );
    assert!(put(&server, doc, b_tf).status.success(), "beta goes on");
    let (_, metrics) = http_get(server.admin, "/metrics");
    assert_eq!(metric(&metrics, "config_version"), Some(3.0));
    drop((sub, beta_sub));
    drop((alpha, beta));
    assert!(server.stop().success());
}

/// A TLS session to `addr` trusting `ca`: the end-entity certificate the
/// server presented, and the session (to speak OAP/1 over it later).
fn tls_session(
    addr: SocketAddr,
    ca: &std::path::Path,
) -> (
    CertificateDer<'static>,
    rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>,
) {
    let roots: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let config = Arc::new(oap_node::tls::client_config(&roots, None).unwrap());
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("handshake");
    }
    let leaf = tls.conn.peer_certificates().expect("a certificate")[0].clone();
    (leaf, tls)
}

/// Sends HELLO over `tls` and reads the answer's frame type.
fn hello_over(tls: &mut rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>) -> u8 {
    use std::io::{Read, Write};
    let hello = oap_core::frame::FrameEncoder::new()
        .to_bytes(oap_core::frame::FrameType::Hello, br#"{"hello":"oap/1"}"#)
        .unwrap();
    tls.write_all(&hello).unwrap();
    tls.flush().unwrap();
    let mut head = [0u8; 6];
    tls.read_exact(&mut head).expect("an answer");
    head[1]
}

fn first_certificate(pem: &std::path::Path) -> CertificateDer<'static> {
    CertificateDer::pem_file_iter(pem)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
}

#[test]
fn a_reload_rotates_the_tls_certificate_for_new_handshakes_only() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let srv = dir.path().join("srv");
    let (ca_s, srv_s) = (ca.to_str().unwrap(), srv.to_str().unwrap());
    common::oap_cert(&["ca", "--out", ca_s]);
    let server_cert = |force: bool| {
        let mut args = vec![
            "server",
            "--ca",
            ca_s,
            "--name",
            "localhost",
            "--out",
            srv_s,
        ];
        if force {
            args.push("--force");
        }
        common::oap_cert(&args);
    };
    server_cert(false);
    let (cert, key) = (srv.join("server.pem"), srv.join("server-key.pem"));
    let server = Server::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let addr: SocketAddr = server.oap.parse().unwrap();
    let ca_pem = ca.join("ca.pem");
    let old = first_certificate(&cert);
    let (seen, mut before) = tls_session(addr, &ca_pem);
    assert_eq!(seen, old);

    server_cert(true);
    let new = first_certificate(&cert);
    assert_ne!(new, old, "a fresh certificate (new key, new serial)");
    let (status, body) = http_post(server.admin, "/reload");
    assert_eq!(status, 200, "{body}");
    let (seen, mut after) = tls_session(addr, &ca_pem);
    assert_eq!(seen, new, "a new handshake presents the new certificate");
    assert_eq!(
        hello_over(&mut after),
        1,
        "HELLO answered over the new session"
    );
    assert_eq!(
        hello_over(&mut before),
        1,
        "the session opened before the reload goes on"
    );

    // A key that does not match: refused, the certificate in force stays.
    std::fs::copy(ca.join("ca-key.pem"), &key).unwrap();
    let (status, body) = http_post(server.admin, "/reload");
    assert_eq!(status, 400, "{body}");
    let (seen, _) = tls_session(addr, &ca_pem);
    assert_eq!(seen, new);
    assert!(server.stop().success());
}

#[test]
fn a_reload_replaces_the_client_ca_for_new_handshakes() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| dir.path().join(p);
    let s = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let (ca1, ca2) = (path("ca1"), path("ca2"));
    common::oap_cert(&["ca", "--out", &s(&ca1)]);
    common::oap_cert(&["ca", "--out", &s(&ca2)]);
    common::oap_cert(&[
        "server",
        "--ca",
        &s(&ca1),
        "--name",
        "localhost",
        "--out",
        &s(&ca1),
    ]);
    // The client's certificate comes from the second CA.
    common::oap_cert(&[
        "client",
        "--ca",
        &s(&ca2),
        "--tenant",
        "edge",
        "--out",
        &s(&ca2),
    ]);
    let client_ca = path("clients.pem");
    std::fs::copy(ca1.join("ca.pem"), &client_ca).unwrap();
    let config = path("node.toml");
    std::fs::write(
        &config,
        "[auth]\nanonymous = \"none\"\n\n[[tenants]]\nname = \"edge\"\n\
         cert_name = \"edge\"\npermissions = [\"put\", \"get\"]\n",
    )
    .unwrap();
    let server = Server::start(&[
        "--config",
        &s(&config),
        "--tls-cert",
        &s(&ca1.join("server.pem")),
        "--tls-key",
        &s(&ca1.join("server-key.pem")),
        "--tls-client-ca",
        &s(&client_ca),
    ]);
    let port = server.oap.rsplit_once(':').unwrap().1;
    let target = format!("localhost:{port}");
    let doc = path("doc.bin");
    write_pattern(&doc, 10_000);
    let put = || {
        run(&[
            "put",
            &s(&doc),
            "--server",
            &target,
            "--tls-ca",
            &s(&ca1.join("ca.pem")),
            "--tls-cert",
            &s(&ca2.join("client-edge.pem")),
            "--tls-key",
            &s(&ca2.join("client-edge-key.pem")),
        ])
    };
    let refused = put();
    assert_eq!(refused.status.code(), Some(1), "CA 2 is not trusted yet");

    std::fs::copy(ca2.join("ca.pem"), &client_ca).unwrap();
    let (status, body) = http_post(server.admin, "/reload");
    assert_eq!(status, 200, "{body}");
    let accepted = put();
    assert!(
        accepted.status.success(),
        "the reloaded client CA admits the certificate: {}",
        stderr(&accepted)
    );
    assert!(server.stop().success());
}
