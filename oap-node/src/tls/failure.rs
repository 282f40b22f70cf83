//! What a failed TLS setup means, in words a user can act on.
//!
//! The one place where TLS failures are classified: a rustls error (inside
//! the `io::Error` that tokio-rustls and futures-rustls return), and a TLS
//! peer met by a plaintext one (the core's
//! [`Connection::peer_speaks_tls`](oap_core::connection::Connection::peer_speaks_tls)).
//! A client hears a [`TlsError`] (as [`ClientError::Tls`]); a server logs
//! its failed handshakes at debug level and counts them in
//! `tls_handshake_failures_total{reason}` by [`HandshakeFailure`], a fixed
//! set of reasons.
//!
//! The rustls error's own text (often its `Debug` form, e.g.
//! `Other(OtherError(CaUsedAsEndEntity))`) goes only to debug logs.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use kernel_core::Metrics;
use rustls::{AlertDescription, CertificateError, InvalidMessage};

use crate::ClientError;

/// Why a client could not set up TLS with a server, or why the server is
/// not where TLS was (or was not) expected. Each message names the problem
/// and, where there is one, the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// This client spoke plaintext and the server answered with a TLS
    /// record: the port serves TLS.
    #[error(
        "the server speaks TLS on this port: connect over TLS with `--tls-ca FILE`, \
         the CA certificate that signed the server's certificate"
    )]
    ServerExpectsTls,
    /// This client spoke TLS and the server answered with something that is
    /// not TLS (an OAP/1 ERROR): the port serves plaintext.
    #[error(
        "the server does not speak TLS on this port: connect without `--tls-ca`, \
         or to the port where it serves TLS"
    )]
    ServerIsPlaintext,
    /// The server closed the connection during the TLS handshake without
    /// saying why.
    #[error(
        "the server closed the connection during the TLS handshake: it may not speak \
         TLS on this port (then connect without `--tls-ca`), or it refused this client \
         (its debug log says why)"
    )]
    HandshakeClosed,
    /// The server's certificate is past its `notAfter` time.
    #[error(
        "the server's certificate expired{}: the server needs a new one \
         (`oap cert server`), unless this machine's clock is wrong",
        fmt_ago(*.ago)
    )]
    CertificateExpired {
        /// How long ago it expired, when known.
        ago: Option<Duration>,
    },
    /// The server's certificate is before its `notBefore` time.
    #[error(
        "the server's certificate is not valid yet{}: check this machine's clock \
         and the clock of the machine that made the certificate",
        fmt_within(*.starts_in)
    )]
    CertificateNotYetValid {
        /// How long until it becomes valid, when known.
        starts_in: Option<Duration>,
    },
    /// The server's certificate does not name the host this client
    /// connected to.
    #[error(
        "the server's certificate is not valid for {}{}: connect to a name it holds \
         (`--server NAME:PORT`), or give the server a certificate for this one \
         (`oap cert server --name NAME`)",
        fmt_expected(.expected),
        fmt_names(.presented)
    )]
    WrongName {
        /// The name this client expected (the host it connected to).
        expected: Option<String>,
        /// The DNS names and IP addresses the certificate holds.
        presented: Vec<String>,
    },
    /// No CA this client trusts signed the server's certificate.
    #[error(
        "the server's certificate is not signed by a CA this client trusts: pass the \
         CA certificate that signed it with `--tls-ca` (`ca.pem` of `oap cert ca`)"
    )]
    UnknownIssuer,
    /// The server presents a CA certificate (`CA:TRUE`) as its own, as the
    /// usual `openssl req -x509` recipe makes; TLS clients refuse it.
    #[error(
        "the server presents a CA certificate (CA:TRUE, as `openssl req -x509` makes) \
         as its own, and TLS clients refuse that: the server needs an end-entity \
         certificate signed by a CA; make one with `oap cert server` (see docs/tls.md)"
    )]
    CaUsedAsServerCertificate,
    /// The server's certificate is not meant for TLS servers (its extended
    /// key usage lacks `serverAuth`).
    #[error(
        "the server's certificate is not for TLS servers (its extended key usage \
         lacks serverAuth): make a server certificate with `oap cert server`"
    )]
    NotAServerCertificate,
    /// The server's certificate does not verify against the key of the CA
    /// that claims to have signed it.
    #[error(
        "the server's certificate does not verify against its CA's key: check that \
         `--tls-ca` is the certificate of the CA that signed it"
    )]
    BadSignature,
    /// The server's certificate was revoked.
    #[error("the server's certificate was revoked: the server needs a new one")]
    Revoked,
    /// The server's certificate cannot be used for another reason:
    /// malformed, an unsupported algorithm, a critical extension this client
    /// does not know, a broken chain.
    #[error(
        "the server's certificate cannot be used (malformed, an unsupported algorithm \
         or extension, or a broken chain): make one with `oap cert server`"
    )]
    UnusableCertificate,
    /// The server asks for a client certificate and this client gave none.
    #[error(
        "the server requires a client certificate: pass `--tls-cert` and `--tls-key` \
         (make them with `oap cert client`)"
    )]
    ClientCertificateRequired,
    /// The server refused this client's certificate.
    #[error(
        "the server refused this client's certificate: use one signed by a CA the \
         server trusts (`oap serve --tls-client-ca`), e.g. from `oap cert client`"
    )]
    ClientCertificateRefused,
    /// The server refused the application protocol (ALPN) this client
    /// offered.
    #[error(
        "the server refused the application protocol this client offered (OAP/1 over \
         TLS offers ALPN `oap/1`)"
    )]
    AlpnRefused,
    /// No TLS version or cipher suite in common.
    #[error(
        "the server and this client have no TLS version or cipher suite in common \
         (both need TLS 1.2 or 1.3)"
    )]
    Incompatible,
    /// The handshake failed for a reason not listed above.
    #[error(
        "the TLS handshake with the server failed (RUST_LOG=debug logs the TLS \
         library's own error)"
    )]
    Other,
}

