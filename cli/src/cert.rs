//! `oap cert`: a local CA, server certificates, and client certificates
//! that name a tenant, made with rcgen (see docs/tls.md).
//!
//! Keys are ECDSA P-256 in PKCS#8 PEM, written with mode 0600 (certificates
//! 0644). Nothing is overwritten without `--force`, and every file a
//! command would write is checked before the first is written. Each
//! command prints which flag of `oap serve` and of `oap put/get` takes
//! which file.
//!
//! A client certificate names its tenant twice, as the node's tenant
//! mapping reads it: Subject Common Name = the tenant's name, and a URI
//! SAN `oap://tenant/NAME`; the node's `[[tenants]]` entry names it with
//! `cert_name = "NAME"`.

use std::fs::Permissions;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use rcgen::string::Ia5String;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::ServerName;
use time::OffsetDateTime;

use crate::args::{CertCaArgs, CertClientArgs, CertCommand, CertOutArgs, CertServerArgs};

/// The CA's certificate in its directory.
const CA_CERT: &str = "ca.pem";
/// The CA's private key in its directory.
const CA_KEY: &str = "ca-key.pem";
/// A server's certificate.
const SERVER_CERT: &str = "server.pem";
/// A server's private key.
const SERVER_KEY: &str = "server-key.pem";
/// The URI SAN of a client certificate, before the tenant's name.
const TENANT_URI: &str = "oap://tenant/";

/// Runs `oap cert ca|server|client`.
pub(crate) fn run(command: &CertCommand) -> Result<()> {
    match command {
        CertCommand::Ca(a) => ca(a),
        CertCommand::Server(a) => server(a),
        CertCommand::Client(a) => client(a),
    }
}

/// `oap cert ca`: a self-signed CA that signs end-entity certificates only
/// (path length 0).
fn ca(args: &CertCaArgs) -> Result<()> {
    let out = OutDir::prepare(&args.out, &[CA_CERT, CA_KEY])?;
    let key = KeyPair::generate().context("cannot generate a key")?;
    let mut params = CertificateParams::default();
    // A name of its own, so that two CAs made here are never mistaken for
    // each other when a client looks for a certificate's issuer.
    params.distinguished_name =
        common_name(&format!("oap local CA {}", crate::token::random_hex(4)?));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let until = set_validity(&mut params, args.days);
    let cert = params
        .self_signed(&key)
        .context("cannot make the CA certificate")?;
    let cert_path = out.write(CA_CERT, &cert.pem(), Mode::Public)?;
    let key_path = out.write(CA_KEY, &key.serialize_pem(), Mode::Secret)?;

    let (dir, ca) = (args.out.out.display(), cert_path.display());
    println!("wrote {ca}: the CA certificate (valid until {until})");
    println!(
        "wrote {}: the CA's private key (mode 0600); keep it secret, it signs the \
         certificates below",
        key_path.display()
    );
    println!();
    println!("Clients trust the servers it signed with:");
    println!("  oap put|get --tls-ca {ca}");
    println!("A node trusts the clients it signed (mutual TLS) with:");
    println!("  oap serve --tls-client-ca {ca}");
    println!("Next, a server certificate, and one client certificate per tenant:");
    println!("  oap cert server --ca {dir} --name HOST... --out DIR");
    println!("  oap cert client --ca {dir} --tenant NAME --out DIR");
    Ok(())
}

/// `oap cert server`: an end-entity certificate for TLS servers, for the
/// given DNS names and IP addresses.
fn server(args: &CertServerArgs) -> Result<()> {
    let sans = args
        .names
        .iter()
        .map(|n| server_san(n))
        .collect::<Result<Vec<_>>>()?;
    let ca = Ca::load(&args.ca)?;
    let out = OutDir::prepare(&args.out, &[SERVER_CERT, SERVER_KEY])?;
    let key = KeyPair::generate().context("cannot generate a key")?;
    let mut params = end_entity(&args.names[0], ExtendedKeyUsagePurpose::ServerAuth);
    params.subject_alt_names = sans;
    let until = set_validity(&mut params, args.days);
    let cert = params
        .signed_by(&key, &ca.issuer)
        .context("cannot sign the server certificate")?;
    let cert_path = out.write(SERVER_CERT, &cert.pem(), Mode::Public)?;
    let key_path = out.write(SERVER_KEY, &key.serialize_pem(), Mode::Secret)?;

    let (cert, key, ca) = (
        cert_path.display(),
        key_path.display(),
        ca.cert_path.display(),
    );
    println!(
        "wrote {cert}: the server certificate for {} (signed by {ca}, valid until {until})",
        args.names.join(", ")
    );
    println!("wrote {key}: its private key (mode 0600); keep it on the server");
    println!();
    println!("The node serves TLS with:");
    println!("  oap serve --tls-cert {cert} --tls-key {key}");
    println!("Clients connect with (naming one of the names above, and the node's port):");
    println!(
        "  oap put|get --server {}:9444 --tls-ca {ca}",
        host_for_server_flag(&args.names[0])
    );
    Ok(())
}

