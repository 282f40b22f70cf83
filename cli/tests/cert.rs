//! `oap cert ca|server|client`: certificates that `oap serve` and
//! `oap put/get` use as they are, for TLS and for mutual TLS, keys only
//! their owner can read, and nothing overwritten without `--force`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Server, oap_cert as cert, run, stderr, stdout, write_pattern};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A CA, a server certificate for `names` and a client certificate for
/// tenant `acme`, all in `dir`; returns the three commands' outputs.
fn make_pki(dir: &Path, names: &[&str]) -> [String; 3] {
    let d = dir.to_str().unwrap();
    let ca = cert(&["ca", "--out", d]);
    let mut server_args = vec!["server", "--ca", d, "--out", d, "--name"];
    server_args.extend_from_slice(names);
    let server = cert(&server_args);
    let client = cert(&["client", "--ca", d, "--tenant", "acme", "--out", d]);
    [ca, server, client]
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The certificate in a PEM file, parsed, passed to `check`.
fn with_cert(path: &Path, check: impl FnOnce(&X509Certificate<'_>)) {
    let pem = std::fs::read(path).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let (_, x509) = X509Certificate::from_der(&pem.contents).unwrap();
    check(&x509);
}

fn sans(x509: &X509Certificate<'_>) -> Vec<String> {
    x509.subject_alternative_name()
        .unwrap()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .map(|n| match n {
                    GeneralName::DNSName(d) => format!("DNS:{d}"),
                    GeneralName::IPAddress(ip) => format!("IP:{ip:?}"),
                    GeneralName::URI(u) => format!("URI:{u}"),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn certificates_from_oap_cert_serve_put_and_get_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let [ca_out, server_out, client_out] = make_pki(&pki, &["localhost", "127.0.0.1"]);
    let path = |name: &str| pki.join(name).to_str().unwrap().to_owned();

    // Each output names the flags that take its files.
    let says = |out: &str, lines: &[String]| {
        for line in lines {
            assert!(out.contains(line.as_str()), "no {line:?} in:\n{out}");
        }
    };
    let ca = path("ca.pem");
    says(
        &ca_out,
        &[format!("--tls-ca {ca}"), format!("--tls-client-ca {ca}")],
    );
    says(
        &server_out,
        &[
            format!(
                "oap serve --tls-cert {} --tls-key {}",
                path("server.pem"),
                path("server-key.pem")
            ),
            format!("--tls-ca {ca}"),
        ],
    );
    says(
        &client_out,
        &[
            format!(
                "--tls-cert {} --tls-key {}",
                path("client-acme.pem"),
                path("client-acme-key.pem")
            ),
            format!("--tls-client-ca {ca}"),
        ],
    );
    assert_eq!(
        client_out.lines().last(),
        Some("cert_name = \"acme\""),
        "{client_out}"
    );

    // What the certificates say: the identity convention of mutual TLS.
    with_cert(&pki.join("ca.pem"), |ca| assert!(ca.is_ca()));
    with_cert(&pki.join("server.pem"), |s| {
        assert!(!s.is_ca(), "an end-entity certificate");
        let eku = s.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && !eku.client_auth);
        assert_eq!(sans(s), ["DNS:localhost", "IP:[127, 0, 0, 1]"]);
    });
    with_cert(&pki.join("client-acme.pem"), |c| {
        assert!(!c.is_ca());
        let eku = c.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);
        let cn = c.subject().iter_common_name().next().unwrap();
        assert_eq!(cn.as_str().unwrap(), "acme");
        assert_eq!(sans(c), ["URI:oap://tenant/acme"]);
    });

    // The node serves them as they are; clients verify with the CA by
    // either name the certificate holds.
    let server = Server::start(&[
        "--tls-cert",
        &path("server.pem"),
        "--tls-key",
        &path("server-key.pem"),
    ]);
    let port = server.oap.rsplit_once(':').unwrap().1.to_owned();
    let file = dir.path().join("doc.bin");
    write_pattern(&file, 70_000);
    let put = run(&[
        "put",
        file.to_str().unwrap(),
        "--server",
        &format!("localhost:{port}"),
        "--tls-ca",
        &ca,
    ]);
    assert!(put.status.success(), "{}", stderr(&put));
    let id = stdout(&put).trim().to_owned();
    let get = run(&[
        "get",
        &id,
        "--server",
        &format!("127.0.0.1:{port}"),
        "--tls-ca",
        &ca,
    ]);
    assert!(get.status.success(), "{}", stderr(&get));
    assert_eq!(get.stdout, std::fs::read(&file).unwrap());
    assert!(server.stop().success());
}

#[test]
fn a_client_certificate_from_oap_cert_names_its_tenant_to_a_node_checking_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let [_, _, client_out] = make_pki(&pki, &["localhost"]);
    let path = |name: &str| pki.join(name).to_str().unwrap().to_owned();
    // The line `oap cert client` printed goes into the tenant's entry as it
    // is; peers without credentials may do nothing.
    let cert_name = client_out.lines().last().unwrap();
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "[auth]\nanonymous = \"none\"\n\n[[tenants]]\nname = \"acme\"\n{cert_name}\n\
             permissions = [\"put\", \"get\"]\n"
        ),
    )
    .unwrap();
    let server = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--tls-cert",
        &path("server.pem"),
        "--tls-key",
        &path("server-key.pem"),
        "--tls-client-ca",
        &path("ca.pem"),
    ]);
    let port = server.oap.rsplit_once(':').unwrap().1.to_owned();
    let addr = format!("localhost:{port}");
    let file = dir.path().join("doc.bin");
    write_pattern(&file, 20_000);
    let (ca, cert, key) = (
        path("ca.pem"),
        path("client-acme.pem"),
        path("client-acme-key.pem"),
    );
    let tls = ["--server", &addr, "--tls-ca", &ca];
    let identity = ["--tls-cert", &cert, "--tls-key", &key];

    let put = run(&[&["put", file.to_str().unwrap()][..], &tls, &identity].concat());
    assert!(put.status.success(), "{}", stderr(&put));
    let id = stdout(&put).trim().to_owned();
    let get = run(&[&["get", &id][..], &tls, &identity].concat());
    assert!(get.status.success(), "{}", stderr(&get));
    assert_eq!(get.stdout, std::fs::read(&file).unwrap());

    // Without the certificate the same client is anonymous, and refused.
    let anonymous = run(&[&["get", &id][..], &tls].concat());
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(
        stderr(&anonymous).contains("unauthorized"),
        "{}",
        stderr(&anonymous)
    );
    assert!(server.stop().success());
}

