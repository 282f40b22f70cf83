//! Many connections to one server: what an idle connection and an open
//! request cost the server in memory, and small puts on all connections at
//! once.
//!
//! * [`reference`](mod@reference) — the plain TCP server the gateway is
//!   compared with, and its client connections.

pub mod reference;

use std::sync::Arc;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_node::{Client, ClientError};

use crate::report::{Measure, ScaleRow};
use crate::rt::{RuntimeKind, in_task};
use crate::server::{Launcher, ServerProcess};
use futures_util::future::join_all;

/// Opens `connections` connections and measures the server's resident
/// memory: before, with all of them fresh after HELLO, idle again after one
/// 1 KiB put on each (all at once, timed), and with one put request open
/// (accepted, no data yet) on each.
pub fn run(
    kind: RuntimeKind,
    launcher: &Launcher,
    connections: usize,
) -> Result<ScaleRow, crate::Error> {
    let server = launcher.start(kind)?;
    let objects: Arc<[Bytes]> = (0..connections as u64)
        .map(|i| Bytes::from(crate::large::object(1024, i + 1)))
        .collect();
    kind.block_on(async {
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
        let watch = Measure::start(Some(&server));
        let (all, objs) = (clients.clone(), objects.clone());
        in_task(&*runtime, async move {
            let puts = all
                .iter()
                .zip(objs.iter())
                .map(|(c, o)| c.put_doc("bench", "scale", o.clone()));
            join_all(puts)
                .await
                .into_iter()
                .collect::<Result<Vec<ObjectId>, ClientError>>()
        })
        .await??;
        let measure = watch.stop();
        let idle = rss(&server);

        for (i, c) in clients.iter().enumerate() {
            c.start(1_000_000 + i as u64, "put").await?;
        }
        let open = rss(&server);

        let per = |a: Option<u64>, b: Option<u64>| {
            let (a, b) = (a?, b?);
            Some((b as i64 - a as i64) / connections as i64)
        };
        Ok(ScaleRow {
            runtime: kind.name(),
            connections,
            fresh_per_connection: per(before, fresh),
            idle_per_connection: per(before, idle),
            per_open_request: per(idle, open),
            puts: connections,
            measure,
        })
    })?
}

fn rss(server: &ServerProcess) -> Option<u64> {
    server.memory().map(|m| m.rss)
}
