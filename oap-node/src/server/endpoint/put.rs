//! Puts: received bytes go to a staging in the store, and become visible
//! only through a commit after the connection verified the object.
//!
//! Everything a put asks of its store (reserve bytes and begin an object,
//! write what arrived, commit what verified) runs in arrival order as
//! batches, one batch at a time per request: on the blocking pool when the
//! batch may wait (it commits, on a store that blocks, or it writes, on a
//! store whose writes block: S3), else inline, each chunk as it is read
//! and with no batch built. While a batch is away the
//! request reads nothing more from its connection, so the peer's credit is
//! not returned and a slow store (a disk under write-back, a network
//! store) holds the sender back: a put holds at most about two windows,
//! the batch being stored and the next one arriving, whatever the object's
//! size.

use std::io;
use std::sync::Arc;

use oap_core::ObjectId;
use oap_core::connection::{Chunk, RequestId};
use oap_core::payload::ErrorCode;
use oap_core::spill_deque::SpillDeque;

use super::{GatewayEndpoint, Job, Kind};
use crate::server::ByteQuotas;
use crate::server::byte_quotas::Reservation;
use crate::store::{ObjectStore, Staging};

/// Objects of one request verified but not committed yet, in the batch
/// away and waiting for the next. Objects of no bytes cost no credit, so
/// credit alone does not bound them.
const MAX_PENDING_COMMITS: usize = 16;

/// An object being received: its staging, and the bytes reserved for it
/// against its tenant's byte quota (released if it is never stored).
struct Incoming {
    obj: ObjectId,
    staging: Box<dyn Staging>,
    reservation: Option<Reservation>,
}

/// The store's side of a put: the objects being received, in arrival
/// order (a legacy request may carry several; a put of today, one, held
/// without an allocation). Travels to the blocking pool and back with
/// each batch.
#[derive(Default)]
struct Sink {
    incoming: SpillDeque<Incoming>,
}

/// One batch of store work, applied in this order: the chunks read from
/// the connection (the first chunk of an object begins it), then the
/// commits of the objects the connection verified. A verified object's
/// bytes all arrived before its verification, so they are among the
/// chunks of this batch or an earlier one.
struct Batch {
    chunks: Vec<Chunk>,
    verified: Vec<(ObjectId, u64)>,
    /// Who pays for new objects, and what their byte quotas allow.
    quotas: Option<(Arc<ByteQuotas>, String)>,
}

/// Why a batch stopped.
enum Refusal {
    /// The tenant's byte quota has no room for the object.
    Quota(String),
    /// The store failed.
    Store(io::Error),
}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Self {
        Self::Store(e)
    }
}

impl Sink {
    /// Applies `batch`; returns the last object committed.
    fn apply(
        &mut self,
        store: &dyn ObjectStore,
        batch: Batch,
    ) -> Result<Option<ObjectId>, Refusal> {
        for chunk in batch.chunks {
            self.write(store, chunk, batch.quotas.as_ref())?;
        }
        let mut stored = None;
        for (obj, len) in batch.verified {
            self.commit(store, obj, len)?;
            stored = Some(obj);
        }
        Ok(stored)
    }

    /// Writes a chunk read from the connection; the first of an object
    /// begins it, charged to `quotas`.
    fn write(
        &mut self,
        store: &dyn ObjectStore,
        chunk: Chunk,
        quotas: Option<&(Arc<ByteQuotas>, String)>,
    ) -> Result<(), Refusal> {
        if chunk.offset == 0 {
            let (staging, reservation) = match store.begin_if_absent(chunk.obj, chunk.total_len)? {
                // Stored already: its bytes go nowhere, and cost nothing.
                None => (Box::new(Discard) as Box<dyn Staging>, None),
                // Refused before any byte is stored.
                Some(staging) => (staging, reserve(quotas, &chunk)?),
            };
            self.incoming.push_back(Incoming {
                obj: chunk.obj,
                staging,
                reservation,
            });
        }
        if let Some(incoming) = self.incoming.back_mut() {
            incoming.staging.write(chunk.bytes)?;
        }
        Ok(())
    }

