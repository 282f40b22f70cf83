//! The runtimes a benchmark can run on, and how to block on each.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use oap_io::Runtime;

/// One of the three runtime adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `runtime-tokio` on tokio's multi-threaded scheduler.
    Tokio,
    /// `runtime-smol` on smol's global executor.
    Smol,
    /// `runtime-async-std` (discontinued upstream; measured all the same).
    AsyncStd,
}

impl RuntimeKind {
    /// Every runtime, in table order.
    pub const ALL: [RuntimeKind; 3] = [Self::Tokio, Self::Smol, Self::AsyncStd];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tokio => "tokio",
            Self::Smol => "smol",
            Self::AsyncStd => "async-std",
        }
    }

    /// The `oap-io` runtime. Call inside [`RuntimeKind::block_on`] (tokio
    /// needs its context to spawn).
    pub fn runtime(self) -> Arc<dyn Runtime> {
        match self {
            Self::Tokio => runtime_tokio::runtime(),
            Self::Smol => runtime_smol::runtime(),
            Self::AsyncStd => runtime_async_std::runtime(),
        }
    }

    /// Runs `future` to completion on this runtime, from a thread that is
    /// not already inside one.
    pub fn block_on<F: Future>(self, future: F) -> std::io::Result<F::Output> {
        Ok(match self {
            Self::Tokio => tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(future),
            Self::Smol => smol::block_on(future),
            Self::AsyncStd => async_std::task::block_on(future),
        })
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuntimeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown runtime `{s}` (tokio, smol, async-std)"))
    }
}
