//! Lifecycle state of one supervised service.

use std::collections::VecDeque;
use std::time::Instant;

use super::policy::RestartPolicy;

/// Where a supervised service stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    /// Running (as far as the supervisor knows).
    Running,
    /// Exited; to be restarted at `at` (see `Supervisor::poll_restart`).
    RestartPending {
        /// Restart deadline.
        at: Instant,
    },
    /// Exited and not to be restarted (policy, or shutdown).
    Stopped,
    /// Gave up after too many restarts within the window; reported unhealthy.
    Failed,
}

/// Bookkeeping for one service.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) policy: RestartPolicy,
    pub(crate) status: ServiceStatus,
    /// When each restart within the current window was decided, oldest first.
    pub(crate) recent: VecDeque<Instant>,
    pub(crate) restarts_total: u64,
}

impl Service {
    pub(crate) fn new(policy: RestartPolicy) -> Self {
        Self {
            policy,
            status: ServiceStatus::Running,
            recent: VecDeque::new(),
            restarts_total: 0,
        }
    }

    /// Forgets restarts that left the window ending at `now`.
    pub(crate) fn prune(&mut self, now: Instant) {
        while let Some(&oldest) = self.recent.front() {
            if now.saturating_duration_since(oldest) >= self.policy.window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
    }
}
