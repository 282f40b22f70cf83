//! Command-line arguments (clap derive): every subcommand and flag, with
//! the help text `--help` prints.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use oap_core::ObjectId;

/// Default OAP/1 listener (and the address `put`/`get` connect to).
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:9444";
/// Default admin HTTP listener.
pub(crate) const DEFAULT_ADMIN: &str = "127.0.0.1:9096";

/// `oap`: run an OAP/1 node, put and get content-addressed objects.
#[derive(Debug, Parser)]
#[command(name = "oap", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a node: the OAP/1 gateway plus admin HTTP (/healthz, /readyz,
    /// /metrics) until Ctrl-C.
    Serve(ServeArgs),
    /// Upload files; prints one `b3:<hex>` id per file on stdout.
    Put(PutArgs),
    /// Download an object by id, verifying its full BLAKE3 digest.
    Get(GetArgs),
    /// Print the object id of files without a server (same digest as b3sum).
    Id(IdArgs),
    /// Print the node's bus events as they happen, one JSON line each,
    /// until Ctrl-C (needs the `subscribe` permission).
    Watch(WatchArgs),
    /// Bearer tokens for tenants (see docs/auth.md).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Certificates for TLS: a local CA, server certificates, and client
    /// certificates that name a tenant (see docs/tls.md).
    #[command(subcommand)]
    Cert(CertCommand),
    /// Run a server and a client in this process on loopback and show
    /// HELLO → START → ACK → put → get → verify with the bus events.
    Demo,
}

/// `oap token …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Print a fresh random token (first line, for the client: keep it
    /// secret) and the `[[tenants]]` entry to paste into the node's config
    /// file, which holds only the token's hash.
    New(TokenNewArgs),
}

/// `oap token new`.
#[derive(Debug, Args)]
pub(crate) struct TokenNewArgs {
    /// The tenant's name in the printed entry.
    #[arg(long, value_name = "NAME", default_value = "tenant")]
    pub name: String,
    /// Permissions in the printed entry (comma-separated): put, get,
    /// subscribe.
    #[arg(
        long = "permissions",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "put,get"
    )]
    pub permissions: Vec<Permission>,
}

/// `oap cert …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CertCommand {
    /// Make a local CA: `ca.pem`, which clients (`--tls-ca`) and nodes
    /// checking client certificates (`--tls-client-ca`) trust, and
    /// `ca-key.pem`, which signs the other certificates: keep it secret.
    Ca(CertCaArgs),
    /// Make a server certificate signed by the CA: `server.pem` and
    /// `server-key.pem`, for `oap serve --tls-cert/--tls-key`.
    Server(CertServerArgs),
    /// Make a client certificate naming a tenant, signed by the CA:
    /// `client-NAME.pem` and `client-NAME-key.pem`, for
    /// `oap put/get --tls-cert/--tls-key`.
    Client(CertClientArgs),
}

/// Where `oap cert` writes.
#[derive(Debug, Args)]
pub(crate) struct CertOutArgs {
    /// Directory to write the certificate and key into (made if missing,
    /// readable only by you).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// `oap cert ca`.
#[derive(Debug, Args)]
pub(crate) struct CertCaArgs {
    /// Output.
    #[command(flatten)]
    pub out: CertOutArgs,
    /// Days the CA certificate is valid.
    #[arg(long, value_name = "N", default_value_t = 3650, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: u32,
}

/// `oap cert server`.
#[derive(Debug, Args)]
pub(crate) struct CertServerArgs {
    /// The CA directory (`ca.pem` and `ca-key.pem`, as `oap cert ca` makes).
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,
    /// DNS names and IP addresses the server is reached by (one or more);
    /// clients name one of them in `--server HOST:PORT`.
    #[arg(long = "name", value_name = "HOST", required = true, num_args = 1..)]
    pub names: Vec<String>,
    /// Output.
    #[command(flatten)]
    pub out: CertOutArgs,
    /// Days the certificate is valid.
    #[arg(long, value_name = "N", default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: u32,
}

/// `oap cert client`.
#[derive(Debug, Args)]
pub(crate) struct CertClientArgs {
    /// The CA directory (`ca.pem` and `ca-key.pem`, as `oap cert ca` makes).
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,
    /// The tenant the certificate names (its Common Name, and the URI
    /// `oap://tenant/NAME`).
    #[arg(long, value_name = "NAME")]
    pub tenant: String,
    /// Output.
    #[command(flatten)]
    pub out: CertOutArgs,
    /// Days the certificate is valid.
    #[arg(long, value_name = "N", default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: u32,
}

/// A permission `oap token new` can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Permission {
    /// Store objects.
    Put,
    /// Read objects.
    Get,
    /// Subscribe to events.
    Subscribe,
}

