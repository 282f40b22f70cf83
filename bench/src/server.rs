//! The gateway under test runs in a child process, so that its CPU time and
//! peak memory are measured apart from the client's. So does the async
//! reference server of the scale and churn cases, so that its CPU time is
//! measured the same way.
//!
//! The parent starts `<program> <args...> <runtime>`, followed by
//! `--store-dir <dir>` for a directory store, or by `--reference <script>`
//! for the reference (see [`Launcher`]); that program must call
//! [`serve_child`], or [`serve_reference_child`] for the latter. The child
//! prints `listening <addr> [<addr>...]` on stdout (it listens on several
//! loopback addresses for the churn case's clients) and serves
//! until its stdin closes.
//! Meanwhile, each line `cpu` the parent writes to its stdin is answered
//! on stdout with `cpu <nanoseconds>`: the child's own CPU clock, every
//! thread's, which `/proc` would give only in 10 ms ticks.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oap_node::{DirStore, Gateway, GatewayConfig, MemStore, ObjectStore, Services};

use crate::churn::reference::Script;
use crate::proc_stats::{self, Memory, Pid};
use crate::rt::RuntimeKind;

/// How to start a child server: a program and the arguments that make it
/// call [`serve_child`] with the runtime named after them (and, for a
/// directory store, the directory after `--store-dir`), or
/// [`serve_reference_child`] when `--reference` follows the runtime.
#[derive(Debug, Clone)]
pub struct Launcher {
    program: PathBuf,
    args: Vec<OsString>,
}

impl Launcher {
    /// `program args... <runtime-name>` will serve.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// This executable again, with `args` before the runtime name.
    pub fn current_exe(args: impl IntoIterator<Item = impl Into<OsString>>) -> io::Result<Self> {
        Ok(Self::new(std::env::current_exe()?, args))
    }

    /// Starts a server on `kind` with an in-memory store and waits until
    /// it listens.
    pub fn start(&self, kind: RuntimeKind) -> io::Result<ServerProcess> {
        self.spawn(kind, [])
    }

    /// Starts a server on `kind` whose store is a directory store in
    /// `dir` (created if missing) and waits until it listens.
    pub fn start_with_store_dir(&self, kind: RuntimeKind, dir: &Path) -> io::Result<ServerProcess> {
        self.spawn(kind, [STORE_DIR_FLAG.into(), dir.into()])
    }

    /// Starts the async reference server of the scale and churn cases on
    /// `kind`, following `script`, and waits until it listens.
    pub fn start_reference(&self, kind: RuntimeKind, script: &Script) -> io::Result<ServerProcess> {
        self.spawn(kind, [REFERENCE_FLAG.into(), script.to_string().into()])
    }

    /// Starts `program args... <runtime-name> after...` and reads the
    /// address it listens on.
    fn spawn(
        &self,
        kind: RuntimeKind,
        after: impl IntoIterator<Item = OsString>,
    ) -> io::Result<ServerProcess> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .arg(kind.name())
            .args(after)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let mut stdout = BufReader::new(stdout);
        let line = read_short_line(&mut stdout)?;
        let addrs: Option<Vec<SocketAddr>> = line
            .trim()
            .strip_prefix("listening ")
            .map(|list| {
                list.split_whitespace()
                    .map(str::parse)
                    .collect::<Result<_, _>>()
            })
            .and_then(Result::ok)
            .filter(|addrs: &Vec<SocketAddr>| !addrs.is_empty());
        let Some(addrs) = addrs else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!(
                "the bench server did not start (it printed {line:?})"
            )));
        };
        let control = stdin.map(|stdin| Mutex::new(Control { stdin, stdout }));
        Ok(ServerProcess {
            child,
            control,
            addrs,
        })
    }
}

/// One line of the child's, at most 256 bytes: the child writes only
/// short lines.
fn read_short_line(stdout: &mut BufReader<ChildStdout>) -> io::Result<String> {
    let mut line = String::new();
    stdout.take(256).read_line(&mut line)?;
    Ok(line)
}

/// The line that asks a child for its CPU time, and its answer's first
/// word.
const CPU_QUERY: &str = "cpu";

/// A running child server. Dropping it stops the child.
pub struct ServerProcess {
    child: Child,
    /// Closed (taken) to stop the child.
    control: Option<Mutex<Control>>,
    /// Never empty: 127.0.0.1 first.
    addrs: Vec<SocketAddr>,
}

