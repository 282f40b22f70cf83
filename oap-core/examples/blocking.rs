//! The sans-IO core with no async runtime at all: a blocking
//! `std::net::TcpStream` and one thread drive a [`ClientSession`] through a
//! put and a get against a running `oap serve`, verifying the object.
//!
//! ```sh
//! oap serve &                                      # 127.0.0.1:9444 by default
//! cargo run -p oap-core --example blocking -- 127.0.0.1:9444
//! ```
//!
//! `docs/embedding.md` walks through this loop step by step. One thread is
//! enough here because the two transfers run one after the other and what
//! the server writes back during a put (ACKs, END) is small: the socket's
//! buffers hold it while this thread writes. A client that sends and
//! receives large objects at once must keep reading while it writes (a
//! reader thread, or a non-blocking socket), as the async driver does.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::client::{ClientEvent, ClientSession};
use oap_core::connection::ConnectionConfig;

/// Writes everything the session has queued: the buffer, then the body the
/// transmit hands out separately (a large DATA body, never copied).
fn flush(session: &mut ClientSession, stream: &mut TcpStream) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let Some(transmit) = session.connection().poll_transmit(Instant::now(), &mut buf) else {
            return stream.flush();
        };
        stream.write_all(&buf)?;
        if let Some(body) = transmit.body {
            stream.write_all(&body)?;
        }
    }
}

/// Runs the drain loop until `done` picks an event out of the session's
/// events; every other event is printed and dropped.
fn drive<T>(
    session: &mut ClientSession,
    stream: &mut TcpStream,
    mut done: impl FnMut(&ClientEvent) -> Option<T>,
) -> io::Result<T> {
    let mut input = vec![0u8; 64 * 1024];
    loop {
        // 1. Write what the session queued (HELLO, START, DATA, ACKs, END).
        flush(session, stream)?;
        // 2. Take every event; the session paces puts as credit arrives.
        while let Some(ev) = session.poll_event() {
            if let Some(out) = done(&ev) {
                flush(session, stream)?;
                return Ok(out);
            }
            println!("  event: {ev:?}");
        }
        flush(session, stream)?;
        // 3. Wait for input, but no longer than the session's next deadline.
        let now = Instant::now();
        let wait = session
            .connection()
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now));
        // A zero timeout is an error for `set_read_timeout`: the deadline
        // is due, so handle it without reading.
        if wait.is_some_and(|w| w.is_zero()) {
            session.connection().handle_timeout(Instant::now());
            continue;
        }
        stream.set_read_timeout(wait)?;
        match stream.read(&mut input) {
            Ok(0) => session.connection().handle_eof(Instant::now()),
            Ok(n) => session
                .connection()
                .handle_input(Instant::now(), &input[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                session.connection().handle_timeout(Instant::now());
            }
            Err(e) => {
                session.connection().abort();
                return Err(e);
            }
        }
        if session.connection().is_closed() {
            flush(session, stream)?;
            while let Some(ev) = session.poll_event() {
                if let Some(out) = done(&ev) {
                    return Ok(out);
                }
            }
            return Err(io::Error::other("the connection closed"));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9444".into());
    let mut stream = TcpStream::connect(&addr)?;
    stream.set_nodelay(true)?;
    let mut session = ClientSession::hello(ConnectionConfig::default(), "oap/1", Instant::now());

    let limits = drive(&mut session, &mut stream, |ev| match ev {
        ClientEvent::Connected(n) => Some(*n),
        _ => None,
    })?;
    println!("connected to {addr}: {limits:?}");

    // Several windows' worth, so the put is paced by credit.
    let doc: Bytes = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (put, obj) = session.put_doc(Instant::now(), "docs", "blocking", doc.clone())?;
    let stored = drive(&mut session, &mut stream, |ev| match ev {
        ClientEvent::PutDone { id, result } if *id == put => Some(result.clone()),
        _ => None,
    })??;
    println!("put {} bytes: the server stored {stored}", doc.len());

    let get = session.get(Instant::now(), obj)?;
    let back = drive(&mut session, &mut stream, |ev| match ev {
        ClientEvent::GetDone { id, result } if *id == get => Some(result.clone()),
        _ => None,
    })??;
    let matches = back == doc && ObjectId::of(&back) == obj;
    println!("got {} bytes back, verified: {matches}", back.len());
    session.connection().close(None);
    flush(&mut session, &mut stream)?;
    if !matches {
        return Err("the object came back different".into());
    }
    Ok(())
}
