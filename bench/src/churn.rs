//! Connection churn (issue #18): many short connections, each carrying
//! one 1 KiB put, against a gateway on each runtime, next to two plain TCP
//! servers that move the same bytes, the three taking turns.
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
//! gateway's answers byte for byte; the two references send those answers
//! to every connection. The connections are then split into [`rounds`],
//! and in each the three servers take a turn with the same clients and as
//! many connections ([`Turn::order`]). This machine's speed changes from
//! one minute to the next, and every connection leaves a TIME_WAIT entry
//! on the clients' side for a minute: measured one after the other, the
//! servers met different machines. Every put must end with the gateway's
//! END (so the object was verified and stored), and after the clock stops
//! up to [`CHECKED`] of the objects, spread over the run, are got back and
//! compared byte for byte.

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
use crate::server::{Launcher, ServerProcess};
use reference::{ReferenceServer, Script};
use requests::Requests;

/// Client threads unless told otherwise.
pub const THREADS: usize = 8;

/// How many stored objects a run gets back and compares at most.
pub const CHECKED: usize = 1_000;

/// Rounds a run's connections are split into; in each, the three servers
/// take their turn with the same number of connections.
pub const ROUNDS: usize = 10;

/// The fewest connections a round gives each server.
pub const MIN_ROUND: usize = 100;

/// Who serves one turn of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// The plain blocking server ([`reference`](mod@reference)).
    Reference,
    /// The plain async server on the gateway's runtime.
    RuntimeReference,
    /// The gateway.
    Gateway,
}

impl Turn {
    /// The order of round `round`'s turns: each server goes first, second
    /// and third equally often, so none always meets the machine as the
    /// one before left it (its TIME_WAIT entries, a slower minute).
    pub fn order(round: usize) -> [Turn; 3] {
        let turns = [Turn::Reference, Turn::RuntimeReference, Turn::Gateway];
        std::array::from_fn(|i| turns[(i + round) % 3])
    }
}

/// How `connections` connections are split into rounds: [`ROUNDS`] of
/// them, fewer when a round would have under [`MIN_ROUND`] connections
/// (at least one); the last round takes what does not divide evenly.
pub fn rounds(connections: usize) -> Vec<std::ops::Range<usize>> {
    let count = (connections / MIN_ROUND).clamp(1, ROUNDS);
    let each = connections / count;
    (0..count)
        .map(|r| {
            let end = if r + 1 == count {
                connections
            } else {
                (r + 1) * each
            };
            r * each..end
        })
        .collect()
}

/// `connections` connections, one put each, from `threads` client threads
/// against a fresh server on `kind` and against the two plain servers, in
/// [`rounds`]: the servers take turns ([`Turn::order`]), so the three
/// rates are measured over the same stretch of time and what drifts on
/// the machine meanwhile weighs on each alike. Each server's figures are
/// the sums over its turns.
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
    let script = Script::new(&requests, replies);
    let runtime_server = launcher.start_reference(kind, &script)?;

    let (mut gateway, mut reference, mut runtime_reference) = (None, None, None);
    let add = |total: &mut Option<Measure>, m: Measure| match total {
        Some(t) => t.add(&m),
        None => *total = Some(m),
    };
    server.reset_peak();
    for (round, range) in rounds(connections).into_iter().enumerate() {
        let slice = requests.slice(range);
        for turn in Turn::order(round) {
            match turn {
                Turn::Reference => add(&mut reference, reference_run(&slice, &script, threads)?),
                Turn::RuntimeReference => add(
                    &mut runtime_reference,
                    driven(&runtime_server, &slice, threads)?,
                ),
                Turn::Gateway => add(&mut gateway, driven(&server, &slice, threads)?),
            }
        }
    }
    let server_peak = server.memory().map(|m| m.peak);
    verify_stored(kind, server.addr(), &requests)?;
    let none = || crate::Error::from("no round ran");
    Ok(ChurnRow {
        runtime: kind.name(),
        connections,
        threads,
        measure: gateway.ok_or_else(none)?,
        server_peak,
        reference: reference.ok_or_else(none)?,
        runtime_reference: runtime_reference.ok_or_else(none)?,
    })
}

/// The clients of [`run`] against a fresh reference server following
/// `script`; its threads' CPU time is the measure's `server_cpu`.
pub fn reference_run(
    requests: &Requests,
    script: &Script,
    threads: usize,
) -> Result<Measure, crate::Error> {
    let server = ReferenceServer::start(script.clone(), threads)?;
    let watch = Measure::start(None);
    let acknowledged = client::drive(server.addrs(), requests, threads)?;
    let mut measure = watch.stop();
    measure.server_cpu = server.stop()?;
    check_acknowledged(acknowledged, requests)?;
    Ok(measure)
}

/// The clients of [`run`] against `server`, a child process: the gateway,
/// or the async reference on the gateway's runtime (the scale case's,
/// [`crate::scale::reference`]; a plain server with a task per connection,
/// so what separates it from the gateway is the protocol's work and not
/// the runtime's). Its process's CPU time is the measure's `server_cpu`.
pub fn driven(
    server: &ServerProcess,
    requests: &Requests,
    threads: usize,
) -> Result<Measure, crate::Error> {
    let watch = Measure::start(Some(server));
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
