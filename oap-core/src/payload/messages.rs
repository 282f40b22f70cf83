//! HELLO, START, ACK, END and ERROR payloads.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{
    ControlPayload, ErrorCode, PayloadError, ack_fast, end_fast, hello_fast, json, start_fast,
};
use crate::frame::FrameType;
use crate::object_id::ObjectId;

/// The protocol name carried in HELLO's `hello` field.
pub const PROTOCOL_NAME: &str = "oap/1";

/// HELLO: opens a connection and proposes limits.
///
/// The client sends its proposal; the server answers with the effective
/// values. Absent limits mean "the default" (`{"hello":"oap/1"}` is the
/// original client's HELLO and negotiates all defaults).
///
/// `Debug` never shows the `token`: it prints `Some("<redacted>")`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol name; must be [`PROTOCOL_NAME`]. Borrowed when it is (every
    /// HELLO this crate makes or reads, so none allocates for it), owned
    /// for any other name a peer sends.
    pub hello: Cow<'static, str>,
    /// Largest payload the sender accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame: Option<u32>,
    /// Most requests the sender allows open at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_inflight: Option<u32>,
    /// Initial per-request credit in body bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<u64>,
    /// Application protocol spoken over OAP/1 (free-form, e.g. `"storage/1"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_proto_id: Option<String>,
    /// Tenant the connection is accounted to (quotas, ledger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Bearer token naming the tenant (client only; absent: anonymous). The
    /// server keeps only its BLAKE3 key-derivation hash for comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// What `Debug` shows for a token that is present.
pub(crate) const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for Hello {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hello")
            .field("hello", &self.hello)
            .field("max_frame", &self.max_frame)
            .field("max_inflight", &self.max_inflight)
            .field("credit", &self.credit)
            .field("app_proto_id", &self.app_proto_id)
            .field("tenant", &self.tenant)
            .field("token", &self.token.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl Hello {
    /// The minimal HELLO, as the original client sent it.
    pub fn legacy() -> Self {
        Self {
            hello: Cow::Borrowed(PROTOCOL_NAME),
            max_frame: None,
            max_inflight: None,
            credit: None,
            app_proto_id: None,
            tenant: None,
            token: None,
        }
    }
}

impl ControlPayload for Hello {
    const FRAME_TYPE: FrameType = FrameType::Hello;

    /// Parses a HELLO. The shapes [`Hello::encode`](ControlPayload::encode)
    /// writes are read by hand when their strings are plain, because every
    /// connection opens with two; any other input goes through the bounded
    /// serde path, so results and errors are the same as serde's.
    fn decode(payload: &[u8]) -> Result<Self, PayloadError> {
        match hello_fast::decode(payload) {
            Some(hello) => Ok(hello),
            None => json::from_slice_bounded(payload),
        }
    }

    /// Serialises to the same bytes as serde_json: by hand, in one exactly
    /// sized allocation, unless a string needs escaping.
    fn encode(&self) -> Bytes {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        Bytes::from(out)
    }

    fn encode_into(&self, dst: &mut Vec<u8>) {
        if !hello_fast::encode_into(self, dst) {
            // Writing into a Vec cannot fail, nor can serialising a HELLO.
            let _ = serde_json::to_writer(dst, self);
        }
    }
}

/// START: opens a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
pub struct Start {
    /// Request id chosen by the client, unique among its open requests.
    /// Absent: the legacy single request (request 0).
    #[serde(default)]
    pub corr_id: Option<u64>,
    /// Operation (`"put"`, `"get"`, `"subscribe"`, ...). Borrowed when it
    /// is one of those three (as every START this crate makes or reads
    /// fast has it), so that naming the operation allocates nothing.
    #[serde(default)]
    pub op: Option<Cow<'static, str>>,
    /// Topic (subscriptions; the original client's only field).
    #[serde(default)]
    pub topic: Option<String>,
    /// Object address for reads, `b3:<hex>`.
    #[serde(default)]
    pub addr: Option<String>,
    /// Collection a document is put into.
    #[serde(default)]
    pub collection: Option<String>,
    /// Document id within the collection: `"id"` on the wire. Not a
    /// request id (that is `corr_id`) nor an object id (`addr`, and the
    /// DATA header's `obj`).
    #[serde(rename = "id", default)]
    pub doc_id: Option<String>,
}

/// A [`Start`]'s fields, borrowed: what writing one takes. The one
/// definition of START's written form (absent fields are left out);
/// [`Start`] serialises through it, and this crate's client writes the
/// STARTs it makes from it without copying their strings first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct StartRef<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corr_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<&'a str>,
    #[serde(rename = "id", skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<&'a str>,
}

impl<'a> From<&'a Start> for StartRef<'a> {
    fn from(start: &'a Start) -> Self {
        Self {
            corr_id: start.corr_id,
            op: start.op.as_deref(),
            topic: start.topic.as_deref(),
            addr: start.addr.as_deref(),
            collection: start.collection.as_deref(),
            doc_id: start.doc_id.as_deref(),
        }
    }
}

