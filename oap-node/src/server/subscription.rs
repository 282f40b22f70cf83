//! Streaming bus events to a subscriber without ever blocking the bus.
//!
//! A task per subscription reads the bus and hands each outcome to the
//! endpoint. Events wait in a short queue for credit; a subscriber too slow
//! even for that loses events, and is told how many in a `{"missed": N}`
//! message before the next one. Each message is one DATA object (JSON),
//! verified by the client like any object.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use event_listener::Event;
use futures_lite::future;
use kernel_core::KernelEvent;
use kernel_core::bus::RecvError;
use oap_core::connection::{Connection, OutgoingObject, RequestId, SendState, SendStream};
use oap_io::WeakEndpointHandle;

use super::Inner;
use super::endpoint::GatewayEndpoint;
use crate::topic;

/// Messages waiting for credit before events start being dropped.
const QUEUE: usize = 64;

/// One subscription's state on the endpoint. Holds one of the server's
/// `max_subscriptions` places until dropped.
pub(crate) struct Subscription {
    _place: Place,
    queue: VecDeque<Bytes>,
    missed: u64,
    current: Option<SendStream<Bytes>>,
    cancelled: Arc<AtomicBool>,
    cancel: Arc<Event>,
}

/// A place among the server's `max_subscriptions`; given back on drop.
struct Place(Arc<Inner>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.subscriptions.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Subscription {
    /// Starts the task feeding request `id` with events matching `topic`;
    /// `None` when the server already serves `max_subscriptions`.
    pub(super) fn start(
        server: &Arc<Inner>,
        me: WeakEndpointHandle<GatewayEndpoint>,
        id: RequestId,
        topic: String,
    ) -> Option<Self> {
        let max = server.config.max_subscriptions;
        server
            .subscriptions
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        let place = Place(Arc::clone(server));
        let cancelled = Arc::new(AtomicBool::new(false));
        let cancel = Arc::new(Event::new());
        // Filtered at the bus: an event of another topic wakes neither
        // this task nor the endpoint (every connection publishes a Health).
        let mut rx = (server.services.bus).subscribe_filtered(move |ev| topic::matches(&topic, ev));
        let (flag, wake) = (Arc::clone(&cancelled), Arc::clone(&cancel));
        server.runtime.spawn(Box::pin(async move {
            loop {
                let stop = wake.listen();
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let outcome = future::or(async { Some(rx.recv().await) }, async {
                    stop.await;
                    None
                })
                .await;
                let Some(outcome) = outcome else { break };
                if outcome == Err(RecvError::Closed) {
                    break;
                }
                let Some(h) = me.upgrade() else { break };
                if !h.with(|ep| ep.deliver(id, outcome)) {
                    break;
                }
            }
        }));
        Some(Self {
            _place: place,
            queue: VecDeque::new(),
            missed: 0,
            current: None,
            cancelled,
            cancel,
        })
    }

    /// Stops the feeding task.
    pub(super) fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.cancel.notify(usize::MAX);
    }

    /// Takes one bus outcome (the receiver takes only events of this
    /// subscription's topic): queue it, or count it if the queue is full.
    pub(super) fn offer(&mut self, outcome: Result<KernelEvent, RecvError>) {
        match outcome {
            Ok(ev) => {
                if self.queue.len() < QUEUE {
                    // Serialising a plain enum of strings cannot fail.
                    let json = serde_json::to_vec(&ev).unwrap_or_default();
                    self.queue.push_back(Bytes::from(json));
                } else {
                    self.missed += 1;
                }
            }
            Err(RecvError::Lagged { missed }) => self.missed += missed,
            Err(RecvError::Closed) => {}
        }
    }

    /// Sends queued messages as far as credit allows.
    pub(super) fn pump(&mut self, conn: &mut Connection, id: RequestId) {
        loop {
            if let Some(msg) = &mut self.current {
                match msg.poll(conn) {
                    Ok(SendState::Done) => self.current = None,
                    _ => return,
                }
            }
            let next = if self.missed > 0 {
                let note = format!("{{\"missed\":{}}}", self.missed);
                self.missed = 0;
                Bytes::from(note)
            } else {
                match self.queue.pop_front() {
                    Some(m) => m,
                    None => return,
                }
            };
            match SendStream::open(conn, id, OutgoingObject::of(&next), next) {
                Ok(msg) => self.current = Some(msg),
                Err(_) => return,
            }
        }
    }
}
