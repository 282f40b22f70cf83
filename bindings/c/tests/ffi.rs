//! The C ABI driven from Rust: status mapping, NULL handling, buffer sizing
//! and decoder semantics. The vectors run through the same ABI from C in
//! `tests/vectors.c`.

use std::ffi::CStr;
use std::ptr;

use oap::*;
use oap_core::frame::DecodeError;

fn name(s: OapStatus) -> &'static str {
    // SAFETY: oap_status_name returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(oap_status_name(s as i32)) }
        .to_str()
        .expect("ASCII")
}

#[test]
fn status_names_are_the_core_error_kinds() {
    for e in [
        DecodeError::BadVersion(2),
        DecodeError::UnknownType(9),
        DecodeError::TooLarge { len: 9, max: 1 },
        DecodeError::Truncated { buffered: 1 },
    ] {
        assert_eq!(name(OapStatus::from(e)), e.kind());
    }
    assert_eq!(name(OapStatus::BadDataHeader), "bad_data_header");
    assert_eq!(name(OapStatus::BadObjectId), "bad_object_id");
    // SAFETY: any int is accepted.
    let unknown = unsafe { CStr::from_ptr(oap_status_name(77)) };
    assert_eq!(unknown.to_str(), Ok("unknown_status"));
}

/// Pushes `input` and drains: the frames (type, payload) and the final status.
fn decode_all(max_frame: u32, input: &[u8]) -> (Vec<(u8, Vec<u8>)>, OapStatus) {
    let mut dec = ptr::null_mut();
    // SAFETY: valid out-pointer; the decoder is used on this thread and freed
    // below; payload pointers are copied before the next call.
    unsafe {
        assert_eq!(oap_decoder_new(max_frame, &mut dec), OapStatus::Ok);
        assert_eq!(
            oap_decoder_push(dec, input.as_ptr(), input.len()),
            OapStatus::Ok
        );
        let mut frames = Vec::new();
        let mut f = std::mem::zeroed::<OapFrame>();
        let status = loop {
            match oap_decoder_next(dec, &mut f) {
                OapStatus::Ok => frames.push((
                    f.typ,
                    std::slice::from_raw_parts(f.payload, f.payload_len).to_vec(),
                )),
                OapStatus::NeedMore => break oap_decoder_finish(dec),
                other => break other,
            }
        };
        oap_decoder_free(dec);
        (frames, status)
    }
}

#[test]
fn decoder_delivers_frames_before_the_error_then_the_error() {
    let input = [1, 5, 0, 0, 0, 2, b'{', b'}', 1, 9, 0, 0, 0, 0];
    let (frames, status) = decode_all(OAP_DEFAULT_MAX_FRAME, &input);
    assert_eq!(frames, vec![(5, b"{}".to_vec())]);
    assert_eq!(status, OapStatus::UnknownType);
}

#[test]
fn decoder_reports_truncated_and_too_large() {
    let (frames, status) = decode_all(OAP_DEFAULT_MAX_FRAME, &[1, 1, 0, 0, 0, 9, b'x']);
    assert!(frames.is_empty());
    assert_eq!(status, OapStatus::Truncated);
    let (_, status) = decode_all(4, &[1, 1, 0, 0, 0, 5]);
    assert_eq!(status, OapStatus::TooLarge);
    let (frames, status) = decode_all(4, &[1, 1, 0, 0, 0, 4, 1, 2, 3, 4]);
    assert_eq!((frames.len(), status), (1, OapStatus::Ok));
}

#[test]
fn null_pointers_are_errors() {
    let mut n = 0usize;
    let mut f = OapFrame {
        ver: 0,
        typ: 0,
        payload: ptr::null(),
        payload_len: 0,
    };
    // SAFETY: every pointer is NULL or valid; the point is the NULL checks.
    unsafe {
        assert_eq!(oap_decoder_new(1, ptr::null_mut()), OapStatus::NullPointer);
        assert_eq!(
            oap_decoder_next(ptr::null_mut(), &mut f),
            OapStatus::NullPointer
        );
        assert_eq!(
            oap_decoder_push(ptr::null_mut(), ptr::null(), 0),
            OapStatus::NullPointer
        );
        assert_eq!(
            oap_encode_frame(1, ptr::null(), 1, 10, ptr::null_mut(), 0, &mut n),
            OapStatus::NullPointer
        );
        assert_eq!(
            oap_data_pack(ptr::null(), 5, ptr::null(), 0, ptr::null_mut(), 0, &mut n),
            OapStatus::NullPointer
        );
        assert_eq!(oap_hasher_new(ptr::null_mut()), OapStatus::NullPointer);
        assert_eq!(
            oap_hasher_finalize(ptr::null_mut(), ptr::null_mut()),
            OapStatus::NullPointer
        );
        oap_decoder_free(ptr::null_mut());
        oap_hasher_free(ptr::null_mut());
    }
}