impl TlsError {
    /// What `e`, an error from a TLS client's stream, means; `None` when it
    /// is no TLS error (a plain transport failure).
    pub fn from_io(e: &io::Error) -> Option<Self> {
        let tls = e.get_ref()?.downcast_ref::<rustls::Error>()?;
        Some(Self::from_rustls(tls))
    }

    fn from_rustls(e: &rustls::Error) -> Self {
        match e {
            // The first record is not TLS: the server answered in plaintext.
            rustls::Error::InvalidMessage(
                InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion,
            ) => Self::ServerIsPlaintext,
            rustls::Error::InvalidCertificate(e) => Self::from_certificate(e),
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => {
                Self::ClientCertificateRequired
            }
            rustls::Error::AlertReceived(a) if certificate_alert(*a) => {
                Self::ClientCertificateRefused
            }
            rustls::Error::AlertReceived(a) if incompatible_alert(*a) => Self::Incompatible,
            rustls::Error::PeerIncompatible(_) => Self::Incompatible,
            rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol)
            | rustls::Error::NoApplicationProtocol => Self::AlpnRefused,
            _ => Self::Other,
        }
    }

    fn from_certificate(e: &CertificateError) -> Self {
        use CertificateError as E;
        #[allow(deprecated)] // matched only to classify it
        match e {
            E::ExpiredContext { time, not_after } => Self::CertificateExpired {
                ago: Some(Duration::from_secs(
                    time.as_secs().saturating_sub(not_after.as_secs()),
                )),
            },
            E::Expired => Self::CertificateExpired { ago: None },
            E::NotValidYetContext { time, not_before } => Self::CertificateNotYetValid {
                starts_in: Some(Duration::from_secs(
                    not_before.as_secs().saturating_sub(time.as_secs()),
                )),
            },
            E::NotValidYet => Self::CertificateNotYetValid { starts_in: None },
            E::NotValidForNameContext {
                expected,
                presented,
            } => Self::WrongName {
                expected: Some(expected.to_str().into_owned()),
                presented: presented.iter().filter_map(|n| host_name(n)).collect(),
            },
            E::NotValidForName => Self::WrongName {
                expected: None,
                presented: Vec::new(),
            },
            E::UnknownIssuer => Self::UnknownIssuer,
            E::BadSignature => Self::BadSignature,
            E::Revoked => Self::Revoked,
            E::InvalidPurpose | E::InvalidPurposeContext { .. } => Self::NotAServerCertificate,
            // rustls passes webpki's finer errors through as `Other`.
            E::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => Self::CaUsedAsServerCertificate,
                _ => Self::UnusableCertificate,
            },
            _ => Self::UnusableCertificate,
        }
    }
}