/// `oap cert client`: an end-entity certificate for TLS clients naming a
/// tenant.
fn client(args: &CertClientArgs) -> Result<()> {
    let tenant = &args.tenant;
    kernel_core::config::auth::check_tenant_name(tenant)
        .map_err(|why| anyhow!("bad --tenant: {why}"))?;
    let ca = Ca::load(&args.ca)?;
    let (cert_name, key_name) = (
        format!("client-{tenant}.pem"),
        format!("client-{tenant}-key.pem"),
    );
    let out = OutDir::prepare(&args.out, &[&cert_name, &key_name])?;
    let key = KeyPair::generate().context("cannot generate a key")?;
    let mut params = end_entity(tenant, ExtendedKeyUsagePurpose::ClientAuth);
    let uri = Ia5String::try_from(format!("{TENANT_URI}{tenant}"))
        .context("the tenant URI is not ASCII")?;
    params.subject_alt_names = vec![SanType::URI(uri)];
    let until = set_validity(&mut params, args.days);
    let cert = params
        .signed_by(&key, &ca.issuer)
        .context("cannot sign the client certificate")?;
    let cert_path = out.write(&cert_name, &cert.pem(), Mode::Public)?;
    let key_path = out.write(&key_name, &key.serialize_pem(), Mode::Secret)?;

    let (cert, key, ca) = (
        cert_path.display(),
        key_path.display(),
        ca.cert_path.display(),
    );
    println!(
        "wrote {cert}: the client certificate of tenant {tenant} (CN={tenant}, URI \
         {TENANT_URI}{tenant}; signed by {ca}, valid until {until})"
    );
    println!("wrote {key}: its private key (mode 0600); give it to this tenant's clients only");
    println!();
    println!("The tenant's clients connect with:");
    println!("  oap put|get --tls-ca {ca} --tls-cert {cert} --tls-key {key}");
    println!("The node trusts them with (beside --tls-cert and --tls-key):");
    println!("  oap serve --tls-client-ca {ca}");
    println!(
        "and maps the certificate to the tenant with this line in the tenant's \
         [[tenants]] entry of its config file:"
    );
    println!("cert_name = {tenant:?}");
    Ok(())
}

/// A CA read from its directory, ready to sign.
struct Ca {
    cert_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// Reads `DIR/ca.pem` and `DIR/ca-key.pem`, and checks that they are a
    /// CA certificate, valid now, and its key: a certificate signed by
    /// anything else would be refused by every peer, with an error far
    /// from its cause.
    fn load(dir: &Path) -> Result<Self> {
        let cert_path = dir.join(CA_CERT);
        let key_path = dir.join(CA_KEY);
        let pem = std::fs::read_to_string(&cert_path).with_context(|| {
            format!(
                "cannot read the CA certificate {} (make a CA with `oap cert ca --out {}`)",
                cert_path.display(),
                dir.display()
            )
        })?;
        let key_pem = std::fs::read_to_string(&key_path)
            .with_context(|| format!("cannot read the CA key {}", key_path.display()))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| {
            anyhow!(
                "{} is not a private key this tool reads ({e}): it takes an unencrypted \
                 PKCS#8 PEM key (`openssl pkcs8 -topk8 -nocrypt` converts one)",
                key_path.display()
            )
        })?;
        let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .map_err(|_| anyhow!("{} holds no PEM certificate", cert_path.display()))?;
        let x509 = parsed
            .parse_x509()
            .map_err(|e| anyhow!("{} is not a valid certificate: {e}", cert_path.display()))?;
        if !x509.is_ca() {
            bail!(
                "{} is not a CA certificate (no CA:TRUE): pass the directory `oap cert ca` made",
                cert_path.display()
            );
        }
        if !x509.validity().is_valid() {
            bail!(
                "the CA certificate {} is not valid now (valid {} to {}): make a new CA",
                cert_path.display(),
                x509.validity().not_before,
                x509.validity().not_after
            );
        }
        if x509.public_key().raw != rcgen::PublicKeyData::subject_public_key_info(&key) {
            bail!(
                "{} is not the key of {}: keep the two files `oap cert ca` wrote together",
                key_path.display(),
                cert_path.display()
            );
        }
        let issuer = Issuer::from_ca_cert_pem(&pem, key)
            .map_err(|e| anyhow!("cannot use {} as an issuer: {e}", cert_path.display()))?;
        Ok(Self { cert_path, issuer })
    }
}

