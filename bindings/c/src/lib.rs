//! C ABI over the sans-IO OAP/1 codec of `oap-core`.
//!
//! The generated header is `bindings/c/include/oap.h`. Every exported
//! function:
//!
//! * returns an [`OapStatus`] (except the `*_free` functions, which return
//!   nothing, and the `*_name` functions, which return static strings);
//! * checks every pointer argument and reports NULL as
//!   [`OapStatus::NullPointer`] instead of dereferencing it (an input byte
//!   buffer may be NULL when its length is 0);
//! * catches Rust panics at the boundary and reports them as
//!   [`OapStatus::Panic`] — unwinding never crosses into C.
//!
//! Ownership: handles ([`OapDecoder`], [`OapHasher`]) are created by the
//! library, owned by the caller, and released with their `*_free` function.
//! Output buffers always belong to the caller. Borrowed pointers handed out
//! by the library state how long they stay valid where they are returned.
//!
//! The ABI called from Rust, as C calls it:
//!
//! ```
//! use oap::{OapObjectId, OapStatus, oap_object_id_compute, oap_object_id_verify};
//!
//! let data = b"hello";
//! let mut id = OapObjectId { bytes: [0; 32] };
//! // SAFETY: `data` is readable for its length and `id` is writable.
//! let status = unsafe { oap_object_id_compute(data.as_ptr(), data.len(), &mut id) };
//! assert_eq!(status, OapStatus::Ok);
//! assert_eq!(&id.bytes, oap_core::ObjectId::of(data).as_bytes());
//! // SAFETY: `id` is readable, and so is `data` for its length.
//! let verdict = unsafe { oap_object_id_verify(&id, data.as_ptr(), data.len()) };
//! assert_eq!(verdict, OapStatus::Ok);
//! ```

mod data;
mod decoder;
mod encoder;
mod ffi;
mod object_id;
mod status;

pub use data::{OapDataView, oap_data_pack, oap_data_unpack};
pub use decoder::{
    OapDecoder, OapFrame, oap_decoder_buffered, oap_decoder_finish, oap_decoder_free,
    oap_decoder_new, oap_decoder_next, oap_decoder_push, oap_decoder_set_max_frame,
};
pub use encoder::{OapFrameType, oap_encode_frame, oap_encode_header, oap_frame_type_name};
pub use object_id::{
    OapHasher, OapObjectId, oap_hasher_finalize, oap_hasher_free, oap_hasher_new,
    oap_hasher_update, oap_object_id_compute, oap_object_id_format, oap_object_id_parse,
    oap_object_id_verify,
};
pub use status::{OapStatus, oap_status_name};

/// Protocol version carried in byte 0 of every frame.
pub const OAP_VERSION: u8 = 1;

/// Length of the fixed frame header (`ver u8 | typ u8 | len u32 BE`).
pub const OAP_HEADER_LEN: usize = 6;

/// Default `max_frame`: the largest payload a peer accepts (1 MiB).
pub const OAP_DEFAULT_MAX_FRAME: u32 = 1_048_576;

/// Length of the text form of an object id, `b3:` + 64 hex digits, without
/// the terminating NUL.
pub const OAP_OBJECT_ID_STR_LEN: usize = 67;

/// Buffer size [`oap_object_id_format`] needs: the text plus its NUL.
pub const OAP_OBJECT_ID_BUF_LEN: usize = 68;

// The C constants must agree with the core.
const _: () = {
    assert!(OAP_VERSION == oap_core::limits::OAP_VERSION);
    assert!(OAP_HEADER_LEN == oap_core::limits::HEADER_LEN);
    assert!(OAP_DEFAULT_MAX_FRAME == oap_core::limits::DEFAULT_MAX_FRAME);
    assert!(OAP_OBJECT_ID_STR_LEN == oap_core::object_id::SCHEME.len() + 64);
};
