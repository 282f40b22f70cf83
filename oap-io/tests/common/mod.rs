//! The runtime the driver's tests run it on: nothing is spawned, no timer
//! fires and no socket is made (oap-io has no reactor of its own to borrow
//! them from; the runtime crates supply those). The clock can be stopped,
//! and the deadline of every sleep asked for is noted.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use oap_io::{BoxFuture, BoxStream, Listener, Runtime};

// Each test file uses part of this module.
#[allow(dead_code)]
mod steady;
#[allow(unused_imports)]
pub(crate) use steady::steady_duplex;

#[derive(Debug, Default)]
pub(crate) struct Inline {
    stopped_at: Option<Instant>,
    armed: Mutex<Vec<Instant>>,
}

impl Inline {
    /// A runtime whose clock reads `now`, always.
    // Each test file uses part of this module.
    #[allow(dead_code)]
    pub(crate) fn stopped_at(now: Instant) -> Self {
        Self {
            stopped_at: Some(now),
            armed: Mutex::default(),
        }
    }

    /// The deadlines of the sleeps asked for so far, in order.
    #[allow(dead_code)]
    pub(crate) fn armed(&self) -> Vec<Instant> {
        self.armed.lock().expect("armed").clone()
    }
}

impl Runtime for Inline {
    fn now(&self) -> Instant {
        self.stopped_at.unwrap_or_else(Instant::now)
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        self.armed.lock().expect("armed").push(deadline);
        Box::pin(std::future::pending())
    }

    fn spawn(&self, _future: BoxFuture<'static, ()>) {}

    fn bind(&self, _addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async { Err(io::ErrorKind::Unsupported.into()) })
    }

    fn connect(&self, _addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxStream>> {
        Box::pin(async { Err(io::ErrorKind::Unsupported.into()) })
    }
}
