//! Who a peer is and what it may do: bearer tokens, client certificates,
//! tenants, permissions.
//!
//! A tenant is proven by its bearer token or by a client certificate the
//! transport verified, never by the `tenant` a HELLO claims. The directory
//! keeps only each token's BLAKE3 key-derivation hash ([`token_hash`]) and
//! compares hashes in constant time.

use std::fmt;
use std::sync::Arc;

use super::ANONYMOUS_TENANT;
use super::quota::{QuotaConfig, TenantQuotas};

/// The BLAKE3 key-derivation context of [`token_hash`].
pub const TOKEN_HASH_CONTEXT: &str = "rustyonions oap/1 bearer token v1";

/// The hash a node stores for `token`: BLAKE3 in key-derivation mode with
/// [`TOKEN_HASH_CONTEXT`]. Its hex is a tenant's `token_hash`.
pub fn token_hash(token: &str) -> blake3::Hash {
    blake3::Hash::from_bytes(blake3::derive_key(TOKEN_HASH_CONTEXT, token.as_bytes()))
}

/// A set of permissions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u8);

impl Permissions {
    /// Nothing.
    pub const NONE: Self = Self(0);
    /// Store objects (`op: "put"`, and the legacy op-less START).
    pub const PUT: Self = Self(1);
    /// Read objects (`op: "get"`).
    pub const GET: Self = Self(2);
    /// Subscribe to events (`op: "subscribe"`).
    pub const SUBSCRIBE: Self = Self(4);
    /// Everything.
    pub const ALL: Self = Self(7);

    /// Both sets together.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every permission of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permission a START with `op` needs, and its name: `put` for
    /// `"put"` and the legacy op-less START, `get`, `subscribe`. `None` for
    /// any other op (the application refuses what it does not serve).
    pub fn needed_for(op: Option<&str>) -> Option<(Self, &'static str)> {
        match op {
            None | Some("put") => Some((Self::PUT, "put")),
            Some("get") => Some((Self::GET, "get")),
            Some("subscribe") => Some((Self::SUBSCRIBE, "subscribe")),
            Some(_) => None,
        }
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (Self::PUT, "put"),
            (Self::GET, "get"),
            (Self::SUBSCRIBE, "subscribe"),
        ]
        .into_iter()
        .filter(|(p, _)| self.contains(*p))
        .map(|(_, n)| n)
        .collect();
        write!(f, "Permissions({})", names.join("+"))
    }
}

/// One configured tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Its name (metric labels, quota buckets, logs).
    pub name: String,
    /// [`token_hash`] of its bearer token (none: it cannot use a token).
    pub token_hash: Option<blake3::Hash>,
    /// The subject common name of the client certificates that name it
    /// (none: it cannot use a certificate). The transport verifies the
    /// certificate against the node's client CA; this only maps it.
    pub certificate_name: Option<String>,
    /// What it may do.
    pub permissions: Permissions,
    /// Its own request quota (none: the server's default).
    pub quota: Option<QuotaConfig>,
}

impl Tenant {
    /// A tenant proven by the bearer token whose hash is `token_hash`, with
    /// the server's default quota and no certificate identity.
    pub fn with_token(
        name: impl Into<String>,
        token_hash: blake3::Hash,
        permissions: Permissions,
    ) -> Self {
        Self {
            name: name.into(),
            token_hash: Some(token_hash),
            certificate_name: None,
            permissions,
            quota: None,
        }
    }

    /// A tenant proven by a client certificate whose subject common name is
    /// `certificate_name`, with the server's default quota and no token.
    pub fn with_certificate(
        name: impl Into<String>,
        certificate_name: impl Into<String>,
        permissions: Permissions,
    ) -> Self {
        Self {
            name: name.into(),
            token_hash: None,
            certificate_name: Some(certificate_name.into()),
            permissions,
            quota: None,
        }
    }
}

/// What a peer presented to prove who it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The bearer token from its HELLO.
    pub token: Option<&'a str>,
    /// The subject common name of the client certificate the transport
    /// verified (mutual TLS).
    pub certificate_name: Option<&'a str>,
}

