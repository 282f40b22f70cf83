//! Helpers for the end-to-end tests: run the built `oap`, start `oap serve`
//! in the background and wait for the addresses it prints, tiny HTTP GETs.
//! Every wait is on an observable event (a printed line, a process exit)
//! and bounded by [`TIMEOUT`].

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Upper bound for any single wait in these tests.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// The binary under test.
pub(crate) fn oap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oap"));
    // Keep the tests independent of the caller's environment.
    cmd.env_remove("RUST_LOG");
    cmd.env_remove("OAP_TOKEN");
    cmd
}

/// Runs `oap args…` with `stdin` as input and waits (bounded) for it.
pub(crate) fn run_with_input(args: &[&str], stdin: &[u8]) -> Output {
    run_with(oap(), args, stdin)
}

/// Runs `oap args…` with the variables `env` set (and empty stdin).
pub(crate) fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = oap();
    cmd.envs(env.iter().copied());
    run_with(cmd, args, b"")
}

/// Runs `oap args…` in the directory `dir` (and empty stdin).
pub(crate) fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = oap();
    cmd.current_dir(dir);
    run_with(cmd, args, b"")
}

fn run_with(mut cmd: Command, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn oap");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(TIMEOUT)
        .unwrap_or_else(|_| panic!("oap {args:?} did not finish within {TIMEOUT:?}"))
        .expect("wait for oap")
}

/// Runs `oap args…` with empty stdin.
pub(crate) fn run(args: &[&str]) -> Output {
    run_with_input(args, b"")
}

/// Runs `oap cert args…` and asserts it succeeded; returns its stdout.
pub(crate) fn oap_cert(args: &[&str]) -> String {
    let mut all = vec!["cert"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(out.status.success(), "oap {all:?}: {}", stderr(&out));
    stdout(&out)
}

/// stdout as text.
pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running `oap serve`; killed on drop if not stopped.
pub(crate) struct Server {
    child: Option<Child>,
    /// The OAP/1 listener, as `--server` takes it.
    pub oap: String,
    /// The admin HTTP listener.
    pub admin: SocketAddr,
}

/// The lines `out` prints, as they come, from a thread of their own (so a
/// test can wait on them with a deadline).
pub(crate) fn lines_of(out: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

impl Server {
    /// Starts `oap serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 extra…`
    /// and waits for the two address lines.
    pub(crate) fn start(extra: &[&str]) -> Self {
        Self::start_with_env(extra, &[])
    }

    /// [`Server::start`] with the variables `env` set.
    pub(crate) fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = oap()
            .envs(env.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn oap serve");
        let rx = lines_of(child.stdout.take().expect("stdout"));
        let mut oap = None;
        let mut admin = None;
        while oap.is_none() || admin.is_none() {
            let line = rx
                .recv_timeout(TIMEOUT)
                .expect("oap serve did not print its addresses");
            let oap_line = line
                .strip_prefix("oap listening on oap://")
                .or_else(|| line.strip_prefix("oap listening on oap+tls://"));
            if let Some(a) = oap_line {
                oap = Some(a.to_owned());
            } else if let Some(a) = line.strip_prefix("admin listening on http://") {
                admin = Some(a.parse().expect("admin address"));
            }
        }
        Self {
            child: Some(child),
            oap: oap.expect("oap address"),
            admin: admin.expect("admin address"),
        }
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits for the exit.
    pub(crate) fn stop(self) -> ExitStatus {
        self.signal("INT");
        self.wait()
    }

    /// Sends `SIG` (`"INT"`, `"TERM"`, ...) without waiting.
    pub(crate) fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Waits (bounded) for the server to exit.
    pub(crate) fn wait(mut self) -> ExitStatus {
        wait_bounded(self.child.take().expect("running"))
    }
}

pub(crate) fn wait_bounded(mut child: Child) -> ExitStatus {
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    rx.recv_timeout(TIMEOUT)
        .unwrap_or_else(|_| {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("oap serve did not stop within {TIMEOUT:?}")
        })
        .expect("wait for oap serve")
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `GET path` over HTTP/1.1: the status code and the body.
pub(crate) fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(addr, "GET", path)
}

/// `POST path` with an empty body to the admin listener: status and body.
pub(crate) fn http_post(addr: SocketAddr, path: &str) -> (u16, String) {
    http(addr, "POST", path)
}

fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to admin");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header end");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (status, body.to_owned())
}

/// The value of a metric line `name value` (exact name with labels).
pub(crate) fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Writes `len` bytes of a deterministic, non-repeating pattern.
pub(crate) fn write_pattern(path: &Path, len: usize) {
    let data: Vec<u8> = (0..len as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(path, data).expect("write test file");
}

/// `oap token new --name NAME --permissions P`: the token and the config
/// entry to paste (which holds only its hash).
pub(crate) fn new_token(name: &str, permissions: &str) -> (String, String) {
    let out = run(&["token", "new", "--name", name, "--permissions", permissions]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (token, entry) = text.split_once('\n').expect("two parts");
    assert_eq!(token.len(), 64, "32 random bytes in hex: {token:?}");
    assert!(
        !entry.contains(token),
        "the config entry holds only the hash"
    );
    (token.to_owned(), entry.trim().to_owned())
}
