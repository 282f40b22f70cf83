//! Status codes returned by every function of the C API.

use std::ffi::c_char;

use oap_core::frame::DecodeError;
use oap_core::payload::PayloadError;

/// Result of a C API call. The numeric values are stable: new codes may be
/// added, existing ones never change meaning.
///
/// `OAP_STATUS_OK` (0) is success, `OAP_STATUS_NEED_MORE` (1) means "no whole
/// frame yet" and is not an error, every negative value is an error. The
/// decode errors carry the names used by the test vectors
/// (see [`oap_status_name`]).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OapStatus {
    /// Success.
    Ok = 0,
    /// The decoder holds no whole frame yet: push more bytes.
    NeedMore = 1,
    /// A required pointer argument was NULL ("null_pointer").
    NullPointer = -1,
    /// A Rust panic was caught at the boundary ("panic"). A handle that
    /// panicked is poisoned and returns this on every later call.
    Panic = -2,
    /// An argument is out of range: unknown frame type, overlapping input and
    /// output buffers, a length above `PTRDIFF_MAX` ("invalid_argument").
    InvalidArgument = -3,
    /// Frame byte 0 is not 1 ("bad_version").
    BadVersion = -10,
    /// Frame byte 1 is not an assigned frame type ("unknown_type").
    UnknownType = -11,
    /// A payload longer than `max_frame`, on decode or encode ("too_large").
    TooLarge = -12,
    /// The stream ended inside a frame ("truncated").
    Truncated = -13,
    /// A DATA payload whose length field or JSON header is malformed, or a
    /// header JSON too long for the u16 length field ("bad_data_header").
    BadDataHeader = -14,
    /// A malformed object id, in a DATA header or given to
    /// `oap_object_id_parse` ("bad_object_id").
    BadObjectId = -15,
    /// The caller's output buffer is too small; nothing was written and the
    /// length out-parameter holds the size needed ("buffer_too_small").
    BufferTooSmall = -20,
    /// Bytes do not hash to the object id they were checked against
    /// ("bad_digest").
    BadDigest = -21,
}

/// Every status (kept out of the C header: it is not part of the ABI).
const ALL_STATUSES: [OapStatus; 13] = [
    OapStatus::Ok,
    OapStatus::NeedMore,
    OapStatus::NullPointer,
    OapStatus::Panic,
    OapStatus::InvalidArgument,
    OapStatus::BadVersion,
    OapStatus::UnknownType,
    OapStatus::TooLarge,
    OapStatus::Truncated,
    OapStatus::BadDataHeader,
    OapStatus::BadObjectId,
    OapStatus::BufferTooSmall,
    OapStatus::BadDigest,
];

impl OapStatus {
    /// The stable snake-case name, NUL-terminated.
    pub(crate) fn name_cstr(self) -> &'static std::ffi::CStr {
        match self {
            Self::Ok => c"ok",
            Self::NeedMore => c"need_more",
            Self::NullPointer => c"null_pointer",
            Self::Panic => c"panic",
            Self::InvalidArgument => c"invalid_argument",
            Self::BadVersion => c"bad_version",
            Self::UnknownType => c"unknown_type",
            Self::TooLarge => c"too_large",
            Self::Truncated => c"truncated",
            Self::BadDataHeader => c"bad_data_header",
            Self::BadObjectId => c"bad_object_id",
            Self::BufferTooSmall => c"buffer_too_small",
            Self::BadDigest => c"bad_digest",
        }
    }

    fn from_i32(code: i32) -> Option<Self> {
        ALL_STATUSES.into_iter().find(|s| *s as i32 == code)
    }
}

impl From<DecodeError> for OapStatus {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::BadVersion(_) => Self::BadVersion,
            DecodeError::UnknownType(_) => Self::UnknownType,
            DecodeError::TooLarge { .. } => Self::TooLarge,
            DecodeError::Truncated { .. } => Self::Truncated,
        }
    }
}

impl From<&PayloadError> for OapStatus {
    fn from(e: &PayloadError) -> Self {
        match e.kind() {
            "bad_object_id" => Self::BadObjectId,
            _ => Self::BadDataHeader,
        }
    }
}

/// The stable snake-case name of a status code: `"ok"`, `"need_more"`,
/// `"bad_version"`, `"unknown_type"`, `"too_large"`, `"truncated"`,
/// `"bad_data_header"`, `"bad_object_id"`, ... — for decode errors these
/// are exactly the error names of the test vectors.
///
/// Takes a plain `int32_t` so any value is safe to pass; an unknown code
/// gives `"unknown_status"`. The returned string is static, NUL-terminated,
/// never NULL, and must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn oap_status_name(status: i32) -> *const c_char {
    std::panic::catch_unwind(|| {
        OapStatus::from_i32(status).map_or(c"unknown_status", OapStatus::name_cstr)
    })
    .unwrap_or(c"unknown_status")
    .as_ptr()
}