/// Why a tenant could not be added to a [`Tenants`] directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantsError {
    /// Another tenant has the same name.
    #[error("tenant {0:?} is configured twice")]
    DuplicateName(String),
    /// Another tenant has the same token hash.
    #[error("tenant {0:?} has the same token hash as an earlier tenant")]
    DuplicateToken(String),
    /// Another tenant has the same certificate name.
    #[error("tenant {0:?} has the same certificate name as an earlier tenant")]
    DuplicateCertificate(String),
    /// The tenant has neither a token hash nor a certificate name, so
    /// nothing could prove it.
    #[error("tenant {0:?} has neither a token hash nor a certificate name")]
    NoCredential(String),
    /// The name is `anonymous`, reserved for peers without a token.
    #[error("the tenant name \"anonymous\" is reserved for peers without a token")]
    ReservedName,
}

/// Who a connection was authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The tenant: a configured one, or [`ANONYMOUS_TENANT`]. Shared: every
    /// request of the connection names it.
    pub tenant: Arc<str>,
    /// What it may do.
    pub permissions: Permissions,
}

/// Why authentication failed (the connection is closed with
/// `unauthorized`). The messages never contain the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The token belongs to no tenant.
    #[error("the token is not valid on this node")]
    UnknownToken,
    /// The HELLO claims a tenant other than the one its token or
    /// certificate proves.
    #[error("the credentials do not belong to tenant {claimed:.64?}")]
    TenantMismatch {
        /// The tenant the HELLO named.
        claimed: String,
    },
    /// The HELLO claims a tenant without a token.
    #[error("tenant {claimed:.64?} needs a token")]
    TenantWithoutToken {
        /// The tenant the HELLO named.
        claimed: String,
    },
    /// No token, and this node admits no anonymous peers.
    #[error("this node admits no anonymous peers: send a token")]
    AnonymousRefused,
    /// The transport verified a client certificate whose name belongs to
    /// no tenant.
    #[error("the client certificate {name:.64?} names no tenant on this node")]
    UnknownCertificate {
        /// The certificate's subject common name.
        name: String,
    },
    /// The token and the client certificate name different tenants.
    #[error("the token and the client certificate name different tenants")]
    CredentialsDisagree,
}

/// The tenant directory: token hash → tenant, plus what peers without a
/// token (the `anonymous` tenant) may do.
///
/// Bounded by configuration: only its tenants and `anonymous` ever get a
/// name, a quota bucket or a metric label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenants {
    tenants: Vec<Tenant>,
    /// Each tenant's name, as the [`Identity`] of each of its connections
    /// shares it: authenticating allocates nothing.
    names: Vec<Arc<str>>,
    anonymous_name: Arc<str>,
    anonymous: Permissions,
}

impl Default for Tenants {
    /// [`Tenants::open`].
    fn default() -> Self {
        Self::open()
    }
}

impl Tenants {
    /// No tenants; peers without a token get `anonymous`.
    pub fn new(anonymous: Permissions) -> Self {
        Self {
            tenants: Vec::new(),
            names: Vec::new(),
            anonymous_name: ANONYMOUS_TENANT.into(),
            anonymous,
        }
    }

    /// No tenants, and anonymous peers may do everything: how a gateway
    /// behaved before authentication existed (tests, embedding). A node's
    /// configuration names its own policy instead.
    pub fn open() -> Self {
        Self::new(Permissions::ALL)
    }

    /// Adds `tenant`.
    ///
    /// # Errors
    /// A name or token hash already present, or the name `anonymous`.
    pub fn add(&mut self, tenant: Tenant) -> Result<(), TenantsError> {
        if tenant.name == ANONYMOUS_TENANT {
            return Err(TenantsError::ReservedName);
        }
        if self.tenants.iter().any(|t| t.name == tenant.name) {
            return Err(TenantsError::DuplicateName(tenant.name));
        }
        if tenant.token_hash.is_none() && tenant.certificate_name.is_none() {
            return Err(TenantsError::NoCredential(tenant.name));
        }
        if tenant.token_hash.is_some()
            && self
                .tenants
                .iter()
                .any(|t| t.token_hash == tenant.token_hash)
        {
            return Err(TenantsError::DuplicateToken(tenant.name));
        }
        if tenant.certificate_name.is_some()
            && self
                .tenants
                .iter()
                .any(|t| t.certificate_name == tenant.certificate_name)
        {
            return Err(TenantsError::DuplicateCertificate(tenant.name));
        }
        self.names.push(tenant.name.as_str().into());
        self.tenants.push(tenant);
        Ok(())
    }

