//! Handles on requests in flight: the guard that cancels a request whose
//! caller stopped waiting, and the two streaming transfers built on it.

use bytes::Bytes;
use futures_lite::future::poll_fn;
use oap_core::ObjectId;
use oap_core::client::ClientEvent;
use oap_core::connection::{CommandError, RequestId};
use oap_io::EndpointHandle;

use super::ClientError;
use super::endpoint::ClientEndpoint;

/// The most one piece of a streamed transfer carries, whatever the
/// credit: what a transfer holds is at most the credit window plus this.
pub(crate) const PIECE_MAX: u64 = 1 << 20;

/// The size of the next piece when `room` bytes may go now.
pub(crate) fn piece(room: u64) -> usize {
    usize::try_from(room.min(PIECE_MAX)).unwrap_or(1 << 20)
}

/// A request some task waits on. Dropped before the request ended (the
/// task's future or stream was dropped), it cancels the request on the
/// wire with ERROR `cancelled` and frees its slot on both sides.
pub(crate) struct RequestGuard {
    handle: EndpointHandle<ClientEndpoint>,
    rid: RequestId,
    armed: bool,
}

impl RequestGuard {
    pub(crate) fn new(handle: &EndpointHandle<ClientEndpoint>, rid: RequestId) -> Self {
        Self {
            handle: handle.clone(),
            rid,
            armed: true,
        }
    }

    /// Leaves the request to the caller: dropping the guard no longer
    /// cancels it.
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }

    /// Waits for the request's final event.
    pub(crate) async fn result(&mut self) -> Result<ClientEvent, ClientError> {
        let (rid, handle) = (self.rid, &self.handle);
        let result = poll_fn(|cx| handle.peek(|ep| ep.poll_result(rid, cx))).await;
        // The endpoint forgot the request as it handed its last event over
        // (or had no such request): dropping the guard has nothing left to
        // cancel, and skips taking the endpoint's lock to find that out.
        self.armed = false;
        result
    }

    /// Waits for a put's confirmed id.
    pub(crate) async fn put_result(&mut self) -> Result<ObjectId, ClientError> {
        match self.result().await? {
            ClientEvent::PutDone { result, .. } => Ok(result?),
            _ => Err(ClientError::UnknownRequest),
        }
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if self.armed {
            let rid = self.rid;
            // Dropped before its result: the request may have ended all
            // the same, with nothing to send; waking the driver only for a
            // cancel spares it a poll of the connection.
            if self.handle.peek(|ep| ep.abandon(rid)) {
                self.handle.wake();
            }
        }
    }
}

/// A put whose bytes the caller writes as the server's credit allows
/// ([`super::Client::put_stream`]).
///
/// Call [`PutStream::room`] to learn how much the credit takes, then
/// [`PutStream::write`]; after the last byte, [`PutStream::finish`] waits
/// for the server's confirmation. Dropping it before that cancels the put
/// on the wire; the server keeps nothing of it.
pub struct PutStream {
    guard: RequestGuard,
}

impl PutStream {
    pub(crate) fn new(guard: RequestGuard) -> Self {
        Self { guard }
    }

    /// Waits until the put can send more and says how many bytes the
    /// server's credit takes now: 0 once the put ended (finished, or
    /// refused: [`PutStream::finish`] says which).
    pub async fn room(&self) -> u64 {
        let rid = self.guard.rid;
        poll_fn(|cx| self.guard.handle.peek(|ep| ep.poll_room(rid, cx))).await
    }

    /// Writes the next bytes of the object, waiting for credit as needed;
    /// more than the object's length is refused. The connection holds the
    /// bytes only until they are sent.
    pub async fn write(&mut self, mut bytes: Bytes) -> Result<(), ClientError> {
        let rid = self.guard.rid;
        while !bytes.is_empty() {
            let room = self.room().await;
            if room == 0 {
                // Ended early: the result says why.
                return Err(self.failure().await);
            }
            let n = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
            let piece = bytes.split_to(n);
            match self.guard.handle.with(|ep| ep.push(rid, piece)) {
                Ok(()) => {}
                // The request ended between `room` and here (the server
                // refused it, e.g. `quota_exhausted`): its result says why,
                // which is what the caller needs to decide on a retry.
                Err(ClientError::Command(CommandError::UnknownRequest(_))) => {
                    return Err(self.failure().await);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Waits for the server to confirm the object after its last byte was
    /// written; resolves with the id it stored.
    pub async fn finish(mut self) -> Result<ObjectId, ClientError> {
        self.guard.put_result().await
    }

    /// Why a put that ended early failed.
    async fn failure(&mut self) -> ClientError {
        match self.guard.put_result().await {
            Err(e) => e,
            Ok(_) => ClientError::Command(oap_core::connection::CommandError::ObjectOverrun),
        }
    }
}

/// An object arriving in chunks ([`super::Client::get_stream`]).
///
/// Chunks are **provisional**: the object is the requested one only when
/// [`ObjectStream::chunk`] returns `Ok(None)`, after its whole digest
/// verified. An error means what was received must be discarded. Dropping
/// the stream early cancels the get on the wire.
pub struct ObjectStream {
    guard: RequestGuard,
    verified: Option<u64>,
}

impl ObjectStream {
    pub(crate) fn new(guard: RequestGuard) -> Self {
        Self {
            guard,
            verified: None,
        }
    }

    /// The next chunk (provisional); `Ok(None)` once the whole object
    /// arrived and verified; an error if it did not.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, ClientError> {
        if self.verified.is_some() {
            return Ok(None);
        }
        let rid = self.guard.rid;
        let max = piece(PIECE_MAX);
        // `with`, not `peek`: reading returns credit, and the driver must
        // wake to send the ACK.
        let next = poll_fn(|cx| self.guard.handle.with(|ep| ep.poll_chunk(rid, max, cx))).await;
        if let Some(bytes) = next {
            return Ok(Some(bytes));
        }
        match self.guard.result().await? {
            ClientEvent::StreamDone { result, .. } => {
                self.verified = Some(result?);
                Ok(None)
            }
            _ => Err(ClientError::UnknownRequest),
        }
    }

    /// The length the server announced with the first chunk: for progress
    /// reports, since it is verified only with the object.
    pub fn announced_len(&self) -> Option<u64> {
        let rid = self.guard.rid;
        self.guard.handle.peek(|ep| ep.announced_len(rid))
    }

    /// The object's length, once [`ObjectStream::chunk`] reported it whole
    /// and verified.
    pub fn verified_len(&self) -> Option<u64> {
        self.verified
    }
}

/// How far a file transfer is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes sent or received so far.
    pub bytes: u64,
    /// The object's length: the file's for a put; for a get, what the
    /// server announced (unverified until the transfer ends).
    pub total: u64,
}
