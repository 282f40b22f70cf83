//! Typed node configuration: TOML file, `OAP_*` environment overrides, validation, and
//! versioned reloads.
//!
//! Load order: defaults ← TOML file ← environment ([`env::ENV_VARS`]) → [`Config::validate`].
//! Unknown TOML keys are errors (a typo must not silently fall back to a default);
//! unknown `OAP_*` variables are ignored (other components share the prefix).

pub mod auth;
pub mod env;
pub mod error;
pub mod store;
pub mod validate;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use auth::{AnonymousPolicy, AuthConfig, Permission, TenantConfig};
pub use error::{ConfigError, ValidationError};
pub use store::ConfigStore;

/// OAP/1 default and ceiling for `max_frame` (1 MiB) unless `allow_large_frames` is set.
pub const DEFAULT_MAX_FRAME: u64 = 1 << 20;

/// Default `max_object_bytes`: 64 GiB.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 64 << 30;

/// Node configuration. Every field has a default (see [`Config::default`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// OAP listener address. Default `127.0.0.1:9443`.
    pub listen_addr: SocketAddr,
    /// Admin HTTP address (`/healthz`, `/readyz`, `/metrics`). Default `127.0.0.1:9096`.
    pub admin_addr: SocketAddr,
    /// Largest OAP/1 frame payload in bytes. Default and ceiling 1048576 (1 MiB).
    pub max_frame: u64,
    /// Permits `max_frame` above 1 MiB (up to `u32::MAX`, the wire limit).
    pub allow_large_frames: bool,
    /// Concurrent requests per connection. Default 32.
    pub max_inflight: u32,
    /// Initial per-request ACK credit in bytes. Default 65536.
    pub initial_credit: u64,
    /// Largest object accepted from a peer, in bytes: an object whose first DATA frame
    /// announces more is refused with ERROR `too_large` before any byte is stored. Default
    /// 68719476736 (64 GiB).
    pub max_object_bytes: u64,
    /// Concurrent connections, TLS handshakes in progress included. Default 1024.
    pub max_connections: u32,
    /// Concurrent connections from one source address. Default 256.
    pub max_connections_per_ip: u32,
    /// Time allowed for the HELLO exchange, in ms. Default 5000.
    pub handshake_timeout_ms: u64,
    /// Idle connection timeout, in ms. Default 60000.
    pub idle_timeout_ms: u64,
    /// Time allowed for one request, in ms. Default 30000.
    pub request_timeout_ms: u64,
    /// Time a frame may take to arrive whole once its first byte arrived, in ms.
    /// Default 30000.
    pub frame_timeout_ms: u64,
    /// Time a peer may take none of the bytes queued for it before its connection is
    /// dropped, in ms. Default 30000.
    pub write_timeout_ms: u64,
    /// Kernel bus capacity (events retained). Default 64, minimum 8.
    pub bus_capacity: usize,
    /// Per-tenant request quota.
    pub quota: QuotaConfig,
    /// Supervisor restart policy applied to every service.
    pub supervisor: SupervisorConfig,
    /// Authentication: what peers without a token may do (`[auth]`).
    pub auth: AuthConfig,
    /// The tenants that authenticate with a bearer token (`[[tenants]]`). Default none.
    pub tenants: Vec<TenantConfig>,
}

/// Per-tenant token bucket on requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// Sustained requests per second per tenant. Default 1000.
    pub requests_per_sec: u32,
    /// Bucket size: requests a tenant may burst above the rate. Default 2000.
    pub burst: u32,
}

/// Restart policy knobs (see [`crate::supervisor::RestartPolicy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisorConfig {
    /// First restart delay, in ms. Default 100.
    pub backoff_initial_ms: u64,
    /// Ceiling of the restart delay, in ms. Default 30000.
    pub backoff_max_ms: u64,
    /// Up to this percentage of each delay is randomly subtracted. Default 20.
    pub jitter_percent: u8,
    /// Restarts allowed within `restart_window_ms` before giving up. Default 5.
    pub max_restarts: u32,
    /// Sliding window for `max_restarts`, in ms. Default 60000.
    pub restart_window_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 9443)),
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 9096)),
            max_frame: DEFAULT_MAX_FRAME,
            allow_large_frames: false,
            max_inflight: 32,
            initial_credit: 65_536,
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
            max_connections: 1024,
            max_connections_per_ip: 256,
            handshake_timeout_ms: 5_000,
            idle_timeout_ms: 60_000,
            request_timeout_ms: 30_000,
            frame_timeout_ms: 30_000,
            write_timeout_ms: 30_000,
            bus_capacity: crate::bus::DEFAULT_CAPACITY,
            quota: QuotaConfig::default(),
            supervisor: SupervisorConfig::default(),
            auth: AuthConfig::default(),
            tenants: Vec::new(),
        }
    }
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self {
            requests_per_sec: 1_000,
            burst: 2_000,
        }
    }
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            backoff_initial_ms: 100,
            backoff_max_ms: 30_000,
            jitter_percent: 20,
            max_restarts: 5,
            restart_window_ms: 60_000,
        }
    }
}

impl Config {
    /// Parses and validates TOML text, without environment overrides.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] or [`ConfigError::Invalid`].
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::from_sources(text, std::iter::empty::<(String, String)>())
    }

    /// Parses `text`, applies the overrides found in `env` (name, value pairs; pass
    /// `std::env::vars()` in production, a fixed list in tests), then validates.
    ///
    /// # Errors
    /// [`ConfigError::Parse`], [`ConfigError::Env`] or [`ConfigError::Invalid`].
    pub fn from_sources<I, K, V>(text: &str, env: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config: Config = toml::from_str(text).map_err(ConfigError::Parse)?;
        config.apply_env(env)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the TOML file at `path`, applies the process environment's `OAP_*`
    /// variables, and validates.
    ///
    /// # Errors
    /// [`ConfigError::Io`] if the file cannot be read, otherwise as [`Config::from_sources`].
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let vars = std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        });
        Self::from_sources(&text, vars)
    }

    /// Applies the `OAP_*` overrides in `env` (see [`env::ENV_VARS`]); other names are
    /// ignored. Does not validate.
    ///
    /// # Errors
    /// [`ConfigError::Env`] when a known variable's value does not parse.
    pub fn apply_env<I, K, V>(&mut self, env: I) -> Result<(), ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        env::apply(self, env)
    }

    /// Checks every invariant; see [`ValidationError`] for the list.
    ///
    /// # Errors
    /// The first violated invariant.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate::check(self)
    }

    /// `handshake_timeout_ms` as a `Duration`.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }

    /// `idle_timeout_ms` as a `Duration`.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    /// The anonymous policy in force for a node listening on `listen`: `[auth] anonymous`
    /// when set, else [`AnonymousPolicy::default_for`] `listen` (`put+get` on loopback
    /// only, `none` otherwise). Pass the address actually listened on (a command-line
    /// flag may override `listen_addr`).
    pub fn anonymous_policy(&self, listen: SocketAddr) -> AnonymousPolicy {
        self.auth
            .anonymous
            .unwrap_or_else(|| AnonymousPolicy::default_for(listen))
    }

    /// `request_timeout_ms` as a `Duration`.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `frame_timeout_ms` as a `Duration`.
    pub fn frame_timeout(&self) -> Duration {
        Duration::from_millis(self.frame_timeout_ms)
    }

    /// `write_timeout_ms` as a `Duration`.
    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }
}
