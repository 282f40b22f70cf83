//! Connection workers: a gateway's accept loops on several single-threaded
//! tokio runtimes, each on a thread of its own with listening sockets of
//! its own on the same addresses (`SO_REUSEPORT`).
//!
//! The kernel spreads new connections over the workers' sockets, and a
//! connection's task then stays on the thread that accepted it: no other
//! thread steals it, and no wake-up is handed to another thread. For many
//! short connections that took about a tenth off the gateway's CPU per
//! connection, in system time: the instructions stayed the same (see
//! `docs/PERFORMANCE.md`, "connection workers"). The price
//! is balance: a busy connection cannot move to an idle thread, and the
//! kernel spreads connections by their addresses, not by load.
//!
//! Everything else the gateway has (its store, quotas, admission limits,
//! bus and metrics) is shared by the workers as by the tasks of one
//! runtime, and so is the blocking pool: blocking work on a worker goes
//! to the pool of the runtime that started the workers.

use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use oap_io::{BoxFuture, Listener};
use oap_node::Gateway;
use oap_node::server::Upgrade;
use tokio::sync::{mpsc, watch};

use crate::TcpListener;

/// Pending connections each worker's socket queues before the kernel
/// refuses more, the same as the standard library's listeners.
const BACKLOG: u32 = 1024;

/// Threads of the blocking pools (store calls that may wait) of all
/// workers together when they have their own (started outside a runtime):
/// tokio's default for one runtime, shared out, so that the bound does not
/// grow with the number of workers.
const BLOCKING_THREADS: usize = 512;

thread_local! {
    /// On a worker's thread: the runtime whose blocking pool its
    /// connections' blocking work goes to.
    static BLOCKING_POOL: std::cell::RefCell<Option<tokio::runtime::Handle>> =
        const { std::cell::RefCell::new(None) };
}

/// The blocking pool for work that may wait, on a worker's thread: that of
/// the runtime the workers were started from, if they were started from
/// one. One pool for all workers keeps what one runtime had: one bound on
/// its threads, and threads reused whichever worker a connection is on:
/// glibc keeps freed memory per thread (an arena each), and a pool per
/// worker added such threads for every worker (`docs/PERFORMANCE.md`,
/// "connection workers").
pub(crate) fn blocking_pool() -> Option<tokio::runtime::Handle> {
    BLOCKING_POOL.with(|pool| pool.borrow().clone())
}

/// A gateway served by connection workers; see the [module](self) docs.
///
/// Start them with [`Workers::serve`]. Then:
/// - [`Workers::next_exit`] tells when a worker's accept loops end: all of
///   them at shutdown (the gateway hears `KernelEvent::Shutdown` on its
///   bus), or one that failed, which [`Workers::restart`] replaces;
/// - once they have all ended and the gateway's connections are done (see
///   [`Gateway::wait_for_open_connections`]), [`Workers::join`] ends the
///   threads. Connections still open then are dropped with their runtimes.
///
/// [`Workers::join`] may also be called while they serve: it stops them.
/// Dropping `Workers` stops them too, without waiting for their threads.
pub struct Workers {
    /// How many workers were asked for (restarts replace, not add).
    count: usize,
    /// The runtime that started them, whose blocking pool they use.
    blocking_pool: Option<tokio::runtime::Handle>,
    accept_loop: AcceptLoop,
    addrs: Vec<SocketAddr>,
    workers: Vec<Worker>,
    exits_tx: mpsc::UnboundedSender<(usize, io::Result<()>)>,
    exits: mpsc::UnboundedReceiver<(usize, io::Result<()>)>,
    /// Set once to let every worker's thread end.
    release: watch::Sender<bool>,
}

/// One worker per core, as `oap serve` runs by default: the number of
/// threads the system says this process may run at once (1 if it cannot
/// say).
pub fn one_per_core() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// What each worker runs on each of its listeners.
type AcceptLoop =
    Arc<dyn Fn(Box<dyn Listener>) -> BoxFuture<'static, io::Result<()>> + Send + Sync>;

/// One worker: its thread, and the connections its sockets accepted.
struct Worker {
    thread: Option<JoinHandle<()>>,
    accepted: Arc<AtomicU64>,
    /// Its accept loops are running.
    serving: bool,
}