/// The parameters every end-entity certificate here shares: named by
/// `name`, `CA:FALSE` said explicitly, for `purpose` only.
fn end_entity(name: &str, purpose: ExtendedKeyUsagePurpose) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![purpose];
    params.use_authority_key_identifier_extension = true;
    params
}

/// One `--name` of `oap cert server`: an IP address, or a DNS name
/// (`*.example.org` allowed).
fn server_san(name: &str) -> Result<SanType> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let host = name.strip_prefix("*.").unwrap_or(name);
    match ServerName::try_from(host) {
        Ok(ServerName::DnsName(_)) => Ok(SanType::DnsName(
            Ia5String::try_from(name).context("a DNS name is ASCII")?,
        )),
        _ => bail!(
            "--name {name:?} is neither a DNS name nor an IP address (give the host alone, \
             without a port or scheme)"
        ),
    }
}

/// How `--server` spells `name`: IPv6 addresses in brackets.
fn host_for_server_flag(name: &str) -> String {
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => name.to_owned(),
    }
}

/// A distinguished name of just a Common Name.
fn common_name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// Valid from an hour ago (a peer whose clock is a little behind still
/// accepts it) for `days` days; returns the last day.
fn set_validity(params: &mut CertificateParams, days: u32) -> time::Date {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(i64::from(days));
    params.not_after.date()
}

/// Who may read a file written here.
#[derive(Clone, Copy)]
enum Mode {
    /// A certificate: 0644.
    Public,
    /// A private key: 0600.
    Secret,
}

/// The output directory of one command.
struct OutDir {
    dir: PathBuf,
    force: bool,
}

impl OutDir {
    /// Makes `--out` if missing (mode 0700: it will hold a private key) and
    /// refuses, before anything is written, when one of `names` exists and
    /// `--force` was not given.
    fn prepare(args: &CertOutArgs, names: &[&str]) -> Result<Self> {
        let dir = args.out.clone();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot make directory {}", dir.display()))?;
        if !args.force {
            for name in names {
                let path = dir.join(name);
                if path.exists() {
                    bail!(
                        "{} already exists: pass --force to replace it",
                        path.display()
                    );
                }
            }
        }
        Ok(Self {
            dir,
            force: args.force,
        })
    }

    /// Writes `contents` to `name` whole or not at all: a temporary file
    /// beside it, given its mode before any byte is written, then renamed
    /// into place (over an old file only with `--force`).
    fn write(&self, name: &str, contents: &str, mode: Mode) -> Result<PathBuf> {
        let path = self.dir.join(name);
        let bits = match mode {
            Mode::Public => 0o644,
            Mode::Secret => 0o600,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".oap-cert-")
            .permissions(Permissions::from_mode(bits))
            .tempfile_in(&self.dir)
            .with_context(|| format!("cannot write in {}", self.dir.display()))?;
        // The umask may have narrowed the mode asked for at creation.
        tmp.as_file()
            .set_permissions(Permissions::from_mode(bits))
            .and_then(|()| tmp.write_all(contents.as_bytes()))
            .and_then(|()| tmp.as_file().sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
        let persisted = if self.force {
            tmp.persist(&path).map(drop)
        } else {
            tmp.persist_noclobber(&path).map(drop)
        };
        persisted.map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow!(
                    "{} already exists: pass --force to replace it",
                    path.display()
                )
            } else {
                anyhow!("cannot write {}: {}", path.display(), e.error)
            }
        })?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_are_ip_addresses_or_dns_names_and_nothing_else() {
        assert_eq!(
            server_san("127.0.0.1").unwrap(),
            SanType::IpAddress("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            server_san("::1").unwrap(),
            SanType::IpAddress("::1".parse().unwrap())
        );
        assert!(matches!(
            server_san("node.example.org"),
            Ok(SanType::DnsName(_))
        ));
        assert!(matches!(
            server_san("*.example.org"),
            Ok(SanType::DnsName(_))
        ));
        for bad in ["localhost:9444", "https://example.org", "", "a b"] {
            let e = server_san(bad).unwrap_err().to_string();
            assert!(
                e.contains("neither a DNS name nor an IP address"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn ipv6_hosts_are_bracketed_for_the_server_flag() {
        assert_eq!(host_for_server_flag("::1"), "[::1]");
        assert_eq!(host_for_server_flag("localhost"), "localhost");
    }
}
