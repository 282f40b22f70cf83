//! DATA payload packing: `[u16 header_len BE][JSON header][raw body]`.

use oap_core::payload::{decode_data_payload, pack_data_raw};

use crate::ffi::{guard, in_slice, non_null, out_slice, overlaps, write_out};
use crate::{OapObjectId, OapStatus};

/// A validated DATA payload, as filled in by [`oap_data_unpack`].
///
/// `header_json` and `body` point into the payload given to
/// `oap_data_unpack`: they are valid exactly as long as that buffer is (for
/// a frame from the decoder, until the next call on the decoder). The other
/// fields are copies of the typed header; `content_type` and unknown fields
/// are available in `header_json`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OapDataView {
    /// The JSON header bytes (UTF-8, not NUL-terminated).
    pub header_json: *const u8,
    /// Length of `header_json`.
    pub header_json_len: usize,
    /// The raw body bytes. Non-NULL but not to be read when `body_len` is 0.
    pub body: *const u8,
    /// Length of `body`.
    pub body_len: usize,
    /// `obj`: the id of the whole object (of this body only when
    /// `has_total_len` is false).
    pub obj: OapObjectId,
    /// `offset` of this body within the object (0 when absent).
    pub offset: u64,
    /// `total_len` of the whole object; meaningful if `has_total_len`.
    pub total_len: u64,
    /// `corr_id` of the request; meaningful if `has_corr_id`.
    pub corr_id: u64,
    /// Whether `offset` was present in the header.
    pub has_offset: bool,
    /// Whether `total_len` was present: if not, the body is the whole object
    /// and must hash to `obj`.
    pub has_total_len: bool,
    /// Whether `corr_id` was present (absent: request 0).
    pub has_corr_id: bool,
    /// APP_E2E: the body is end-to-end ciphertext, never to be decrypted by
    /// a gateway.
    pub e2e: bool,
}

/// Packs a DATA payload from a JSON header and a body into `out`.
///
/// The header is validated as the receiver will: it must be a JSON object
/// with a valid `"obj":"b3:<64 hex>"` (else `OAP_STATUS_BAD_OBJECT_ID` or
/// `OAP_STATUS_BAD_DATA_HEADER`) and at most 65535 bytes
/// (`OAP_STATUS_BAD_DATA_HEADER`). It is not checked that `obj` is the hash
/// of `body`: for a chunk of a larger object it is not.
///
/// On success `*out_len` is the number of bytes written,
/// `2 + header_json_len + body_len`. If `out_cap` is smaller, returns
/// `OAP_STATUS_BUFFER_TOO_SMALL`, writes nothing, and `*out_len` is the size
/// needed. Inputs must not overlap `out` (`OAP_STATUS_INVALID_ARGUMENT`).
/// To frame the result, pass it to `oap_encode_frame` with `OAP_FRAME_TYPE_DATA`.
///
/// # Safety
/// `header_json`/`body` must be NULL with a zero length or point to that
/// many readable bytes; `out` must be NULL with `out_cap == 0` or point to
/// `out_cap` writable bytes; `out_len` must be NULL or valid for writing one
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_data_pack(
    header_json: *const u8,
    header_json_len: usize,
    body: *const u8,
    body_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> OapStatus {
    guard(|| {
        non_null(out_len)?;
        if overlaps(header_json, header_json_len, out, out_cap)
            || overlaps(body, body_len, out, out_cap)
        {
            return Err(OapStatus::InvalidArgument);
        }
        // SAFETY: readable caller memory not overlapping `out` (checked).
        let header = unsafe { in_slice(header_json, header_json_len) }?;
        // SAFETY: as above.
        let body = unsafe { in_slice(body, body_len) }?;
        // Validate the header exactly as a receiver will, on the header
        // alone (the body is not needed for that, so it is not copied).
        let head_only = pack_data_raw(header, &[]).map_err(|e| OapStatus::from(&e))?;
        decode_data_payload(&head_only).map_err(|e| OapStatus::from(&e))?;
        let needed = head_only.len() + body.len();
        // SAFETY: writable caller memory (contract).
        let dst = unsafe { out_slice(out, out_cap) }?;
        let Some(dst) = dst.get_mut(..needed) else {
            // SAFETY: out_len is non-NULL and writable (contract).
            unsafe { write_out(out_len, needed) };
            return Err(OapStatus::BufferTooSmall);
        };
        let (h, b) = dst.split_at_mut(head_only.len());
        h.copy_from_slice(&head_only);
        b.copy_from_slice(body);
        // SAFETY: as above.
        unsafe { write_out(out_len, needed) };
        Ok(OapStatus::Ok)
    })
}

/// Unpacks and validates a DATA payload (a DATA frame's payload as returned
/// by `oap_decoder_next`).
///
/// Fills `*out` on success. Errors, with the test-vector names:
/// `OAP_STATUS_BAD_DATA_HEADER` (shorter than 2 bytes, `header_len` past the
/// end, header not a JSON object of the DATA shape, `obj` missing) and
/// `OAP_STATUS_BAD_OBJECT_ID` (`obj` present but not `b3:<64 lowercase
/// hex>`). `*out` is written only on success, and its pointers borrow
/// `payload` (see [`OapDataView`]). The body is not hashed: check a whole
/// object with `oap_object_id_verify(&view.obj, view.body, view.body_len)`.
///
/// # Safety
/// `payload` must be NULL with `payload_len == 0` or point to `payload_len`
/// readable bytes; `out` must be NULL or valid for writing one `OapDataView`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_data_unpack(
    payload: *const u8,
    payload_len: usize,
    out: *mut OapDataView,
) -> OapStatus {
    guard(|| {
        non_null(out)?;
        // SAFETY: readable caller memory (contract).
        let payload = unsafe { in_slice(payload, payload_len) }?;
        let (header, body) = decode_data_payload(payload).map_err(|e| OapStatus::from(&e))?;
        // The JSON sits between the 2-byte length and the body.
        let json = &payload[2..payload.len() - body.len()];
        let view = OapDataView {
            header_json: json.as_ptr(),
            header_json_len: json.len(),
            body: body.as_ptr(),
            body_len: body.len(),
            obj: OapObjectId {
                bytes: *header.obj.as_bytes(),
            },
            offset: header.offset_or_zero(),
            total_len: header.total_len.unwrap_or(0),
            corr_id: header.corr_id.unwrap_or(0),
            has_offset: header.offset.is_some(),
            has_total_len: header.total_len.is_some(),
            has_corr_id: header.corr_id.is_some(),
            e2e: header.e2e,
        };
        // SAFETY: out is non-NULL and valid for one OapDataView (contract).
        unsafe { write_out(out, view) };
        Ok(OapStatus::Ok)
    })
}