    /// [`Tenants::add`], by value.
    ///
    /// # Errors
    /// As [`Tenants::add`].
    pub fn with(mut self, tenant: Tenant) -> Result<Self, TenantsError> {
        self.add(tenant)?;
        Ok(self)
    }

    /// What peers without a token may do.
    pub fn anonymous(&self) -> Permissions {
        self.anonymous
    }

    /// The configured tenants.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    /// Decides who a peer is from its HELLO's `claimed` tenant and the
    /// `credentials` it presented.
    ///
    /// - A verified client certificate names the tenant whose
    ///   `certificate_name` it carries; a token names the tenant whose hash
    ///   it has. When both are presented they must name the same tenant.
    /// - Without either, the peer is [`ANONYMOUS_TENANT`] with the
    ///   anonymous permissions, if any.
    /// - A `claimed` tenant other than the proven one (or other than
    ///   `anonymous` without credentials) is refused.
    ///
    /// Every configured token hash is compared, each in constant time
    /// (`blake3::Hash`'s `==`), so the time taken does not tell which
    /// tenant, if any, came close.
    ///
    /// # Errors
    /// See [`AuthError`].
    pub fn authenticate(
        &self,
        claimed: Option<&str>,
        credentials: Credentials<'_>,
    ) -> Result<Identity, AuthError> {
        self.authenticate_hashed(
            claimed,
            credentials.token.map(token_hash),
            credentials.certificate_name,
        )
    }

    /// [`Tenants::authenticate`] with the token already hashed
    /// ([`token_hash`]): what a gateway keeps to authenticate a connection
    /// again after the directory changed, without keeping the token.
    ///
    /// # Errors
    /// See [`AuthError`].
    pub fn authenticate_hashed(
        &self,
        claimed: Option<&str>,
        token_hash: Option<blake3::Hash>,
        certificate_name: Option<&str>,
    ) -> Result<Identity, AuthError> {
        // Indices into `tenants` (and `names`).
        let by_token = match token_hash {
            None => None,
            Some(hash) => {
                let mut found = None;
                for (i, t) in self.tenants.iter().enumerate() {
                    if t.token_hash.is_some_and(|h| h == hash) {
                        found = Some(i);
                    }
                }
                Some(found.ok_or(AuthError::UnknownToken)?)
            }
        };
        let by_certificate = match certificate_name {
            None => None,
            Some(name) => Some(
                self.tenants
                    .iter()
                    .position(|t| t.certificate_name.as_deref() == Some(name))
                    .ok_or_else(|| AuthError::UnknownCertificate {
                        name: name.to_owned(),
                    })?,
            ),
        };
        let index = match (by_token, by_certificate) {
            // Names are unique: different tenants.
            (Some(a), Some(b)) if a != b => return Err(AuthError::CredentialsDisagree),
            (Some(i), _) | (None, Some(i)) => i,
            (None, None) => {
                if let Some(c) = claimed.filter(|c| *c != ANONYMOUS_TENANT) {
                    return Err(AuthError::TenantWithoutToken {
                        claimed: c.to_owned(),
                    });
                }
                if self.anonymous.is_empty() {
                    return Err(AuthError::AnonymousRefused);
                }
                return Ok(Identity {
                    tenant: Arc::clone(&self.anonymous_name),
                    permissions: self.anonymous,
                });
            }
        };
        let tenant = &self.tenants[index];
        if let Some(c) = claimed.filter(|c| *c != tenant.name) {
            return Err(AuthError::TenantMismatch {
                claimed: c.to_owned(),
            });
        }
        Ok(Identity {
            tenant: Arc::clone(&self.names[index]),
            permissions: tenant.permissions,
        })
    }

    /// Request quotas with a bucket for each configured tenant (its own
    /// quota, else `default`) and one for `anonymous` (`default`): no
    /// other bucket is ever made.
    pub fn quotas(&self, default: QuotaConfig) -> TenantQuotas {
        self.tenants
            .iter()
            .fold(TenantQuotas::new(default), |q, t| {
                q.with_tenant(&t.name, t.quota.unwrap_or(default))
            })
    }
}
