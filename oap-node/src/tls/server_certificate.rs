//! The server's certificate and key, replaceable while the server runs
//! (certificate rotation): a rustls certificate resolver whose answer a
//! reload swaps. Handshakes that start afterwards present the new pair;
//! sessions already up keep theirs.

use std::fmt;
use std::sync::{Arc, RwLock};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::{TlsSetupError, provider};

/// A server certificate chain and key that can be replaced at run time;
/// give it to [`super::server_config_with`].
pub struct ServerCertificate {
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for ServerCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCertificate").finish_non_exhaustive()
    }
}

/// `chain` (end-entity first) and `key` as rustls serves them, checked to
/// belong together.
fn certified(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<CertifiedKey>, TlsSetupError> {
    CertifiedKey::from_der(chain, key, &provider())
        .map(Arc::new)
        .map_err(TlsSetupError::CertificateAndKey)
}

impl ServerCertificate {
    /// Serves `chain` with `key`.
    ///
    /// # Errors
    /// The key cannot be used, or does not match the certificate.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Arc<Self>, TlsSetupError> {
        Ok(Arc::new(Self {
            current: RwLock::new(certified(chain, key)?),
        }))
    }

    /// Serves `chain` with `key` from the next handshake on. On error the
    /// pair in force stays.
    ///
    /// # Errors
    /// As [`ServerCertificate::new`].
    pub fn replace(
        &self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<(), TlsSetupError> {
        let next = certified(chain, key)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = next;
        Ok(())
    }

    /// Serves what `other` serves, from the next handshake on (a pair
    /// already checked by [`ServerCertificate::new`]).
    pub fn replace_with(&self, other: &ServerCertificate) {
        let next = Arc::clone(&other.current.read().unwrap_or_else(|p| p.into_inner()));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = next;
    }

    /// The end-entity certificate served now.
    pub fn end_entity(&self) -> CertificateDer<'static> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.cert[0].clone()
    }
}

impl ResolvesServerCert for ServerCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(|p| p.into_inner()),
        ))
    }
}
