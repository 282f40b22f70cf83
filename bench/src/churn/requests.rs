//! The bytes every churn connection sends, built before the clock starts
//! with `oap-core`'s encoder and payload types, so the client threads only
//! write and read.
//!
//! A connection sends two messages, as the protocol orders them (a client
//! opens no request before the server's HELLO answer, spec §6.1): the HELLO
//! `{"hello":"oap/1"}`, then the put of its own 1 KiB object: START, one
//! DATA frame carrying the whole object and END, the frames
//! `ClientSession::put_doc` sends. Every field has a fixed width (the same
//! request id, collection and document name, an id of 64 hex digits), so
//! every put is as long as every other; the reference server relies on it.

use std::ops::Range;

use bytes::{Bytes, BytesMut};
use oap_core::FrameEncoder;
use oap_core::ObjectId;
use oap_core::payload::{ControlPayload, DataHeader, End, Hello, Start, data_frame_parts};

/// The size of every object.
pub const SIZE: usize = 1024;

/// The request id of each connection's one put (each connection has its
/// own ids, so every connection may use the same).
const CORR_ID: u64 = 1;

/// The HELLO and one put per object, for objects of the
/// [`crate::large::object`] pattern with consecutive seeds.
#[derive(Debug, Clone)]
pub struct Requests {
    hello: Bytes,
    puts: Vec<Bytes>,
    ids: Vec<ObjectId>,
    seeds: Range<u64>,
}

impl Requests {
    /// One put of a distinct [`SIZE`]-byte object per seed in `seeds`.
    pub fn new(seeds: Range<u64>) -> Self {
        let encoder = FrameEncoder::new();
        let hello = frame(&encoder, &Hello::legacy());
        let mut puts = Vec::new();
        let mut ids = Vec::new();
        for seed in seeds.clone() {
            let object = Bytes::from(crate::large::object(SIZE, seed));
            let id = ObjectId::of(&object);
            puts.push(put(&encoder, id, object));
            ids.push(id);
        }
        assert!(
            puts.windows(2).all(|w| w[0].len() == w[1].len()),
            "every put has fixed-width fields, so the same length"
        );
        Self {
            hello,
            puts,
            ids,
            seeds,
        }
    }

    /// The objects `range` of these (clamped to them), as requests of
    /// their own: object `i` of the result is object `range.start + i` of
    /// these. The bytes are shared, not copied.
    pub fn slice(&self, range: Range<usize>) -> Self {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        let first_seed = self.seeds.start + start as u64;
        Self {
            hello: self.hello.clone(),
            puts: self.puts[start..end].to_vec(),
            ids: self.ids[start..end].to_vec(),
            seeds: first_seed..first_seed + (end - start) as u64,
        }
    }

    /// The HELLO every connection opens with.
    pub fn hello(&self) -> &[u8] {
        &self.hello
    }

    /// The put of object `i`: START, DATA, END.
    pub fn put(&self, i: usize) -> Option<&[u8]> {
        self.puts.get(i).map(|p| &p[..])
    }

    /// The length of every put (0 without objects).
    pub fn put_len(&self) -> usize {
        self.puts.first().map_or(0, Bytes::len)
    }

    /// How many objects (so connections) there are.
    pub fn len(&self) -> usize {
        self.puts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
    }

    /// The id of object `i`.
    pub fn id(&self, i: usize) -> Option<ObjectId> {
        self.ids.get(i).copied()
    }

    /// The bytes of object `i`, made again (the puts hold them only inside
    /// their DATA frames).
    pub fn object(&self, i: usize) -> Option<Vec<u8>> {
        let seed = self.seeds.start.checked_add(u64::try_from(i).ok()?)?;
        self.seeds
            .contains(&seed)
            .then(|| crate::large::object(SIZE, seed))
    }
}

/// One control frame.
fn frame(encoder: &FrameEncoder, payload: &impl ControlPayload) -> Bytes {
    let mut out = BytesMut::new();
    encoder
        .encode_frame(&payload.to_frame(), &mut out)
        .expect("a control payload of a few dozen bytes is below max_frame");
    out.freeze()
}

/// START, the whole object in one DATA frame, END.
fn put(encoder: &FrameEncoder, id: ObjectId, object: Bytes) -> Bytes {
    let start = Start {
        corr_id: Some(CORR_ID),
        op: Some("put".into()),
        collection: Some("bench".into()),
        doc_id: Some("churn".into()),
        ..Start::default()
    };
    let header = DataHeader {
        offset: Some(0),
        total_len: Some(object.len() as u64),
        corr_id: Some(CORR_ID),
        ..DataHeader::for_object(id)
    };
    let data =
        data_frame_parts(encoder, &header, object).expect("a 1 KiB object fits in one DATA frame");
    let end = End {
        corr_id: Some(CORR_ID),
        obj: Some(id),
    };
    let mut out = BytesMut::new();
    out.extend_from_slice(&frame(encoder, &start));
    out.extend_from_slice(&data.head);
    out.extend_from_slice(&data.body);
    out.extend_from_slice(&frame(encoder, &end));
    out.freeze()
}
