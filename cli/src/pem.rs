//! Reading PEM certificates and keys named by `--tls-*` flags, with errors
//! that name the file.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Every certificate in the PEM file at `path` (at least one); `what` names
/// the file's role in messages ("CA file", "certificate").
pub(crate) fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("bad PEM in {what} {}", path.display()))?;
    if certs.is_empty() {
        bail!("no certificate in {what} {}", path.display());
    }
    Ok(certs)
}

/// The private key in the PEM file at `path`.
pub(crate) fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .with_context(|| format!("cannot read private key {}", path.display()))
}
