//! Many small objects on one connection with 32 requests in flight (the
//! protocol's `max_inflight`).

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_node::{Client, ClientError};

use crate::report::{Measure, SmallRow};
use crate::rt::{RuntimeKind, in_task};
use crate::server::Launcher;
use futures_util::future::{BoxFuture, join_all};

/// Object size.
pub const SIZE: usize = 1024;
/// Requests in flight.
pub const INFLIGHT: usize = 32;

/// Puts `count` distinct 1 KiB objects, then gets them all back, each time
/// with [`INFLIGHT`] requests open at once on one connection, from a task
/// on the runtime ([`in_task`]).
pub fn run(
    kind: RuntimeKind,
    launcher: &Launcher,
    count: usize,
) -> Result<Vec<SmallRow>, crate::Error> {
    let server = launcher.start(kind)?;
    let objects: Arc<[Bytes]> = (0..count as u64)
        .map(|i| Bytes::from(crate::large::object(SIZE, i + 1)))
        .collect();
    kind.block_on(async {
        let runtime = kind.runtime();
        let client = Arc::new(
            Client::connect(runtime.clone(), server.addr(), ConnectionConfig::default()).await?,
        );
        let row = |op, measure| SmallRow {
            runtime: kind.name(),
            op,
            size: SIZE,
            inflight: INFLIGHT,
            objects: count,
            measure,
        };

        let watch = Measure::start(Some(&server));
        let (c, o) = (client.clone(), objects.clone());
        let ids: Arc<[ObjectId]> = in_task(&*runtime, async move { put_all(&c, &o).await })
            .await??
            .into();
        let put = row("put", watch.stop());

        let wanted: Arc<[(ObjectId, Bytes)]> =
            ids.iter().copied().zip(objects.iter().cloned()).collect();
        let watch = Measure::start(Some(&server));
        let c = client.clone();
        let matched = in_task(&*runtime, async move { get_and_check(&c, &wanted).await }).await??;
        let get = row("get", watch.stop());

        if matched.iter().any(|same| !same) {
            return Err("a get returned other bytes than were put".into());
        }
        Ok(vec![put, get])
    })?
}

type Work<'a, T> = BoxFuture<'a, Result<Vec<(usize, T)>, ClientError>>;

/// Worker `w` takes items `w`, `w + INFLIGHT`, ...; results come back in
/// item order.
async fn in_flight<'a, I, T, F, Fut>(items: &'a [I], op: F) -> Result<Vec<T>, ClientError>
where
    I: Sync + 'a,
    T: Send + 'a,
    F: Fn(&'a I) -> Fut + Copy + Send + 'a,
    Fut: Future<Output = Result<T, ClientError>> + Send + 'a,
{
    let workers: Vec<Work<'a, T>> = (0..INFLIGHT)
        .map(|w| {
            Box::pin(async move {
                let mut done = Vec::new();
                for i in (w..items.len()).step_by(INFLIGHT) {
                    done.push((i, op(&items[i]).await?));
                }
                Ok(done)
            }) as Work<'a, T>
        })
        .collect();
    let mut all = Vec::with_capacity(items.len());
    for r in join_all(workers).await {
        all.extend(r?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, t)| t).collect())
}

async fn put_all(client: &Client, objects: &[Bytes]) -> Result<Vec<ObjectId>, ClientError> {
    in_flight(objects, |o: &Bytes| {
        client.put_doc("bench", "small", o.clone())
    })
    .await
}

/// Gets each object of `wanted` and compares it with the bytes next to
/// its id as it arrives, then drops it, as an application that consumes
/// what it gets does: holding every object until the end would make the
/// client's heap grow by the whole set during the timed run. Returns, in
/// order, whether each came back the same.
pub(crate) async fn get_and_check(
    client: &Client,
    wanted: &[(ObjectId, Bytes)],
) -> Result<Vec<bool>, ClientError> {
    in_flight(wanted, |(id, expected): &(ObjectId, Bytes)| async move {
        Ok(client.get(*id).await? == *expected)
    })
    .await
}
