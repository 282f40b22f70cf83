//! The one event type carried by the kernel bus.

use serde::{Deserialize, Serialize};

/// An event on the kernel bus.
///
/// This enum is part of the frozen kernel API: its variants and their fields must not
/// change without a major version bump (see `tests/api.rs` and `API.txt`). It is
/// deliberately not `#[non_exhaustive]`, so consumers may match it exhaustively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KernelEvent {
    /// A service reported its health (`ok = false` means not ready).
    Health {
        /// Service name.
        service: String,
        /// Whether the service is healthy and ready.
        ok: bool,
    },
    /// The configuration was reloaded and changed; `version` is monotonic.
    ConfigUpdated {
        /// New configuration version.
        version: u64,
    },
    /// A supervised service crashed.
    ServiceCrashed {
        /// Service name.
        service: String,
        /// Human-readable crash reason.
        reason: String,
    },
    /// The node is shutting down.
    Shutdown,
}
