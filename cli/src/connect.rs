//! Client connections for `put` and `get`: address resolution, plain TCP
//! or TLS verified against a given CA, and HELLO.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use crate::args::ServerArgs;
use crate::pem;
use anyhow::{Context, Result, anyhow, bail};
use oap_core::connection::ConnectionConfig;
use oap_node::Client;

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

/// The client's TLS settings: trust the CA of `--tls-ca`, and present
/// `--tls-cert`/`--tls-key` when given (mutual TLS).
fn tls_config(args: &ServerArgs, ca: &Path) -> Result<Arc<rustls::ClientConfig>> {
    let roots = pem::certificates(ca, "CA file")?;
    let identity = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some((
            pem::certificates(cert, "client certificate")?,
            pem::private_key(key)?,
        )),
        _ => None,
    };
    let config = oap_node::tls::client_config(&roots, identity)
        .with_context(|| format!("cannot use the TLS files ({})", ca.display()))?;
    Ok(Arc::new(config))
}

/// A client error as one message: its `Display` already includes the cause,
/// so the source chain would only repeat it.
pub(crate) fn client_error(e: oap_node::ClientError) -> anyhow::Error {
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
pub(crate) async fn connect(args: &ServerArgs) -> Result<Client> {
    let (host, addr) = resolve(&args.server).await?;
    let config = ConnectionConfig {
        token: token(args)?,
        ..ConnectionConfig::default()
    };
    let client = match &args.tls_ca {
        None => runtime_tokio::connect_with(addr, config).await,
        Some(ca) => {
            runtime_tokio::connect_tls_with(addr, &host, tls_config(args, ca)?, config).await
        }
    };
    client.map_err(|e| match e {
        // Refused before connecting: "cannot connect" would mislead.
        e @ oap_node::ClientError::PlaintextToken { .. } => client_error(e),
        e => client_error(e).context(format!("cannot connect to {} ({addr})", args.server)),
    })
}
