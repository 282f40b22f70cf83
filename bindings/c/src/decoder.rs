//! The incremental frame decoder.

use std::collections::VecDeque;

use oap_core::frame::{DecodeError, Frame, StreamDecoder};

use crate::encoder::OapFrameType;
use crate::ffi::{guard, in_slice, non_null, write_out};
use crate::{OAP_VERSION, OapStatus};

/// An incremental OAP/1 frame decoder (opaque).
///
/// Created by [`oap_decoder_new`], owned by the caller, released with
/// [`oap_decoder_free`]. Not thread-safe: use it from one thread at a time.
///
/// Memory: the frame being assembled is held in a buffer that never exceeds
/// `max_frame + 6` bytes, whatever the caller pushes; frames completed by a
/// push wait in a queue until [`oap_decoder_next`] takes them, so the queue
/// holds at most the bytes of the pushes not yet drained.
pub struct OapDecoder {
    stream: StreamDecoder,
    ready: VecDeque<Frame>,
    /// The frame last returned by `oap_decoder_next`; keeps its payload
    /// alive for the borrowed pointer in [`OapFrame`].
    current: Option<Frame>,
    /// First decode error, delivered by `oap_decoder_next` once the frames
    /// completed before it have been taken. Permanent.
    error: Option<DecodeError>,
    poisoned: bool,
}

/// One decoded frame, as returned by [`oap_decoder_next`].
///
/// `payload` is borrowed from the decoder: it stays valid until the next call
/// of any `oap_decoder_*` function on the same decoder (including
/// `oap_decoder_free`). Copy the bytes if you need them longer. When
/// `payload_len` is 0, `payload` is non-NULL but must not be read.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OapFrame {
    /// Protocol version, always 1 (other versions are decode errors).
    pub ver: u8,
    /// Frame type: one of the `OapFrameType` values (a plain byte, so any
    /// C initialiser of the struct is valid).
    pub typ: u8,
    /// First payload byte (borrowed, see above).
    pub payload: *const u8,
    /// Payload length in bytes (at most the decoder's `max_frame`).
    pub payload_len: usize,
}

/// Runs `f` on the decoder behind `dec`, catching panics and poisoning the
/// decoder if one happens.
fn with_decoder(
    dec: *mut OapDecoder,
    f: impl FnOnce(&mut OapDecoder) -> Result<OapStatus, OapStatus>,
) -> OapStatus {
    if dec.is_null() {
        return OapStatus::NullPointer;
    }
    let status = guard(|| {
        // SAFETY: dec is non-NULL and, per the contract of every function
        // that calls this, a live decoder from `oap_decoder_new` that no
        // other thread is using.
        let d = unsafe { &mut *dec };
        if d.poisoned {
            return Err(OapStatus::Panic);
        }
        f(d)
    });
    if status == OapStatus::Panic {
        // SAFETY: as above; the closure's borrow has ended.
        unsafe { (*dec).poisoned = true };
    }
    status
}

/// Creates a decoder that refuses payloads longer than `max_frame` bytes
/// (use `OAP_DEFAULT_MAX_FRAME`, 1 MiB, unless HELLO negotiated less) and
/// stores it in `*out`.
///
/// On success the caller owns `*out` and must release it with
/// [`oap_decoder_free`]. On error `*out` is left unchanged.
///
/// # Safety
/// `out` must be NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_decoder_new(max_frame: u32, out: *mut *mut OapDecoder) -> OapStatus {
    guard(|| {
        non_null(out)?;
        let dec = Box::new(OapDecoder {
            stream: StreamDecoder::with_max_frame(max_frame),
            ready: VecDeque::new(),
            current: None,
            error: None,
            poisoned: false,
        });
        // SAFETY: out is non-NULL and valid for a pointer write (contract).
        unsafe { write_out(out, Box::into_raw(dec)) };
        Ok(OapStatus::Ok)
    })
}

/// Releases a decoder and every frame it still holds. NULL is a no-op.
///
/// Payload pointers previously returned for this decoder become invalid.
///
/// # Safety
/// `dec` must be NULL or a pointer from [`oap_decoder_new`] not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_decoder_free(dec: *mut OapDecoder) {
    if dec.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: dec came from Box::into_raw in oap_decoder_new and is
        // freed once (contract).
        drop(unsafe { Box::from_raw(dec) });
    });
}

