//! Codec harnesses: frames, DATA packing, control payloads, object ids.

use bytes::BytesMut;
use oap_core::ObjectId;
use oap_core::frame::{DecodeError, Frame, FrameDecoder, FrameEncoder, StreamDecoder};
use oap_core::limits::{HEADER_LEN, MAX_CONTROL_JSON};
use oap_core::object_id::ObjectIdPrefix;
use oap_core::payload::{
    Ack, ControlPayload, DataHeader, End, ErrorEnvelope, Hello, PayloadError, Start,
    decode_data_bytes, decode_data_payload, encode_data_payload, unpack_data_raw,
};

use crate::Reader;

/// `frame_decode`: arbitrary bytes, cut at arbitrary points, into the
/// incremental decoder.
///
/// Input layout: `max_frame` selector (2 bytes), number of cuts (1 byte),
/// the cut lengths (1 byte each), then the stream.
///
/// Properties:
/// * no panic, whatever the bytes and cuts;
/// * the [`StreamDecoder`] never buffers more than `max_frame + 6` bytes;
/// * the chunked decode yields exactly the frames and the error of a
///   one-shot decode of the whole stream ([`FrameDecoder`] on a `BytesMut`
///   and on a slice), and `finish` reports `truncated` iff a frame was cut;
/// * decode of encode is the identity: re-encoding the decoded frames gives
///   back the bytes they were decoded from, and decoding those bytes gives
///   the same frames.
pub fn frame_decode(input: &[u8]) {
    let mut r = Reader::new(input);
    // Small limits hit `too_large` often; 0 selects the 1 MiB default.
    let max_frame = match r.u16() {
        0 => oap_core::limits::DEFAULT_MAX_FRAME,
        n => u32::from(n % 2048),
    };
    let cuts: Vec<usize> = (0..r.below(16)).map(|_| usize::from(r.u8())).collect();
    let stream = r.rest();

    // Chunked, through the bounded stream decoder.
    let mut dec = StreamDecoder::with_max_frame(max_frame);
    let mut frames = Vec::new();
    let mut error = None;
    let mut rest = stream;
    let mut cut = cuts.iter().cycle();
    'outer: while !rest.is_empty() {
        let n = cut
            .next()
            .copied()
            .unwrap_or(rest.len())
            .max(1)
            .min(rest.len());
        let (mut chunk, tail) = rest.split_at(n);
        rest = tail;
        loop {
            let fed = dec.feed(&mut chunk);
            assert!(
                dec.buffered() <= max_frame as usize + HEADER_LEN,
                "stream decoder buffers {} bytes with max_frame {max_frame}",
                dec.buffered()
            );
            match fed {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => {
                    assert!(chunk.is_empty(), "feed returned None with input left");
                    break;
                }
                Err(e) => {
                    error = Some(e);
                    break 'outer;
                }
            }
        }
    }
    let finish = dec.finish();

    // One shot, through the caller-buffer decoder.
    let mut whole = FrameDecoder::with_max_frame(max_frame);
    let mut buf = BytesMut::from(stream);
    let mut frames_whole = Vec::new();
    let error_whole = loop {
        match whole.decode_eof(&mut buf) {
            Ok(Some(f)) => frames_whole.push(f),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert_eq!(frames, frames_whole, "chunked and one-shot decodes differ");
    match (error, error_whole) {
        (Some(a), Some(b)) => assert_eq!(a, b),
        (None, Some(DecodeError::Truncated { buffered })) => {
            assert_eq!(finish, Err(DecodeError::Truncated { buffered }));
        }
        (None, None) => assert_eq!(finish, Ok(())),
        (a, b) => panic!("chunked error {a:?}, one-shot error {b:?}"),
    }

    // And through the borrowing slice decoder.
    let mut slice_dec = FrameDecoder::with_max_frame(max_frame);
    let mut pos = 0;
    let mut n_slice = 0;
    loop {
        let (used, res) = slice_dec.decode_slice(&stream[pos..]);
        match res {
            Ok(Some(f)) => {
                assert_eq!(f.to_owned(), frames[n_slice], "slice decode differs");
                n_slice += 1;
                pos += used;
            }
            Ok(None) | Err(_) => break,
        }
    }
    assert_eq!(n_slice, frames.len());

    // Decode of encode is the identity.
    let enc = FrameEncoder::with_max_frame(max_frame);
    let mut out = BytesMut::new();
    for f in &frames {
        enc.encode_frame(f, &mut out)
            .expect("a decoded frame fits the same max_frame");
    }
    assert_eq!(&out[..], &stream[..out.len()], "re-encoding changed bytes");
    let mut again = FrameDecoder::with_max_frame(max_frame);
    let mut back = Vec::new();
    while let Some(f) = again.decode(&mut out).expect("re-encoded stream decodes") {
        back.push(f);
    }
    assert!(out.is_empty());
    assert_eq!(back, frames);
}

/// `data_payload`: arbitrary DATA payloads, raw and structured.
///
/// The first byte picks the mode. Raw: the rest is a payload; unpacking and
/// decoding never panic, the typed and `Bytes` decoders agree, and a payload
/// that decodes re-encodes to one that decodes to the same header and body.
/// Structured: a header (fuzzed object id, offset, total_len, corr_id,
/// content type, e2e) and a body are packed and unpacked, which must be the
/// identity.
pub fn data_payload(input: &[u8]) {
    let mut r = Reader::new(input);
    if r.bool() {
        let payload = r.rest();
        let raw = unpack_data_raw(payload);
        let typed = decode_data_payload(payload);
        let shared = decode_data_bytes(&bytes::Bytes::copy_from_slice(payload));
        match (&typed, &shared) {
            (Ok((h1, b1)), Ok((h2, b2))) => {
                assert_eq!(h1, h2);
                assert_eq!(*b1, &b2[..]);
                let (_, raw_body) = raw.expect("a decodable payload unpacks");
                assert_eq!(raw_body, *b1);
                let again = encode_data_payload(h1, b1).expect("re-encode");
                let (h3, b3) = decode_data_payload(&again).expect("re-decode");
                assert_eq!((&h3, b3), (h1, *b1));
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("decoders disagree: {a:?} vs {b:?}"),
        }
        if payload.len() < 2 {
            assert!(matches!(typed, Err(PayloadError::DataTooShort { .. })));
        }
        return;
    }
    let mut digest = [0u8; 32];
    for b in &mut digest {
        *b = r.u8();
    }
    let opt = |r: &mut Reader<'_>| r.bool().then(|| r.u64());
    let header = DataHeader {
        obj: ObjectId::from_bytes(digest),
        offset: opt(&mut r),
        total_len: opt(&mut r),
        corr_id: opt(&mut r),
        content_type: r
            .bool()
            .then(|| String::from_utf8_lossy(r.bytes(40)).into_owned()),
        e2e: r.bool(),
    };
    let body = r.rest();
    let payload = encode_data_payload(&header, body).expect("small header packs");
    let (h, b) = decode_data_payload(&payload).expect("packed header decodes");
    assert_eq!(h, header);
    assert_eq!(b, body);
}

/// `payload_json`: each control payload type from arbitrary bytes.
///
/// The first byte picks HELLO, START, ACK, END or ERROR. Decoding never
/// panics; input over 64 KiB is refused before parsing; whatever decodes
/// re-encodes to JSON that decodes to the same value (an unknown error code
/// stays `unknown`).
pub fn payload_json(input: &[u8]) {
    let Some((&kind, bytes)) = input.split_first() else {
        return;
    };
    match kind % 5 {
        0 => round_trip::<Hello>(bytes),
        1 => round_trip::<Start>(bytes),
        2 => round_trip::<Ack>(bytes),
        3 => round_trip::<End>(bytes),
        _ => round_trip::<ErrorEnvelope>(bytes),
    }
}

fn round_trip<P>(bytes: &[u8])
where
    P: ControlPayload + PartialEq + std::fmt::Debug,
{
    let decoded = P::decode(bytes);
    if bytes.len() > MAX_CONTROL_JSON {
        assert!(matches!(decoded, Err(PayloadError::JsonTooLarge { .. })));
        return;
    }
    if let Ok(value) = decoded {
        let json = value.encode();
        let again = P::decode(&json).expect("encoded payload decodes");
        assert_eq!(
            again,
            value,
            "round trip through {:?}",
            String::from_utf8_lossy(&json)
        );
    }
}

/// `object_id`: parse/format round trip.
///
/// The first byte picks the mode. Text: any string that parses as an id
/// formats back to exactly itself (ids have one spelling), likewise for
/// prefixes, and a full-length prefix converts to the same id. Digest: 32
/// bytes format to an id that parses back to them, every prefix of it
/// parses and matches it, and serde agrees with `Display`.
pub fn object_id(input: &[u8]) {
    let mut r = Reader::new(input);
    if r.bool() {
        let Ok(text) = std::str::from_utf8(r.rest()) else {
            return;
        };
        if let Ok(id) = text.parse::<ObjectId>() {
            assert_eq!(id.to_string(), text);
            let prefix: ObjectIdPrefix = text.parse().expect("a full id is a prefix");
            assert_eq!(prefix.to_full(), Some(id));
        }
        if let Ok(prefix) = text.parse::<ObjectIdPrefix>() {
            assert_eq!(prefix.to_string(), text);
            assert!((1..=64).contains(&prefix.digits()));
        }
        return;
    }
    let mut digest = [0u8; 32];
    for b in &mut digest {
        *b = r.u8();
    }
    let id = ObjectId::from_bytes(digest);
    let text = id.to_string();
    assert_eq!(text.len(), 3 + 64);
    let back: ObjectId = text.parse().expect("formatted id parses");
    assert_eq!(back, id);
    assert_eq!(back.as_bytes(), &digest);
    let digits = 1 + r.below(64);
    let prefix: ObjectIdPrefix = text[..3 + digits].parse().expect("prefix parses");
    assert!(prefix.matches(&id));
    assert_eq!(prefix.to_full().is_some(), digits == 64);
    let json = serde_json::to_string(&id).expect("serialise");
    assert_eq!(json, format!("\"{text}\""));
    let de: ObjectId = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(de, id);
    let upper = text.to_uppercase().replacen("B3:", "b3:", 1);
    if upper != text {
        assert!(upper.parse::<ObjectId>().is_err(), "upper-case id accepted");
    }
}

/// Frames in `bytes`, for tests that inspect a connection's output.
pub fn split_frames(bytes: &[u8]) -> Result<Vec<Frame>, DecodeError> {
    let mut dec = FrameDecoder::with_max_frame(u32::MAX);
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(f) = dec.decode_eof(&mut buf)? {
        out.push(f);
    }
    Ok(out)
}

/// `fast_paths`: the hand-written JSON readers and writers of START, ACK,
/// END, DATA headers and HELLO against serde_json, errors included.
///
/// Input layout: kind (1 byte: START, ACK, END, DATA header, HELLO), mode (1
/// byte), then either raw JSON bytes (mode 0) or the fields of a value
/// (other modes) whose serde encoding is then edited up to three times by
/// the remaining bytes, so the readers see their own shapes and near
/// misses, not only noise.
///
/// Properties, on every input:
/// * the public decoder (fast path, then serde) returns exactly serde's
///   result: the same value, or an error with the same text;
/// * whatever the fast reader accepts on its own, serde accepts with the
///   same value;
/// * for every value serde decodes, the fast writer (where it takes the
///   value) writes exactly serde_json's bytes.
pub fn fast_paths(input: &[u8]) {
    use oap_core::payload::fast_paths::{self, Verdict};

    let mut r = Reader::new(input);
    let kind = r.u8() % 5;
    let raw = r.u8() % 4 == 0;
    let json = if raw {
        r.rest().to_vec()
    } else {
        let mut json = match kind {
            0 => serde_json::to_vec(&fuzzed_start(&mut r)),
            1 => serde_json::to_vec(&Ack {
                corr_id: r.bool().then(|| r.u64()),
                credit: r.u64(),
            }),
            2 => serde_json::to_vec(&End {
                corr_id: r.bool().then(|| r.u64()),
                obj: r.bool().then(|| ObjectId::of(r.bytes(8))),
            }),
            3 => serde_json::to_vec(&fuzzed_header(&mut r)),
            _ => serde_json::to_vec(&fuzzed_hello(&mut r)),
        }
        .expect("plain structs serialise");
        for _ in 0..r.below(4) {
            edit(&mut json, &mut r);
        }
        json
    };

    fn agree<T: PartialEq + std::fmt::Debug>(json: &[u8], v: &Verdict<T>) {
        let show = || String::from_utf8_lossy(json).into_owned();
        match (&v.public, &v.serde) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "public and serde values differ: {}", show()),
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string(), "errors differ: {}", show())
            }
            (a, b) => panic!("public {a:?} but serde {b:?}: {}", show()),
        }
        if let Some(fast) = &v.fast {
            assert_eq!(
                v.serde.as_ref().ok(),
                Some(fast),
                "fast path accepted: {}",
                show()
            );
        }
    }
    fn writes_serde_bytes((fast, serde): (Option<Vec<u8>>, Vec<u8>)) {
        if let Some(fast) = fast {
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&serde),
                "fast writer differs from serde_json"
            );
        }
    }
    match kind {
        0 => {
            let v = fast_paths::start(&json);
            agree(&json, &v);
            if let Ok(start) = &v.serde {
                writes_serde_bytes(fast_paths::start_bytes(start));
            }
        }
        1 => {
            let v = fast_paths::ack(&json);
            agree(&json, &v);
            if let Ok(ack) = &v.serde {
                writes_serde_bytes(fast_paths::ack_bytes(ack));
            }
        }
        2 => {
            let v = fast_paths::end(&json);
            agree(&json, &v);
            if let Ok(end) = &v.serde {
                writes_serde_bytes(fast_paths::end_bytes(end));
            }
        }
        3 => {
            let v = fast_paths::data_header(&json);
            agree(&json, &v);
            if let Ok(header) = &v.serde {
                writes_serde_bytes(fast_paths::data_header_bytes(header));
            }
        }
        _ => {
            let v = fast_paths::hello(&json);
            agree(&json, &v);
            if let Ok(hello) = &v.serde {
                writes_serde_bytes(fast_paths::hello_bytes(hello));
            }
        }
    }
}

