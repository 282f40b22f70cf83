//! Puts: received bytes go to a staging in the store, and become visible
//! only through a commit after the connection verified the object.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use oap_core::ObjectId;
use oap_core::connection::RequestId;
use oap_core::payload::ErrorCode;

use super::{GatewayEndpoint, Job, Kind};
use crate::store::Staging;

/// A put: stagings in arrival order (a legacy request may carry several
/// objects), the last object verified and sent to commit, the commits
/// still running on the blocking pool, and the client's END once it came.
#[derive(Default)]
pub(super) struct Put {
    stagings: VecDeque<(ObjectId, Box<dyn Staging>)>,
    stored: Option<ObjectId>,
    committing: Vec<Job>,
    peer_end: Option<Option<ObjectId>>,
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
            let Some(put) = self.put_mut(id) else { return };
            if chunk.offset == 0 {
                match store.begin(chunk.obj, chunk.total_len) {
                    Ok(s) => put.stagings.push_back((chunk.obj, s)),
                    Err(e) => return self.store_failed(id, &e),
                }
            }
            let written = match put.stagings.back_mut() {
                Some((_, s)) => s.write(&chunk.bytes),
                None => Ok(()),
            };
            if let Err(e) = written {
                return self.store_failed(id, &e);
            }
        }
    }

    /// The connection verified `obj`: only now does it enter the store.
    pub(super) fn commit(&mut self, id: RequestId, obj: ObjectId, len: u64) {
        let store = Arc::clone(&self.server.store);
        let Some(put) = self.put_mut(id) else { return };
        let staging = match put.stagings.front() {
            Some((o, _)) if *o == obj => put.stagings.pop_front().map(|(_, s)| s),
            // A zero-length object has no bytes, hence no staging yet.
            _ if len == 0 => store.begin(obj, 0).ok(),
            _ => None,
        };
        let Some(staging) = staging else {
            return self.reject(id, ErrorCode::Internal, "verified object has no staging");
        };
        // Recorded now, so that the END is checked against the last object
        // verified even if commits on the pool finish out of order; a
        // failed commit rejects the whole request anyway.
        if let Some(put) = self.put_mut(id) {
            put.stored = Some(obj);
        }
        if !store.blocks() {
            return self.committed(id, staging.commit());
        }
        let job = self.new_job();
        if let Some(put) = self.put_mut(id) {
            put.committing.push(job);
        }
        self.off_driver(
            move || staging.commit(),
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
