//! Certificates made in the test, with rcgen: a CA, a server certificate
//! for `localhost` it signed, and client certificates (mutual TLS), with
//! the node's own TLS settings (`oap_node::tls`, ALPN `oap/1`).

use std::sync::Arc;

use oap_node::tls::{client_config, server_config};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority made in the test.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    cert: CertificateDer<'static>,
}

impl TestCa {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            cert: CertificateDer::from(cert.der().to_vec()),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA's certificate (what a peer trusts).
    pub fn certificate(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    /// An end-entity certificate this CA signed: subject common name `cn`,
    /// DNS names `sans`, for `usage`; with its key.
    pub fn issue(
        &self,
        cn: &str,
        sans: &[&str],
        usage: ExtendedKeyUsagePurpose,
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let mut params =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("certificate");
        (
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }

    /// A client configuration trusting `server_ca` and presenting a client
    /// certificate this CA signed, named `cn`.
    pub fn client_presenting(&self, cn: &str, server_ca: &TestCa) -> Arc<rustls::ClientConfig> {
        let identity = self.issue(cn, &[], ExtendedKeyUsagePurpose::ClientAuth);
        Arc::new(client_config(&[server_ca.certificate()], Some(identity)).expect("client config"))
    }
}

/// A CA, a server certificate for `localhost` it signed, and the configs
/// that use (and trust) them.
pub struct TestPki {
    /// The CA that signed the server's certificate, and the client
    /// certificates [`TestPki::mtls_server`] accepts.
    pub ca: TestCa,
    /// Server config presenting the certificate, without client
    /// certificates.
    pub server: Arc<rustls::ServerConfig>,
    /// Server config that also verifies client certificates against
    /// [`TestPki::ca`] (mutual TLS).
    pub mtls_server: Arc<rustls::ServerConfig>,
    /// Client config trusting exactly the CA, presenting no certificate.
    pub client: Arc<rustls::ClientConfig>,
    /// Client config trusting nothing (for handshake failures).
    pub untrusting_client: Arc<rustls::ClientConfig>,
}

impl TestPki {
    /// Generates a fresh CA and server certificate.
    pub fn new() -> Self {
        let ca = TestCa::new("oap-suite test CA");
        let (chain, key) = ca.issue(
            "localhost",
            &["localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let server = server_config(chain.clone(), key.clone_key(), None).expect("server config");
        let mtls_server =
            server_config(chain, key, Some(&[ca.certificate()])).expect("mTLS server config");
        let client = client_config(&[ca.certificate()], None).expect("client config");
        let untrusting = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        Self {
            server: Arc::new(server),
            mtls_server: Arc::new(mtls_server),
            client: Arc::new(client),
            untrusting_client: Arc::new(untrusting),
            ca,
        }
    }

    /// A client config trusting the CA and presenting a client certificate
    /// the CA signed, named `cn`.
    pub fn client_presenting(&self, cn: &str) -> Arc<rustls::ClientConfig> {
        self.ca.client_presenting(cn, &self.ca)
    }

    /// A client config trusting the CA whose ALPN offer is `protocols`.
    pub fn client_offering_alpn(&self, protocols: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let mut config = (*self.client).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}
