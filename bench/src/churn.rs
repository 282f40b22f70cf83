//! Connection churn (issue #18): many short connections, each carrying
//! one 1 KiB put, against a gateway on each runtime, next to two plain TCP
//! servers that move the same bytes, measured right before.
//!
//! * [`requests`] — the bytes each connection sends, built before the
//!   clock starts.
//! * [`client`] — the client threads, on blocking std sockets.
//! * [`reference`](mod@reference) — the plain TCP server the gateway is
//!   compared with: blocking threads, no runtime.
//!
//! The second plain server is the scale case's
//! ([`crate::scale::reference`]): async on the gateway's runtime, a task
//! per connection. The first shows what the machine allows, the second
//! what the runtime allows; the gateway's distance to the second is what
//! the protocol costs.
//!
//! A run: one warm-up connection puts an extra object and records the
//! gateway's answers byte for byte; the two references, which send those
//! answers to every connection, are timed with the same clients; then the
//! gateway, from a fresh peak-memory window. Every put must end with the
//! gateway's END (so the object was verified and stored), and after the
//! clock stops up to [`CHECKED`] of the objects, spread over the run, are
//! got back and compared byte for byte.

pub mod addresses;
pub mod client;
pub mod reference;
pub mod requests;

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use oap_core::connection::ConnectionConfig;
use oap_node::Client;

use crate::report::{ChurnRow, Measure};
use crate::rt::RuntimeKind;
use crate::server::Launcher;
use client::Replies;
use reference::{ReferenceServer, Script};
use requests::Requests;

/// Client threads unless told otherwise.
pub const THREADS: usize = 8;

/// How many stored objects a run gets back and compares at most.
pub const CHECKED: usize = 1_000;

/// `connections` connections, one put each, from `threads` client threads
/// against a fresh server on `kind`, after the same against the
/// reference.
pub fn run(
    kind: RuntimeKind,
    launcher: &Launcher,
    connections: usize,
    threads: usize,
) -> Result<ChurnRow, crate::Error> {
    let server = launcher.start(kind)?;
    // Seed 0 is the warm-up's: the run's objects are all new to the store.
    let replies = client::record(server.addr(), &Requests::new(0..1), 0)?;
    let requests = Requests::new(1..connections as u64 + 1);

    let reference = reference_run(&requests, replies.clone(), threads)?;
    let runtime_reference = runtime_reference_run(kind, launcher, &requests, replies, threads)?;

    server.reset_peak();
    let watch = Measure::start(Some(&server));
    let acknowledged = client::drive(server.addrs(), &requests, threads)?;
    let measure = watch.stop();
    let server_peak = server.memory().map(|m| m.peak);
    check_acknowledged(acknowledged, &requests)?;
    verify_stored(kind, server.addr(), &requests)?;
    Ok(ChurnRow {
        runtime: kind.name(),
        connections,
        threads,
        measure,
        server_peak,
        reference,
        runtime_reference,
    })
}

/// The clients of [`run`] against the reference server answering with
/// `replies`; its threads' CPU time is the measure's `server_cpu`.
pub fn reference_run(
    requests: &Requests,
    replies: Replies,
    threads: usize,
) -> Result<Measure, crate::Error> {
    let server = ReferenceServer::start(Script::new(requests, replies), threads)?;
    let watch = Measure::start(None);
    let acknowledged = client::drive(server.addrs(), requests, threads)?;
    let mut measure = watch.stop();
    measure.server_cpu = server.stop()?;
    check_acknowledged(acknowledged, requests)?;
    Ok(measure)
}

/// The clients of [`run`] against the async reference on `kind` (the
/// scale case's, [`crate::scale::reference`]), answering with `replies`:
/// a plain server on the gateway's own runtime, with a task per connection
/// in a process of its own, so what separates it from the gateway is the
/// protocol's work and not the runtime's. Its process's CPU time is the
/// measure's `server_cpu`.
pub fn runtime_reference_run(
    kind: RuntimeKind,
    launcher: &Launcher,
    requests: &Requests,
    replies: Replies,
    threads: usize,
) -> Result<Measure, crate::Error> {
    let server = launcher.start_reference(kind, &Script::new(requests, replies))?;
    let watch = Measure::start(Some(&server));
    let acknowledged = client::drive(server.addrs(), requests, threads)?;
    let measure = watch.stop();
    check_acknowledged(acknowledged, requests)?;
    Ok(measure)
}

/// What joined threads returned, or the first error one of them met (a
/// panic counts as one); every thread is joined either way.
fn joined<T>(
    results: impl IntoIterator<Item = std::thread::Result<io::Result<T>>>,
) -> io::Result<Vec<T>> {
    let mut values = Vec::new();
    let mut failure = None;
    for result in results {
        match result {
            Ok(Ok(value)) => values.push(value),
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(_) => failure = failure.or(Some(io::Error::other("a thread panicked"))),
        }
    }
    failure.map_or(Ok(values), Err)
}

fn check_acknowledged(acknowledged: usize, requests: &Requests) -> Result<(), crate::Error> {
    if acknowledged != requests.len() {
        return Err(format!(
            "{acknowledged} of {} puts were acknowledged",
            requests.len()
        )
        .into());
    }
    Ok(())
}

/// Gets up to [`CHECKED`] of `requests`' objects, spread evenly from the
/// first to the last, from the server at `addr` on `kind` and compares
/// each with the object put; returns how many were checked.
pub fn verify_stored(
    kind: RuntimeKind,
    addr: SocketAddr,
    requests: &Requests,
) -> Result<usize, crate::Error> {
    let step = requests.len().div_ceil(CHECKED).max(1);
    let mut sample: Vec<usize> = (0..requests.len()).step_by(step).collect();
    if let Some(last) = requests.len().checked_sub(1) {
        if sample.last() != Some(&last) {
            sample.push(last);
        }
    }
    let wanted = sample
        .iter()
        .map(|&i| Some((requests.id(i)?, Bytes::from(requests.object(i)?))))
        .collect::<Option<Vec<_>>>()
        .ok_or("an object out of range")?;
    let matched = kind.block_on(async {
        let client = Client::connect(kind.runtime(), addr, ConnectionConfig::default()).await?;
        crate::small::get_and_check(&client, &wanted).await
    })??;
    if let Some(k) = matched.iter().position(|same| !same) {
        return Err(format!("object {} came back other than it was put", sample[k]).into());
    }
    Ok(sample.len())
}
