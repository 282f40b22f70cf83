//! `oap serve` over TLS with a self-signed certificate; `put`/`get` verify
//! it with `--tls-ca` and refuse a server they cannot verify.

mod common;

use common::{Server, run, stderr, stdout, write_pattern};

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
    assert!(
        stderr(&refused).contains("cannot connect"),
        "{}",
        stderr(&refused)
    );
    assert!(refused.stdout.is_empty());
    assert!(server.stop().success());
}