/// Pushes `len` bytes of input (split anywhere: one byte at a time works,
/// and so do many frames at once). All bytes are taken; frames they complete
/// are queued for [`oap_decoder_next`], a trailing partial frame is kept.
///
/// Returns `OAP_STATUS_OK` when the bytes were taken, even if they contain a
/// decode error: that error is reported by `oap_decoder_next` after the
/// frames that preceded it. If the decoder had already failed before this
/// call, returns that error and ignores the input.
///
/// The library copies what it keeps; `data` is not referenced after return.
///
/// # Safety
/// `dec` must be a live decoder; `data` must be NULL with `len == 0`, or
/// point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_decoder_push(
    dec: *mut OapDecoder,
    data: *const u8,
    len: usize,
) -> OapStatus {
    with_decoder(dec, |d| {
        // SAFETY: data/len describe readable bytes (contract).
        let mut input = unsafe { in_slice(data, len) }?;
        if let Some(e) = d.error {
            return Err(e.into());
        }
        while !input.is_empty() {
            match d.stream.feed(&mut input) {
                Ok(Some(frame)) => d.ready.push_back(frame),
                Ok(None) => break,
                Err(e) => {
                    d.error = Some(e);
                    break;
                }
            }
        }
        Ok(OapStatus::Ok)
    })
}

/// Takes the next decoded frame, in order.
///
/// Returns `OAP_STATUS_OK` and fills `*out`; `OAP_STATUS_NEED_MORE` when no
/// whole frame is queued (push more bytes, or call [`oap_decoder_finish`] at
/// end of stream); or, once the frames before it are taken, the decode error
/// (`OAP_STATUS_BAD_VERSION`, `OAP_STATUS_UNKNOWN_TYPE`,
/// `OAP_STATUS_TOO_LARGE`, `OAP_STATUS_TRUNCATED`), again on every later
/// call: errors are permanent because the stream has lost its framing.
///
/// `out->payload` borrows from the decoder and stays valid until the next
/// call of any `oap_decoder_*` function on this decoder. `*out` is written
/// only when the result is `OAP_STATUS_OK`.
///
/// # Safety
/// `dec` must be a live decoder; `out` must be NULL or valid for writing
/// one `OapFrame`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_decoder_next(dec: *mut OapDecoder, out: *mut OapFrame) -> OapStatus {
    with_decoder(dec, |d| {
        non_null(out)?;
        d.current = None;
        let Some(frame) = d.ready.pop_front() else {
            return Ok(d.error.map_or(OapStatus::NeedMore, OapStatus::from));
        };
        let view = OapFrame {
            ver: OAP_VERSION,
            typ: OapFrameType::from(frame.typ) as u8,
            payload: frame.payload.as_ptr(),
            payload_len: frame.payload.len(),
        };
        // The payload stays alive in `current` until the next call.
        d.current = Some(frame);
        // SAFETY: out is non-NULL and valid for one OapFrame (contract).
        unsafe { write_out(out, view) };
        Ok(OapStatus::Ok)
    })
}

/// Declares end of input.
///
/// Returns `OAP_STATUS_OK` if the input ended on a frame boundary,
/// `OAP_STATUS_TRUNCATED` if it ended inside a frame (that error is then
/// latched like any other), or the decode error already latched. Frames
/// still queued remain available from [`oap_decoder_next`].
///
/// # Safety
/// `dec` must be a live decoder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_decoder_finish(dec: *mut OapDecoder) -> OapStatus {
    with_decoder(dec, |d| {
        if let Some(e) = d.error {
            return Err(e.into());
        }
        d.stream.finish().map_err(|e| {
            d.error = Some(e);
            OapStatus::from(e)
        })?;
        Ok(OapStatus::Ok)
    })
}

/// Stores in `*out` how many bytes of an incomplete frame the decoder holds
/// (never more than `max_frame + 6`).
///
/// # Safety
/// `dec` must be a live decoder; `out` must be NULL or valid for writing one
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_decoder_buffered(dec: *mut OapDecoder, out: *mut usize) -> OapStatus {
    with_decoder(dec, |d| {
        non_null(out)?;
        // SAFETY: out is non-NULL and valid for one size_t (contract).
        unsafe { write_out(out, d.stream.buffered()) };
        Ok(OapStatus::Ok)
    })
}

/// Changes `max_frame` for every frame header not yet parsed (after the
/// HELLO exchange settled a lower value).
///
/// # Safety
/// `dec` must be a live decoder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn oap_decoder_set_max_frame(
    dec: *mut OapDecoder,
    max_frame: u32,
) -> OapStatus {
    with_decoder(dec, |d| {
        d.stream.set_max_frame(max_frame);
        Ok(OapStatus::Ok)
    })
}
