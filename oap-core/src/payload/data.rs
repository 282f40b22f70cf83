//! DATA packing: `[u16 header_len BE][JSON header][raw body]`.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::{PayloadError, data_fast, json};
use crate::frame::{EncodeError, Frame, FrameEncoder, FrameType};
use crate::limits::HEADER_LEN;
use crate::object_id::ObjectId;

/// The JSON header of a DATA frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataHeader {
    /// The whole object's id (not this frame's body alone, unless the frame
    /// is the whole object).
    pub obj: ObjectId,
    /// Where this body starts within the object. Absent: 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Length of the whole object. Absent: this body is the whole object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_len: Option<u64>,
    /// Request this DATA belongs to (absent: request 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corr_id: Option<u64>,
    /// Media type of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// APP_E2E: the body is end-to-end ciphertext the gateway never decrypts;
    /// `obj` is verified over the bytes as sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub e2e: bool,
}

impl DataHeader {
    /// A header for a frame that carries the whole object `body`.
    pub fn whole(body: &[u8]) -> Self {
        Self::for_object(ObjectId::of(body))
    }

    /// A header naming `obj`, with every optional field absent.
    pub fn for_object(obj: ObjectId) -> Self {
        Self {
            obj,
            offset: None,
            total_len: None,
            corr_id: None,
            content_type: None,
            e2e: false,
        }
    }

    /// `offset`, defaulting to 0.
    pub fn offset_or_zero(&self) -> u64 {
        self.offset.unwrap_or(0)
    }

    /// The header's JSON, as it goes on the wire: the same bytes as
    /// serde_json writes, built by hand (one allocation, no serde) unless
    /// `content_type` needs escaping.
    pub fn json(&self) -> Vec<u8> {
        data_fast::encode(self).unwrap_or_else(|| self.json_serde())
    }

    /// The header's JSON ready to be appended where its frame is built,
    /// with its length known first (a sender sizes the frame's body by it).
    /// Written by hand straight into the frame's buffer, without a buffer
    /// of its own, unless `content_type` needs escaping.
    pub(crate) fn json_parts(&self) -> HeaderJson<'_> {
        match data_fast::fast_len(self) {
            Some(len) => HeaderJson::Fast { header: self, len },
            None => HeaderJson::Written(self.json_serde()),
        }
    }

    /// [`DataHeader::json`] through serde_json: the fallback, and what the
    /// fast path is tested against.
    pub(super) fn json_serde(&self) -> Vec<u8> {
        // Plain fields only: serialisation cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a header, telling a missing `obj` and a malformed one apart
    /// from other JSON errors.
    ///
    /// The shape [`DataHeader::json`] writes is read by hand, because
    /// serde_json was a large share of the cost of every DATA frame; any
    /// other input takes the serde path, so results and errors are the
    /// same as serde's.
    pub(super) fn from_json(bytes: &[u8]) -> Result<Self, PayloadError> {
        match data_fast::decode(bytes) {
            Some(header) => Ok(header),
            None => Self::from_json_serde(bytes),
        }
    }

    /// [`DataHeader::from_json`] without the fast path: the fallback, and
    /// what the fast path is tested against.
    pub(super) fn from_json_serde(bytes: &[u8]) -> Result<Self, PayloadError> {
        // Every DATA frame carries a header: parse it straight into the
        // struct. Only a header that fails goes through a `Value`, to
        // name what is wrong with `obj`; a direct parse that succeeds is
        // exactly what that slower path would have returned.
        if let Ok(header) = json::from_slice_bounded::<Self>(bytes) {
            return Ok(header);
        }
        let value: serde_json::Value = json::from_slice_bounded(bytes)?;
        match value.get("obj") {
            None => return Err(PayloadError::MissingObject),
            Some(serde_json::Value::String(s)) => {
                s.parse::<ObjectId>().map_err(PayloadError::BadObjectId)?;
            }
            Some(_) => {}
        }
        serde_json::from_value(value).map_err(|e| PayloadError::json(&e))
    }
}

/// Packs a JSON header (given as bytes, not checked) and a body.
pub fn pack_data_raw(header_json: &[u8], body: &[u8]) -> Result<Vec<u8>, PayloadError> {
    let hl = u16::try_from(header_json.len()).map_err(|_| PayloadError::HeaderTooLong {
        len: header_json.len(),
    })?;
    let mut out = Vec::with_capacity(2 + header_json.len() + body.len());
    out.extend_from_slice(&hl.to_be_bytes());
    out.extend_from_slice(header_json);
    out.extend_from_slice(body);
    Ok(out)
}

/// Splits a DATA payload into header JSON bytes and body, checking only the
/// length field.
pub fn unpack_data_raw(payload: &[u8]) -> Result<(&[u8], &[u8]), PayloadError> {
    let Some((len, rest)) = payload.split_first_chunk::<2>() else {
        return Err(PayloadError::DataTooShort { len: payload.len() });
    };
    let header_len = u16::from_be_bytes(*len) as usize;
    if header_len > rest.len() {
        return Err(PayloadError::HeaderLenOutOfRange {
            header_len,
            available: rest.len(),
        });
    }
    Ok(rest.split_at(header_len))
}

