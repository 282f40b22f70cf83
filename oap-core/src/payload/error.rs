//! Payload errors.

use crate::object_id::ObjectIdError;

/// How many characters of a JSON parser's description an error keeps: it
/// may quote the peer's text, and the error may be sent back to the peer.
const MAX_JSON_DETAIL: usize = 120;

/// Why a payload could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PayloadError {
    /// JSON longer than the control-payload bound.
    #[error("JSON payload of {len} bytes exceeds the {max}-byte bound")]
    JsonTooLarge {
        /// Payload length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// JSON nested deeper than allowed.
    #[error("JSON nested deeper than {max} levels")]
    JsonTooDeep {
        /// The bound.
        max: usize,
    },
    /// Malformed JSON, or JSON of the wrong shape.
    #[error("invalid JSON payload: {detail}")]
    Json {
        /// Which way the JSON was wrong.
        kind: JsonErrorKind,
        /// The parser's description, at most 120 characters of it.
        detail: String,
    },
    /// A DATA payload shorter than its 2-byte header length.
    #[error("DATA payload of {len} bytes has no room for its header length")]
    DataTooShort {
        /// Payload length.
        len: usize,
    },
    /// `header_len` points past the end of the payload.
    #[error("DATA header_len {header_len} exceeds the {available} bytes after it")]
    HeaderLenOutOfRange {
        /// Declared header length.
        header_len: usize,
        /// Bytes available after the length field.
        available: usize,
    },
    /// A DATA header JSON longer than a u16 can describe (encode side).
    #[error("DATA header of {len} bytes does not fit the u16 length field")]
    HeaderTooLong {
        /// Header JSON length.
        len: usize,
    },
    /// The DATA header has no valid `obj`.
    #[error("DATA header lacks a valid obj: {0}")]
    BadObjectId(#[source] ObjectIdError),
    /// A DATA header without `obj` at all.
    #[error("DATA header lacks the required obj field")]
    MissingObject,
}

/// Which way a JSON payload was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonErrorKind {
    /// Not JSON (a stray character, a bad escape, ...).
    Syntax,
    /// Valid JSON of the wrong shape (a missing field, a wrong type).
    Data,
    /// The JSON ended early.
    Eof,
}

impl PayloadError {
    /// A JSON parser's error, its description cut short (it may quote the
    /// peer's text at any length).
    pub(crate) fn json(e: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let kind = match e.classify() {
            Category::Syntax => JsonErrorKind::Syntax,
            Category::Eof => JsonErrorKind::Eof,
            // Reading from a slice never fails with Io; a shape error
            // describes it best if a future path ever does.
            Category::Data | Category::Io => JsonErrorKind::Data,
        };
        let mut detail = e.to_string();
        if let Some((cut, _)) = detail.char_indices().nth(MAX_JSON_DETAIL) {
            detail.truncate(cut);
            detail.push('…');
        }
        Self::Json { kind, detail }
    }

    /// The test-vector error name for a DATA payload that fails to unpack.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadObjectId(_) => "bad_object_id",
            _ => "bad_data_header",
        }
    }
}
