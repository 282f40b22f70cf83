//! Configuration errors.

use std::path::PathBuf;

use thiserror::Error;

/// Why a configuration could not be loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key or a wrongly typed value.
    #[error("invalid config TOML: {0}")]
    Parse(#[source] toml::de::Error),
    /// An environment override does not parse.
    #[error("environment variable {var}={value:?}: {reason}")]
    Env {
        /// Variable name.
        var: String,
        /// Its value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The values parse but break an invariant.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// A configuration invariant that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    /// `max_frame` above 1 MiB without `allow_large_frames = true`.
    #[error("max_frame {value} exceeds {limit} bytes; set allow_large_frames = true to permit it")]
    MaxFrameTooLarge {
        /// Configured value.
        value: u64,
        /// The limit that applies.
        limit: u64,
    },
    /// `max_frame` above the OAP/1 wire limit (`u32::MAX`), even with large frames allowed.
    #[error("max_frame {value} exceeds the OAP/1 wire limit {limit}")]
    MaxFrameBeyondWire {
        /// Configured value.
        value: u64,
        /// `u32::MAX`.
        limit: u64,
    },
    /// `max_frame` too small to carry a HELLO.
    #[error("max_frame {value} is below the minimum {min}")]
    MaxFrameTooSmall {
        /// Configured value.
        value: u64,
        /// Minimum.
        min: u64,
    },
    /// `bus_capacity` outside the accepted range.
    #[error("bus_capacity {value} is outside {min}..={max}")]
    BusCapacity {
        /// Configured value.
        value: usize,
        /// Minimum (8).
        min: usize,
        /// Maximum.
        max: usize,
    },
    /// A field that must be positive is zero.
    #[error("{field} must be greater than zero")]
    Zero {
        /// The field's TOML key.
        field: &'static str,
    },
    /// `supervisor.jitter_percent` above 100.
    #[error("supervisor.jitter_percent {value} is above 100")]
    JitterPercent {
        /// Configured value.
        value: u8,
    },
    /// `supervisor.backoff_initial_ms` above `supervisor.backoff_max_ms`.
    #[error("supervisor.backoff_initial_ms {initial} is above backoff_max_ms {max}")]
    BackoffOrder {
        /// Initial delay (ms).
        initial: u64,
        /// Cap (ms).
        max: u64,
    },
    /// A `[[tenants]]` entry breaks an invariant: `key` of the entry at `index` (from 0).
    #[error("tenants[{index}].{key}: {reason}")]
    Tenant {
        /// The entry's position in the `[[tenants]]` list.
        index: usize,
        /// The offending key (`name`, `token_hash`, `requests_per_sec`, ...).
        key: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The OAP listener and the admin endpoint share an address.
    #[error("listen_addr and admin_addr are both {0}")]
    AddrConflict(std::net::SocketAddr),
}
