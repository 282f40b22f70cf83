//! Payload errors.

use crate::object_id::ObjectIdError;

/// Why a payload could not be decoded or encoded.
#[derive(Debug, thiserror::Error)]
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
    #[error("invalid JSON payload: {0}")]
    Json(#[source] serde_json::Error),
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

impl PayloadError {
    /// The test-vector error name for a DATA payload that fails to unpack.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadObjectId(_) => "bad_object_id",
            _ => "bad_data_header",
        }
    }
}
