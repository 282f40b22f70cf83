//! The runtimes a benchmark can run on, and how to block on each.

use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use oap_io::Runtime;

/// One of the three runtime adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `runtime-tokio` on tokio's multi-threaded scheduler.
    Tokio,
    /// `runtime-smol`: clients on smol's global executor, servers on an
    /// executor of their own ([`RuntimeKind::server_runtime`]).
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

    /// The `oap-io` runtime a server child runs on, as an operator runs a
    /// server: its tasks on one thread per core. That is
    /// [`RuntimeKind::runtime`] on tokio and async-std, whose schedulers
    /// have as many threads by default; smol's global executor has one
    /// (`runtime_smol::runtime`), so a smol server runs on an executor of
    /// its own, started at the first call. Call inside
    /// [`RuntimeKind::block_on`].
    pub fn server_runtime(self) -> Arc<dyn Runtime> {
        match self {
            Self::Smol => runtime_smol::runtime_on(per_core_executor()),
            _ => self.runtime(),
        }
    }

    /// How many connection workers a server child on this runtime has, as
    /// `oap serve` has by default: one per core on tokio (see
    /// `runtime_tokio::workers`), where Linux spreads connections over
    /// them; `None` elsewhere, where the server's tasks share one
    /// scheduler ([`RuntimeKind::server_runtime`]).
    pub fn server_workers(self) -> Option<NonZeroUsize> {
        match self {
            #[cfg(target_os = "linux")]
            Self::Tokio => Some(runtime_tokio::workers::one_per_core()),
            _ => None,
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

/// The process's smol executor for servers, run on one thread per core,
/// started at the first call.
fn per_core_executor() -> Arc<smol::Executor<'static>> {
    static EXECUTOR: OnceLock<Arc<smol::Executor<'static>>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| {
            let executor = Arc::new(smol::Executor::new());
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            for i in 0..threads {
                let executor = executor.clone();
                // Never joined: the executor serves until the process ends,
                // as smol's global one does.
                std::thread::Builder::new()
                    .name(format!("smol-server-{i}"))
                    .spawn(move || smol::block_on(executor.run(std::future::pending::<()>())))
                    .expect("a server child can start its executor's threads");
            }
            executor
        })
        .clone()
}

/// Runs `work` as a task on `runtime` and waits for its output.
///
/// The small-object cases issue their requests from a task, as an
/// application built on the runtime does: its wake-ups then stay on the
/// runtime's threads, often on the one that runs the connection's driver.
/// Awaited straight from [`RuntimeKind::block_on`], every batch would cross
/// from a worker thread to the blocked one and back (see "Small objects"
/// in `docs/PERFORMANCE.md` for what that costs).
pub async fn in_task<T: Send + 'static>(
    runtime: &dyn Runtime,
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, crate::Error> {
    let (tx, rx) = smol::channel::bounded(1);
    runtime.spawn(Box::pin(async move {
        // The receiver waits below until this sends.
        let _ = tx.send(work.await).await;
    }));
    // Only a panic in `work` drops the sender unsent.
    rx.recv()
        .await
        .map_err(|_| "the benchmark's task panicked".into())
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
