//! The signals that stop `oap serve` gracefully: SIGINT (Ctrl-C) and
//! SIGTERM (what systemd, Docker and Kubernetes send). Both drain; a
//! second one forces the stop.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::Poll;

use anyhow::{Context, Result};
use tokio::signal::unix::{Signal, SignalKind, signal};

type CtrlC = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

/// SIGINT and SIGTERM, installed together before the node is ready so that
/// neither can kill it mid-start instead of draining.
pub(crate) struct StopSignals {
    ctrl_c: CtrlC,
    term: Signal,
}

fn ctrl_c() -> CtrlC {
    Box::pin(kernel_core::wait_for_ctrl_c())
}

impl StopSignals {
    /// Installs both handlers now. A signal that arrives later, even before
    /// [`StopSignals::next`] is awaited, is not missed.
    pub(crate) async fn install() -> Result<Self> {
        let term = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
        let mut ctrl_c = ctrl_c();
        // The kernel's Ctrl-C future installs its handler when first polled.
        if let Poll::Ready(r) =
            std::future::poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await
        {
            r.context("cannot install the Ctrl-C handler")?;
            anyhow::bail!("interrupted while starting");
        }
        Ok(Self { ctrl_c, term })
    }

    /// Waits for the next SIGINT or SIGTERM and names it.
    pub(crate) async fn next(&mut self) -> Result<&'static str> {
        tokio::select! {
            r = &mut self.ctrl_c => {
                r.context("cannot install the Ctrl-C handler")?;
                self.ctrl_c = ctrl_c();
                Ok("SIGINT")
            }
            _ = self.term.recv() => Ok("SIGTERM"),
        }
    }
}
