//! Runs many futures of one task concurrently: the benchmark's requests in
//! flight on one connection.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// A boxed future that stays on its task (no `Send` needed).
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Polls every future until all are done; returns their outputs in order.
/// Each wake-up polls all unfinished futures, which is cheap for the few
/// dozen (or, for the scale case, thousand) a benchmark runs.
pub async fn join_all<T>(futures: Vec<LocalBoxFuture<'_, T>>) -> Vec<T> {
    let mut futures: Vec<_> = futures.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, result) in futures.iter_mut().zip(out.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
