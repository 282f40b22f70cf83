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
