//! The gateway under test runs in a child process, so that its CPU time and
//! peak memory are measured apart from the client's.
//!
//! The parent starts `<program> <args...> <runtime>`, followed by
//! `--store-dir <dir>` for a directory store (see [`Launcher`]); that
//! program must call [`serve_child`]. The child prints `listening <addr>`
//! on stdout and serves until its stdin closes.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use std::sync::Arc;

use oap_node::{DirStore, Gateway, GatewayConfig, MemStore, ObjectStore, Services};

use crate::proc_stats::{self, Memory, Pid};
use crate::rt::RuntimeKind;

/// How to start a child server: a program and the arguments that make it
/// call [`serve_child`] with the runtime named after them (and, for a
/// directory store, the directory after `--store-dir`).
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
        self.spawn(kind, None)
    }

    /// Starts a server on `kind` whose store is a directory store in
    /// `dir` (created if missing) and waits until it listens.
    pub fn start_with_store_dir(&self, kind: RuntimeKind, dir: &Path) -> io::Result<ServerProcess> {
        self.spawn(kind, Some(dir))
    }

    fn spawn(&self, kind: RuntimeKind, store_dir: Option<&Path>) -> io::Result<ServerProcess> {
        let mut command = Command::new(&self.program);
        command.args(&self.args).arg(kind.name());
        if let Some(dir) = store_dir {
            command.arg(STORE_DIR_FLAG).arg(dir);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let mut line = String::new();
        // One line only: the child writes nothing else.
        BufReader::new(stdout.take(256)).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse::<SocketAddr>().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!(
                "the bench server did not start (it printed {line:?})"
            )));
        };
        Ok(ServerProcess { child, stdin, addr })
    }
}

/// A running child server. Dropping it stops the child.
pub struct ServerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its CPU time so far (`None` without `/proc`).
    pub fn cpu_time(&self) -> Option<Duration> {
        proc_stats::cpu_time(self.pid())
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
        drop(self.stdin.take());
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

/// The child side: serves a gateway on `kind` on a free loopback port, with
/// a directory store in `store_dir` if given (an in-memory store if not),
/// prints `listening <addr>`, and exits when stdin closes. Never returns on
/// success.
pub fn serve_child(kind: RuntimeKind, store_dir: Option<&Path>) -> io::Result<()> {
    let store: Arc<dyn ObjectStore> = match store_dir {
        Some(dir) => Arc::new(DirStore::open(dir)?),
        None => Arc::new(MemStore::new()),
    };
    std::thread::spawn(|| {
        // EOF (or any error) on stdin: the parent is done or gone.
        let _ = io::copy(&mut io::stdin(), &mut io::sink());
        std::process::exit(0);
    });
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
        let runtime = kind.runtime();
        let addr = "127.0.0.1:0".parse().expect("literal");
        let gateway = Gateway::bind_with(runtime, addr, config, store, Services::new(64)).await?;
        println!("listening {}", gateway.local_addr().expect("bound"));
        gateway.serve().await
    })?
}
