//! The node's accept loops: one task on the node's runtime, or
//! connection workers (`--workers`), each a single-threaded runtime with
//! listening sockets of its own; see `runtime_tokio::workers`.

use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;

use oap_node::Gateway;
use oap_node::server::Upgrade;
use tokio::task::JoinHandle;

/// The accept loops serving the gateway, and what they need to be
/// restarted.
pub(crate) struct Accepting {
    gateway: Gateway,
    upgrade: Option<Upgrade>,
    loops: Loops,
}

enum Loops {
    /// One loop on the node's runtime (`None` once it ended), and the
    /// address it listens on.
    Shared(Option<JoinHandle<io::Result<()>>>, SocketAddr),
    /// Connection workers.
    #[cfg(target_os = "linux")]
    Workers(runtime_tokio::workers::Workers),
}

impl Accepting {
    /// Listens on `addr` and serves `gateway` (through `upgrade`, TLS, if
    /// given): with `workers` connection workers, or with none on the
    /// current runtime.
    pub(crate) async fn start(
        gateway: &Gateway,
        addr: SocketAddr,
        workers: Option<NonZeroUsize>,
        upgrade: Option<Upgrade>,
    ) -> io::Result<Self> {
        let loops = match workers {
            None => Loops::Shared(None, addr),
            #[cfg(target_os = "linux")]
            Some(count) => Loops::Workers(runtime_tokio::workers::Workers::serve(
                gateway,
                &[addr],
                count,
                upgrade.clone(),
            )?),
            #[cfg(not(target_os = "linux"))]
            Some(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "connection workers need Linux (SO_REUSEPORT balancing)",
                ));
            }
        };
        let mut accepting = Self {
            gateway: gateway.clone(),
            upgrade,
            loops,
        };
        if let Loops::Shared(..) = accepting.loops {
            accepting.restart(addr).await?;
        }
        Ok(accepting)
    }

    /// The address served (with the port bound, if asked for port 0).
    pub(crate) fn local_addr(&self) -> SocketAddr {
        match &self.loops {
            Loops::Shared(_, addr) => *addr,
            #[cfg(target_os = "linux")]
            Loops::Workers(workers) => workers.local_addrs()[0],
        }
    }

    /// Waits until an accept loop ends while it should serve, and says
    /// why. Pending while none runs.
    pub(crate) async fn ended(&mut self) -> String {
        let result = match &mut self.loops {
            Loops::Shared(task, _) => {
                let Some(running) = task else {
                    return std::future::pending().await;
                };
                let ended = running.await;
                *task = None;
                ended.unwrap_or_else(|e| Err(io::Error::other(format!("it panicked: {e}"))))
            }
            #[cfg(target_os = "linux")]
            Loops::Workers(workers) => match workers.next_exit().await {
                Some((_, result)) => result,
                None => return std::future::pending().await,
            },
        };
        match result {
            Ok(()) => "the accept loop ended".to_owned(),
            Err(e) => e.to_string(),
        }
    }

    /// Starts an accept loop again on `addr` after one ended: the shared
    /// one, or a worker in place of the one that stopped.
    pub(crate) async fn restart(&mut self, addr: SocketAddr) -> io::Result<()> {
        match &mut self.loops {
            Loops::Shared(task, bound) => {
                let listener = runtime_tokio::runtime().bind(addr).await?;
                *bound = listener.local_addr()?;
                let gateway = self.gateway.clone();
                let upgrade = self.upgrade.clone();
                *task = Some(tokio::spawn(async move {
                    gateway.serve_listener(listener, upgrade).await
                }));
                Ok(())
            }
            #[cfg(target_os = "linux")]
            Loops::Workers(workers) => workers.restart(),
        }
    }

    /// After `Shutdown` was published: waits until every accept loop has
    /// stopped, and fails if one failed instead.
    pub(crate) async fn stopped(&mut self) -> io::Result<()> {
        match &mut self.loops {
            Loops::Shared(task, _) => match task.take() {
                Some(running) => running.await.map_err(io::Error::other)?,
                None => Ok(()),
            },
            #[cfg(target_os = "linux")]
            Loops::Workers(workers) => {
                let mut result = Ok(());
                while let Some((_, ended)) = workers.next_exit().await {
                    if result.is_ok() {
                        result = ended;
                    }
                }
                result
            }
        }
    }

    /// Ends the workers' threads, dropping the connections still open on
    /// them: call once open connections were given their grace period.
    pub(crate) async fn finish(self) {
        match self.loops {
            Loops::Shared(..) => {}
            #[cfg(target_os = "linux")]
            Loops::Workers(workers) => {
                // Joining threads blocks.
                let _ = tokio::task::spawn_blocking(move || workers.join()).await;
            }
        }
    }
}