impl ClientError {
    /// A failed TLS client handshake (`e` from tokio-rustls or
    /// futures-rustls): [`ClientError::Tls`] when it is a TLS failure, or
    /// when the server hung up mid-handshake; else [`ClientError::Io`]. The
    /// TLS library's own text is logged at debug level, never shown.
    pub fn from_tls_handshake(e: io::Error) -> Self {
        tracing::debug!(error = %e, "TLS handshake failed");
        match TlsError::from_io(&e) {
            Some(tls) => Self::Tls(tls),
            None if hung_up(&e) => Self::Tls(TlsError::HandshakeClosed),
            None => Self::from(e),
        }
    }
}

/// Why a server's TLS handshake failed: the `reason` label of
/// `tls_handshake_failures_total`, a fixed set so its cardinality is
/// bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandshakeFailure {
    /// It did not finish within the handshake timeout.
    Timeout,
    /// The client does not speak TLS (a plaintext OAP/1 client, an HTTP
    /// request, a port scan).
    NotTls,
    /// The client refused this server's certificate (it sent a certificate
    /// alert).
    CertificateRefused,
    /// The client's certificate was refused or missing (mutual TLS).
    ClientCertificate,
    /// No TLS version, cipher suite or application protocol (ALPN) in
    /// common.
    Incompatible,
    /// The client hung up mid-handshake.
    Closed,
    /// A TLS client reached a plaintext port (a ClientHello where HELLO
    /// was expected).
    TlsOnPlaintextPort,
    /// Anything else.
    Other,
}

impl HandshakeFailure {
    /// Every reason, for the documentation's list.
    #[cfg(test)]
    pub(crate) const ALL: [Self; 8] = [
        Self::Timeout,
        Self::NotTls,
        Self::CertificateRefused,
        Self::ClientCertificate,
        Self::Incompatible,
        Self::Closed,
        Self::TlsOnPlaintextPort,
        Self::Other,
    ];

    /// The metric label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::NotTls => "not_tls",
            Self::CertificateRefused => "certificate_refused",
            Self::ClientCertificate => "client_certificate",
            Self::Incompatible => "incompatible",
            Self::Closed => "closed",
            Self::TlsOnPlaintextPort => "tls_on_plaintext_port",
            Self::Other => "other",
        }
    }

    /// Why a server handshake ended in `e`.
    fn of(e: &io::Error) -> Self {
        if e.kind() == io::ErrorKind::TimedOut {
            return Self::Timeout;
        }
        let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
            return if hung_up(e) {
                Self::Closed
            } else {
                Self::Other
            };
        };
        match tls {
            rustls::Error::InvalidMessage(
                InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion,
            ) => Self::NotTls,
            rustls::Error::AlertReceived(a) if certificate_alert(*a) => Self::CertificateRefused,
            rustls::Error::AlertReceived(a) if incompatible_alert(*a) => Self::Incompatible,
            rustls::Error::PeerIncompatible(_) | rustls::Error::NoApplicationProtocol => {
                Self::Incompatible
            }
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                Self::ClientCertificate
            }
            _ => Self::Other,
        }
    }
}

/// A server's TLS handshake with `peer` failed with `e`: logged at debug
/// level and counted by reason (and, as before, in
/// `rejected_total{reason="tls_handshake"}`).
pub(crate) fn handshake_failed(metrics: &Metrics, peer: SocketAddr, e: &io::Error) {
    let reason = HandshakeFailure::of(e);
    tracing::debug!(%peer, reason = reason.as_str(), error = %e, "TLS handshake failed");
    metrics.record_tls_handshake_failure(reason.as_str());
    metrics.record_rejected("tls_handshake");
}

