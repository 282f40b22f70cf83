//! TLS settings every runtime shares: rustls configurations that speak
//! ALPN `oap/1`, verify client certificates against a CA when asked
//! (mutual TLS), and the tenant name a verified client certificate carries.
//!
//! The runtime crates run the handshakes (tokio-rustls, futures-rustls);
//! what a handshake must check is decided here, once, and what a failed
//! one means in `tls/failure.rs` (reported as [`TlsError`]).

pub(crate) mod failure;
mod server_certificate;
mod server_tls;

pub use failure::TlsError;
pub use server_certificate::ServerCertificate;
pub use server_tls::ServerTls;

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// The ALPN protocol name of OAP/1 over TLS (spec §2.1). Both sides offer
/// only this; a peer that offers ALPN without it fails the handshake with
/// `no_application_protocol`, and a peer that offers no ALPN is served.
pub const ALPN_OAP1: &[u8] = b"oap/1";

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A list of trusted certificates (a CA file) held none.
    #[error("no CA certificate given")]
    NoCaCertificate,
    /// A CA certificate could not be used as a trust anchor.
    #[error("bad CA certificate: {0}")]
    BadCaCertificate(rustls::Error),
    /// The client CA could not make a certificate verifier.
    #[error("cannot verify client certificates with this CA: {0}")]
    ClientVerifier(String),
    /// The certificate chain and key were refused (they do not match, or
    /// the key type is not supported).
    #[error("the certificate and key cannot be used together: {0}")]
    CertificateAndKey(rustls::Error),
    /// The crypto provider supports none of the safe protocol versions
    /// (not expected with the built-in provider).
    #[error("TLS setup: {0}")]
    Provider(rustls::Error),
}

pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(certs: &[CertificateDer<'static>]) -> Result<RootCertStore, TlsSetupError> {
    if certs.is_empty() {
        return Err(TlsSetupError::NoCaCertificate);
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert.clone())
            .map_err(TlsSetupError::BadCaCertificate)?;
    }
    Ok(roots)
}

/// A server configuration presenting `chain` (end-entity first) with `key`,
/// speaking ALPN `oap/1`: [`server_config_with`] a fixed
/// [`ServerCertificate`].
///
/// # Errors
/// See [`TlsSetupError`].
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<&[CertificateDer<'static>]>,
) -> Result<ServerConfig, TlsSetupError> {
    server_config_with(ServerCertificate::new(chain, key)?, client_ca)
}

/// A server configuration presenting what `certificate` holds at each
/// handshake (so [`ServerCertificate::replace`] rotates it without a
/// restart), speaking ALPN `oap/1`.
///
/// With `client_ca`, clients may present a certificate, which must chain to
/// one of those CAs or the handshake fails; its subject common name then
/// names the tenant ([`certificate_name`]). A client without a certificate
/// is still served, as a token holder or `anonymous` (what it may do is
/// the node's `[auth]` policy), so one port serves both kinds of client.
///
/// # Errors
/// See [`TlsSetupError`].
pub fn server_config_with(
    certificate: Arc<ServerCertificate>,
    client_ca: Option<&[CertificateDer<'static>]>,
) -> Result<ServerConfig, TlsSetupError> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Provider)?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider)
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| TlsSetupError::ClientVerifier(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(certificate);
    config.alpn_protocols = vec![ALPN_OAP1.to_vec()];
    Ok(config)
}

/// A client configuration trusting `ca` (a server certificate must chain
/// to one of them), speaking ALPN `oap/1`, and presenting `identity` (a
/// client certificate chain and its key) when given, for mutual TLS.
///
/// # Errors
/// See [`TlsSetupError`].
pub fn client_config(
    ca: &[CertificateDer<'static>],
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<ClientConfig, TlsSetupError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Provider)?
        .with_root_certificates(roots(ca)?);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(TlsSetupError::CertificateAndKey)?,
    };
    config.alpn_protocols = vec![ALPN_OAP1.to_vec()];
    Ok(config)
}

/// The subject common name of the end-entity certificate in `peer` (what
/// rustls's `peer_certificates()` returns after a handshake that verified
/// it): the tenant it names. `None` without a certificate, or when the
/// certificate has no common name that is valid UTF-8.
pub fn certificate_name(peer: Option<&[CertificateDer<'_>]>) -> Option<String> {
    let end_entity = peer?.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(end_entity.as_ref()).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_offer_alpn_oap1_and_a_ca_is_required() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = CertificateDer::from(cert.der().to_vec());
        let key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let server = server_config(vec![der.clone()], key.clone_key(), None).unwrap();
        assert_eq!(server.alpn_protocols, vec![b"oap/1".to_vec()]);
        let client = client_config(std::slice::from_ref(&der), None).unwrap();
        assert_eq!(client.alpn_protocols, vec![b"oap/1".to_vec()]);
        assert!(matches!(
            client_config(&[], None),
            Err(TlsSetupError::NoCaCertificate)
        ));
        assert!(matches!(
            server_config(vec![der], key, Some(&[])),
            Err(TlsSetupError::NoCaCertificate)
        ));
    }

    #[test]
    fn the_common_name_of_the_end_entity_certificate_names_the_peer() {
        let mut params = rcgen::CertificateParams::new(vec!["client.test".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "backup");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let der = CertificateDer::from(cert.der().to_vec());
        assert_eq!(
            certificate_name(Some(std::slice::from_ref(&der))).as_deref(),
            Some("backup")
        );
        assert_eq!(certificate_name(None), None);
        assert_eq!(certificate_name(Some(&[])), None);
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x01, 0x01, 0xff]);
        assert_eq!(certificate_name(Some(&[garbage])), None, "no panic either");
    }
}
