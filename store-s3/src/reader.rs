//! A stored object read back in ranges and re-hashed on the way.

use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use oap_core::ObjectId;
use oap_core::object_id::ObjectHasher;
use oap_node::store::ObjectReader;
use object_store::{GetOptions, GetRange, ObjectMeta};

use crate::{Shared, unavailable};

type Body = BoxStream<'static, object_store::Result<Bytes>>;

/// An object being read: the body of the current ranged GET, what of it
/// was received but not handed out yet, and the hash so far.
pub(crate) struct S3Reader {
    shared: Arc<Shared>,
    obj: ObjectId,
    len: u64,
    /// Every range must come from the same version of the object.
    e_tag: Option<String>,
    /// Bytes handed out.
    pos: u64,
    body: Option<Body>,
    /// Bytes of the current range not received yet.
    body_left: u64,
    held: Bytes,
    hasher: ObjectHasher,
}

impl S3Reader {
    pub(crate) fn new(shared: Arc<Shared>, obj: ObjectId, meta: ObjectMeta) -> Self {
        Self {
            shared,
            obj,
            len: meta.size,
            e_tag: meta.e_tag,
            pos: 0,
            body: None,
            body_left: 0,
            held: Bytes::new(),
            hasher: ObjectHasher::new(),
        }
    }

    /// Starts the ranged GET of the next range.
    fn open_range(&mut self) -> io::Result<Body> {
        let end = self
            .len
            .min(self.pos + self.shared.range_size as u64)
            .max(self.pos + 1);
        let client = Arc::clone(&self.shared.client);
        let key = self.shared.key(&self.obj);
        let options = GetOptions {
            range: Some(GetRange::Bounded(self.pos..end)),
            // Changed behind the store's back since it was opened: fail
            // rather than splice two versions together.
            if_match: self.e_tag.clone(),
            ..GetOptions::default()
        };
        self.body_left = end - self.pos;
        let got = self
            .shared
            .run("GET", async move { client.get_opts(&key, options).await })?;
        Ok(got.into_stream())
    }
}

/// Takes up to `want` bytes from `held`, then from `body`, in one go on
/// the store's runtime.
async fn pull(
    mut body: Body,
    mut held: Bytes,
    want: usize,
) -> object_store::Result<(Body, Bytes, Bytes)> {
    if held.len() >= want {
        let out = held.split_to(want);
        return Ok((body, held, out));
    }
    let mut out = BytesMut::with_capacity(want);
    out.extend_from_slice(&held);
    held = Bytes::new();
    while out.len() < want {
        match body.next().await {
            Some(chunk) => {
                let mut chunk = chunk?;
                let take = chunk.len().min(want - out.len());
                out.extend_from_slice(&chunk.split_to(take));
                held = chunk;
            }
            None => break,
        }
    }
    Ok((body, held, out.freeze()))
}

impl ObjectReader for S3Reader {
    fn len(&self) -> u64 {
        self.len
    }

    fn remaining(&self) -> u64 {
        self.len - self.pos
    }

    fn read(&mut self, max: usize) -> io::Result<Bytes> {
        if self.remaining() == 0 || max == 0 {
            return Ok(Bytes::new());
        }
        let body = match self.body.take() {
            Some(body) if self.body_left + self.held.len() as u64 > 0 => body,
            _ => self.open_range()?,
        };
        // What of the current range is not handed out yet.
        let in_range = self.body_left + self.held.len() as u64;
        let want = usize::try_from(in_range).unwrap_or(usize::MAX).min(max);
        let held = std::mem::take(&mut self.held);
        let held_before = held.len() as u64;
        let (body, held, out) = self
            .shared
            .run("GET", async move { pull(body, held, want).await })?;
        let received = (out.len() + held.len()) as u64 - held_before;
        if received > self.body_left {
            return Err(unavailable("GET", "the body ran past its range"));
        }
        if out.len() < want {
            return Err(unavailable("GET", "the body ended before its range"));
        }
        self.body_left -= received;
        self.held = held;
        self.body = Some(body);
        self.hasher.update(&out);
        self.pos += out.len() as u64;
        if self.remaining() == 0 && !self.hasher.finalize().matches(&self.obj) {
            return Err(self.shared.quarantine(&self.obj));
        }
        Ok(out)
    }
}