#[test]
fn encode_reports_the_size_it_needs_and_writes_nothing_when_short() {
    let payload = b"{\"credit\":1}";
    let mut need = 0usize;
    let mut out = [0xAAu8; 32];
    // SAFETY: buffers are valid for the lengths given.
    unsafe {
        assert_eq!(
            oap_encode_frame(
                5,
                payload.as_ptr(),
                payload.len(),
                64,
                out.as_mut_ptr(),
                10,
                &mut need
            ),
            OapStatus::BufferTooSmall
        );
        assert_eq!(need, 6 + payload.len());
        assert!(out.iter().all(|&b| b == 0xAA), "nothing written");
        assert_eq!(
            oap_encode_frame(
                5,
                payload.as_ptr(),
                payload.len(),
                64,
                out.as_mut_ptr(),
                need,
                &mut need
            ),
            OapStatus::Ok
        );
        assert_eq!(&out[..6], &[1, 5, 0, 0, 0, payload.len() as u8]);
        assert_eq!(&out[6..need], payload);
        assert_eq!(
            oap_encode_frame(
                5,
                payload.as_ptr(),
                payload.len(),
                4,
                out.as_mut_ptr(),
                32,
                &mut need
            ),
            OapStatus::TooLarge
        );
        assert_eq!(
            oap_encode_header(0, 0, 64, out.as_mut_ptr(), 32, &mut need),
            OapStatus::InvalidArgument
        );
    }
}

#[test]
fn data_pack_validates_the_header_and_unpack_borrows_the_payload() {
    let body = b"hello";
    let id = oap_core::ObjectId::of(body).to_string();
    let header = format!("{{\"obj\":\"{id}\",\"corr_id\":7}}");
    let mut out = vec![0u8; 200];
    let mut n = 0usize;
    let mut view = std::mem::MaybeUninit::<OapDataView>::uninit();
    // SAFETY: buffers are valid for the lengths given; view is read only
    // after OK, while `out` is alive.
    unsafe {
        let bad = b"{\"obj\":\"b3:ABC\"}";
        assert_eq!(
            oap_data_pack(
                bad.as_ptr(),
                bad.len(),
                body.as_ptr(),
                5,
                out.as_mut_ptr(),
                200,
                &mut n
            ),
            OapStatus::BadObjectId
        );
        let no_obj = b"{}";
        assert_eq!(
            oap_data_pack(
                no_obj.as_ptr(),
                2,
                body.as_ptr(),
                5,
                out.as_mut_ptr(),
                200,
                &mut n
            ),
            OapStatus::BadDataHeader
        );
        assert_eq!(
            oap_data_pack(
                header.as_ptr(),
                header.len(),
                body.as_ptr(),
                5,
                out.as_mut_ptr(),
                200,
                &mut n
            ),
            OapStatus::Ok
        );
        assert_eq!(n, 2 + header.len() + 5);
        assert_eq!(
            oap_data_unpack(out.as_ptr(), n, view.as_mut_ptr()),
            OapStatus::Ok
        );
        let v = view.assume_init();
        assert_eq!(v.body, out.as_ptr().add(n - 5), "body borrows the payload");
        assert_eq!(
            (v.has_corr_id, v.corr_id, v.has_total_len),
            (true, 7, false)
        );
        assert_eq!(
            oap_object_id_verify(&v.obj, v.body, v.body_len),
            OapStatus::Ok
        );
        assert_eq!(
            oap_object_id_verify(&v.obj, v.body, 4),
            OapStatus::BadDigest
        );
        // header_len pointing past the end
        let short = [0u8, 9, b'{'];
        assert_eq!(
            oap_data_unpack(short.as_ptr(), 3, view.as_mut_ptr()),
            OapStatus::BadDataHeader
        );
    }
}

#[test]
fn hasher_matches_one_shot_id_and_can_continue() {
    let data = b"0123456789abcdef";
    let mut h = ptr::null_mut();
    let mut a = OapObjectId { bytes: [0; 32] };
    let mut b = a;
    // SAFETY: valid pointers; the hasher is freed once.
    unsafe {
        assert_eq!(oap_hasher_new(&mut h), OapStatus::Ok);
        assert_eq!(oap_hasher_update(h, data.as_ptr(), 5), OapStatus::Ok);
        assert_eq!(oap_hasher_finalize(h, &mut a), OapStatus::Ok);
        assert_eq!(oap_hasher_update(h, data[5..].as_ptr(), 11), OapStatus::Ok);
        assert_eq!(oap_hasher_finalize(h, &mut b), OapStatus::Ok);
        oap_hasher_free(h);
    }
    assert_eq!(a.bytes, *oap_core::ObjectId::of(&data[..5]).as_bytes());
    assert_eq!(b.bytes, *oap_core::ObjectId::of(data).as_bytes());
}

#[test]
fn object_id_text_round_trips_and_refuses_bad_forms() {
    let id = oap_core::ObjectId::of(b"x").to_string();
    let mut parsed = OapObjectId { bytes: [0; 32] };
    let mut text = [0 as std::ffi::c_char; OAP_OBJECT_ID_BUF_LEN];
    let mut n = 0usize;
    // SAFETY: valid pointers and lengths.
    unsafe {
        assert_eq!(
            oap_object_id_parse(id.as_ptr().cast(), id.len(), &mut parsed),
            OapStatus::Ok
        );
        assert_eq!(
            oap_object_id_format(&parsed, text.as_mut_ptr(), text.len(), &mut n),
            OapStatus::Ok
        );
        assert_eq!(CStr::from_ptr(text.as_ptr()).to_str(), Ok(id.as_str()));
        let upper = id.to_uppercase().replace("B3:", "b3:");
        assert_eq!(
            oap_object_id_parse(upper.as_ptr().cast(), upper.len(), &mut parsed),
            OapStatus::BadObjectId
        );
        let invalid_utf8 = [0xffu8, 0xfe];
        assert_eq!(
            oap_object_id_parse(invalid_utf8.as_ptr().cast(), 2, &mut parsed),
            OapStatus::BadObjectId
        );
    }
}
