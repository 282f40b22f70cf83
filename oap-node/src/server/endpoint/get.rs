//! Gets: open the object in the store, then read it only as far as the
//! request's credit reaches and send it through a `SendStream`.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::connection::{
    ChunkSource, ObjectSource, OutgoingObject, RequestId, SendState, SendStream,
};
use oap_core::payload::ErrorCode;

use super::{GatewayEndpoint, Job, Kind};
use crate::store::ObjectReader;

/// The most one read from the store fetches for a get, however much
/// credit the client granted, and the most a get reads ahead of it.
const FETCH_MAX: usize = 1 << 20;

/// A get: the object going out under credit, read from the store only as
/// far as the credit reaches.
pub(super) struct Get {
    stream: SendStream<ChunkSource>,
    /// Away on the blocking pool while `reading`.
    reader: Option<Box<dyn ObjectReader>>,
    /// The read running on the blocking pool.
    reading: Option<Job>,
}

impl GatewayEndpoint {
    /// Opens the object: at once for a store that does not block, else on
    /// the blocking pool while the request waits as [`Kind::Opening`].
    pub(super) fn start_get(&mut self, id: RequestId, addr: Option<&str>) -> Kind {
        let Some(Ok(obj)) = addr.map(str::parse::<ObjectId>) else {
            self.reject(
                id,
                ErrorCode::Proto,
                "get needs addr: a full b3:<hex> object id",
            );
            return Kind::Refused;
        };
        let store = Arc::clone(&self.server.store);
        if !store.blocks() {
            return self.open_get(id, obj, store.open(&obj));
        }
        let job = self.new_job();
        self.off_driver(
            move || store.open(&obj),
            move |ep, opened| {
                match ep.requests.get(&id).map(|r| &r.kind) {
                    Some(Kind::Opening(j)) if *j == job => {}
                    _ => return,
                }
                let kind = ep.open_get(id, obj, opened);
                if let Some(req) = ep.requests.get_mut(&id) {
                    req.kind = kind;
                }
                ep.pump(id);
            },
        );
        Kind::Opening(job)
    }

    pub(super) fn open_get(
        &mut self,
        id: RequestId,
        obj: ObjectId,
        opened: io::Result<Option<Box<dyn ObjectReader>>>,
    ) -> Kind {
        let reader = match opened {
            Ok(Some(reader)) => reader,
            Ok(None) => {
                self.reject(id, ErrorCode::NotFound, format!("{obj} is not stored"));
                return Kind::Refused;
            }
            Err(e) => {
                self.store_failed(id, &e);
                return Kind::Refused;
            }
        };
        let len = reader.len();
        let object = OutgoingObject {
            obj,
            total_len: len,
            content_type: None,
            e2e: false,
        };
        match SendStream::open(self.conn(), id, object, ChunkSource::new(len)) {
            Ok(stream) => Kind::Get(Get {
                stream: stream.end_with(Some(obj)),
                reader: Some(reader),
                reading: None,
            }),
            // The request ended meanwhile (then this does nothing), or a bug.
            Err(e) => {
                self.reject(id, ErrorCode::Internal, format!("cannot send: {e}"));
                Kind::Refused
            }
        }
    }

    /// Sends what credit allows of a get or subscription, and keeps one
    /// piece (up to [`FETCH_MAX`]) read ahead of the credit, so the store's
    /// next read overlaps the sending of the previous piece instead of
    /// waiting for it: inline for a store that does not block, else on the
    /// blocking pool (and `pump` runs again when the piece arrives). A get
    /// holds at most its credit plus two pieces.
    pub(super) fn pump(&mut self, id: RequestId) {
        loop {
            let Some(req) = self.requests.get_mut(&id) else {
                return;
            };
            let conn = self.gateway.connection();
            let g = match &mut req.kind {
                Kind::Get(g) => g,
                Kind::Subscribe(s) => return s.pump(conn, id),
                Kind::Put(_) | Kind::Opening(_) | Kind::Refused => return,
            };
            if !matches!(
                g.stream.poll(conn),
                Ok(SendState::NeedBytes { .. } | SendState::Blocked)
            ) || g.reading.is_some()
            {
                return;
            }
            // Read ahead only while less than a piece waits unsent.
            let source = g.stream.source_mut();
            let ready = usize::try_from(source.ready()).unwrap_or(usize::MAX);
            if ready >= FETCH_MAX || source.unfetched() == 0 {
                return;
            }
            let max = FETCH_MAX - ready;
            let Some(mut reader) = g.reader.take() else {
                return;
            };
            if !self.server.store.blocks() {
                let read = reader.read(max);
                if !self.fetched(id, reader, read) {
                    return;
                }
                continue;
            }
            // Not `new_job`: `g` still borrows the requests.
            self.next_job += 1;
            let job = self.next_job;
            g.reading = Some(job);
            self.off_driver(
                move || {
                    let read = reader.read(max);
                    Ok((reader, read))
                },
                move |ep, result| {
                    let Some(Kind::Get(g)) = ep.requests.get_mut(&id).map(|r| &mut r.kind) else {
                        return;
                    };
                    if g.reading != Some(job) {
                        return;
                    }
                    g.reading = None;
                    let fed = match result {
                        Ok((reader, read)) => ep.fetched(id, reader, read),
                        Err(e) => {
                            ep.store_failed(id, &e);
                            false
                        }
                    };
                    if fed {
                        ep.pump(id);
                    }
                },
            );
            return;
        }
    }

    /// Hands a piece read from the store to get `id`'s stream; `false`
    /// when the request was ended instead.
    pub(super) fn fetched(
        &mut self,
        id: RequestId,
        reader: Box<dyn ObjectReader>,
        read: io::Result<Bytes>,
    ) -> bool {
        let bytes = match read {
            Ok(b) if !b.is_empty() => b,
            Ok(_) => {
                self.reject(id, ErrorCode::Internal, "the store ended the object early");
                return false;
            }
            Err(e) => {
                self.store_failed(id, &e);
                return false;
            }
        };
        let Some(Kind::Get(g)) = self.requests.get_mut(&id).map(|r| &mut r.kind) else {
            return false;
        };
        g.reader = Some(reader);
        if g.stream.source_mut().push(bytes).is_err() {
            self.reject(id, ErrorCode::Internal, "the store returned too many bytes");
            return false;
        }
        true
    }
}
