//! Per-service health, for `/healthz` and the `/readyz` readiness probe.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use crate::KernelEvent;

/// Shared table of service name → healthy. Cheap to clone; clones share the table.
#[derive(Debug, Clone, Default)]
pub struct HealthState {
    services: Arc<RwLock<BTreeMap<String, bool>>>,
}

/// A point-in-time copy of the table, serialisable for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSnapshot {
    /// Whether [`HealthState::all_ready`] held when the snapshot was taken.
    pub ready: bool,
    /// Every known service and its health, sorted by name.
    pub services: BTreeMap<String, bool>,
}

impl HealthState {
    /// An empty table (not ready: no service has reported yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `service`'s health, adding it if new.
    pub fn set(&self, service: &str, ok: bool) {
        let mut services = self
            .services
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match services.get_mut(service) {
            Some(current) => *current = ok,
            None => {
                services.insert(service.to_owned(), ok);
            }
        }
    }

    /// Forgets `service` (e.g. it was removed from the configuration).
    pub fn remove(&self, service: &str) {
        self.services
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(service);
    }

    /// `service`'s health, or `None` if it never reported.
    pub fn get(&self, service: &str) -> Option<bool> {
        self.services
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(service)
            .copied()
    }

    /// True when at least one service is known and every known service is healthy.
    /// An empty table is not ready, so a node does not report ready before its services
    /// have started.
    pub fn all_ready(&self) -> bool {
        let services = self.services.read().unwrap_or_else(PoisonError::into_inner);
        !services.is_empty() && services.values().all(|ok| *ok)
    }

    /// A consistent copy of the table and the readiness verdict.
    pub fn snapshot(&self) -> HealthSnapshot {
        let services = self
            .services
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let ready = !services.is_empty() && services.values().all(|ok| *ok);
        HealthSnapshot { ready, services }
    }

    /// Updates the table from a bus event: `Health` sets the service's state,
    /// `ServiceCrashed` marks it unhealthy; other events are ignored. Call it for every
    /// event of a bus subscription to keep the table in sync with the bus.
    pub fn apply(&self, event: &KernelEvent) {
        match event {
            KernelEvent::Health { service, ok } => self.set(service, *ok),
            KernelEvent::ServiceCrashed { service, .. } => self.set(service, false),
            KernelEvent::ConfigUpdated { .. } | KernelEvent::Shutdown => {}
        }
    }
}