impl Workers {
    /// Starts `count` workers, each listening on every one of `addrs` and
    /// serving `gateway` (through `upgrade`, e.g. TLS, if given) until
    /// shutdown. An address with port 0 is bound on a free port by the
    /// first worker; the others bind that port.
    ///
    /// Blocks until every worker has bound its sockets, which takes a
    /// thread start and a few system calls each. Fails, with no worker
    /// left running, if one cannot bind an address (one in use without
    /// `SO_REUSEPORT`, for example).
    pub fn serve(
        gateway: &Gateway,
        addrs: &[SocketAddr],
        count: NonZeroUsize,
        upgrade: Option<Upgrade>,
    ) -> io::Result<Self> {
        let gateway = gateway.clone();
        Self::run(addrs, count, move |listener| {
            let gateway = gateway.clone();
            let upgrade = upgrade.clone();
            Box::pin(async move { gateway.serve_listener(listener, upgrade).await })
        })
    }

    /// [`Workers::serve`] for any server: each worker runs `accept_loop`
    /// on each of its listeners, as a task on its runtime. The loop must
    /// spawn its connections' tasks with `tokio::spawn` (or the
    /// [`runtime`](crate::runtime()), which does), so that they stay on
    /// the worker, and end at its server's shutdown.
    pub fn run(
        addrs: &[SocketAddr],
        count: NonZeroUsize,
        accept_loop: impl Fn(Box<dyn Listener>) -> BoxFuture<'static, io::Result<()>>
        + Send
        + Sync
        + 'static,
    ) -> io::Result<Self> {
        let (exits_tx, exits) = mpsc::unbounded_channel();
        let mut workers = Self {
            count: count.get(),
            blocking_pool: tokio::runtime::Handle::try_current().ok(),
            accept_loop: Arc::new(accept_loop),
            addrs: addrs.to_vec(),
            workers: Vec::with_capacity(count.get()),
            exits_tx,
            exits,
            release: watch::Sender::new(false),
        };
        for _ in 0..count.get() {
            if let Err(e) = workers.start() {
                workers.release_all();
                return Err(e);
            }
        }
        Ok(workers)
    }

    /// The addresses served, with the ports the first worker bound.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Connections each worker has accepted, by worker (restarted ones
    /// included, last).
    pub fn accepted(&self) -> Vec<u64> {
        self.workers
            .iter()
            .map(|w| w.accepted.load(Ordering::Relaxed))
            .collect()
    }

    /// Workers whose accept loops are running.
    pub fn serving(&self) -> usize {
        self.workers.iter().filter(|w| w.serving).count()
    }

    /// Waits until a worker's accept loops end, and returns which worker
    /// and why: `Ok` when they stopped for shutdown, the first error if
    /// one of them failed (the worker's other loops are then stopped too).
    /// The worker's thread keeps running the connections it accepted.
    /// Returns `None` once no worker serves.
    pub async fn next_exit(&mut self) -> Option<(usize, io::Result<()>)> {
        if self.serving() == 0 {
            return None;
        }
        let (index, result) = self.exits.recv().await?;
        self.workers[index].serving = false;
        Some((index, result))
    }

    /// Starts a worker in place of one whose accept loops ended, on the
    /// same addresses. The old worker's thread keeps its connections until
    /// [`Workers::join`].
    pub fn restart(&mut self) -> io::Result<()> {
        self.start()
    }

    /// Ends every worker's thread, and with it the connections still open
    /// on it, and waits for them. Call after the accept loops ended (see
    /// [`Workers::next_exit`]) and open connections were given their time;
    /// called earlier, it stops the accept loops too.
    pub fn join(mut self) {
        self.release_all();
    }

    fn release_all(&mut self) {
        self.release.send_replace(true);
        for worker in &mut self.workers {
            if let Some(thread) = worker.thread.take() {
                let _ = thread.join();
            }
        }
    }

