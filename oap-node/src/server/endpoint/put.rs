//! Puts: received bytes go to a staging in the store, and become visible
//! only through a commit after the connection verified the object.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use oap_core::ObjectId;
use oap_core::connection::RequestId;
use oap_core::payload::ErrorCode;

use super::{GatewayEndpoint, Job, Kind};
use crate::server::byte_quotas::Reservation;
use crate::store::{ObjectStore, Staging};

/// Commits one request may have running on the blocking pool at once.
const MAX_COMMITS_PER_REQUEST: usize = 16;

/// An object being received: its staging, and the bytes reserved for it
/// against its tenant's byte quota (released if it is never stored).
struct Incoming {
    obj: ObjectId,
    staging: Box<dyn Staging>,
    reservation: Option<Reservation>,
}

/// A put: objects being received in arrival order (a legacy request may
/// carry several), the last object verified and sent to commit, the
/// commits still running on the blocking pool, and the client's END once
/// it came.
#[derive(Default)]
pub(super) struct Put {
    stagings: VecDeque<Incoming>,
    stored: Option<ObjectId>,
    committing: Vec<Job>,
    peer_end: Option<Option<ObjectId>>,
}

/// Commits a verified object, then charges its reservation if the commit
/// stored it for the first time. Runs where the commit may block.
fn commit_and_settle(store: &dyn ObjectStore, incoming: Incoming) -> io::Result<()> {
    let newly_stored = incoming.reservation.is_some() && !store.contains(&incoming.obj);
    incoming.staging.commit()?;
    if let Some(r) = incoming.reservation {
        r.settle(newly_stored);
    }
    Ok(())
}

impl GatewayEndpoint {
    pub(super) fn put_mut(&mut self, id: RequestId) -> Option<&mut Put> {
        match self.requests.get_mut(&id).map(|r| &mut r.kind) {
            Some(Kind::Put(p)) => Some(p),
            _ => None,
        }
    }

    /// Moves received bytes into their staging.
    pub(super) fn drain_put(&mut self, id: RequestId) {
        let store = Arc::clone(&self.server.store);
        while let Some(chunk) = self.conn().read(id, usize::MAX) {
            if self.put_mut(id).is_none() {
                return;
            }
            if chunk.offset == 0 {
                // Refused before any byte is stored.
                let reservation = match self.reserve(&chunk.obj, chunk.total_len) {
                    Ok(r) => r,
                    Err(msg) => return self.reject(id, ErrorCode::StoreFull, msg),
                };
                let staging = match store.begin(chunk.obj, chunk.total_len) {
                    Ok(s) => s,
                    Err(e) => return self.store_failed(id, &e),
                };
                let Some(put) = self.put_mut(id) else { return };
                put.stagings.push_back(Incoming {
                    obj: chunk.obj,
                    staging,
                    reservation,
                });
            }
            let Some(put) = self.put_mut(id) else { return };
            let written = match put.stagings.back_mut() {
                Some(incoming) => incoming.staging.write(&chunk.bytes),
                None => Ok(()),
            };
            if let Err(e) = written {
                return self.store_failed(id, &e);
            }
        }
    }

    /// Reserves `total_len` bytes of the tenant's byte quota for `obj`;
    /// nothing when the gateway counts no bytes or the store already has
    /// the object (storing it again costs nothing).
    fn reserve(&self, obj: &ObjectId, total_len: u64) -> Result<Option<Reservation>, String> {
        let Some(quotas) = &self.server.config.byte_quotas else {
            return Ok(None);
        };
        if self.server.store.contains(obj) {
            return Ok(None);
        }
        quotas
            .reserve(self.gateway.tenant(), total_len)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The connection verified `obj`: only now does it enter the store.
    pub(super) fn commit(&mut self, id: RequestId, obj: ObjectId, len: u64) {
        let store = Arc::clone(&self.server.store);
        let Some(put) = self.put_mut(id) else { return };
        let incoming = match put.stagings.front() {
            Some(i) if i.obj == obj => put.stagings.pop_front(),
            // A zero-length object has no bytes, hence no staging yet.
            _ if len == 0 => store.begin(obj, 0).ok().map(|staging| Incoming {
                obj,
                staging,
                reservation: None,
            }),
            _ => None,
        };
        let Some(incoming) = incoming else {
            return self.reject(id, ErrorCode::Internal, "verified object has no staging");
        };
        // Recorded now, so that the END is checked against the last object
        // verified even if commits on the pool finish out of order; a
        // failed commit rejects the whole request anyway.
        if let Some(put) = self.put_mut(id) {
            put.stored = Some(obj);
        }
        if !store.blocks() {
            return self.committed(id, commit_and_settle(&*store, incoming));
        }
        if self
            .put_mut(id)
            .is_some_and(|p| p.committing.len() >= MAX_COMMITS_PER_REQUEST)
        {
            // Objects of no bytes cost no credit, so credit alone does not
            // stop one request from queueing commits without end.
            return self.reject(
                id,
                ErrorCode::Busy,
                "too many objects of this request are still being committed",
            );
        }
        let job = self.new_job();
        if let Some(put) = self.put_mut(id) {
            put.committing.push(job);
        }
        self.off_driver(
            move || commit_and_settle(&*store, incoming),
            move |ep, result| {
                let Some(put) = ep.put_mut(id) else { return };
                let Some(at) = put.committing.iter().position(|j| *j == job) else {
                    return;
                };
                put.committing.swap_remove(at);
                ep.committed(id, result);
            },
        );
    }

    pub(super) fn committed(&mut self, id: RequestId, result: io::Result<()>) {
        match result {
            Ok(()) => self.try_finish_put(id),
            Err(e) => self.store_failed(id, &e),
        }
    }

    /// Answers a put once the client ended it and everything was stored.
    pub(super) fn try_finish_put(&mut self, id: RequestId) {
        let Some(put) = self.put_mut(id) else { return };
        let done = put.stagings.is_empty() && put.committing.is_empty();
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
        self.try_finish_put(id);
    }
}
