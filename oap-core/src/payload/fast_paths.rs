//! The hand-written fast paths next to serde, for the fuzz target that
//! checks they agree on every input (feature `fuzzing`; not an API to
//! build on).
//!
//! For each payload with a fast path, a [`Verdict`] holds what the fast
//! reader alone made of some bytes, what serde alone made of them, and
//! what the public decoder (fast path, then serde) returned. The contract
//! the fuzz target asserts: the public decoder's result is serde's, errors
//! included; whatever the fast reader accepts, serde accepts with the same
//! value; and the fast writers write serde's bytes.

use super::{Ack, ControlPayload, DataHeader, End, Hello, PayloadError, Start};
use super::{ack_fast, data_fast, end_fast, hello_fast, json, start_fast};

/// Three readings of the same bytes.
#[derive(Debug)]
pub struct Verdict<T> {
    /// The fast reader alone (`None`: it left the bytes to serde).
    pub fast: Option<T>,
    /// serde alone, bounded as the public decoder bounds it.
    pub serde: Result<T, PayloadError>,
    /// The public decoder: the fast reader, then serde.
    pub public: Result<T, PayloadError>,
}

/// HELLO.
pub fn hello(bytes: &[u8]) -> Verdict<Hello> {
    Verdict {
        fast: hello_fast::decode(bytes),
        serde: json::from_slice_bounded(bytes),
        public: Hello::decode(bytes),
    }
}

/// START.
pub fn start(bytes: &[u8]) -> Verdict<Start> {
    Verdict {
        fast: start_fast::decode(bytes),
        serde: json::from_slice_bounded(bytes),
        public: Start::decode(bytes),
    }
}

/// ACK.
pub fn ack(bytes: &[u8]) -> Verdict<Ack> {
    Verdict {
        fast: ack_fast::decode(bytes),
        serde: json::from_slice_bounded(bytes),
        public: Ack::decode(bytes),
    }
}

/// END (an empty payload stands for `{}`, in both paths).
pub fn end(bytes: &[u8]) -> Verdict<End> {
    let json: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    Verdict {
        fast: end_fast::decode(json),
        serde: json::from_slice_bounded(json),
        public: End::decode(bytes),
    }
}

/// A DATA header's JSON.
pub fn data_header(bytes: &[u8]) -> Verdict<DataHeader> {
    Verdict {
        fast: data_fast::decode(bytes),
        serde: DataHeader::from_json_serde(bytes),
        public: DataHeader::from_json(bytes),
    }
}

/// The bytes the fast writer and serde_json write for a value: `(fast,
/// serde)`, `fast` being `None` where the writer leaves it to serde.
pub fn start_bytes(start: &Start) -> (Option<Vec<u8>>, Vec<u8>) {
    (
        start_fast::encode(start).map(|b| b.to_vec()),
        serde_json::to_vec(start).unwrap_or_default(),
    )
}

/// As [`start_bytes`], for HELLO.
pub fn hello_bytes(hello: &Hello) -> (Option<Vec<u8>>, Vec<u8>) {
    let mut fast = Vec::new();
    (
        hello_fast::encode_into(hello, &mut fast).then_some(fast),
        serde_json::to_vec(hello).unwrap_or_default(),
    )
}

/// As [`start_bytes`], for ACK (whose writer takes every value).
pub fn ack_bytes(ack: &Ack) -> (Option<Vec<u8>>, Vec<u8>) {
    (
        Some(ack_fast::encode(ack).to_vec()),
        serde_json::to_vec(ack).unwrap_or_default(),
    )
}

/// As [`start_bytes`], for END (whose writer takes every value).
pub fn end_bytes(end: &End) -> (Option<Vec<u8>>, Vec<u8>) {
    (
        Some(end_fast::encode(end).to_vec()),
        serde_json::to_vec(end).unwrap_or_default(),
    )
}

/// As [`start_bytes`], for a DATA header.
pub fn data_header_bytes(header: &DataHeader) -> (Option<Vec<u8>>, Vec<u8>) {
    (data_fast::encode(header), header.json_serde())
}
