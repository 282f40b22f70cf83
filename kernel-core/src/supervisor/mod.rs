//! Sans-IO supervisor: decides when crashed services restart and when to give up.
//!
//! It never reads a clock, spawns or sleeps. The runtime drives it:
//!
//! 1. [`Supervisor::add_service`] after starting a service;
//! 2. [`Supervisor::on_exit`] with `now` whenever a service's task ends;
//! 3. drain [`Supervisor::poll_event`] and publish each event on the bus;
//! 4. sleep until [`Supervisor::poll_timeout`] (or the next exit), then call
//!    [`Supervisor::poll_restart`] with `now` until it returns `None`, spawning each
//!    service it names.
//!
//! Time is `std::time::Instant` passed in, so tests use `t0 + Duration` values.

pub mod backoff;
pub mod policy;
pub mod rng;
pub mod status;

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use thiserror::Error;

use crate::{KernelEvent, Metrics};
pub use policy::{Restart, RestartPolicy};
use rng::SplitMix64;
use status::Service;
pub use status::ServiceStatus;

/// How a service's task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It returned normally.
    Normal,
    /// It failed or panicked, for `reason`.
    Crashed(String),
}

/// The named service was never added.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown service {0:?}")]
pub struct UnknownService(pub String);

/// Restart bookkeeping for a set of services.
#[derive(Debug)]
pub struct Supervisor {
    services: BTreeMap<String, Service>,
    rng: SplitMix64,
    events: VecDeque<KernelEvent>,
    metrics: Option<Metrics>,
    shutting_down: bool,
}

impl Supervisor {
    /// A supervisor whose jitter is drawn from a generator seeded with `seed`: the same
    /// seed and the same inputs give the same deadlines.
    pub fn new(seed: u64) -> Self {
        Self {
            services: BTreeMap::new(),
            rng: SplitMix64::new(seed),
            events: VecDeque::new(),
            metrics: None,
            shutting_down: false,
        }
    }

    /// Like [`Supervisor::new`], and every restart handed out by
    /// [`Supervisor::poll_restart`] increments `service_restarts_total{service}`.
    pub fn with_metrics(seed: u64, metrics: Metrics) -> Self {
        Self {
            metrics: Some(metrics),
            ..Self::new(seed)
        }
    }

    /// Registers a service that the caller has just started (status `Running`). Adding
    /// an existing name replaces its policy and resets its history.
    pub fn add_service(&mut self, name: &str, policy: RestartPolicy) {
        if let Some(metrics) = &self.metrics {
            metrics.register_service(name);
        }
        self.services.insert(name.to_owned(), Service::new(policy));
    }

    /// Reports that `name`'s task ended at `now`. Queues `ServiceCrashed` for a crash and
    /// decides: restart at a deadline, stop, or give up (queuing `Health { ok: false }`).
    /// An exit for a service that is not `Running` is ignored.
    ///
    /// # Errors
    /// [`UnknownService`] if `name` was never added.
    pub fn on_exit(&mut self, name: &str, exit: Exit, now: Instant) -> Result<(), UnknownService> {
        let service = self
            .services
            .get_mut(name)
            .ok_or_else(|| UnknownService(name.to_owned()))?;
        if service.status != ServiceStatus::Running {
            return Ok(());
        }
        let crashed = matches!(exit, Exit::Crashed(_));
        if let Exit::Crashed(reason) = exit {
            self.events.push_back(KernelEvent::ServiceCrashed {
                service: name.to_owned(),
                reason,
            });
        }
        let restart = match service.policy.restart {
            Restart::Permanent => true,
            Restart::Transient => crashed,
            Restart::Temporary => false,
        };
        if !restart || self.shutting_down {
            service.status = ServiceStatus::Stopped;
            return Ok(());
        }
        service.prune(now);
        let attempts = u32::try_from(service.recent.len()).unwrap_or(u32::MAX);
        if attempts >= service.policy.max_restarts {
            service.status = ServiceStatus::Failed;
            self.events.push_back(KernelEvent::Health {
                service: name.to_owned(),
                ok: false,
            });
            return Ok(());
        }
        let delay = backoff::jittered_delay(&service.policy, attempts, &mut self.rng);
        service.recent.push_back(now);
        service.status = ServiceStatus::RestartPending { at: now + delay };
        Ok(())
    }

    /// The next event to publish on the bus, oldest first. Drain it after every input.
    pub fn poll_event(&mut self) -> Option<KernelEvent> {
        self.events.pop_front()
    }

    /// The earliest restart deadline, if any restart is pending. Wake up then and call
    /// [`Supervisor::poll_restart`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.services
            .values()
            .filter_map(|s| match s.status {
                ServiceStatus::RestartPending { at } => Some(at),
                _ => None,
            })
            .min()
    }

    /// Hands out one service whose restart deadline is at or before `now` (earliest
    /// first) and marks it `Running`: the caller must spawn it. Call repeatedly until
    /// `None`.
    pub fn poll_restart(&mut self, now: Instant) -> Option<String> {
        let (name, service) = self
            .services
            .iter_mut()
            .filter_map(|(name, s)| match s.status {
                ServiceStatus::RestartPending { at } if at <= now => Some((at, name, s)),
                _ => None,
            })
            .min_by_key(|(at, _, _)| *at)
            .map(|(_, name, s)| (name.clone(), s))?;
        service.status = ServiceStatus::Running;
        service.restarts_total += 1;
        if let Some(metrics) = &self.metrics {
            metrics.record_service_restart(&name);
        }
        Some(name)
    }

    /// Stops all pending restarts and refuses future ones (exits then lead to `Stopped`).
    pub fn shutdown(&mut self) {
        self.shutting_down = true;
        for service in self.services.values_mut() {
            if let ServiceStatus::RestartPending { .. } = service.status {
                service.status = ServiceStatus::Stopped;
            }
        }
    }

    /// Marks a `Failed` or `Stopped` service as started again by the operator, with a
    /// clean restart history.
    ///
    /// # Errors
    /// [`UnknownService`] if `name` was never added.
    pub fn revive(&mut self, name: &str) -> Result<(), UnknownService> {
        let service = self
            .services
            .get_mut(name)
            .ok_or_else(|| UnknownService(name.to_owned()))?;
        service.status = ServiceStatus::Running;
        service.recent.clear();
        Ok(())
    }

    /// `name`'s status, or `None` if unknown.
    pub fn status(&self, name: &str) -> Option<ServiceStatus> {
        self.services.get(name).map(|s| s.status)
    }

    /// Restarts handed out for `name` so far, or `None` if unknown.
    pub fn restarts_total(&self, name: &str) -> Option<u64> {
        self.services.get(name).map(|s| s.restarts_total)
    }
}
