//! Many connections to one server: what an idle connection and an open
//! request cost the server in memory, and small puts on all connections at
//! once, next to the same puts against a plain TCP server measured right
//! after.
//!
//! The gateway's puts are timed twice: from the SDK's [`Client`], end to
//! end as an application makes them, and from the reference's own client
//! (pre-encoded bytes, nothing parsed), against a fresh gateway. Both
//! clients share the machine's two cores with the server, so only the
//! second against the reference compares two servers; the first says what
//! the SDK's client adds.
//!
//! * [`reference`](mod@reference) — the plain TCP server the gateway is
//!   compared with, and its client connections.
//!
//! The reference answers with the gateway's own answers, recorded byte for
//! byte after the gateway's run by the churn case's client
//! ([`crate::churn::client::record`]); its clients send the churn case's
//! pre-encoded bytes ([`Requests`]), for the same objects the gateway got.

pub mod reference;

use std::sync::Arc;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_node::{Client, ClientError};

use crate::churn::client::{self, Replies};
use crate::churn::reference::Script;
use crate::churn::requests::{Requests, SIZE};
use crate::report::{Measure, ScaleRow};
use crate::rt::{RuntimeKind, in_task};
use crate::server::{Launcher, ServerProcess};
use futures_util::future::join_all;
use reference::Connection;

/// Rounds of puts, one on every connection at once in each, timed apart:
/// a row reports the median round. One round of 1,000 puts takes a few
/// tens of milliseconds, which one stall of this shared machine can
/// double.
pub const ROUNDS: usize = 5;

/// The round whose wall time is the median of `rounds`.
fn median(mut rounds: Vec<Measure>) -> Measure {
    rounds.sort_by_key(|m| m.wall);
    rounds[rounds.len() / 2]
}

/// Opens `connections` connections and measures the server's resident
/// memory: before, with all of them fresh after HELLO, idle again after one
/// 1 KiB put on each (all at once, timed), and with one put request open
/// (accepted, no data yet) on each; then times [`ROUNDS`]` - 1` more rounds
/// of distinct puts (the open requests, idle, stay), all from the SDK's
/// [`Client`]. Then times the same puts from the reference's client
/// against a fresh gateway ([`gateway_run`]) and against the reference
/// ([`reference_run`]).
pub fn run(
    kind: RuntimeKind,
    launcher: &Launcher,
    connections: usize,
) -> Result<ScaleRow, crate::Error> {
    let server = launcher.start(kind)?;
    // Seeds from 1, as the reference's requests below: the same objects.
    let objects: Arc<[Bytes]> = (0..(connections * ROUNDS) as u64)
        .map(|i| Bytes::from(crate::large::object(SIZE, i + 1)))
        .collect();
    let gateway = kind.block_on(async {
        let runtime = kind.runtime();
        let connect =
            || Client::connect(runtime.clone(), server.addr(), ConnectionConfig::default());
        // One connection first, so buffers every connection shares (the
        // accept loop's, the allocator's arenas) are not counted.
        let warm = connect().await?;
        warm.put_doc("bench", "warm", objects[0].clone()).await?;
        let before = rss(&server);

        let mut clients = Vec::with_capacity(connections);
        for _ in 0..connections {
            clients.push(connect().await?);
        }
        let clients = Arc::new(clients);
        let fresh = rss(&server);

        // From a task on the runtime, as in the small case (see `in_task`).
        let round = |r: usize| {
            let (all, objs) = (clients.clone(), objects.clone());
            let watch = Measure::start(Some(&server));
            let runtime = runtime.clone();
            async move {
                in_task(&*runtime, async move {
                    let puts = all
                        .iter()
                        .zip(objs[r * connections..].iter())
                        .map(|(c, o)| c.put_doc("bench", "scale", o.clone()));
                    join_all(puts)
                        .await
                        .into_iter()
                        .collect::<Result<Vec<ObjectId>, ClientError>>()
                })
                .await??;
                Ok::<_, crate::Error>(watch.stop())
            }
        };
        let mut rounds = vec![round(0).await?];
        let idle = rss(&server);

        for (i, c) in clients.iter().enumerate() {
            c.start(1_000_000 + i as u64, "put").await?;
        }
        let open = rss(&server);
        for r in 1..ROUNDS {
            rounds.push(round(r).await?);
        }

        let per = |a: Option<u64>, b: Option<u64>| {
            let (a, b) = (a?, b?);
            Some((b as i64 - a as i64) / connections as i64)
        };
        Ok::<_, crate::Error>(ScaleRow {
            runtime: kind.name(),
            connections,
            fresh_per_connection: per(before, fresh),
            idle_per_connection: per(before, idle),
            per_open_request: per(idle, open),
            puts: connections,
            measure: median(rounds),
            // Measured below, once this gateway is gone.
            same_client: Measure::default(),
            reference: Measure::default(),
        })
    })??;

    // Seed 0: an object none of the timed puts has, as in the churn case.
    let recorded = Requests::new(0..1);
    let replies = client::record(server.addr(), &recorded, 0)?;
    // The gateway and its connections go first, so that nothing of theirs
    // runs while the next servers are timed.
    drop(server);
    let requests = Requests::new(1..(connections * ROUNDS) as u64 + 1);
    let fresh = launcher.start(kind)?;
    let same_client = gateway_run(
        kind,
        &fresh,
        connections,
        requests.clone(),
        &replies,
        recorded.id(0).ok_or("no recorded object")?,
    )?;
    drop(fresh);
    Ok(ScaleRow {
        same_client,
        reference: reference_run(kind, launcher, connections, requests, replies)?,
        ..gateway
    })
}

