//! Receive helpers with timeouts and topic-style filtering.
//!
//! Timeouts use `async_io::Timer`, which runs on async-io's own reactor thread when no
//! async-io executor drives it, so the helpers work under tokio, async-std, smol or a
//! plain `block_on` alike.

use std::time::Duration;

use async_io::Timer;
use futures_lite::future;
use thiserror::Error;

use crate::KernelEvent;
use crate::bus::{Receiver, RecvError, TryRecvError};

/// Why a helper returned no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SubError {
    /// No (matching) event arrived before the timeout.
    #[error("timed out")]
    Timeout,
    /// The receiver fell behind; `missed` events are gone. A normal outcome: call again.
    #[error("receiver lagged and missed {missed} events")]
    Lagged {
        /// Number of events the receiver will never see.
        missed: u64,
    },
    /// The bus is gone and drained.
    #[error("bus closed")]
    Closed,
}

impl From<RecvError> for SubError {
    fn from(e: RecvError) -> Self {
        match e {
            RecvError::Lagged { missed } => SubError::Lagged { missed },
            RecvError::Closed => SubError::Closed,
        }
    }
}

/// Waits at most `timeout` for the next event.
///
/// # Errors
/// [`SubError::Timeout`] if nothing arrived in time; `Lagged` or `Closed` as in
/// [`Receiver::recv`]. A timeout consumes nothing.
pub async fn recv_with_timeout(
    rx: &mut Receiver,
    timeout: Duration,
) -> Result<KernelEvent, SubError> {
    let recv = async { rx.recv().await.map_err(SubError::from) };
    let expire = async {
        Timer::after(timeout).await;
        Err(SubError::Timeout)
    };
    future::or(recv, expire).await
}

/// Takes the next event if one is ready now: `Ok(None)` when there is none.
///
/// # Errors
/// `Lagged` once per gap, `Closed` when the bus is gone and drained.
pub fn try_recv_now(rx: &mut Receiver) -> Result<Option<KernelEvent>, SubError> {
    match rx.try_recv() {
        Ok(event) => Ok(Some(event)),
        Err(TryRecvError::Empty) => Ok(None),
        Err(TryRecvError::Lagged { missed }) => Err(SubError::Lagged { missed }),
        Err(TryRecvError::Closed) => Err(SubError::Closed),
    }
}

/// Waits at most `timeout` in total for the first event for which `predicate` holds,
/// consuming (and discarding) the non-matching events before it.
///
/// # Errors
/// [`SubError::Timeout`] when no matching event arrived in time. A lag is returned as
/// [`SubError::Lagged`] rather than skipped, because the wanted event may have been in
/// the gap; the caller decides whether to call again.
pub async fn recv_matching<P>(
    rx: &mut Receiver,
    mut predicate: P,
    timeout: Duration,
) -> Result<KernelEvent, SubError>
where
    P: FnMut(&KernelEvent) -> bool,
{
    let search = async {
        loop {
            let event = rx.recv().await?;
            if predicate(&event) {
                return Ok(event);
            }
        }
    };
    let expire = async {
        Timer::after(timeout).await;
        Err(SubError::Timeout)
    };
    future::or(search, expire).await
}
