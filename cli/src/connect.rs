//! Client connections for `put` and `get`: address resolution, plain TCP
//! or TLS verified against a given CA, and HELLO.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use oap_core::connection::ConnectionConfig;
use oap_node::Client;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::args::ServerArgs;

/// Splits `HOST:PORT` and resolves it (first address wins).
async fn resolve(server: &str) -> Result<(String, SocketAddr)> {
    let (host, port) = server
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("bad server address {server:?}: expected HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| anyhow!("bad server address {server:?}: {port:?} is not a port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        bail!("bad server address {server:?}: no host");
    }
    let addr = tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("bad server address {server:?}: cannot resolve {host:?}"))?
        .next()
        .ok_or_else(|| anyhow!("bad server address {server:?}: {host:?} has no address"))?;
    Ok((host.to_owned(), addr))
}

fn tls_config(ca: &Path) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
        .with_context(|| format!("cannot read CA file {}", ca.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("bad PEM in CA file {}", ca.display()))?;
    if certs.is_empty() {
        bail!("no certificate in CA file {}", ca.display());
    }
    for cert in certs {
        roots
            .add(cert)
            .with_context(|| format!("bad CA certificate in {}", ca.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A client error as one message: its `Display` already includes the cause,
/// so the source chain would only repeat it.
pub fn client_error(e: oap_node::ClientError) -> anyhow::Error {
    anyhow!("{e}")
}

/// The token from `--token-file`, else from `OAP_TOKEN`, else none. The
/// token itself never appears in an error message.
fn token(args: &ServerArgs) -> Result<Option<String>> {
    let token = match &args.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read token file {}", path.display()))?;
            let token = text.trim().to_owned();
            if token.is_empty() {
                bail!("token file {} is empty", path.display());
            }
            Some(token)
        }
        None => std::env::var("OAP_TOKEN")
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
    };
    Ok(token)
}

/// Connects to the server and completes HELLO, with the token of
/// `--token-file` or `OAP_TOKEN` if there is one. Over plaintext, the SDK
/// refuses to send a token to anything but loopback, before connecting.
pub async fn connect(args: &ServerArgs) -> Result<Client> {
    let (host, addr) = resolve(&args.server).await?;
    let config = ConnectionConfig {
        token: token(args)?,
        ..ConnectionConfig::default()
    };
    let client = match &args.tls_ca {
        None => runtime_tokio::Client::connect_with(addr, config).await,
        Some(ca) => {
            runtime_tokio::Client::connect_tls_with(addr, &host, tls_config(ca)?, config).await
        }
    };
    client.map_err(|e| match e {
        // Refused before connecting: "cannot connect" would mislead.
        e @ oap_node::ClientError::PlaintextToken { .. } => client_error(e),
        e => client_error(e).context(format!("cannot connect to {} ({addr})", args.server)),
    })
}