    /// Starts one more worker: binds its sockets on its own thread and
    /// waits until it has, so that the first one's free ports are known
    /// before the next binds them.
    fn start(&mut self) -> io::Result<()> {
        let index = self.workers.len();
        let accepted = Arc::new(AtomicU64::new(0));
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let job = WorkerJob {
            index,
            blocking_pool: self.blocking_pool.clone(),
            blocking_threads: (BLOCKING_THREADS / self.count).max(1),
            accept_loop: self.accept_loop.clone(),
            addrs: self.addrs.clone(),
            accepted: accepted.clone(),
            exits: self.exits_tx.clone(),
            release: self.release.subscribe(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("oap-worker-{index}"))
            .spawn(move || job.run(bound_tx))?;
        // The thread answers once it has bound, or failed to; a thread
        // that died before answering is an error too.
        match bound_rx.recv() {
            Ok(Ok(addrs)) => {
                self.addrs = addrs;
                self.workers.push(Worker {
                    thread: Some(thread),
                    accepted,
                    serving: true,
                });
                Ok(())
            }
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(io::Error::other("a connection worker failed to start"))
            }
        }
    }
}

/// What a worker's thread needs.
struct WorkerJob {
    index: usize,
    /// Where the worker's blocking work goes, if not to its own pool.
    blocking_pool: Option<tokio::runtime::Handle>,
    blocking_threads: usize,
    accept_loop: AcceptLoop,
    addrs: Vec<SocketAddr>,
    accepted: Arc<AtomicU64>,
    exits: mpsc::UnboundedSender<(usize, io::Result<()>)>,
    release: watch::Receiver<bool>,
}

impl WorkerJob {
    /// The thread's life: bind, report the addresses bound, serve until
    /// the accept loops end, report that, then keep running the accepted
    /// connections until released (or, if `Workers` is gone, stop).
    fn run(self, bound: std::sync::mpsc::Sender<io::Result<Vec<SocketAddr>>>) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(self.blocking_threads)
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = bound.send(Err(e));
                return;
            }
        };
        let Self {
            index,
            blocking_threads: _,
            blocking_pool,
            accept_loop,
            addrs,
            accepted,
            exits,
            mut release,
        } = self;
        BLOCKING_POOL.with(|pool| *pool.borrow_mut() = blocking_pool);
        runtime.block_on(async move {
            let listeners = match bind_all(&addrs) {
                Ok(listeners) => listeners,
                Err(e) => {
                    let _ = bound.send(Err(e));
                    return;
                }
            };
            let addrs = listeners.iter().map(|l| l.local_addr()).collect();
            let _ = bound.send(addrs);
            let mut loops = tokio::task::JoinSet::new();
            for listener in listeners {
                loops.spawn(accept_loop(Box::new(TcpListener {
                    inner: listener,
                    accepted: Some(accepted.clone()),
                })));
            }
            // Released (or `Workers` dropped) while serving: stop now.
            let result = tokio::select! {
                result = until_all_end(&mut loops) => result,
                () = released(&mut release) => return,
            };
            if exits.send((index, result)).is_err() {
                // Nobody waits for this worker: its connections stop now.
                return;
            }
            released(&mut release).await;
        });
    }
}

/// Waits until every accept loop has ended. At shutdown each ends with
/// `Ok`; if one fails, the others are stopped, so that the worker is
/// restarted whole, and the first error is the result.
async fn until_all_end(loops: &mut tokio::task::JoinSet<io::Result<()>>) -> io::Result<()> {
    let mut result = Ok(());
    while let Some(ended) = loops.join_next().await {
        let failed = match ended {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(e) if e.is_cancelled() => continue,
            Err(e) => io::Error::other(e),
        };
        if result.is_ok() {
            result = Err(failed);
            loops.abort_all();
        }
    }
    result
}

/// Completes once the worker's thread may end: `Workers` released it, or
/// is gone.
async fn released(release: &mut watch::Receiver<bool>) {
    let _ = release.wait_for(|released| *released).await;
}

/// Listening sockets on `addrs`, shareable with the other workers'.
fn bind_all(addrs: &[SocketAddr]) -> io::Result<Vec<tokio::net::TcpListener>> {
    addrs
        .iter()
        .map(|addr| {
            let socket = match addr {
                SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
                SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
            };
            socket.set_reuseaddr(true)?;
            socket.set_reuseport(true)?;
            socket.bind(*addr)?;
            socket.listen(BACKLOG)
        })
        .collect()
}
