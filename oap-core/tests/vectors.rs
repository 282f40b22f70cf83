//! Runs every case in `docs/specs/vectors/*.json` through the codec, fed
//! whole, one byte at a time, and through the slice API.

use std::path::PathBuf;

use bytes::BytesMut;
use oap_core::frame::{DecodeError, Frame, FrameDecoder, FrameType, StreamDecoder};
use oap_core::payload::{decode_data_payload, unpack_data_raw};
use serde_json::Value;

struct Case {
    name: String,
    max_frame: u32,
    input: Vec<u8>,
    frames: Vec<Value>,
    error: Option<String>,
}

fn load() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/specs/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("vectors dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "expected the vector files in {dir:?}");
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let arr: Vec<Value> = serde_json::from_str(&text).expect("vector JSON");
        for c in arr {
            cases.push(Case {
                name: c["name"].as_str().expect("name").to_owned(),
                max_frame: c
                    .get("max_frame")
                    .and_then(Value::as_u64)
                    .map_or(1_048_576, |m| m as u32),
                input: hex::decode(c["input_hex"].as_str().expect("input_hex")).expect("hex"),
                frames: c["frames"].as_array().expect("frames").clone(),
                error: c["error"].as_str().map(str::to_owned),
            });
        }
    }
    cases
}

/// What decoding yields: frames until the first error, and that error's
/// vector name. A DATA frame whose payload does not unpack is the error.
fn check_frames(
    frames: Vec<Frame>,
    decode_err: Option<DecodeError>,
) -> (Vec<Frame>, Option<String>) {
    let mut ok = Vec::new();
    for f in frames {
        if f.typ == FrameType::Data {
            if let Err(e) = decode_data_payload(&f.payload) {
                return (ok, Some(e.kind().to_owned()));
            }
        }
        ok.push(f);
    }
    (ok, decode_err.map(|e| e.kind().to_owned()))
}

fn decode_whole(case: &Case) -> (Vec<Frame>, Option<String>) {
    let mut dec = FrameDecoder::with_max_frame(case.max_frame);
    let mut buf = BytesMut::from(&case.input[..]);
    let mut frames = Vec::new();
    loop {
        match dec.decode_eof(&mut buf) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => return check_frames(frames, None),
            Err(e) => return check_frames(frames, Some(e)),
        }
    }
}

fn decode_bytewise(case: &Case) -> (Vec<Frame>, Option<String>) {
    let mut dec = StreamDecoder::with_max_frame(case.max_frame);
    let mut frames = Vec::new();
    for b in &case.input {
        let mut one: &[u8] = std::slice::from_ref(b);
        match dec.feed(&mut one) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => {}
            Err(e) => return check_frames(frames, Some(e)),
        }
        assert!(one.is_empty(), "{}: byte not taken", case.name);
    }
    check_frames(frames, dec.finish().err())
}

fn decode_slices(case: &Case) -> (Vec<Frame>, Option<String>) {
    let mut dec = FrameDecoder::with_max_frame(case.max_frame);
    let mut rest = &case.input[..];
    let mut frames = Vec::new();
    loop {
        let (n, r) = dec.decode_slice(rest);
        match r {
            Ok(Some(f)) => frames.push(f.to_owned()),
            Ok(None) if rest.is_empty() => return check_frames(frames, None),
            Ok(None) => {
                let e = DecodeError::Truncated {
                    buffered: rest.len(),
                };
                return check_frames(frames, Some(e));
            }
            Err(e) => return check_frames(frames, Some(e)),
        }
        rest = &rest[n..];
    }
}

fn assert_matches(case: &Case, how: &str, got: &(Vec<Frame>, Option<String>)) {
    let (frames, err) = got;
    assert_eq!(err, &case.error, "{} ({how}): error", case.name);
    assert_eq!(
        frames.len(),
        case.frames.len(),
        "{} ({how}): frame count",
        case.name
    );
    for (f, want) in frames.iter().zip(&case.frames) {
        let ctx = format!("{} ({how})", case.name);
        assert_eq!(f.ver(), want["ver"].as_u64().expect("ver") as u8, "{ctx}");
        assert_eq!(f.typ.name(), want["typ"].as_str().expect("typ"), "{ctx}");
        assert_eq!(
            hex::encode(&f.payload),
            want["payload_hex"].as_str().expect("payload_hex"),
            "{ctx}"
        );
        if let Some(json) = want.get("json") {
            let parsed: Value = serde_json::from_slice(&f.payload).expect("control JSON");
            assert_eq!(&parsed, json, "{ctx}: json");
        }
        if let Some(data) = want.get("data") {
            let (raw_header, body) = unpack_data_raw(&f.payload).expect("unpack");
            let header: Value = serde_json::from_slice(raw_header).expect("header JSON");
            assert_eq!(&header, &data["header"], "{ctx}: data header");
            assert_eq!(
                hex::encode(body),
                data["body_hex"].as_str().expect("body_hex"),
                "{ctx}"
            );
            let (typed, _) = decode_data_payload(&f.payload).expect("typed header");
            assert_eq!(
                typed.obj.to_string(),
                data["header"]["obj"].as_str().expect("obj")
            );
            if typed.total_len.is_none() {
                assert!(
                    typed.obj.verify(body),
                    "{ctx}: whole-object body must hash to obj"
                );
            }
        }
    }
}

#[test]
fn every_vector_decodes_as_specified_however_it_is_fed() {
    let cases = load();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    for case in &cases {
        assert_matches(case, "whole", &decode_whole(case));
        assert_matches(case, "bytewise", &decode_bytewise(case));
        assert_matches(case, "slices", &decode_slices(case));
    }
}

#[test]
fn vectors_cover_every_frame_type_and_every_error() {
    let cases = load();
    for t in FrameType::ALL {
        assert!(
            cases
                .iter()
                .any(|c| c.frames.iter().any(|f| f["typ"] == t.name())),
            "no vector with a {t} frame"
        );
    }
    for e in [
        "bad_version",
        "unknown_type",
        "too_large",
        "truncated",
        "bad_data_header",
        "bad_object_id",
    ] {
        assert!(
            cases.iter().any(|c| c.error.as_deref() == Some(e)),
            "no vector for {e}"
        );
    }
}

#[test]
fn encoding_the_listed_frames_reproduces_the_input() {
    // For error-free cases the input is exactly the concatenation of the
    // listed frames, so our encoder must produce it byte for byte.
    let enc = oap_core::frame::FrameEncoder::new();
    for case in load().iter().filter(|c| c.error.is_none()) {
        let mut out = BytesMut::new();
        for f in &case.frames {
            let typ = FrameType::from_name(f["typ"].as_str().expect("typ")).expect("known");
            let payload = hex::decode(f["payload_hex"].as_str().expect("hex")).expect("hex");
            enc.encode(typ, &payload, &mut out).expect("encode");
        }
        assert_eq!(&out[..], &case.input[..], "{}", case.name);
    }
}
