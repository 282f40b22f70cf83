//! The reference the churn case is compared with: a plain TCP server that
//! does what the gateway does on the wire and nothing else. For each
//! connection: accept, read the HELLO's bytes, write the gateway's answer,
//! read the put's bytes, write the gateway's answer, wait for the client
//! to close, close. It counts bytes and never looks at them: no frame
//! parsing, no JSON, no hashing, no store.
//!
//! It closes after the client, as the gateway does (a connection may
//! carry more requests, so the gateway waits for the client's close).
//! Whichever side closes first keeps the connection in TIME_WAIT, and on
//! the client's side those entries make every later `connect` search
//! longer for a free port: closing first, the reference spared its
//! clients that search, which in the gateway's runs took about 10% of
//! the machine against 2% in the reference's (`perf`, 2026-11-29).
//!
//! The fastest simple shape on blocking std sockets: a fixed pool of
//! threads, as many as there are client threads, each looping on
//! `accept` of the one listener (the kernel hands each connection to one
//! waiting thread). A thread per connection would spend more on starting
//! threads than on the connection, and a single thread would leave every
//! other client waiting while one connection's client prepares its put.
//!
//! It runs on threads of the bench process, so its CPU time is the sum of
//! what each of its threads reads from its own CPU clock as it starts and
//! ends (the gateway's is its whole process's).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::client::Replies;
use super::requests::Requests;
use crate::proc_stats;

/// What the reference reads and writes on each connection. The scale
/// case's reference (`crate::scale::reference`) follows the same script,
/// with many puts on a connection instead of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The length of the HELLO a client sends.
    pub hello_len: usize,
    /// The length of the put a client sends.
    pub put_len: usize,
    /// What it answers to each, byte for byte.
    pub replies: Replies,
}

impl Script {
    /// Reads what `requests` send and answers with `replies` (recorded
    /// from a gateway with [`super::client::record`]).
    pub fn new(requests: &Requests, replies: Replies) -> Self {
        Self {
            hello_len: requests.hello().len(),
            put_len: requests.put_len(),
            replies,
        }
    }
}

/// The script as one command-line argument for a child process:
/// `HELLO_LEN:PUT_LEN:HELLO_ANSWER:PUT_ANSWER`, the answers in hex (a few
/// hundred bytes: well within any command line).
impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        write!(
            f,
            "{}:{}:{}:{}",
            self.hello_len,
            self.put_len,
            hex(&self.replies.hello),
            hex(&self.replies.put)
        )
    }
}

/// The inverse of `Display`.
impl FromStr for Script {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a reference script (HELLO_LEN:PUT_LEN:HEX:HEX): `{s}`");
        let fields: Vec<&str> = s.split(':').collect();
        let [hello_len, put_len, hello, put] = fields[..] else {
            return Err(bad());
        };
        let digit = |c: u8| {
            char::from(c)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        let hex = |h: &str| -> Option<Vec<u8>> {
            h.as_bytes()
                .chunks(2)
                .map(|pair| match *pair {
                    [high, low] => Some(digit(high)? << 4 | digit(low)?),
                    _ => None,
                })
                .collect()
        };
        Ok(Self {
            hello_len: hello_len.parse().map_err(|_| bad())?,
            put_len: put_len.parse().map_err(|_| bad())?,
            replies: Replies {
                hello: hex(hello).ok_or_else(bad)?,
                put: hex(put).ok_or_else(bad)?,
            },
        })
    }
}

/// The running reference server; [`ReferenceServer::stop`] ends it.
pub struct ReferenceServer {
    addrs: Vec<SocketAddr>,
    stopping: Arc<AtomicBool>,
    threads: Vec<JoinHandle<io::Result<Option<Duration>>>>,
}

impl ReferenceServer {
    /// Listens on a free loopback port, on 127.0.0.1 and on as many of the
    /// [`aliases`](super::addresses::aliases) as it can bind, up to one
    /// address per thread, with `threads` threads serving `script`; thread
    /// `i` accepts on the address client thread `i` connects to
    /// ([`super::addresses::for_thread`]).
    pub fn start(script: Script, threads: usize) -> io::Result<Self> {
        let first = TcpListener::bind("127.0.0.1:0")?;
        let port = first.local_addr()?.port();
        // No more addresses than threads: each needs one accepting.
        let listeners: Vec<Arc<TcpListener>> = std::iter::once(first)
            .chain(
                super::addresses::aliases(port)
                    .take(threads.max(1) - 1)
                    .map_while(|a| TcpListener::bind(a).ok()),
            )
            .map(Arc::new)
            .collect();
        let addrs = listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<io::Result<Vec<_>>>()?;
        let script = Arc::new(script);
        let stopping = Arc::new(AtomicBool::new(false));
        let threads = (0..threads.max(1))
            .map(|i| {
                let listener = listeners[i % listeners.len()].clone();
                let (script, stopping) = (script.clone(), stopping.clone());
                std::thread::spawn(move || {
                    let cpu0 = proc_stats::current_thread_cpu_time();
                    serve(&listener, &script, &stopping)?;
                    let cpu1 = proc_stats::current_thread_cpu_time();
                    Ok(cpu0.zip(cpu1).map(|(a, b)| b.saturating_sub(a)))
                })
            })
            .collect();
        Ok(Self {
            addrs,
            stopping,
            threads,
        })
    }

    /// Where it listens: 127.0.0.1 first.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops every thread and returns the CPU time they used together
    /// (`None` without a thread CPU clock), or the first error one of them
    /// met.
    pub fn stop(mut self) -> io::Result<Option<Duration>> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> io::Result<Option<Duration>> {
        self.stopping.store(true, Ordering::SeqCst);
        let threads = std::mem::take(&mut self.threads);
        // Each thread waits in `accept` of its address: one connection
        // there wakes it, and it sees the flag and ends without accepting
        // again.
        for i in 0..threads.len() {
            if let Some(addr) = super::addresses::for_thread(&self.addrs, i) {
                TcpStream::connect(addr)?;
            }
        }
        let cpu = super::joined(threads.into_iter().map(JoinHandle::join))?;
        // Unknown if any thread's is.
        Ok(cpu.into_iter().sum())
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        // Not stopped (a run that failed half-way): end the threads anyway.
        if !self.threads.is_empty() {
            let _ = self.shut_down();
        }
    }
}

/// One thread's accept loop, until `stopping` is set.
fn serve(listener: &TcpListener, script: &Script, stopping: &AtomicBool) -> io::Result<()> {
    let mut buf = vec![0u8; script.hello_len.max(script.put_len)];
    loop {
        let (mut stream, _) = listener.accept()?;
        if stopping.load(Ordering::SeqCst) {
            return Ok(());
        }
        // The same socket option the runtimes set on every accepted
        // connection, so both servers pay for it.
        stream.set_nodelay(true)?;
        stream.read_exact(&mut buf[..script.hello_len])?;
        stream.write_all(&script.replies.hello)?;
        stream.read_exact(&mut buf[..script.put_len])?;
        stream.write_all(&script.replies.put)?;
        // The client closes first, as with the gateway; nothing else comes.
        if stream.read(&mut buf)? != 0 {
            return Err(io::Error::other("the client sent more than one put"));
        }
        // Dropping the stream closes it.
    }
}
