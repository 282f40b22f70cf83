//! Configuration invariants.

use super::{Config, DEFAULT_MAX_FRAME, ValidationError};
use crate::bus::{MAX_CAPACITY, MIN_CAPACITY};

/// Smallest `max_frame`: a HELLO with its JSON must fit.
pub const MIN_MAX_FRAME: u64 = 1024;

/// Checks every invariant of `config`, in declaration order.
///
/// # Errors
/// The first violated invariant.
pub fn check(config: &Config) -> Result<(), ValidationError> {
    let limit = if config.allow_large_frames {
        u64::from(u32::MAX)
    } else {
        DEFAULT_MAX_FRAME
    };
    if config.max_frame > u64::from(u32::MAX) {
        return Err(ValidationError::MaxFrameBeyondWire {
            value: config.max_frame,
            limit: u64::from(u32::MAX),
        });
    }
    if config.max_frame > limit {
        return Err(ValidationError::MaxFrameTooLarge {
            value: config.max_frame,
            limit,
        });
    }
    if config.max_frame < MIN_MAX_FRAME {
        return Err(ValidationError::MaxFrameTooSmall {
            value: config.max_frame,
            min: MIN_MAX_FRAME,
        });
    }
    if !(MIN_CAPACITY..=MAX_CAPACITY).contains(&config.bus_capacity) {
        return Err(ValidationError::BusCapacity {
            value: config.bus_capacity,
            min: MIN_CAPACITY,
            max: MAX_CAPACITY,
        });
    }
    if config.listen_addr == config.admin_addr {
        return Err(ValidationError::AddrConflict(config.listen_addr));
    }
    let positive: [(&'static str, u64); 16] = [
        ("max_inflight", config.max_inflight.into()),
        ("initial_credit", config.initial_credit),
        ("max_object_bytes", config.max_object_bytes),
        ("max_connections", config.max_connections.into()),
        (
            "max_connections_per_ip",
            config.max_connections_per_ip.into(),
        ),
        ("handshake_timeout_ms", config.handshake_timeout_ms),
        ("idle_timeout_ms", config.idle_timeout_ms),
        ("request_timeout_ms", config.request_timeout_ms),
        ("frame_timeout_ms", config.frame_timeout_ms),
        ("write_timeout_ms", config.write_timeout_ms),
        (
            "quota.requests_per_sec",
            config.quota.requests_per_sec.into(),
        ),
        ("quota.burst", config.quota.burst.into()),
        (
            "supervisor.backoff_initial_ms",
            config.supervisor.backoff_initial_ms,
        ),
        (
            "supervisor.backoff_max_ms",
            config.supervisor.backoff_max_ms,
        ),
        (
            "supervisor.max_restarts",
            config.supervisor.max_restarts.into(),
        ),
        (
            "supervisor.restart_window_ms",
            config.supervisor.restart_window_ms,
        ),
    ];
    if let Some((field, _)) = positive.iter().find(|(_, value)| *value == 0) {
        return Err(ValidationError::Zero { field });
    }
    let sup = &config.supervisor;
    if sup.jitter_percent > 100 {
        return Err(ValidationError::JitterPercent {
            value: sup.jitter_percent,
        });
    }
    if sup.backoff_initial_ms > sup.backoff_max_ms {
        return Err(ValidationError::BackoffOrder {
            initial: sup.backoff_initial_ms,
            max: sup.backoff_max_ms,
        });
    }
    for (index, tenant) in config.tenants.iter().enumerate() {
        super::auth::check_tenant(tenant, &config.tenants[..index])
            .map_err(|(key, reason)| ValidationError::Tenant { index, key, reason })?;
    }
    Ok(())
}