/// Times [`ROUNDS`] rounds of `requests`' puts against the gateway
/// `server`, one on every connection at once in each, from the
/// reference's client ([`reference_run`]), and returns the median round.
/// `replies` are a gateway's answers to a HELLO and to the put of the
/// object `recorded`: each put must be answered as that one, with its own
/// object's id in place of `recorded`'s, or the run fails.
pub fn gateway_run(
    kind: RuntimeKind,
    server: &ServerProcess,
    connections: usize,
    requests: Requests,
    replies: &Replies,
    recorded: ObjectId,
) -> Result<Measure, crate::Error> {
    let script = Script::new(&requests, replies.clone());
    let ids: Vec<ObjectId> = (0..requests.len()).filter_map(|i| requests.id(i)).collect();
    timed_rounds(kind, server, connections, requests, &script, |i, answer| {
        ids.get(i)
            .is_some_and(|id| with_id(&replies.put, recorded, *id).as_deref() == Some(answer))
    })
}

/// `answer`, a gateway's answer to the put of `recorded`, as it answers the
/// put of `id`: every copy of `recorded`'s text replaced by `id`'s (the
/// same length). `None` if `answer` does not name `recorded`.
fn with_id(answer: &[u8], recorded: ObjectId, id: ObjectId) -> Option<Vec<u8>> {
    let (from, to) = (recorded.to_string(), id.to_string());
    let (from, to) = (from.as_bytes(), to.as_bytes());
    let mut out = answer.to_vec();
    let mut found = false;
    let mut i = 0;
    while let Some(at) = out[i..].windows(from.len()).position(|w| w == from) {
        out[i + at..i + at + from.len()].copy_from_slice(to);
        i += at + from.len();
        found = true;
    }
    found.then_some(out)
}

/// Opens `connections` connections to a reference server on `kind` that
/// answers with `replies`, from this process on the same runtime, and
/// sends each its HELLO (untimed); then times [`ROUNDS`] rounds of
/// `requests`' puts, one on every connection at once in each, from a task
/// on the runtime as the gateway's are ([`in_task`]), and returns the
/// median round. Fails unless every answer is the recorded one. The
/// measure's `server_cpu` is the reference process's.
pub fn reference_run(
    kind: RuntimeKind,
    launcher: &Launcher,
    connections: usize,
    requests: Requests,
    replies: Replies,
) -> Result<Measure, crate::Error> {
    let script = Script::new(&requests, replies);
    let server = launcher.start_reference(kind, &script)?;
    timed_rounds(
        kind,
        &server,
        connections,
        requests,
        &script,
        |_, answer| answer == script.replies.put,
    )
}

/// Opens `connections` connections to `server` with the reference's
/// client and sends each the HELLO (untimed), expecting `script`'s answer;
/// then times rounds of `requests`' puts, one on every connection at once
/// in each, from a task on the runtime ([`in_task`]), and returns the
/// median round. After each round, `answered(i, answer)` must accept the
/// answer to put `i`, or the run fails. The measure's `server_cpu` is
/// `server`'s.
fn timed_rounds(
    kind: RuntimeKind,
    server: &ServerProcess,
    connections: usize,
    requests: Requests,
    script: &Script,
    answered: impl Fn(usize, &[u8]) -> bool,
) -> Result<Measure, crate::Error> {
    let requests = Arc::new(requests);
    kind.block_on(async {
        let runtime = kind.runtime();
        let mut open = Vec::with_capacity(connections);
        for _ in 0..connections {
            open.push(Connection::open(&*runtime, server.addr(), requests.hello(), script).await?);
        }

        let mut rounds = Vec::with_capacity(ROUNDS);
        for r in 0..requests.len() / connections.max(1) {
            let watch = Measure::start(Some(server));
            let req = requests.clone();
            open = in_task(&*runtime, async move {
                let puts = open.into_iter().enumerate().map(|(i, mut c)| {
                    let put = req
                        .put(r * connections + i)
                        .expect("a put for every connection in every round");
                    async move { c.put(put).await.map(|()| c) }
                });
                join_all(puts)
                    .await
                    .into_iter()
                    .collect::<std::io::Result<Vec<Connection>>>()
            })
            .await??;
            rounds.push(watch.stop());

            if let Some(i) =
                (0..open.len()).find(|&i| !answered(r * connections + i, open[i].answer()))
            {
                return Err(format!("put {} was answered otherwise", r * connections + i).into());
            }
        }
        if rounds.is_empty() {
            return Err("no puts to time".into());
        }
        Ok(median(rounds))
    })?
}

fn rss(server: &ServerProcess) -> Option<u64> {
    server.memory().map(|m| m.rss)
}
