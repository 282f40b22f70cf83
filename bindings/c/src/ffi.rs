//! Boundary helpers: panic catching and checked pointer conversions.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::OapStatus;

/// Runs `f`, turning a panic into [`OapStatus::Panic`].
///
/// `AssertUnwindSafe` is sound here in the sense that matters: a handle whose
/// call panicked is marked poisoned by the caller of this helper and never
/// used again, so no broken invariant is observed afterwards.
pub(crate) fn guard(f: impl FnOnce() -> Result<OapStatus, OapStatus>) -> OapStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(s)) | Ok(Err(s)) => s,
        Err(_) => OapStatus::Panic,
    }
}

/// Borrows `len` bytes at `ptr` as a slice. NULL is accepted only for an
/// empty slice.
///
/// # Safety
/// If `ptr` is non-NULL it must point to `len` initialised bytes that stay
/// valid and unmodified for `'a`.
pub(crate) unsafe fn in_slice<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], OapStatus> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(OapStatus::NullPointer);
    }
    if len > isize::MAX as usize {
        return Err(OapStatus::InvalidArgument);
    }
    // SAFETY: ptr is non-NULL, len fits isize, and the caller guarantees
    // `len` readable bytes valid for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a caller output buffer of `cap` bytes. NULL is accepted only for
/// a zero capacity (the "how big must it be?" query).
///
/// # Safety
/// If `ptr` is non-NULL it must point to `cap` writable bytes, valid for
/// `'a` and not aliased by any other live reference.
pub(crate) unsafe fn out_slice<'a>(ptr: *mut u8, cap: usize) -> Result<&'a mut [u8], OapStatus> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(OapStatus::NullPointer);
    }
    if cap > isize::MAX as usize {
        return Err(OapStatus::InvalidArgument);
    }
    // SAFETY: ptr is non-NULL, cap fits isize, the caller guarantees `cap`
    // writable bytes with no other live reference.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, cap) })
}

/// Whether two address ranges overlap (an input and an output buffer must
/// not, or `&[u8]` and `&mut [u8]` would alias).
pub(crate) fn overlaps(a: *const u8, a_len: usize, b: *const u8, b_len: usize) -> bool {
    if a_len == 0 || b_len == 0 {
        return false;
    }
    let (a, b) = (a as usize, b as usize);
    a < b.saturating_add(b_len) && b < a.saturating_add(a_len)
}

/// Writes `value` through an out-pointer already checked non-NULL.
///
/// # Safety
/// `ptr` must be non-NULL, aligned and valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(ptr: *mut T, value: T) {
    // SAFETY: guaranteed by the caller; `write` does not read or drop the
    // old (possibly uninitialised) value.
    unsafe { ptr.write(value) }
}

/// Fails with [`OapStatus::NullPointer`] if `ptr` is NULL.
pub(crate) fn non_null<T>(ptr: *const T) -> Result<(), OapStatus> {
    if ptr.is_null() {
        Err(OapStatus::NullPointer)
    } else {
        Ok(())
    }
}
