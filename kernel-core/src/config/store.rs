//! Versioned configuration holder for hot reloads.

use std::sync::Arc;

use super::{Config, ValidationError};
use crate::KernelEvent;

/// Holds the current configuration and its version.
///
/// Versions start at 1 and grow by one for each reload that changes the configuration.
/// The store does not publish: [`ConfigStore::replace`] returns the
/// `KernelEvent::ConfigUpdated` the caller must publish on the bus.
#[derive(Debug, Clone)]
pub struct ConfigStore {
    current: Arc<Config>,
    version: u64,
}

impl ConfigStore {
    /// A store holding `config` as version 1.
    ///
    /// # Errors
    /// The first invariant `config` breaks.
    pub fn new(config: Config) -> Result<Self, ValidationError> {
        config.validate()?;
        Ok(Self {
            current: Arc::new(config),
            version: 1,
        })
    }

    /// The current configuration (cheap to clone and hold across a reload).
    pub fn current(&self) -> Arc<Config> {
        Arc::clone(&self.current)
    }

    /// The current version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Installs `next` if it is valid. Returns `Some(ConfigUpdated { version })` when it
    /// differs from the current configuration (publish it), `None` when identical (the
    /// version does not move).
    ///
    /// # Errors
    /// The first invariant `next` breaks; the current configuration stays in force.
    pub fn replace(&mut self, next: Config) -> Result<Option<KernelEvent>, ValidationError> {
        next.validate()?;
        if *self.current == next {
            return Ok(None);
        }
        self.current = Arc::new(next);
        self.version += 1;
        Ok(Some(KernelEvent::ConfigUpdated {
            version: self.version,
        }))
    }
}