    /// Commits `obj`, which the connection verified: all its bytes were
    /// written before.
    fn commit(&mut self, store: &dyn ObjectStore, obj: ObjectId, len: u64) -> Result<(), Refusal> {
        let incoming = match self.incoming.front() {
            Some(i) if i.obj == obj => self.incoming.pop_front(),
            // A zero-length object has no bytes, hence no staging yet.
            _ if len == 0 => Some(Incoming {
                obj,
                staging: store.begin(obj, 0)?,
                reservation: None,
            }),
            _ => None,
        };
        let incoming = incoming
            .ok_or_else(|| Refusal::Store(io::Error::other("verified object has no staging")))?;
        Ok(commit_and_settle(incoming)?)
    }
}

/// Reserves a new object's `total_len` bytes of the tenant's byte quota;
/// nothing when the gateway counts no bytes.
fn reserve(
    quotas: Option<&(Arc<ByteQuotas>, String)>,
    chunk: &Chunk,
) -> Result<Option<Reservation>, Refusal> {
    let Some((quotas, tenant)) = quotas else {
        return Ok(None);
    };
    quotas
        .reserve(tenant, chunk.total_len)
        .map(Some)
        .map_err(|e| Refusal::Quota(e.to_string()))
}

/// Commits a verified object, then charges its reservation: the object was
/// not stored when its put began. (Two puts of one new object at once are
/// both charged; asking the store again here would cost a round trip per
/// put on a network store.)
fn commit_and_settle(incoming: Incoming) -> io::Result<()> {
    incoming.staging.commit()?;
    if let Some(r) = incoming.reservation {
        r.settle();
    }
    Ok(())
}

/// The staging of an object the store has already: keeps nothing.
struct Discard;

impl Staging for Discard {
    fn write(&mut self, _bytes: bytes::Bytes) -> io::Result<()> {
        Ok(())
    }

