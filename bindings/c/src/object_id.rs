//! Object ids (`b3:<64 lowercase hex>`, BLAKE3-256) and the streaming hasher.

use std::ffi::c_char;

use oap_core::ObjectId;
use oap_core::object_id::ObjectHasher;

use crate::ffi::{guard, in_slice, non_null, out_slice, write_out};
use crate::{OAP_OBJECT_ID_BUF_LEN, OAP_OBJECT_ID_STR_LEN, OapStatus};

/// A BLAKE3-256 object id: the raw 32-byte digest. A plain value, copied
/// freely; its text form is `b3:` followed by the 64 lowercase hex digits of
/// `bytes` (see [`oap_object_id_format`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OapObjectId {
    /// The digest.
    pub bytes: [u8; 32],
}

impl From<ObjectId> for OapObjectId {
    fn from(id: ObjectId) -> Self {
        Self {
            bytes: *id.as_bytes(),
        }
    }
}

/// Computes the id of `len` bytes at `data` into `*out`.
///
/// # Safety
/// `data` must be NULL with `len == 0` or point to `len` readable bytes;
/// `out` must be NULL or valid for writing one `OapObjectId`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_object_id_compute(
    data: *const u8,
    len: usize,
    out: *mut OapObjectId,
) -> OapStatus {
    guard(|| {
        non_null(out)?;
        // SAFETY: readable caller memory (contract).
        let data = unsafe { in_slice(data, len) }?;
        // SAFETY: out is non-NULL and writable (contract).
        unsafe { write_out(out, ObjectId::of(data).into()) };
        Ok(OapStatus::Ok)
    })
}

/// Parses the text form `b3:<64 lowercase hex>` (`len` bytes at `text`, no
/// NUL needed; pass `strlen(text)` for a C string) into `*out`.
///
/// Anything else is `OAP_STATUS_BAD_OBJECT_ID`: another algorithm such as
/// `k12:`, a wrong length, upper-case or non-hex digits, invalid UTF-8.
/// `*out` is written only on success.
///
/// # Safety
/// `text` must be NULL with `len == 0` or point to `len` readable bytes;
/// `out` must be NULL or valid for writing one `OapObjectId`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_object_id_parse(
    text: *const c_char,
    len: usize,
    out: *mut OapObjectId,
) -> OapStatus {
    guard(|| {
        non_null(out)?;
        // SAFETY: readable caller memory (contract).
        let bytes = unsafe { in_slice(text.cast(), len) }?;
        let text = std::str::from_utf8(bytes).map_err(|_| OapStatus::BadObjectId)?;
        let id: ObjectId = text.parse().map_err(|_| OapStatus::BadObjectId)?;
        // SAFETY: out is non-NULL and writable (contract).
        unsafe { write_out(out, id.into()) };
        Ok(OapStatus::Ok)
    })
}

/// Writes the text form of `*id`, `b3:<64 hex>` plus a terminating NUL
/// (`OAP_OBJECT_ID_BUF_LEN` = 68 bytes), into `out`.
///
/// On success `*out_len` is the string length without the NUL
/// (`OAP_OBJECT_ID_STR_LEN` = 67). If `out_cap < 68` returns
/// `OAP_STATUS_BUFFER_TOO_SMALL`, writes nothing and sets `*out_len` to 68.
///
/// # Safety
/// `id` must be NULL or point to one readable `OapObjectId`; `out` must be
/// NULL with `out_cap == 0` or point to `out_cap` writable bytes; `out_len`
/// must be NULL or valid for writing one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_object_id_format(
    id: *const OapObjectId,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> OapStatus {
    guard(|| {
        non_null(id)?;
        non_null(out_len)?;
        // SAFETY: id is non-NULL and readable (contract).
        let id = ObjectId::from_bytes(unsafe { *id }.bytes);
        // SAFETY: writable caller memory (contract).
        let dst = unsafe { out_slice(out.cast(), out_cap) }?;
        let Some(dst) = dst.get_mut(..OAP_OBJECT_ID_BUF_LEN) else {
            // SAFETY: out_len is non-NULL and writable (contract).
            unsafe { write_out(out_len, OAP_OBJECT_ID_BUF_LEN) };
            return Err(OapStatus::BufferTooSmall);
        };
        let text = id.to_string();
        let (s, nul) = dst.split_at_mut(OAP_OBJECT_ID_STR_LEN);
        s.copy_from_slice(text.as_bytes());
        nul[0] = 0;
        // SAFETY: as above.
        unsafe { write_out(out_len, OAP_OBJECT_ID_STR_LEN) };
        Ok(OapStatus::Ok)
    })
}

