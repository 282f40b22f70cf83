//! Round trips of each frame type through encoder and decoder.

use bytes::BytesMut;
use oap_core::frame::{DecodeError, EncodeError, FrameDecoder, FrameEncoder, FrameType};
use oap_core::payload::{
    Ack, ControlPayload, DataHeader, End, ErrorCode, ErrorEnvelope, Hello, Start, data_frame,
    data_frame_parts, decode_data_bytes, decode_data_payload,
};
use oap_core::{Frame, ObjectId};

fn wire(frames: &[Frame]) -> BytesMut {
    let enc = FrameEncoder::new();
    let mut out = BytesMut::new();
    for f in frames {
        enc.encode_frame(f, &mut out).expect("encode");
    }
    out
}

fn decode_all(mut buf: BytesMut) -> Vec<Frame> {
    let mut dec = FrameDecoder::new();
    let mut out = Vec::new();
    while let Some(f) = dec.decode_eof(&mut buf).expect("decode") {
        out.push(f);
    }
    out
}

#[test]
fn hello_roundtrip() {
    let hello = Hello {
        max_frame: Some(262_144),
        max_inflight: Some(8),
        credit: Some(32_768),
        app_proto_id: Some("storage/1".into()),
        ..Hello::legacy()
    };
    let frames = decode_all(wire(&[hello.to_frame()]));
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].ver(), 1);
    assert_eq!(frames[0].typ, FrameType::Hello);
    assert_eq!(Hello::decode(&frames[0].payload).expect("hello"), hello);

    let legacy = Hello::decode(br#"{"hello":"oap/1"}"#).expect("legacy hello");
    assert_eq!(legacy, Hello::legacy());
    assert!(
        Hello::decode(br#"{"max_frame":1}"#).is_err(),
        "protocol name is required"
    );
}

#[test]
fn hello_token_is_optional_and_omitted_when_absent() {
    // A HELLO without a token encodes exactly as before the field existed.
    assert_eq!(&Hello::legacy().encode()[..], br#"{"hello":"oap/1"}"#);
    let with = Hello {
        tenant: Some("acme".into()),
        token: Some("s3cret-token".into()),
        ..Hello::legacy()
    };
    let bytes = with.encode();
    assert_eq!(
        &bytes[..],
        br#"{"hello":"oap/1","tenant":"acme","token":"s3cret-token"}"#
    );
    assert_eq!(Hello::decode(&bytes).expect("hello"), with);
    assert_eq!(
        Hello::decode(br#"{"hello":"oap/1","tenant":"acme"}"#)
            .expect("hello")
            .token,
        None
    );
}

#[test]
fn debug_output_never_shows_a_token() {
    let hello = Hello {
        token: Some("s3cret-token".into()),
        ..Hello::legacy()
    };
    let shown = format!("{hello:?} {hello:#?}");
    assert!(!shown.contains("s3cret-token"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    let config = oap_core::connection::ConnectionConfig {
        token: Some("s3cret-token".into()),
        ..Default::default()
    };
    let shown = format!("{config:?} {config:#?}");
    assert!(!shown.contains("s3cret-token"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}

#[test]
fn start_data_end_with_body() {
    let body = b"hello world, these are real bytes".to_vec();
    let obj = ObjectId::of(&body);
    let start = Start {
        corr_id: Some(7),
        op: Some("put".into()),
        ..Start::default()
    };
    let header = DataHeader {
        corr_id: Some(7),
        content_type: Some("text/plain".into()),
        ..DataHeader::whole(&body)
    };
    let end = End {
        corr_id: Some(7),
        obj: None,
    };
    let frames = decode_all(wire(&[
        start.to_frame(),
        data_frame(&header, &body).expect("data"),
        end.to_frame(),
    ]));
    let types: Vec<_> = frames.iter().map(|f| f.typ).collect();
    assert_eq!(types, [FrameType::Start, FrameType::Data, FrameType::End]);
    assert_eq!(Start::decode(&frames[0].payload).expect("start"), start);

    let (hdr, got) = decode_data_bytes(&frames[1].payload).expect("data payload");
    assert_eq!(hdr, header);
    assert_eq!(&got[..], &body[..]);
    assert_eq!(hdr.obj, obj);
    assert!(hdr.obj.to_string().starts_with("b3:"));
    assert_eq!(hdr.obj.to_string().len(), 3 + 64);
    assert!(hdr.obj.verify(&got));
    assert_eq!(End::decode(&frames[2].payload).expect("end"), end);

    // The legacy END has no payload at all.
    assert_eq!(End::decode(b"").expect("empty end"), End::default());
}

#[test]
fn ack_roundtrip() {
    let ack = Ack {
        corr_id: Some(3),
        credit: 65_536,
    };
    let frames = decode_all(wire(&[ack.to_frame()]));
    assert_eq!(frames[0].typ, FrameType::Ack);
    assert_eq!(Ack::decode(&frames[0].payload).expect("ack"), ack);
    let legacy = Ack::decode(br#"{"credit":131072}"#).expect("legacy ack");
    assert_eq!(legacy.credit, 131_072);
    assert_eq!(legacy.corr_id, None);
    assert!(Ack::decode(br#"{"credit":-1}"#).is_err());
}

#[test]
fn invalid_type_errors() {
    for bad in [0x00u8, 0x07, 0x42, 0xFF] {
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::from(&[1u8, bad, 0, 0, 0, 0][..]);
        assert_eq!(dec.decode(&mut buf), Err(DecodeError::UnknownType(bad)));
        // Permanent: a valid frame afterwards does not revive the decoder.
        buf.extend_from_slice(&[1, 4, 0, 0, 0, 0]);
        assert_eq!(dec.decode(&mut buf), Err(DecodeError::UnknownType(bad)));
        assert_eq!(
            DecodeError::UnknownType(bad).error_code(),
            ErrorCode::UnknownType
        );
    }
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::from(&[2u8, 1, 0, 0, 0, 0][..]);
    assert_eq!(dec.decode(&mut buf), Err(DecodeError::BadVersion(2)));
}

#[test]
fn quota_error_frame() {
    let env = ErrorEnvelope::new(ErrorCode::QuotaExhausted, "tenant t1 over quota").for_request(9);
    assert!(env.retryable);
    let frames = decode_all(wire(&[env.to_frame()]));
    assert_eq!(frames[0].typ, FrameType::Error);
    let back = ErrorEnvelope::decode(&frames[0].payload).expect("error");
    assert_eq!(back, env);
    assert_eq!(back.code, ErrorCode::QuotaExhausted);
    assert!(back.code.retryable());
    let json: serde_json::Value = serde_json::from_slice(&frames[0].payload).expect("json");
    assert_eq!(json["code"], "quota_exhausted");
    assert_eq!(json["corr_id"], 9);

    let legacy = ErrorEnvelope::decode(br#"{"code":"bad_frame","msg":"nope"}"#).expect("legacy");
    assert_eq!(legacy.code, ErrorCode::BadFrame);
    assert!(!legacy.code.retryable());
}

#[test]
fn too_large_is_refused_from_the_header_alone() {
    let mut dec = FrameDecoder::with_max_frame(1024);
    // Only the header: the length is refused before any payload exists.
    let mut buf = BytesMut::from(&[1u8, 3, 0, 0, 4, 1][..]);
    assert_eq!(
        dec.decode(&mut buf),
        Err(DecodeError::TooLarge {
            len: 1025,
            max: 1024
        })
    );
    assert!(
        buf.capacity() < 1025,
        "no room was reserved for a refused frame"
    );
}

#[test]
fn encoder_refuses_what_the_peer_would_reject() {
    let enc = FrameEncoder::with_max_frame(16);
    let mut out = BytesMut::new();
    assert_eq!(
        enc.encode(FrameType::Start, &[0; 17], &mut out),
        Err(EncodeError::TooLarge { len: 17, max: 16 })
    );
    assert!(out.is_empty());
    enc.encode(FrameType::Start, &[0; 16], &mut out)
        .expect("exactly max_frame fits");
    assert_eq!(out.len(), 22);

    let mut small = [0u8; 10];
    assert_eq!(
        enc.encode_to_slice(FrameType::Start, &[7; 8], &mut small),
        Err(EncodeError::BufferTooSmall { needed: 14 })
    );
    assert_eq!(small, [0; 10], "nothing written on failure");
    let mut big = [0u8; 14];
    assert_eq!(
        enc.encode_to_slice(FrameType::Start, &[7; 8], &mut big),
        Ok(14)
    );
    assert_eq!(&big[..6], &[1, 2, 0, 0, 0, 8]);
}

#[test]
fn vectored_data_parts_equal_the_contiguous_frame() {
    let body = bytes::Bytes::from(vec![0xAB; 70_000]);
    let header = DataHeader::whole(&body);
    let enc = FrameEncoder::new();
    let parts = data_frame_parts(&enc, &header, body.clone()).expect("fits");
    assert_eq!(parts.body.as_ptr(), body.as_ptr(), "body is not copied");
    let mut joined = parts.head.to_vec();
    joined.extend_from_slice(&parts.body);
    let contiguous = wire(&[data_frame(&header, &body).expect("data")]);
    assert_eq!(joined, contiguous.to_vec());

    assert!(data_frame_parts(&FrameEncoder::with_max_frame(1000), &header, body).is_err());
}

#[test]
fn data_body_is_a_view_of_the_frame_not_a_copy() {
    let body = vec![5u8; 65_536];
    let buf = wire(&[data_frame(&DataHeader::whole(&body), &body).expect("data")]);
    let frame = FrameDecoder::new()
        .decode(&mut buf.clone())
        .expect("ok")
        .expect("frame");
    let (_, got) = decode_data_bytes(&frame.payload).expect("unpack");
    let payload_range =
        frame.payload.as_ptr() as usize..frame.payload.as_ptr() as usize + frame.payload.len();
    assert!(payload_range.contains(&(got.as_ptr() as usize)));
}

#[test]
fn data_header_errors_are_typed() {
    assert!(decode_data_payload(&[]).is_err());
    assert!(decode_data_payload(&[0]).is_err());
    assert_eq!(
        decode_data_payload(&[0xFF, 0xFF, b'{', b'}'])
            .expect_err("past end")
            .kind(),
        "bad_data_header"
    );
    let bad_obj = br#"{"obj":"b3:XYZ"}"#;
    let mut p = (bad_obj.len() as u16).to_be_bytes().to_vec();
    p.extend_from_slice(bad_obj);
    assert_eq!(
        decode_data_payload(&p).expect_err("bad obj").kind(),
        "bad_object_id"
    );
}