/// The parent's ends of the child's stdin and stdout.
struct Control {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    /// Where it listens: on 127.0.0.1.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every address it listens on: 127.0.0.1 first, then the
    /// [`aliases`](crate::churn::addresses::aliases) it could bind.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Its CPU time so far, every thread's: what its own CPU clock says,
    /// to the nanosecond, or else `/proc`'s count in 10 ms ticks (`None`
    /// without either).
    pub fn cpu_time(&self) -> Option<Duration> {
        self.ask_cpu_time()
            .or_else(|| proc_stats::cpu_time(self.pid()))
    }

    fn ask_cpu_time(&self) -> Option<Duration> {
        let mut control = self.control.as_ref()?.lock().ok()?;
        let Control { stdin, stdout } = &mut *control;
        writeln!(stdin, "{CPU_QUERY}").ok()?;
        stdin.flush().ok()?;
        let line = read_short_line(stdout).ok()?;
        let ns = line.trim().strip_prefix(CPU_QUERY)?.trim().parse().ok()?;
        Some(Duration::from_nanos(ns))
    }

    /// CPU time of each of the server's threads so far.
    pub fn thread_cpu_times(&self) -> Option<std::collections::BTreeMap<u32, Duration>> {
        proc_stats::thread_cpu_times(self.pid())
    }

    /// Its resident and peak memory.
    pub fn memory(&self) -> Option<Memory> {
        proc_stats::memory(self.pid())
    }

    /// Starts a new peak-memory window.
    pub fn reset_peak(&self) -> bool {
        proc_stats::reset_peak(self.pid())
    }