#[test]
fn keys_are_readable_by_their_owner_only_and_certificates_by_all() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("new");
    make_pki(&pki, &["localhost"]);
    for key in ["ca-key.pem", "server-key.pem", "client-acme-key.pem"] {
        assert_eq!(mode(&pki.join(key)), 0o600, "{key}");
    }
    for cert in ["ca.pem", "server.pem", "client-acme.pem"] {
        assert_eq!(mode(&pki.join(cert)), 0o644, "{cert}");
    }
    assert_eq!(mode(&pki), 0o700, "a directory made to hold keys");
}

/// Runs `oap cert args…`, asserts it failed with a message holding
/// `words`, and that it printed nothing on stdout.
fn refused(args: &[&str], words: &str) {
    let mut all = vec!["cert"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert_eq!(out.status.code(), Some(1), "oap {all:?}");
    let err = stderr(&out);
    assert!(err.contains(words), "no {words:?} in: {err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn nothing_is_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = |name: &str| dir.path().join(name);
    cert(&["ca", "--out", d]);
    let ca_pem = std::fs::read(file("ca.pem")).unwrap();

    refused(&["ca", "--out", d], "already exists: pass --force");
    assert_eq!(std::fs::read(file("ca.pem")).unwrap(), ca_pem);

    // One existing file of the two stops the command before it writes the
    // other.
    std::fs::write(file("server-key.pem"), "mine").unwrap();
    let server = ["server", "--ca", d, "--name", "localhost", "--out", d];
    refused(&server, "server-key.pem already exists");
    assert!(!file("server.pem").exists());
    assert_eq!(
        std::fs::read_to_string(file("server-key.pem")).unwrap(),
        "mine"
    );

    // --force replaces, and a replaced key is 0600 whatever the old file was.
    std::fs::set_permissions(file("ca-key.pem"), std::fs::Permissions::from_mode(0o644)).unwrap();
    cert(&["ca", "--out", d, "--force"]);
    assert_ne!(std::fs::read(file("ca.pem")).unwrap(), ca_pem);
    assert_eq!(mode(&file("ca-key.pem")), 0o600);
    cert(&[&server[..], &["--force"]].concat());
    assert_ne!(
        std::fs::read_to_string(file("server-key.pem")).unwrap(),
        "mine"
    );
}

#[test]
fn bad_names_tenants_and_ca_directories_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();

    refused(
        &["server", "--ca", d, "--name", "localhost", "--out", o],
        "make a CA with `oap cert ca",
    );
    cert(&["ca", "--out", d]);
    refused(
        &["server", "--ca", d, "--name", "localhost:9444", "--out", o],
        "neither a DNS name nor an IP address",
    );
    refused(
        &["client", "--ca", d, "--tenant", "a/b", "--out", o],
        "bad --tenant",
    );
    assert!(!out.exists(), "nothing was written");

    // A certificate that is no CA cannot sign.
    cert(&["server", "--ca", d, "--name", "localhost", "--out", o]);
    std::fs::copy(out.join("server.pem"), out.join("ca.pem")).unwrap();
    std::fs::copy(out.join("server-key.pem"), out.join("ca-key.pem")).unwrap();
    refused(
        &["client", "--ca", o, "--tenant", "acme", "--out", d],
        "is not a CA certificate",
    );
    assert!(!dir.path().join("client-acme.pem").exists());
}
