//! Per-service restart policy.

use std::time::Duration;

use crate::config::SupervisorConfig;

/// When an exited service is restarted (OTP's child restart types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Always restart, even after a normal exit.
    #[default]
    Permanent,
    /// Restart only after a crash.
    Transient,
    /// Never restart.
    Temporary,
}

/// How and how often a service is restarted.
///
/// The n-th restart within the sliding `window` (n counting from 0) waits
/// `min(backoff_max, backoff_initial * 2^n)` minus a random jitter of up to
/// `jitter_percent` % of that delay. When `max_restarts` restarts already happened within
/// `window`, the next crash gives up: the service is marked failed and unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Which exits trigger a restart.
    pub restart: Restart,
    /// Delay before the first restart in a window.
    pub backoff_initial: Duration,
    /// Ceiling of any delay.
    pub backoff_max: Duration,
    /// Up to this percentage (0..=100) of each delay is randomly subtracted.
    pub jitter_percent: u8,
    /// Restarts allowed within `window` (OTP intensity).
    pub max_restarts: u32,
    /// Sliding window for `max_restarts` (OTP period).
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self::from(&SupervisorConfig::default())
    }
}

impl From<&SupervisorConfig> for RestartPolicy {
    fn from(c: &SupervisorConfig) -> Self {
        Self {
            restart: Restart::Permanent,
            backoff_initial: Duration::from_millis(c.backoff_initial_ms),
            backoff_max: Duration::from_millis(c.backoff_max_ms),
            jitter_percent: c.jitter_percent.min(100),
            max_restarts: c.max_restarts,
            window: Duration::from_millis(c.restart_window_ms),
        }
    }
}
