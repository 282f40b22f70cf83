//! `OAP_*` environment overrides.

use std::fmt::Display;
use std::str::FromStr;

use super::{Config, ConfigError};

type Setter = fn(&mut Config, &str) -> Result<(), String>;

fn parse<T: FromStr>(value: &str) -> Result<T, String>
where
    T::Err: Display,
{
    value.trim().parse().map_err(|e: T::Err| e.to_string())
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected true/false, 1/0, yes/no or on/off".into()),
    }
}

/// Every recognised variable and the key it overrides, in the order they are applied.
pub const ENV_VARS: [(&str, &str, Setter); 23] = [
    ("OAP_LISTEN_ADDR", "listen_addr", |c, v| {
        c.listen_addr = parse(v)?;
        Ok(())
    }),
    ("OAP_ADMIN_ADDR", "admin_addr", |c, v| {
        c.admin_addr = parse(v)?;
        Ok(())
    }),
    ("OAP_MAX_FRAME", "max_frame", |c, v| {
        c.max_frame = parse(v)?;
        Ok(())
    }),
    ("OAP_ALLOW_LARGE_FRAMES", "allow_large_frames", |c, v| {
        c.allow_large_frames = parse_bool(v)?;
        Ok(())
    }),
    ("OAP_MAX_INFLIGHT", "max_inflight", |c, v| {
        c.max_inflight = parse(v)?;
        Ok(())
    }),
    ("OAP_INITIAL_CREDIT", "initial_credit", |c, v| {
        c.initial_credit = parse(v)?;
        Ok(())
    }),
    ("OAP_MAX_OBJECT_BYTES", "max_object_bytes", |c, v| {
        c.max_object_bytes = parse(v)?;
        Ok(())
    }),
    ("OAP_MAX_CONNECTIONS", "max_connections", |c, v| {
        c.max_connections = parse(v)?;
        Ok(())
    }),
    (
        "OAP_MAX_CONNECTIONS_PER_IP",
        "max_connections_per_ip",
        |c, v| {
            c.max_connections_per_ip = parse(v)?;
            Ok(())
        },
    ),
    ("OAP_FRAME_TIMEOUT_MS", "frame_timeout_ms", |c, v| {
        c.frame_timeout_ms = parse(v)?;
        Ok(())
    }),
    ("OAP_WRITE_TIMEOUT_MS", "write_timeout_ms", |c, v| {
        c.write_timeout_ms = parse(v)?;
        Ok(())
    }),
    (
        "OAP_HANDSHAKE_TIMEOUT_MS",
        "handshake_timeout_ms",
        |c, v| {
            c.handshake_timeout_ms = parse(v)?;
            Ok(())
        },
    ),
    ("OAP_IDLE_TIMEOUT_MS", "idle_timeout_ms", |c, v| {
        c.idle_timeout_ms = parse(v)?;
        Ok(())
    }),
    ("OAP_REQUEST_TIMEOUT_MS", "request_timeout_ms", |c, v| {
        c.request_timeout_ms = parse(v)?;
        Ok(())
    }),
    ("OAP_BUS_CAPACITY", "bus_capacity", |c, v| {
        c.bus_capacity = parse(v)?;
        Ok(())
    }),
    (
        "OAP_QUOTA_REQUESTS_PER_SEC",
        "quota.requests_per_sec",
        |c, v| {
            c.quota.requests_per_sec = parse(v)?;
            Ok(())
        },
    ),
    ("OAP_QUOTA_BURST", "quota.burst", |c, v| {
        c.quota.burst = parse(v)?;
        Ok(())
    }),
    ("OAP_AUTH_ANONYMOUS", "auth.anonymous", |c, v| {
        c.auth.anonymous = Some(parse(v)?);
        Ok(())
    }),
    (
        "OAP_SUPERVISOR_BACKOFF_INITIAL_MS",
        "supervisor.backoff_initial_ms",
        |c, v| {
            c.supervisor.backoff_initial_ms = parse(v)?;
            Ok(())
        },
    ),
    (
        "OAP_SUPERVISOR_BACKOFF_MAX_MS",
        "supervisor.backoff_max_ms",
        |c, v| {
            c.supervisor.backoff_max_ms = parse(v)?;
            Ok(())
        },
    ),
    (
        "OAP_SUPERVISOR_JITTER_PERCENT",
        "supervisor.jitter_percent",
        |c, v| {
            c.supervisor.jitter_percent = parse(v)?;
            Ok(())
        },
    ),
    (
        "OAP_SUPERVISOR_MAX_RESTARTS",
        "supervisor.max_restarts",
        |c, v| {
            c.supervisor.max_restarts = parse(v)?;
            Ok(())
        },
    ),
    (
        "OAP_SUPERVISOR_RESTART_WINDOW_MS",
        "supervisor.restart_window_ms",
        |c, v| {
            c.supervisor.restart_window_ms = parse(v)?;
            Ok(())
        },
    ),
];

/// Applies every recognised variable found in `env` to `config`.
pub(super) fn apply<I, K, V>(config: &mut Config, env: I) -> Result<(), ConfigError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    for (name, value) in env {
        let (name, value) = (name.as_ref(), value.as_ref());
        if let Some((_, _, set)) = ENV_VARS.iter().find(|(var, _, _)| *var == name) {
            set(config, value).map_err(|reason| ConfigError::Env {
                var: name.to_owned(),
                value: value.to_owned(),
                reason,
            })?;
        }
    }
    Ok(())
}
