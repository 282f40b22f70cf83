//! `oap serve` over TLS with a self-signed certificate; `put`/`get` verify
//! it with `--tls-ca` and refuse a server they cannot verify. Every TLS
//! failure a user meets is one line in words, with the fix: a CA:TRUE
//! certificate on a server, a certificate for other names, plaintext at a
//! TLS port and TLS at a plaintext one.

mod common;

use std::path::Path;

use common::{Server, oap_cert, run, stderr, stdout, write_pattern};

#[test]
fn put_and_get_over_tls_with_a_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let file = dir.path().join("doc.bin");
    write_pattern(&file, 50_000);

    let server = Server::start(&[
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ]);
    // The certificate names `localhost`; the port is the one printed.
    let port = server.oap.rsplit_once(':').unwrap().1;
    let addr = format!("localhost:{port}");
    let ca = cert_path.to_str().unwrap();

    let put = run(&[
        "put",
        file.to_str().unwrap(),
        "--server",
        &addr,
        "--tls-ca",
        ca,
    ]);
    assert!(put.status.success(), "{}", stderr(&put));
    let id = stdout(&put).trim().to_owned();
    let get = run(&["get", &id, "--server", &addr, "--tls-ca", ca]);
    assert!(get.status.success(), "{}", stderr(&get));
    assert_eq!(get.stdout, std::fs::read(&file).unwrap());

    // Another CA does not vouch for this server: the handshake fails.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let other_path = dir.path().join("other.pem");
    std::fs::write(&other_path, other.cert.pem()).unwrap();
    let refused = run(&[
        "get",
        &id,
        "--server",
        &addr,
        "--tls-ca",
        other_path.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(err.contains("cannot connect"), "{err}");
    // Its certificate has the same issuer name as this one but not its
    // key: the signature does not verify.
    assert!(
        err.contains("does not verify against its CA's key") && err.contains("--tls-ca"),
        "{err}"
    );
    assert!(refused.stdout.is_empty());
    assert!(server.stop().success());
}

/// `oap serve` with the certificate and key in `dir`, as files named
/// `NAME.pem` and `NAME-key.pem`.
fn serve_tls(dir: &Path, name: &str) -> Server {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    Server::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ])
}

/// `oap serve` with a server certificate for `name` that `oap cert` made,
/// beside its CA, in `dir`.
fn serve_with_oap_cert(dir: &Path, name: &str) -> Server {
    let d = dir.to_str().unwrap();
    oap_cert(&["ca", "--out", d]);
    oap_cert(&["server", "--ca", d, "--name", name, "--out", d]);
    serve_tls(dir, "server")
}

/// The port of a server's OAP/1 listener.
fn port(server: &Server) -> &str {
    server.oap.rsplit_once(':').unwrap().1
}

/// `oap get` of some id from `server` (`HOST:PORT`) with `extra` flags:
/// the connection is all these tests are about.
fn get_from(server: &str, extra: &[&str]) -> std::process::Output {
    let id = format!("b3:{}", "0".repeat(64));
    let mut args = vec!["get", &id, "--server", server];
    args.extend_from_slice(extra);
    run(&args)
}

/// The error a client printed, checked to hold every one of `words` and
/// none of the rustls error's Debug text.
fn assert_worded(out: &std::process::Output, words: &[&str]) {
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(out);
    for w in words {
        assert!(err.contains(w), "no {w:?} in: {err}");
    }
    for debug in [
        "OtherError",
        "CaUsedAsEndEntity",
        "InvalidContentType",
        "bad_version",
    ] {
        assert!(!err.contains(debug), "{debug:?} reached the user: {err}");
    }
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn an_openssl_style_ca_true_certificate_gets_the_worded_error_and_the_fix() {
    // What `openssl req -x509 -subj /CN=localhost -addext subjectAltName=…`
    // makes: self-signed, CA:TRUE, used as the server's own certificate.
    let dir = tempfile::tempdir().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.path().join("selfsigned.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("selfsigned-key.pem"), key.serialize_pem()).unwrap();

    let server = serve_tls(dir.path(), "selfsigned");
    let ca = dir.path().join("selfsigned.pem");
    let out = get_from(
        &format!("localhost:{}", port(&server)),
        &["--tls-ca", ca.to_str().unwrap()],
    );
    assert_worded(&out, &["CA certificate (CA:TRUE", "oap cert server"]);
    assert!(server.stop().success());
}

#[test]
fn a_certificate_for_other_names_says_which_names_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with_oap_cert(dir.path(), "node.example");
    let ca = dir.path().join("ca.pem");
    let out = get_from(
        &format!("127.0.0.1:{}", port(&server)),
        &["--tls-ca", ca.to_str().unwrap()],
    );
    assert_worded(
        &out,
        &[
            "not valid for \"127.0.0.1\" (it names node.example)",
            "oap cert server --name",
        ],
    );
    assert!(server.stop().success());
}

#[test]
fn a_plaintext_client_at_a_tls_port_is_told_to_pass_tls_ca() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with_oap_cert(dir.path(), "localhost");
    let out = get_from(&server.oap, &[]);
    assert_worded(&out, &["the server speaks TLS on this port", "--tls-ca"]);
    assert!(server.stop().success());
}

#[test]
fn a_tls_client_at_a_plaintext_port_is_told_to_drop_tls_ca() {
    let dir = tempfile::tempdir().unwrap();
    oap_cert(&["ca", "--out", dir.path().to_str().unwrap()]);
    let server = Server::start(&[]);
    let ca = dir.path().join("ca.pem");
    let out = get_from(
        &format!("localhost:{}", port(&server)),
        &["--tls-ca", ca.to_str().unwrap()],
    );
    assert_worded(
        &out,
        &[
            "the server does not speak TLS on this port",
            "without `--tls-ca`",
        ],
    );
    assert!(server.stop().success());
}