impl StartRef<'_> {
    /// Appends the START's JSON to `dst`: by hand unless a string needs
    /// escaping, else through serde; the same bytes either way.
    pub(crate) fn encode_into(&self, dst: &mut Vec<u8>) {
        if !start_fast::encode_into(self, dst) {
            // Writing into a Vec cannot fail, nor can serialising a START.
            let _ = serde_json::to_writer(dst, self);
        }
    }
}

impl Serialize for Start {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StartRef::from(self).serialize(serializer)
    }
}

/// The operations [`Start::op`] holds borrowed.
pub(super) const KNOWN_OPS: [&str; 3] = ["put", "get", "subscribe"];

impl Start {
    /// `op` as [`Start::op`] holds it: borrowed if it is `"put"`, `"get"`
    /// or `"subscribe"`, copied otherwise.
    pub fn op_name(op: &str) -> Cow<'static, str> {
        match KNOWN_OPS.iter().find(|known| **known == op) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(op.to_owned()),
        }
    }
}

impl ControlPayload for Start {
    const FRAME_TYPE: FrameType = FrameType::Start;

    /// Parses a START. The shapes [`Start::encode`](ControlPayload::encode)
    /// writes are read by hand when their strings are plain ASCII, because
    /// every request opens with one; any other input goes through the
    /// bounded serde path, so results and errors are the same as serde's.
    fn decode(payload: &[u8]) -> Result<Self, PayloadError> {
        match start_fast::decode(payload) {
            Some(start) => Ok(start),
            None => json::from_slice_bounded(payload),
        }
    }

    /// Serialises to the same bytes as serde_json: without going through
    /// it (one allocation instead of two) unless a string needs escaping.
    fn encode(&self) -> Bytes {
        start_fast::encode(self)
            .unwrap_or_else(|| Bytes::from(serde_json::to_vec(self).unwrap_or_default()))
    }

    fn encode_into(&self, dst: &mut Vec<u8>) {
        StartRef::from(self).encode_into(dst);
    }
}

/// ACK: grants credit.
///
/// `credit` is an absolute, cumulative limit of DATA body bytes for the
/// request (like QUIC's MAX_STREAM_DATA), so duplicate or late ACKs are
/// harmless: the receiver keeps the maximum it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Request the credit applies to (absent: request 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corr_id: Option<u64>,
    /// Total body bytes the sender may have sent on this request.
    pub credit: u64,
}

impl ControlPayload for Ack {
    const FRAME_TYPE: FrameType = FrameType::Ack;

    /// Parses an ACK. The shape [`Ack::encode`](ControlPayload::encode)
    /// writes is read by hand, because serde_json dominated the cost of
    /// this most frequent control frame; any other input goes through the
    /// bounded serde path, so results and errors are the same as serde's.
    fn decode(payload: &[u8]) -> Result<Self, PayloadError> {
        match ack_fast::decode(payload) {
            Some(ack) => Ok(ack),
            None => json::from_slice_bounded(payload),
        }
    }

    /// Serialises to the same bytes as serde_json, without going through
    /// it (one allocation instead of two).
    fn encode(&self) -> Bytes {
        ack_fast::encode(self)
    }

    fn encode_into(&self, dst: &mut Vec<u8>) {
        ack_fast::encode_into(self, dst);
    }
}

/// END: closes the sender's half of a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// Request being ended (absent: request 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corr_id: Option<u64>,
    /// Id of the object the request produced (a put's answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obj: Option<ObjectId>,
}

impl ControlPayload for End {
    const FRAME_TYPE: FrameType = FrameType::End;

    /// Parses an END. The shapes [`End::encode`](ControlPayload::encode)
    /// writes are read by hand, because every request ends with one; any
    /// other input goes through the bounded serde path, so results and
    /// errors are the same as serde's.
    fn decode(payload: &[u8]) -> Result<Self, PayloadError> {
        // The original codec's END had no payload, which stands for `{}`.
        let payload: &[u8] = if payload.is_empty() { b"{}" } else { payload };
        match end_fast::decode(payload) {
            Some(end) => Ok(end),
            None => json::from_slice_bounded(payload),
        }
    }

    /// Serialises to the same bytes as serde_json, without going through
    /// it (one allocation instead of two).
    fn encode(&self) -> Bytes {
        end_fast::encode(self)
    }

    fn encode_into(&self, dst: &mut Vec<u8>) {
        end_fast::encode_into(self, dst);
    }
}

/// ERROR: ends one request (with `corr_id`) or the connection (without).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// What went wrong.
    pub code: ErrorCode,
    /// Human-readable detail; never parsed by machines.
    #[serde(default)]
    pub msg: String,
    /// Request the error ends; absent means the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corr_id: Option<u64>,
    /// Sender's hint that retrying may succeed. Receivers decide with
    /// [`ErrorCode::retryable`]; this copy is for non-Rust peers.
    #[serde(default)]
    pub retryable: bool,
}

impl ErrorEnvelope {
    /// A connection-level error.
    pub fn new(code: ErrorCode, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
            corr_id: None,
            retryable: code.retryable(),
        }
    }

    /// The same error scoped to one request.
    pub fn for_request(mut self, corr_id: u64) -> Self {
        self.corr_id = Some(corr_id);
        self
    }
}

impl ControlPayload for ErrorEnvelope {
    const FRAME_TYPE: FrameType = FrameType::Error;
}