/// A string from the input: short, any bytes made valid UTF-8, or one of
/// the words clients really send.
fn fuzzed_text(r: &mut Reader<'_>) -> Option<String> {
    match r.u8() % 4 {
        0 => None,
        1 => Some(["put", "get", "subscribe", "docs", ""][r.below(5)].to_owned()),
        _ => Some(String::from_utf8_lossy(r.bytes(16)).into_owned()),
    }
}

fn fuzzed_hello(r: &mut Reader<'_>) -> Hello {
    Hello {
        hello: fuzzed_text(r).map_or_else(|| "oap/1".into(), Into::into),
        // The edits below push a limit past u32 now and then: the field's
        // bound, which serde must be the one to report.
        max_frame: r.bool().then(|| r.u32()),
        max_inflight: r.bool().then(|| r.u32()),
        credit: r.bool().then(|| r.u64()),
        app_proto_id: fuzzed_text(r),
        tenant: fuzzed_text(r),
        token: fuzzed_text(r),
    }
}

fn fuzzed_start(r: &mut Reader<'_>) -> Start {
    Start {
        corr_id: r.bool().then(|| r.u64()),
        op: fuzzed_text(r).map(Into::into),
        topic: fuzzed_text(r),
        addr: fuzzed_text(r),
        collection: fuzzed_text(r),
        doc_id: fuzzed_text(r),
    }
}

fn fuzzed_header(r: &mut Reader<'_>) -> DataHeader {
    DataHeader {
        obj: ObjectId::of(r.bytes(8)),
        offset: r.bool().then(|| r.u64()),
        total_len: r.bool().then(|| r.u64()),
        corr_id: r.bool().then(|| r.u64()),
        content_type: fuzzed_text(r),
        e2e: r.bool(),
    }
}

/// Replaces, inserts or deletes one byte of `json` at a position the input
/// picks; the new byte is likely to matter to a JSON reader.
fn edit(json: &mut Vec<u8>, r: &mut Reader<'_>) {
    const NEAR: &[u8] = b"{}[]\",:\\ 0123456789-+.eEnul\x00\x1f\x7f\xc3\xa9";
    let at = if json.is_empty() {
        0
    } else {
        r.below(json.len())
    };
    let byte = if r.bool() {
        NEAR[r.below(NEAR.len())]
    } else {
        r.u8()
    };
    match r.u8() % 3 {
        0 if !json.is_empty() => json[at] = byte,
        1 => json.insert(at, byte),
        _ if !json.is_empty() => {
            json.remove(at);
        }
        _ => json.push(byte),
    }
}