/// Where objects are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreSpec {
    /// In memory; gone when the process exits.
    Mem,
    /// In a directory, content-addressed, verified on read.
    Dir(PathBuf),
    /// In an S3 bucket (`s3://BUCKET[/PREFIX]`), verified on read; the
    /// endpoint, region and credentials come from the `--s3-*` flags and
    /// the `AWS_*` environment.
    S3 {
        /// The bucket.
        bucket: String,
        /// The keys' prefix (empty: none).
        prefix: String,
    },
}

impl std::str::FromStr for StoreSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("s3://") {
            let c = oap_store_s3::S3Config::from_url(s)?;
            return Ok(Self::S3 {
                bucket: c.bucket,
                prefix: c.prefix,
            });
        }
        match s {
            "mem" => Ok(Self::Mem),
            _ => match s.strip_prefix("dir:") {
                Some(path) if !path.is_empty() => Ok(Self::Dir(PathBuf::from(path))),
                _ => Err("expected `mem`, `dir:PATH` or `s3://BUCKET[/PREFIX]`".to_owned()),
            },
        }
    }
}

/// `oap serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// OAP/1 listen address [default: 127.0.0.1:9444, or `listen_addr` from
    /// --config]. Port 0 picks a free port; the bound address is printed.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Admin HTTP address [default: 127.0.0.1:9096, or `admin_addr` from
    /// --config].
    #[arg(long, value_name = "ADDR")]
    pub admin: Option<SocketAddr>,
    /// Object store: `mem`, `dir:PATH` or `s3://BUCKET[/PREFIX]` (an
    /// S3-compatible service: AWS S3, Garage, MinIO; see docs/deploy.md).
    #[arg(long, value_name = "mem|dir:PATH|s3://BUCKET", default_value = "mem")]
    pub store: StoreSpec,
    /// The S3 service's URL, e.g. `http://127.0.0.1:3900` [default:
    /// `AWS_ENDPOINT_URL`, else AWS].
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// The S3 region [default: `AWS_REGION`].
    #[arg(long, value_name = "REGION")]
    pub s3_region: Option<String>,
    /// The most one S3 call may take, retries included, in milliseconds;
    /// past it the request fails with the retryable `unavailable`.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub s3_timeout_ms: u64,
    /// PEM certificate chain; serves TLS (requires --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate(s) for client certificates (mutual TLS): a client
    /// may present a certificate chaining to one of them, and its subject
    /// common name names the tenant whose `cert_name` it is. Clients
    /// without a certificate are still served, by token or as anonymous.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Kernel configuration (TOML); `OAP_*` environment variables override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Connection workers: threads with a single-threaded runtime and a
    /// listening socket each (SO_REUSEPORT), so that a connection stays on
    /// the thread that accepted it, which makes short connections cheaper.
    /// 0 serves every connection on one shared, work-stealing runtime,
    /// which balances busy connections better. Linux only [default: one
    /// per core on Linux, 0 elsewhere].
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

impl ServeArgs {
    /// How many connection workers to run; `None` for none.
    pub(crate) fn workers(&self) -> Option<NonZeroUsize> {
        match self.workers {
            Some(n) => NonZeroUsize::new(n),
            #[cfg(target_os = "linux")]
            None => Some(runtime_tokio::workers::one_per_core()),
            #[cfg(not(target_os = "linux"))]
            None => None,
        }
    }
}

/// How a client reaches the server.
#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// Server address, `HOST:PORT`.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub server: String,
    /// PEM CA certificate(s) to verify the server with; connects over TLS
    /// (the server name is the host part of --server).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate chain presented to the server (mutual TLS; its
    /// subject common name names the tenant). Requires --tls-ca and
    /// --tls-key.
    #[arg(long, value_name = "FILE", requires_all = ["tls_key", "tls_ca"])]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// File holding the bearer token that names this client's tenant (see
    /// `oap token new`); surrounding whitespace is ignored. Without it, the
    /// `OAP_TOKEN` environment variable; without either, anonymous. A token
    /// is sent only over TLS (--tls-ca) or to a loopback address.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

/// `oap put`.
#[derive(Debug, Args)]
pub(crate) struct PutArgs {
    /// Files to upload.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Connection.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `oap get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// Object id, `b3:<64 hex digits>`.
    #[arg(value_name = "ID")]
    pub id: ObjectId,
    /// Write to FILE (atomically: a temporary file in the same directory,
    /// then rename) instead of stdout; `-` is stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Connection.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `oap watch`.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// What to watch: `health`, `health/<service>`, `config`, `crashed`,
    /// `shutdown`, or `*` for everything.
    #[arg(value_name = "TOPIC", default_value = "*")]
    pub topic: String,
    /// Connection.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `oap id`.
#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// Files to hash (`-` is stdin).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}