    fn commit(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

/// A put: its sink (away on the blocking pool while `batch` runs), the
/// objects verified since the last batch left, the last object stored,
/// and the client's END once it came.
pub(super) struct Put {
    sink: Option<Sink>,
    batch: Option<Job>,
    /// Commits in the batch away.
    committing: usize,
    verified: Vec<(ObjectId, u64)>,
    stored: Option<ObjectId>,
    peer_end: Option<Option<ObjectId>>,
}

impl Default for Put {
    fn default() -> Self {
        Self {
            sink: Some(Sink::default()),
            batch: None,
            committing: 0,
            verified: Vec::new(),
            stored: None,
            peer_end: None,
        }
    }
}

impl GatewayEndpoint {
    pub(super) fn put_mut(&mut self, id: RequestId) -> Option<&mut Put> {
        match self.requests.get_mut(&id).map(|r| &mut r.kind) {
            Some(Kind::Put(p)) => Some(p),
            _ => None,
        }
    }

    /// The connection verified `obj` of put `id`: it enters the store with
    /// the next batch, or now on a store that does not block.
    pub(super) fn put_verified(&mut self, id: RequestId, obj: ObjectId, len: u64) {
        let blocks = self.server.store.blocks();
        let Some(put) = self.put_mut(id) else { return };
        if put.verified.len() + put.committing >= MAX_PENDING_COMMITS {
            return self.reject(
                id,
                ErrorCode::Busy,
                "too many objects of this request are waiting to be stored",
            );
        }
        // A commit waits on a store that blocks, and after a batch away.
        if blocks || put.batch.is_some() {
            put.verified.push((obj, len));
            return self.advance_put(id);
        }
        self.put_here(id, Some((obj, len)));
    }

    /// Sends what put `id` received and verified since its last batch to
    /// the store, unless a batch is still away; answers the put once
    /// nothing is left to store.
    pub(super) fn advance_put(&mut self, id: RequestId) {
        let (blocks, writes_block) = (self.server.store.blocks(), self.server.store.writes_block());
        let Some(put) = self.put_mut(id) else { return };
        if put.batch.is_some() {
            return;
        }
        // Commits may wait (an fsync); writes wait only on stores that say
        // so (a network store), not on files (the page cache).
        let waits = blocks && (!put.verified.is_empty() || writes_block);
        if !waits {
            return self.put_here(id, None);
        }
        let mut chunks = Vec::new();
        while let Some(chunk) = self.conn().read(id, usize::MAX) {
            chunks.push(chunk);
        }
        if chunks.is_empty() && self.put_mut(id).is_some_and(|p| p.verified.is_empty()) {
            return self.try_finish_put(id);
        }
        let quotas =
            (self.server.config.byte_quotas.clone()).map(|q| (q, self.gateway.tenant().to_owned()));
        let store = Arc::clone(&self.server.store);
        let job = self.new_job();
        let Some(put) = self.put_mut(id) else { return };
        let batch = Batch {
            chunks,
            verified: std::mem::take(&mut put.verified),
            quotas,
        };
        let Some(mut sink) = put.sink.take() else {
            return;
        };
        put.batch = Some(job);
        put.committing = batch.verified.len();
        self.off_driver(
            move || {
                let result = sink.apply(&*store, batch);
                Ok((sink, result))
            },
            move |ep, outcome| {
                let Some(put) = ep.put_mut(id) else { return };
                if put.batch != Some(job) {
                    return;
                }
                put.batch = None;
                put.committing = 0;
                match outcome {
                    Ok((sink, result)) => ep.applied(id, sink, result, true),
                    Err(e) => ep.store_failed(id, &e),
                }
            },
        );
    }

    /// Writes what put `id` received and commits what it verified,
    /// `verified` last, here and now: for work that does not wait (see
    /// `advance_put`). Each chunk goes to the store as it is read, with no
    /// batch to carry it (a small object's put would allocate one for its
    /// single chunk).
    fn put_here(&mut self, id: RequestId, verified: Option<(ObjectId, u64)>) {
        let quotas =
            (self.server.config.byte_quotas.clone()).map(|q| (q, self.gateway.tenant().to_owned()));
        let Some(put) = self.put_mut(id) else { return };
        let Some(mut sink) = put.sink.take() else {
            return;
        };
        let mut listed = std::mem::take(&mut put.verified);
        let store = &*self.server.store;
        let conn = self.gateway.connection();
        let mut store_all = || {
            while let Some(chunk) = conn.read(id, usize::MAX) {
                sink.write(store, chunk, quotas.as_ref())?;
            }
            let mut stored = None;
            for (obj, len) in listed.drain(..).chain(verified) {
                sink.commit(store, obj, len)?;
                stored = Some(obj);
            }
            Ok(stored)
        };
        let result = store_all();
        if let Some(put) = self.put_mut(id) {
            // Emptied; its room stays for the request's next objects.
            put.verified = listed;
        }
        self.applied(id, sink, result, false);
    }

    /// A batch of put `id` came back from the store: from the blocking
    /// pool (`later`), when more may have arrived meanwhile, or inline.
    fn applied(
        &mut self,
        id: RequestId,
        sink: Sink,
        result: Result<Option<ObjectId>, Refusal>,
        later: bool,
    ) {
        let Some(put) = self.put_mut(id) else { return };
        put.sink = Some(sink);
        match result {
            Ok(stored) => {
                if stored.is_some() {
                    put.stored = stored;
                }
                if later {
                    self.advance_put(id);
                } else {
                    self.try_finish_put(id);
                }
            }
            Err(Refusal::Quota(msg)) => self.reject(id, ErrorCode::StoreFull, msg),
            Err(Refusal::Store(e)) => self.store_failed(id, &e),
        }
    }

    /// Answers a put once the client ended it and everything was stored.
    fn try_finish_put(&mut self, id: RequestId) {
        let Some(put) = self.put_mut(id) else { return };
        let done = put.batch.is_none()
            && put.verified.is_empty()
            && put.sink.as_ref().is_some_and(|s| s.incoming.is_empty());
        let (Some(announced), true) = (put.peer_end, done) else {
            return;
        };
        let stored = put.stored;
        if announced.is_some() && announced != stored {
            return self.reject(
                id,
                ErrorCode::Proto,
                "END names an object that was not received whole",
            );
        }
        let _ = self.conn().finish(id, stored);
    }

    /// The client ended put `id`, naming `announced`: answer once every
    /// commit is done.
    pub(super) fn put_peer_end(&mut self, id: RequestId, announced: Option<ObjectId>) {
        if let Some(p) = self.put_mut(id) {
            p.peer_end = Some(announced);
        }
        self.advance_put(id);
    }
}