    fn pid(&self) -> Pid {
        Pid::Other(self.child.id())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Closing stdin asks the child to exit; kill in case it is stuck.
        drop(self.control.take());
        for _ in 0..200 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The flag before the directory of a directory store, after the runtime's
/// name on the child's command line.
pub const STORE_DIR_FLAG: &str = "--store-dir";

/// The flag before a reference [`Script`] (in its `Display` form), after
/// the runtime's name on the child's command line: the child serves the
/// reference instead of a gateway.
pub const REFERENCE_FLAG: &str = "--reference";

/// The child side: serves a gateway on `kind` on a free loopback port, with
/// a directory store in `store_dir` if given (an in-memory store if not),
/// also on the churn case's loopback aliases where it can (at the same
/// port), prints `listening <addrs>`, and exits when stdin closes. Never
/// returns on success.
pub fn serve_child(kind: RuntimeKind, store_dir: Option<&Path>) -> io::Result<()> {
    let store: Arc<dyn ObjectStore> = match store_dir {
        Some(dir) => Arc::new(DirStore::open(dir)?),
        None => Arc::new(MemStore::new()),
    };
    answer_parent();
    // Every client connects from 127.0.0.1, so the per-address cap binds
    // as soon as the total does. No quota (the default): the churn case's
    // puts are never refused.
    let config = GatewayConfig {
        // The scale case opens more connections than the defaults allow;
        // the churn case's closed connections may linger a moment.
        max_connections: 1 << 16,
        max_connections_per_ip: 1 << 16,
        ..GatewayConfig::default()
    };
    kind.block_on(async move {
        let runtime = kind.server_runtime();
        #[cfg(target_os = "linux")]
        if let Some(count) = kind.server_workers() {
            let gateway = Gateway::new(runtime, config, store, Services::new(64));
            let workers = on_workers(|addrs| {
                runtime_tokio::workers::Workers::serve(&gateway, addrs, count, None)
            })?;
            return until_a_worker_fails(workers).await;
        }
        let gateway =
            Gateway::bind_with(runtime.clone(), LOOPBACK, config, store, Services::new(64)).await?;
        let first = gateway.local_addr().expect("bound");
        let aliases = bind_aliases(&*runtime, first).await?;
        // One task per accept loop, as `oap serve` runs each listener. An
        // alias's loop ends only at shutdown; if it failed, the churn
        // clients on its address would fail the run.
        for listener in aliases {
            let gateway = gateway.clone();
            runtime.spawn(Box::pin(async move {
                let _ = gateway.serve_listener(listener, None).await;
            }));
        }
        on_the_runtime(&*runtime, async move { gateway.serve().await }).await
    })?
}

/// Starts connection workers, as `oap serve` runs on tokio, with `start`
/// on 127.0.0.1 and the churn case's loopback aliases this system lets a
/// server bind (each on a free port of its own), and announces the
/// addresses to the parent.
#[cfg(target_os = "linux")]
fn on_workers(
    start: impl FnOnce(&[SocketAddr]) -> io::Result<runtime_tokio::workers::Workers>,
) -> io::Result<runtime_tokio::workers::Workers> {
    let mut addrs = vec![LOOPBACK];
    addrs.extend(
        crate::churn::addresses::aliases(0)
            .take_while(|addr| std::net::TcpListener::bind(addr).is_ok()),
    );
    let workers = start(&addrs)?;
    announce(workers.local_addrs());
    Ok(workers)
}

/// Serves until a worker's accept loops fail (the process ends when the
/// parent closes stdin).
#[cfg(target_os = "linux")]
async fn until_a_worker_fails(mut workers: runtime_tokio::workers::Workers) -> io::Result<()> {
    match workers.next_exit().await {
        Some((_, Err(e))) => Err(e),
        _ => Ok(()),
    }
}

/// Runs a server's accept loops as a task on the runtime, as `oap serve`
/// does: each accepted connection's task is then spawned from a worker
/// thread, not handed over from the thread blocked in `block_on`.
async fn on_the_runtime(
    runtime: &dyn oap_io::Runtime,
    serving: impl std::future::Future<Output = io::Result<()>> + Send + 'static,
) -> io::Result<()> {
    crate::rt::in_task(runtime, serving)
        .await
        .map_err(io::Error::other)?
}

/// The child side of [`Launcher::start_reference`]: serves the async
/// reference of the scale and churn cases on `kind`, following `script`,
/// on a free loopback port and its aliases (one accept loop task each, as
/// the gateway), prints `listening <addrs>`, and exits when stdin closes.
/// Never returns on success.
pub fn serve_reference_child(kind: RuntimeKind, script: Script) -> io::Result<()> {
    answer_parent();
    kind.block_on(async move {
        let runtime = kind.server_runtime();
        let script = Arc::new(script);
        #[cfg(target_os = "linux")]
        if let Some(count) = kind.server_workers() {
            let workers = on_workers(|addrs| {
                runtime_tokio::workers::Workers::run(addrs, count, move |listener| {
                    Box::pin(crate::scale::reference::serve(
                        runtime_tokio::runtime(),
                        listener,
                        script.clone(),
                    ))
                })
            })?;
            return until_a_worker_fails(workers).await;
        }
        let listener = runtime.bind(LOOPBACK).await?;
        let aliases = bind_aliases(&*runtime, listener.local_addr()?).await?;
        for listener in aliases {
            let serving = crate::scale::reference::serve(runtime.clone(), listener, script.clone());
            runtime.spawn(Box::pin(async move {
                let _ = serving.await;
            }));
        }
        let serving = crate::scale::reference::serve(runtime.clone(), listener, script);
        on_the_runtime(&*runtime, serving).await
    })?
}

/// For the churn case's clients, which spread over them: binds the
/// [`aliases`](crate::churn::addresses::aliases) of `first` (127.0.0.1)
/// that this system lets it, and announces `first` and theirs to the
/// parent. The caller runs an accept loop on each.
async fn bind_aliases(
    runtime: &dyn oap_io::Runtime,
    first: SocketAddr,
) -> io::Result<Vec<Box<dyn oap_io::Listener>>> {
    let mut aliases = Vec::new();
    for addr in crate::churn::addresses::aliases(first.port()) {
        match runtime.bind(addr).await {
            Ok(listener) => aliases.push(listener),
            Err(_) => break,
        }
    }
    let mut addrs = vec![first];
    for listener in &aliases {
        addrs.push(listener.local_addr()?);
    }
    announce(&addrs);
    Ok(aliases)
}

/// A free port on the loopback interface.
const LOOPBACK: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// From a thread of its own, whatever the server is doing: answers each
/// [`CPU_QUERY`] line on stdin with this process's CPU time in
/// nanoseconds (`cpu -` if its clock is unreadable), and ends the process
/// once stdin closes, as the parent closes it when it is done (or is
/// gone).
fn answer_parent() {
    std::thread::spawn(|| {
        for line in io::stdin().lock().lines() {
            // EOF (or any error) on stdin: the parent is done or gone.
            let Ok(line) = line else { break };
            if line.trim() == CPU_QUERY {
                match proc_stats::current_process_cpu_time() {
                    Some(cpu) => println!("{CPU_QUERY} {}", cpu.as_nanos()),
                    None => println!("{CPU_QUERY} -"),
                }
            }
        }
        std::process::exit(0);
    });
}

/// Tells the parent where the child listens, 127.0.0.1 first: the one
/// line it reads before it asks anything.
fn announce(addrs: &[SocketAddr]) {
    let list: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    println!("listening {}", list.join(" "));
}