/// Checks that `len` bytes at `data` hash to `*id`, in constant time.
///
/// Returns `OAP_STATUS_OK` if they do and `OAP_STATUS_BAD_DIGEST` if not.
/// Only a full id verifies bytes; for an object split over several DATA
/// frames, hash the pieces with an `OapHasher` and compare.
///
/// # Safety
/// `id` must be NULL or point to one readable `OapObjectId`; `data` must be
/// NULL with `len == 0` or point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_object_id_verify(
    id: *const OapObjectId,
    data: *const u8,
    len: usize,
) -> OapStatus {
    guard(|| {
        non_null(id)?;
        // SAFETY: id is non-NULL and readable (contract).
        let id = ObjectId::from_bytes(unsafe { *id }.bytes);
        // SAFETY: readable caller memory (contract).
        let data = unsafe { in_slice(data, len) }?;
        if id.verify(data) {
            Ok(OapStatus::Ok)
        } else {
            Err(OapStatus::BadDigest)
        }
    })
}

/// A streaming BLAKE3 hasher for objects that arrive in pieces (opaque).
///
/// Created by [`oap_hasher_new`], owned by the caller, released with
/// [`oap_hasher_free`]. Not thread-safe.
pub struct OapHasher {
    inner: ObjectHasher,
    poisoned: bool,
}

fn with_hasher(
    h: *mut OapHasher,
    f: impl FnOnce(&mut ObjectHasher) -> Result<OapStatus, OapStatus>,
) -> OapStatus {
    if h.is_null() {
        return OapStatus::NullPointer;
    }
    let status = guard(|| {
        // SAFETY: h is non-NULL and a live hasher used by this thread only
        // (contract of every caller).
        let h = unsafe { &mut *h };
        if h.poisoned {
            return Err(OapStatus::Panic);
        }
        f(&mut h.inner)
    });
    if status == OapStatus::Panic {
        // SAFETY: as above; the closure's borrow has ended.
        unsafe { (*h).poisoned = true };
    }
    status
}

/// Creates a hasher that has seen no bytes and stores it in `*out`. The
/// caller owns it and releases it with [`oap_hasher_free`].
///
/// # Safety
/// `out` must be NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_hasher_new(out: *mut *mut OapHasher) -> OapStatus {
    guard(|| {
        non_null(out)?;
        let h = Box::new(OapHasher {
            inner: ObjectHasher::new(),
            poisoned: false,
        });
        // SAFETY: out is non-NULL and writable (contract).
        unsafe { write_out(out, Box::into_raw(h)) };
        Ok(OapStatus::Ok)
    })
}

/// Adds the next `len` bytes of the object. `data` is not referenced after
/// return.
///
/// # Safety
/// `h` must be a live hasher; `data` must be NULL with `len == 0` or point
/// to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_hasher_update(
    h: *mut OapHasher,
    data: *const u8,
    len: usize,
) -> OapStatus {
    with_hasher(h, |h| {
        // SAFETY: readable caller memory (contract).
        let data = unsafe { in_slice(data, len) }?;
        h.update(data);
        Ok(OapStatus::Ok)
    })
}

/// Stores the id of everything hashed so far in `*out`. The hasher is not
/// consumed: more bytes may follow, and it must still be freed.
///
/// # Safety
/// `h` must be a live hasher; `out` must be NULL or valid for writing one
/// `OapObjectId`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_hasher_finalize(
    h: *mut OapHasher,
    out: *mut OapObjectId,
) -> OapStatus {
    with_hasher(h, |h| {
        non_null(out)?;
        // SAFETY: out is non-NULL and writable (contract).
        unsafe { write_out(out, h.finalize().into()) };
        Ok(OapStatus::Ok)
    })
}

/// Releases a hasher. NULL is a no-op.
///
/// # Safety
/// `h` must be NULL or a pointer from [`oap_hasher_new`] not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_hasher_free(h: *mut OapHasher) {
    if h.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: h came from Box::into_raw in oap_hasher_new and is freed
        // once (contract).
        drop(unsafe { Box::from_raw(h) });
    });
}
