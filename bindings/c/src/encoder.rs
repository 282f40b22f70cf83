//! Frame types and the encoder.

use std::ffi::c_char;

use oap_core::frame::{EncodeError, FrameEncoder, FrameType};

use crate::ffi::{guard, in_slice, non_null, out_slice, overlaps, write_out};
use crate::{OAP_HEADER_LEN, OapStatus};

/// The six OAP/1 frame types, with their wire values.
///
/// Functions that take a type take a plain `uint8_t` (one of these values)
/// and reject anything else with `OAP_STATUS_INVALID_ARGUMENT`.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OapFrameType {
    /// Opens the connection and negotiates limits (0x01).
    Hello = 0x01,
    /// Opens a request (0x02).
    Start = 0x02,
    /// Object bytes behind a JSON header (0x03).
    Data = 0x03,
    /// Closes the sending half of a request (0x04).
    End = 0x04,
    /// Grants credit for a request (0x05).
    Ack = 0x05,
    /// Reports an error (0x06).
    Error = 0x06,
}

impl From<FrameType> for OapFrameType {
    fn from(t: FrameType) -> Self {
        match t {
            FrameType::Hello => Self::Hello,
            FrameType::Start => Self::Start,
            FrameType::Data => Self::Data,
            FrameType::End => Self::End,
            FrameType::Ack => Self::Ack,
            FrameType::Error => Self::Error,
        }
    }
}

fn frame_type(typ: u8) -> Result<FrameType, OapStatus> {
    FrameType::from_u8(typ).ok_or(OapStatus::InvalidArgument)
}

impl From<EncodeError> for OapStatus {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::TooLarge { .. } => Self::TooLarge,
            EncodeError::BufferTooSmall { .. } => Self::BufferTooSmall,
        }
    }
}

/// The upper-case name of a frame type (`"HELLO"`, `"START"`, `"DATA"`,
/// `"END"`, `"ACK"`, `"ERROR"`), or NULL for a value that is not a frame
/// type. The string is static and must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn oap_frame_type_name(typ: u8) -> *const c_char {
    std::panic::catch_unwind(|| match FrameType::from_u8(typ) {
        Some(FrameType::Hello) => c"HELLO".as_ptr(),
        Some(FrameType::Start) => c"START".as_ptr(),
        Some(FrameType::Data) => c"DATA".as_ptr(),
        Some(FrameType::End) => c"END".as_ptr(),
        Some(FrameType::Ack) => c"ACK".as_ptr(),
        Some(FrameType::Error) => c"ERROR".as_ptr(),
        None => std::ptr::null(),
    })
    .unwrap_or(std::ptr::null())
}

/// Writes the 6 header bytes of a frame of type `typ` whose payload is
/// `payload_len` bytes into `out`, for a vectored write of header + payload
/// without copying the payload.
///
/// `*out_len` receives 6 on success. Errors: `OAP_STATUS_INVALID_ARGUMENT`
/// (unknown `typ`), `OAP_STATUS_TOO_LARGE` (`payload_len > max_frame`: never
/// emit what the peer must reject), `OAP_STATUS_BUFFER_TOO_SMALL`
/// (`out_cap < 6`; `*out_len` receives 6 and nothing is written).
///
/// # Safety
/// `out` must be NULL with `out_cap == 0`, or point to `out_cap` writable
/// bytes; `out_len` must be NULL or valid for writing one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_encode_header(
    typ: u8,
    payload_len: usize,
    max_frame: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> OapStatus {
    guard(|| {
        non_null(out_len)?;
        let typ = frame_type(typ)?;
        let head = FrameEncoder::with_max_frame(max_frame).header(typ, payload_len)?;
        // SAFETY: out/out_cap describe writable caller memory (contract).
        let dst = unsafe { out_slice(out, out_cap) }?;
        let Some(dst) = dst.get_mut(..OAP_HEADER_LEN) else {
            // SAFETY: out_len is non-NULL and writable (contract).
            unsafe { write_out(out_len, OAP_HEADER_LEN) };
            return Err(OapStatus::BufferTooSmall);
        };
        dst.copy_from_slice(&head);
        // SAFETY: as above.
        unsafe { write_out(out_len, OAP_HEADER_LEN) };
        Ok(OapStatus::Ok)
    })
}

/// Encodes a whole frame (header + payload) into `out`.
///
/// On success returns `OAP_STATUS_OK` and `*out_len` is the number of bytes
/// written (`6 + payload_len`). If `out_cap` is too small, returns
/// `OAP_STATUS_BUFFER_TOO_SMALL`, writes nothing, and `*out_len` is the size
/// needed: grow the buffer and call again (passing `out = NULL, out_cap = 0`
/// is the way to ask for the size). Other errors:
/// `OAP_STATUS_INVALID_ARGUMENT` (unknown `typ`, or `payload` overlapping
/// `out`), `OAP_STATUS_TOO_LARGE` (`payload_len > max_frame`).
///
/// # Safety
/// `payload` must be NULL with `payload_len == 0` or point to `payload_len`
/// readable bytes; `out` must be NULL with `out_cap == 0` or point to
/// `out_cap` writable bytes; `out_len` must be NULL or valid for writing
/// one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_encode_frame(
    typ: u8,
    payload: *const u8,
    payload_len: usize,
    max_frame: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> OapStatus {
    guard(|| {
        non_null(out_len)?;
        let typ = frame_type(typ)?;
        if overlaps(payload, payload_len, out, out_cap) {
            return Err(OapStatus::InvalidArgument);
        }
        // SAFETY: payload/payload_len describe readable caller memory that
        // does not overlap `out` (checked above).
        let payload = unsafe { in_slice(payload, payload_len) }?;
        // SAFETY: out/out_cap describe writable caller memory (contract).
        let dst = unsafe { out_slice(out, out_cap) }?;
        let (status, len) =
            match FrameEncoder::with_max_frame(max_frame).encode_to_slice(typ, payload, dst) {
                Ok(n) => (OapStatus::Ok, n),
                Err(EncodeError::BufferTooSmall { needed }) => (OapStatus::BufferTooSmall, needed),
                Err(e) => return Err(e.into()),
            };
        // SAFETY: out_len is non-NULL and writable (contract).
        unsafe { write_out(out_len, len) };
        Ok(status)
    })
}
