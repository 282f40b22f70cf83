//! Who may do what: the `[[tenants]]` list and the `[auth]` table.
//!
//! A tenant is named by its bearer token, which the node never stores: only
//! `token_hash`, the hex of BLAKE3 in key-derivation mode (context
//! `"rustyonions oap/1 bearer token v1"`) of the token. See `docs/auth.md`.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest tenant name, in bytes.
pub const MAX_TENANT_NAME: usize = 64;

/// Longest `cert_name`, in bytes (the X.520 upper bound of a common name is 64
/// characters; 255 bytes leaves room for UTF-8 and long PKI conventions).
pub const MAX_CERT_NAME: usize = 255;

/// The tenant name every peer without a token is accounted to; no configured tenant may
/// take it.
pub const ANONYMOUS: &str = "anonymous";

/// One `[[tenants]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant's name: 1 to 64 bytes of ASCII letters, digits, `.`, `_` and `-`;
    /// unique, and not `anonymous`. Used in metric labels and quota buckets.
    pub name: String,
    /// Hex (64 digits) of the BLAKE3 key-derivation hash of the tenant's bearer token;
    /// unique across tenants. A tenant needs this, `cert_name`, or both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_hash: Option<String>,
    /// The subject common name of the client certificates (verified against the node's
    /// client CA, `oap serve --tls-client-ca`) that prove this tenant; unique across
    /// tenants, 1 to 255 bytes of printable ASCII.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_name: Option<String>,
    /// What the tenant may do: any of `put`, `get`, `subscribe`.
    pub permissions: Vec<Permission>,
    /// The tenant's sustained request rate (default: `quota.requests_per_sec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_sec: Option<u32>,
    /// The tenant's burst (default: `quota.burst`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Most bytes the tenant may keep stored (none: no limit): a put that would pass it
    /// is refused before any byte is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stored_bytes: Option<u64>,
}

/// One thing a tenant may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Store objects (`op: "put"`, and the legacy op-less START).
    Put,
    /// Read objects (`op: "get"`).
    Get,
    /// Subscribe to kernel events (`op: "subscribe"`).
    Subscribe,
}

/// The `[auth]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// What a peer without a token may do. Unset: `put+get` when the node listens only on
    /// loopback, else `none` (see [`crate::Config::anonymous_policy`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<AnonymousPolicy>,
}

/// What a peer without a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnonymousPolicy {
    /// Nothing: a peer without a token is refused at HELLO.
    #[serde(rename = "none")]
    None,
    /// Read objects only.
    #[serde(rename = "get")]
    Get,
    /// Store and read objects.
    #[serde(rename = "put+get")]
    PutGet,
}

impl AnonymousPolicy {
    /// The permissions the policy grants.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Self::None => &[],
            Self::Get => &[Permission::Get],
            Self::PutGet => &[Permission::Put, Permission::Get],
        }
    }

    /// The policy in force when `[auth] anonymous` is unset: `put+get` for a node that
    /// listens only on loopback, `none` otherwise.
    pub fn default_for(listen: SocketAddr) -> Self {
        if listen.ip().is_loopback() {
            Self::PutGet
        } else {
            Self::None
        }
    }

    /// The spelling used in TOML and `OAP_AUTH_ANONYMOUS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Get => "get",
            Self::PutGet => "put+get",
        }
    }
}

impl fmt::Display for AnonymousPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AnonymousPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "none" => Ok(Self::None),
            "get" => Ok(Self::Get),
            "put+get" => Ok(Self::PutGet),
            _ => Err("expected none, get or put+get".into()),
        }
    }
}

/// Why `name` cannot name a tenant (see [`TenantConfig::name`]), if it cannot. Tools that
/// write a name into something a node will read (a client certificate) check it here.
pub fn check_tenant_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_TENANT_NAME {
        return Err(format!("must be 1 to {MAX_TENANT_NAME} bytes long"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "{name:?} may contain only ASCII letters, digits, '.', '_' and '-'"
        ));
    }
    if name == ANONYMOUS {
        return Err(format!(
            "{ANONYMOUS:?} is reserved for peers without a token"
        ));
    }
    Ok(())
}

/// Why one tenant entry is refused: `(key, reason)`.
pub(super) fn check_tenant(
    tenant: &TenantConfig,
    earlier: &[TenantConfig],
) -> Result<(), (&'static str, String)> {
    let name = &tenant.name;
    check_tenant_name(name).map_err(|why| ("name", why))?;
    if earlier.iter().any(|t| t.name == *name) {
        return Err(("name", format!("{name:?} is used by an earlier tenant")));
    }
    if tenant.token_hash.is_none() && tenant.cert_name.is_none() {
        return Err((
            "token_hash",
            "missing: a tenant needs a token_hash (from `oap token new`), a cert_name, or both"
                .into(),
        ));
    }
    if let Some(hash) = &tenant.token_hash {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err((
                "token_hash",
                "must be 64 hex digits (the output of `oap token new`)".into(),
            ));
        }
        if earlier.iter().any(|t| {
            t.token_hash
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(hash))
        }) {
            return Err((
                "token_hash",
                "is the same as an earlier tenant's: one token names one tenant".into(),
            ));
        }
    }
    if let Some(cn) = &tenant.cert_name {
        if cn.is_empty()
            || cn.len() > MAX_CERT_NAME
            || !cn.bytes().all(|b| (b' '..=b'~').contains(&b))
        {
            return Err((
                "cert_name",
                format!("must be 1 to {MAX_CERT_NAME} bytes of printable ASCII"),
            ));
        }
        if earlier.iter().any(|t| t.cert_name.as_ref() == Some(cn)) {
            return Err((
                "cert_name",
                "is the same as an earlier tenant's: one certificate names one tenant".into(),
            ));
        }
    }
    for (key, value) in [
        ("requests_per_sec", tenant.requests_per_sec.map(u64::from)),
        ("burst", tenant.burst.map(u64::from)),
        ("max_stored_bytes", tenant.max_stored_bytes),
    ] {
        if value == Some(0) {
            return Err((key, "must be greater than zero".into()));
        }
    }
    Ok(())
}
