//! A complete [`Runtime`] on `async-io` / `async-net`, parameterised only
//! by a spawner: the smol and async-std adapters are this type with their
//! own `spawn`, so both run the very same `futures-io` code.
//!
//! It lives here rather than in `oap-io` so that a runtime with a reactor
//! of its own (tokio) does not compile async-io's second one; async-std
//! reuses it from this crate.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use oap_io::{BoxFuture, BoxStream, Listener, Runtime};

use crate::timers::Timers;

/// How a runtime starts a detached task: a function, or a closure that
/// holds the executor it spawns on.
pub type Spawn = Arc<dyn Fn(BoxFuture<'static, ()>) + Send + Sync>;

/// How a runtime runs blocking work off its executor (see
/// [`Runtime::spawn_blocking`]).
pub type SpawnBlocking = fn(Box<dyn FnOnce() + Send>) -> BoxFuture<'static, ()>;

/// Sleeps in one ordered map served by one thread (the `oap-timers`
/// thread, shared by every such runtime of the process; async-io's own
/// timers if it cannot be started), TCP from async-net, tasks from
/// `spawn`.
#[derive(Clone)]
pub struct AsyncIoRuntime {
    name: &'static str,
    spawn: Spawn,
    spawn_blocking: Option<SpawnBlocking>,
}

impl AsyncIoRuntime {
    /// A runtime named `name` (for `Debug`) that spawns with `spawn`.
    pub fn new(
        name: &'static str,
        spawn: impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            spawn: Arc::new(spawn),
            spawn_blocking: None,
        }
    }

    /// The same runtime, running blocking work with `spawn_blocking`
    /// (without it, such work runs on the calling task's thread).
    pub const fn with_blocking(mut self, spawn_blocking: SpawnBlocking) -> Self {
        self.spawn_blocking = Some(spawn_blocking);
        self
    }
}

impl fmt::Debug for AsyncIoRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsyncIoRuntime({})", self.name)
    }
}

impl Runtime for AsyncIoRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(Timers::global().sleep_until(deadline))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        (self.spawn)(future);
    }

    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send>) -> BoxFuture<'static, ()> {
        match self.spawn_blocking {
            Some(spawn_blocking) => spawn_blocking(work),
            None => {
                work();
                Box::pin(std::future::ready(()))
            }
        }
    }

    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let l = async_net::TcpListener::bind(addr).await?;
            Ok(Box::new(TcpListener(l)) as Box<dyn Listener>)
        })
    }

    /// Connects with Nagle off: the driver already batches frames.
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxStream>> {
        Box::pin(async move {
            let s = async_net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            Ok(Box::new(s) as BoxStream)
        })
    }
}

struct TcpListener(async_net::TcpListener);

impl Listener for TcpListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<(BoxStream, SocketAddr)>> {
        Box::pin(async move {
            let (s, peer) = self.0.accept().await?;
            s.set_nodelay(true)?;
            Ok((Box::new(s) as BoxStream, peer))
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}