/// A TLS client reached a plaintext port (the connection already answered
/// `bad_version` and closed, spec §2): logged at debug level and counted.
pub(crate) fn tls_client_at_plaintext_port(metrics: &Metrics) {
    let reason = HandshakeFailure::TlsOnPlaintextPort;
    tracing::debug!(
        reason = reason.as_str(),
        "a TLS client reached this plaintext port"
    );
    metrics.record_tls_handshake_failure(reason.as_str());
}

/// The host a certificate's subject alternative name holds, from the form
/// webpki reports it in (its `Debug` text: `DnsName("a.example")`,
/// `IpAddress(192.0.2.1)`); `None` for names that are no host (a URI). A
/// form not known here is kept whole rather than lost.
fn host_name(presented: &str) -> Option<String> {
    if let Some(dns) = presented
        .strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"))
    {
        return Some(dns.to_owned());
    }
    if let Some(ip) = presented
        .strip_prefix("IpAddress(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return Some(ip.to_owned());
    }
    let other_kind = [
        "UniformResourceIdentifier(",
        "DirectoryName",
        "Unsupported(",
    ]
    .iter()
    .any(|k| presented.starts_with(k));
    (!other_kind).then(|| presented.to_owned())
}

/// Whether the peer went away rather than failed.
fn hung_up(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Alerts a peer sends when it refuses the other side's certificate
/// (rustls maps its certificate errors to these).
fn certificate_alert(a: AlertDescription) -> bool {
    matches!(
        a,
        AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied
    )
}

/// Alerts that say the two sides share no version or cipher suite.
fn incompatible_alert(a: AlertDescription) -> bool {
    matches!(
        a,
        AlertDescription::ProtocolVersion
            | AlertDescription::HandshakeFailure
            | AlertDescription::InsufficientSecurity
    )
}

/// `" 3 days ago"`, or nothing when unknown.
fn fmt_ago(d: Option<Duration>) -> String {
    d.map(|d| format!(" {} ago", human(d))).unwrap_or_default()
}

/// `" for another 3 hours"`, or nothing when unknown.
fn fmt_within(d: Option<Duration>) -> String {
    d.map(|d| format!(" for another {}", human(d)))
        .unwrap_or_default()
}

/// `"\"localhost\""`, or a description when the name is unknown.
fn fmt_expected(expected: &Option<String>) -> String {
    match expected {
        Some(name) => format!("{name:?}"),
        None => "the name this client connected to".to_owned(),
    }
}

/// `" (it names a, b)"`, or that it names none.
fn fmt_names(presented: &[String]) -> String {
    if presented.is_empty() {
        " (it names no host)".to_owned()
    } else {
        format!(" (it names {})", presented.join(", "))
    }
}

/// A duration in the largest unit that keeps it at 2 or more.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..120 => format!("{s} seconds"),
        120..7_200 => format!("{} minutes", s / 60),
        7_200..172_800 => format!("{} hours", s / 3_600),
        _ => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::OtherError;
    use rustls::pki_types::{ServerName, UnixTime};

    use super::*;

    /// `e` as tokio-rustls and futures-rustls hand it over.
    fn io(e: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    fn cert(e: CertificateError) -> io::Error {
        io(rustls::Error::InvalidCertificate(e))
    }

    #[test]
    fn a_ca_certificate_used_by_a_server_is_named_with_its_fix() {
        let e = cert(CertificateError::Other(OtherError(Arc::new(
            webpki::Error::CaUsedAsEndEntity,
        ))));
        let tls = TlsError::from_io(&e).expect("a TLS error");
        assert_eq!(tls, TlsError::CaUsedAsServerCertificate);
        let text = tls.to_string();
        assert!(
            text.contains("CA:TRUE") && text.contains("oap cert server"),
            "{text}"
        );
        assert!(!text.contains("OtherError"), "no Debug text: {text}");
    }

    #[test]
    fn certificate_errors_are_words_with_the_fix() {
        let secs = UnixTime::since_unix_epoch;
        let expired = cert(CertificateError::ExpiredContext {
            time: secs(Duration::from_secs(10 * 86_400)),
            not_after: secs(Duration::from_secs(7 * 86_400)),
        });
        let tls = TlsError::from_io(&expired).unwrap();
        assert_eq!(
            tls.to_string().split(':').next().unwrap(),
            "the server's certificate expired 3 days ago"
        );

        // As webpki reports the names a certificate holds.
        let wrong = cert(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("example.org").unwrap(),
            presented: vec![
                "DnsName(\"localhost\")".into(),
                "IpAddress(127.0.0.1)".into(),
                "UniformResourceIdentifier(\"oap://tenant/x\")".into(),
            ],
        });
        let text = TlsError::from_io(&wrong).unwrap().to_string();
        assert!(
            text.starts_with(
                "the server's certificate is not valid for \"example.org\" (it names localhost, 127.0.0.1)"
            ),
            "{text}"
        );
        assert!(text.contains("oap cert server --name"), "{text}");

        let unknown = TlsError::from_io(&cert(CertificateError::UnknownIssuer)).unwrap();
        assert_eq!(unknown, TlsError::UnknownIssuer);
        assert!(unknown.to_string().contains("--tls-ca"));
        assert_eq!(
            TlsError::from_io(&cert(CertificateError::InvalidPurpose)),
            Some(TlsError::NotAServerCertificate)
        );
    }

    #[test]
    fn a_plaintext_answer_to_a_client_hello_means_the_port_is_plaintext() {
        let e = io(rustls::Error::InvalidMessage(
            InvalidMessage::InvalidContentType,
        ));
        assert_eq!(TlsError::from_io(&e), Some(TlsError::ServerIsPlaintext));
        assert_eq!(HandshakeFailure::of(&e), HandshakeFailure::NotTls);
    }

    #[test]
    fn the_servers_alerts_about_client_certificates_say_what_to_pass() {
        let required = io(rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired,
        ));
        let tls = TlsError::from_io(&required).unwrap();
        assert_eq!(tls, TlsError::ClientCertificateRequired);
        assert!(tls.to_string().contains("--tls-cert"));
        let refused = io(rustls::Error::AlertReceived(AlertDescription::UnknownCA));
        assert_eq!(
            TlsError::from_io(&refused),
            Some(TlsError::ClientCertificateRefused)
        );
        // The same alert, received by a server, is its client refusing the
        // server's certificate.
        assert_eq!(
            HandshakeFailure::of(&refused),
            HandshakeFailure::CertificateRefused
        );
    }

    #[test]
    fn an_application_protocol_refused_is_named_on_both_sides() {
        let refused = io(rustls::Error::AlertReceived(
            AlertDescription::NoApplicationProtocol,
        ));
        assert_eq!(TlsError::from_io(&refused), Some(TlsError::AlpnRefused));
        let server_side = io(rustls::Error::NoApplicationProtocol);
        assert_eq!(
            HandshakeFailure::of(&server_side),
            HandshakeFailure::Incompatible
        );
    }

    #[test]
    fn a_handshake_cut_short_is_told_apart_from_a_plain_transport_error() {
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert!(matches!(
            ClientError::from_tls_handshake(eof),
            ClientError::Tls(TlsError::HandshakeClosed)
        ));
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert!(TlsError::from_io(&refused).is_none());
        assert!(matches!(
            ClientError::from_tls_handshake(refused),
            ClientError::Io(_)
        ));
    }

    #[test]
    fn server_reasons_are_a_fixed_set_of_distinct_labels() {
        let timeout = io::Error::new(io::ErrorKind::TimedOut, "handshake timed out");
        assert_eq!(HandshakeFailure::of(&timeout), HandshakeFailure::Timeout);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(HandshakeFailure::of(&reset), HandshakeFailure::Closed);
        let missing = io(rustls::Error::NoCertificatesPresented);
        assert_eq!(
            HandshakeFailure::of(&missing),
            HandshakeFailure::ClientCertificate
        );
        let mut labels: Vec<_> = HandshakeFailure::ALL.iter().map(|r| r.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), HandshakeFailure::ALL.len());
    }

    #[test]
    fn durations_read_in_their_largest_unit() {
        assert_eq!(human(Duration::from_secs(59)), "59 seconds");
        assert_eq!(human(Duration::from_secs(3_600)), "60 minutes");
        assert_eq!(human(Duration::from_secs(86_400)), "24 hours");
        assert_eq!(human(Duration::from_secs(30 * 86_400)), "30 days");
    }
}
