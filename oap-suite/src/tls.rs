//! Certificates made in the test, with rcgen.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A self-signed server certificate for `localhost` and the configs that
/// use (and trust) it.
pub struct TestPki {
    /// Server config presenting the certificate.
    pub server: Arc<rustls::ServerConfig>,
    /// Client config trusting exactly that certificate.
    pub client: Arc<rustls::ClientConfig>,
    /// Client config trusting nothing (for handshake failures).
    pub untrusting_client: Arc<rustls::ClientConfig>,
}

impl TestPki {
    /// Generates a fresh key and certificate.
    pub fn new() -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("rcgen");
        let cert_der = CertificateDer::from(cert.cert.der().to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert_der.clone()], key)
            .expect("server config");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert_der).expect("root");
        let client = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let untrusting = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        Self {
            server: Arc::new(server),
            client: Arc::new(client),
            untrusting_client: Arc::new(untrusting),
        }
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}
