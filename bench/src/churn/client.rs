//! The churn clients: threads with blocking `std::net::TcpStream`s and no
//! async runtime, so that the client costs little and the server is what
//! is measured.
//!
//! Each connection: connect, write the HELLO, read until the server's
//! HELLO answer, write the put (START, DATA, END), read until the server's
//! END, close. An ERROR from the server, or the server closing first, fails
//! the run. Replies are cut into frames by `oap-core`'s [`FrameDecoder`]
//! (nothing else of them is parsed, so a client costs the same whichever
//! server answers).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use oap_core::payload::{ControlPayload, ErrorEnvelope};
use oap_core::{FrameDecoder, FrameType};

use super::requests::Requests;

/// How long a client waits for a reply before it fails the run, so that a
/// server that stops answering ends the run instead of hanging it.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a server answered on one connection, byte for byte: the reference
/// server sends these to every connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replies {
    /// The answer to the HELLO.
    pub hello: Vec<u8>,
    /// The answer to the put, up to and including its END.
    pub put: Vec<u8>,
}

/// Opens one connection per put of `requests` from `threads` threads at
/// once, each thread taking the next put until none is left, and returns
/// how many puts the server acknowledged with END (all of them, or the
/// first failure). The threads take the server's addresses `addrs` in
/// turn ([`super::addresses::for_thread`]).
pub fn drive(addrs: &[SocketAddr], requests: &Requests, threads: usize) -> io::Result<usize> {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|thread| {
                let next = &next;
                scope.spawn(move || -> io::Result<usize> {
                    let addr = super::addresses::for_thread(addrs, thread)
                        .ok_or_else(|| io::Error::other("no server address"))?;
                    let mut input = BytesMut::with_capacity(4096);
                    let mut acknowledged = 0;
                    while let Some(put) = requests.put(next.fetch_add(1, Ordering::Relaxed)) {
                        if let Err(e) = connection(addr, requests.hello(), put, &mut input, None) {
                            // The other threads take no further put.
                            next.store(requests.len(), Ordering::Relaxed);
                            return Err(e);
                        }
                        acknowledged += 1;
                    }
                    Ok(acknowledged)
                })
            })
            .collect();
        let acknowledged = super::joined(workers.into_iter().map(|w| w.join()))?;
        Ok(acknowledged.into_iter().sum())
    })
}

/// Puts object `i` of `requests` on a connection of its own and returns
/// what the server answered, byte for byte.
pub fn record(addr: SocketAddr, requests: &Requests, i: usize) -> io::Result<Replies> {
    let put = requests
        .put(i)
        .ok_or_else(|| io::Error::other("no such object"))?;
    let mut replies = Replies::default();
    connection(
        addr,
        requests.hello(),
        put,
        &mut BytesMut::new(),
        Some(&mut replies),
    )?;
    Ok(replies)
}

/// One connection's life, reading into `input` (a buffer kept from one
/// connection to the next); the replies go into `record` if given.
fn connection(
    addr: SocketAddr,
    hello: &[u8],
    put: &[u8],
    input: &mut BytesMut,
    mut record: Option<&mut Replies>,
) -> io::Result<()> {
    input.clear();
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
    stream.write_all(hello)?;
    read_until(
        &mut stream,
        input,
        FrameType::Hello,
        record.as_deref_mut().map(|r| &mut r.hello),
    )?;
    stream.write_all(put)?;
    read_until(
        &mut stream,
        input,
        FrameType::End,
        record.map(|r| &mut r.put),
    )
    // Dropping the stream closes it.
}

/// Reads until a whole frame of type `last` has arrived, copying what it
/// reads into `record` if given. Earlier frames (the put's ACK) are
/// skipped; an ERROR fails with its code and message.
fn read_until(
    stream: &mut TcpStream,
    input: &mut BytesMut,
    last: FrameType,
    mut record: Option<&mut Vec<u8>>,
) -> io::Result<()> {
    let mut decoder = FrameDecoder::new();
    let mut buf = [0u8; 4096];
    loop {
        while let Some(frame) = decoder.decode(input).map_err(io::Error::other)? {
            if frame.typ == last {
                return Ok(());
            }
            if frame.typ == FrameType::Error {
                let why = ErrorEnvelope::decode(&frame.payload)
                    .map_or_else(|e| e.to_string(), |e| format!("{:?}: {}", e.code, e.msg));
                return Err(io::Error::other(format!("the server answered ERROR {why}")));
            }
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::other(format!(
                "the server closed the connection before its {last:?}"
            )));
        }
        input.extend_from_slice(&buf[..n]);
        if let Some(r) = record.as_deref_mut() {
            r.extend_from_slice(&buf[..n]);
        }
    }
}