/// Packs a typed header and a body into a DATA payload.
pub fn encode_data_payload(header: &DataHeader, body: &[u8]) -> Result<Vec<u8>, PayloadError> {
    pack_data_raw(&header.json(), body)
}

/// Unpacks a DATA payload into its typed header and body (borrowed).
pub fn decode_data_payload(payload: &[u8]) -> Result<(DataHeader, &[u8]), PayloadError> {
    let (json, body) = unpack_data_raw(payload)?;
    Ok((DataHeader::from_json(json)?, body))
}

/// Like [`decode_data_payload`], but the body shares `payload`'s allocation.
pub fn decode_data_bytes(payload: &Bytes) -> Result<(DataHeader, Bytes), PayloadError> {
    let (json, body) = unpack_data_raw(payload)?;
    let header = DataHeader::from_json(json)?;
    let start = payload.len() - body.len();
    Ok((header, payload.slice(start..)))
}

/// A DATA frame holding `header` and `body` (copies the body once).
pub fn data_frame(header: &DataHeader, body: &[u8]) -> Result<Frame, PayloadError> {
    Ok(Frame::new(
        FrameType::Data,
        encode_data_payload(header, body)?,
    ))
}

/// A DATA frame split for a vectored write: the frame header and the packed
/// JSON header in one small buffer, the body untouched.
#[derive(Debug, Clone)]
pub struct DataFrameParts {
    /// Frame header, `header_len` and JSON header.
    pub head: Bytes,
    /// The body, as given.
    pub body: Bytes,
}

impl DataFrameParts {
    /// Total bytes on the wire.
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Whether the frame is empty (never: a frame has a header).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A DATA header's JSON, to append to a frame being built
/// ([`DataHeader::json_parts`]): the same bytes as [`DataHeader::json`].
pub(crate) enum HeaderJson<'a> {
    /// Written by hand when appended.
    Fast {
        /// The header.
        header: &'a DataHeader,
        /// The length of its JSON.
        len: usize,
    },
    /// Written already (by serde, for a `content_type` that needs
    /// escaping).
    Written(Vec<u8>),
}

impl HeaderJson<'_> {
    /// Length of the JSON.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Fast { len, .. } => *len,
            Self::Written(json) => json.len(),
        }
    }

    /// Appends the JSON to `dst`.
    pub(crate) fn append_to(&self, dst: &mut Vec<u8>) {
        match self {
            Self::Fast { header, .. } => data_fast::encode_into(header, dst),
            Self::Written(json) => dst.extend_from_slice(json),
        }
    }
}

/// Errors building [`DataFrameParts`].
#[derive(Debug, thiserror::Error)]
pub enum DataFrameError {
    /// The packed header could not be built.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The frame would exceed the encoder's `max_frame`.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// Builds a DATA frame without copying `body`, checked against `encoder`'s
/// `max_frame`.
pub fn data_frame_parts(
    encoder: &FrameEncoder,
    header: &DataHeader,
    body: Bytes,
) -> Result<DataFrameParts, DataFrameError> {
    data_frame_parts_json(encoder, &header.json(), body)
}

/// [`data_frame_parts`] for a header already serialised (by
/// [`DataHeader::json`]), so a sender sizing frames serialises each header
/// once.
pub fn data_frame_parts_json(
    encoder: &FrameEncoder,
    json: &[u8],
    body: Bytes,
) -> Result<DataFrameParts, DataFrameError> {
    let mut head = BytesMut::with_capacity(HEADER_LEN + 2 + json.len());
    put_data_head(encoder, json, body.len(), &mut head)?;
    Ok(DataFrameParts {
        head: head.freeze(),
        body,
    })
}

/// Appends to `dst` what precedes a DATA frame's body of `body_len`
/// bytes: the frame header, `header_len` and the serialised `json`
/// header. Checked against `encoder`'s `max_frame`; nothing is written on
/// an error.
pub fn put_data_head(
    encoder: &FrameEncoder,
    json: &[u8],
    body_len: usize,
    dst: &mut impl BufMut,
) -> Result<(), DataFrameError> {
    dst.put_slice(&data_prefix(encoder, json.len(), body_len)?);
    dst.put_slice(json);
    Ok(())
}

/// What precedes a DATA frame's JSON header: the frame header and
/// `header_len`, for a header of `json_len` bytes and a body of
/// `body_len`, checked against `encoder`'s `max_frame`.
pub(crate) fn data_prefix(
    encoder: &FrameEncoder,
    json_len: usize,
    body_len: usize,
) -> Result<[u8; HEADER_LEN + 2], DataFrameError> {
    let hl = u16::try_from(json_len).map_err(|_| PayloadError::HeaderTooLong { len: json_len })?;
    let frame_head = encoder.header(FrameType::Data, 2 + json_len + body_len)?;
    let mut prefix = [0; HEADER_LEN + 2];
    let (head, len) = prefix.split_at_mut(HEADER_LEN);
    head.copy_from_slice(&frame_head);
    len.copy_from_slice(&hl.to_be_bytes());
    Ok(prefix)
}
