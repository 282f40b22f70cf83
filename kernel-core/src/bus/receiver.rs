//! `Receiver`: one subscriber's cursor, with an async `recv`.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::core::SubId;
use super::error::{RecvError, TryRecvError};
use super::filter::Filter;
use super::outcome::RecvRef;
use super::shared::{Parked, Shared};
use crate::KernelEvent;

/// A subscription to a [`Bus`](super::Bus). Dropping it unsubscribes.
#[derive(Debug)]
pub struct Receiver {
    shared: Arc<Shared>,
    id: SubId,
    /// Where this receiver's cursor sat in the core last time; see `try_recv_hinted`.
    hint: usize,
    /// The events it takes ([`Bus::subscribe_filtered`](super::Bus::subscribe_filtered));
    /// `None`: all.
    filter: Option<Filter>,
}

impl Receiver {
    pub(crate) fn new(shared: Arc<Shared>, id: SubId, filter: Option<Filter>) -> Self {
        Self {
            shared,
            id,
            hint: 0,
            filter,
        }
    }

    /// Whether this receiver takes `event`.
    fn takes(&self, event: &KernelEvent) -> bool {
        self.filter.as_ref().is_none_or(|f| f.accepts(event))
    }

    /// Waits for the next event.
    ///
    /// Returns `Err(RecvError::Lagged { missed })` once per gap when this receiver fell
    /// behind (call `recv` again to go on), and `Err(RecvError::Closed)` once every
    /// `Bus` handle is gone and nothing is left to read. Cancel-safe: dropping the future
    /// loses no event.
    pub async fn recv(&mut self) -> Result<KernelEvent, RecvError> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll form of [`Receiver::recv`], for hand-written futures. Registers `cx`'s waker
    /// (replacing this receiver's previous one) when it returns `Pending`.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<KernelEvent, RecvError>> {
        let mut guard = self.shared.lock();
        // Reborrow once so the borrowed outcome (from `core`) and `senders`/`wakers` are
        // disjoint fields rather than two borrows of the guard.
        let state = &mut *guard;
        loop {
            return match state.core.try_recv_hinted(self.id, &mut self.hint) {
                Ok(RecvRef::Event(event)) if !self.takes(event) => continue,
                Ok(RecvRef::Event(event)) => Poll::Ready(Ok(event.clone())),
                Ok(RecvRef::Lagged { missed }) => {
                    drop(guard);
                    self.shared.count_lag(missed);
                    Poll::Ready(Err(RecvError::Lagged { missed }))
                }
                Ok(RecvRef::Empty) if state.senders == 0 => Poll::Ready(Err(RecvError::Closed)),
                Ok(RecvRef::Empty) => {
                    match state.wakers.get_mut(&self.id) {
                        Some(parked) if parked.waker.will_wake(cx.waker()) => {}
                        Some(parked) => parked.waker.clone_from(cx.waker()),
                        None => {
                            let parked = Parked::new(cx.waker().clone(), self.filter.clone());
                            state.wakers.insert(self.id, parked);
                        }
                    }
                    Poll::Pending
                }
                // Our id is only removed in `drop`, so this cannot happen while `self` lives.
                Err(_) => Poll::Ready(Err(RecvError::Closed)),
            };
        }
    }

    /// Takes the next event if one is ready, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] when nothing is ready, `Lagged` once per gap, `Closed`
    /// when the bus is gone and drained.
    pub fn try_recv(&mut self) -> Result<KernelEvent, TryRecvError> {
        let mut guard = self.shared.lock();
        let state = &mut *guard;
        loop {
            return match state.core.try_recv_hinted(self.id, &mut self.hint) {
                Ok(RecvRef::Event(event)) if !self.takes(event) => continue,
                Ok(RecvRef::Event(event)) => Ok(event.clone()),
                Ok(RecvRef::Lagged { missed }) => {
                    drop(guard);
                    self.shared.count_lag(missed);
                    Err(TryRecvError::Lagged { missed })
                }
                Ok(RecvRef::Empty) if state.senders > 0 => Err(TryRecvError::Empty),
                Ok(RecvRef::Empty) | Err(_) => Err(TryRecvError::Closed),
            };
        }
    }

    /// A new, independent receiver on the same bus, starting at the next published event,
    /// with the same filter as this one.
    pub fn resubscribe(&self) -> Receiver {
        let id = self.shared.lock().core.subscribe();
        Receiver::new(Arc::clone(&self.shared), id, self.filter.clone())
    }

    /// Outcomes readable right now without waiting (a pending lag counts as one).
    pub fn pending(&self) -> u64 {
        self.shared.lock().core.pending(self.id).unwrap_or(0)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.wakers.remove(&self.id);
        state.core.unsubscribe(self.id);
    }
}
