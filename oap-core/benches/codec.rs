//! Codec throughput: 64 KiB DATA frames and small ACK frames, each measured
//! next to a plain memcpy of the same bytes so the ratio holds on a noisy
//! machine, and next to tokio-util's `LengthDelimitedCodec` framing the very
//! same wire bytes (the baseline issue #9 asks for).
//!
//! The ACK group also keeps the generic serde path (`*_serde` cases) that
//! `Ack` used before its hand-rolled fast path, so before and after are
//! measured in the same run. The small-DATA group (1 KiB bodies, as in the
//! small-object benchmark), the END group and the START group do the same
//! for the DATA header's, END's and START's fast paths.

use std::hint::black_box;

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use oap_core::ObjectId;
use oap_core::frame::{FrameDecoder, FrameEncoder, FrameType};
use oap_core::limits::{DEFAULT_MAX_FRAME, HEADER_LEN, OAP_VERSION};
use oap_core::payload::{
    Ack, ControlPayload, DataHeader, End, Start, data_frame_parts, data_frame_parts_json,
    decode_data_bytes, decode_data_payload, encode_data_payload, unpack_data_raw,
};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

const BODY: usize = 64 * 1024;

/// Decodes every frame of `wire` with the slice API and hands each payload
/// to `f`: the loop every per-frame decode case times.
fn for_each_frame(dec: &mut FrameDecoder, wire: &[u8], mut f: impl FnMut(&[u8])) {
    let mut rest = wire;
    while !rest.is_empty() {
        let (n, frame) = dec.decode_slice(rest);
        f(frame.expect("valid").expect("whole").payload);
        rest = &rest[n..];
    }
}

/// A decoder for OAP's `ver:u8 | typ:u8 | len:u32 BE` header: the length
/// sits after two bytes and counts the payload only, so the header's six
/// bytes are added back to take whole frames (nothing skipped). It checks
/// neither version nor type, which makes it a lower bound on framing work.
fn length_delimited_decoder() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_offset(2)
        .length_field_length(4)
        .length_adjustment(HEADER_LEN as isize)
        .num_skip(0)
        .max_frame_length(DEFAULT_MAX_FRAME as usize)
        .new_codec()
}

/// The encoding side: `LengthDelimitedCodec` writes only the length field
/// and the data (it ignores `length_field_offset` when encoding), so the
/// bench puts the version and type bytes in front itself.
fn length_delimited_encoder() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(DEFAULT_MAX_FRAME as usize)
        .new_codec()
}

/// Frames `payload` as OAP wire bytes through `LengthDelimitedCodec`.
fn length_delimited_encode(
    codec: &mut LengthDelimitedCodec,
    typ: FrameType,
    payload: &[u8],
    dst: &mut BytesMut,
) {
    dst.put_u8(OAP_VERSION);
    dst.put_u8(typ.as_u8());
    Encoder::<&[u8]>::encode(codec, payload, dst).expect("fits");
}

/// One-time check, before timing, that `LengthDelimitedCodec` cuts `wire`
/// into exactly the frames OAP's decoder does, and writes them back
/// byte-for-byte: otherwise the comparison would be meaningless.
fn check_length_delimited_matches(wire: &[u8]) {
    let mut oap = Vec::new();
    let mut dec = FrameDecoder::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let (n, f) = dec.decode_slice(rest);
        oap.push(f.expect("valid").expect("whole"));
        rest = &rest[n..];
    }

    let mut codec = length_delimited_decoder();
    let mut src = BytesMut::from(wire);
    let mut ldc = Vec::new();
    while let Some(frame) = codec.decode(&mut src).expect("valid") {
        ldc.push(frame);
    }
    assert!(src.is_empty(), "LengthDelimitedCodec left bytes over");
    assert_eq!(ldc.len(), oap.len(), "frame count");
    for (l, o) in ldc.iter().zip(&oap) {
        assert_eq!(l.len(), HEADER_LEN + o.payload.len(), "frame length");
        assert_eq!(&l[HEADER_LEN..], o.payload, "frame payload");
    }

    let mut enc = length_delimited_encoder();
    let mut out = BytesMut::new();
    for f in &oap {
        length_delimited_encode(&mut enc, f.typ, f.payload, &mut out);
    }
    assert_eq!(&out[..], wire, "LengthDelimitedCodec encoding");
}

fn data_frame_bytes() -> (Vec<u8>, Vec<u8>) {
    let body: Vec<u8> = (0..BODY).map(|i| (i * 31 % 251) as u8).collect();
    let payload = encode_data_payload(&DataHeader::whole(&body), &body).expect("pack");
    let wire = FrameEncoder::new()
        .to_bytes(FrameType::Data, &payload)
        .expect("encode")
        .to_vec();
    (body, wire)
}

fn data(c: &mut Criterion) {
    let (body, wire) = data_frame_bytes();
    check_length_delimited_matches(&wire);
    let mut g = c.benchmark_group("data_64k");
    g.throughput(Throughput::Bytes(wire.len() as u64));

    g.bench_function("memcpy_baseline", |b| {
        let mut dst = vec![0u8; wire.len()];
        b.iter(|| {
            dst.copy_from_slice(black_box(&wire));
            black_box(&dst);
        })
    });

    // The receive buffer is filled by the socket in real use; building it is
    // setup, outside the measurement, so only decoding is timed.
    g.bench_function("length_delimited_decode", |b| {
        let mut codec = length_delimited_decoder();
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut src| {
                let frame = codec.decode(&mut src).expect("valid").expect("whole");
                // Returned, so freeing the buffer is not timed either.
                (src, frame)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("frame_decode", |b| {
        let mut dec = FrameDecoder::new();
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut src| {
                let frame = dec.decode(&mut src).expect("valid").expect("whole");
                (src, frame)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("decode_and_unpack", |b| {
        let mut dec = FrameDecoder::new();
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut src| {
                let frame = dec.decode(&mut src).expect("valid").expect("whole");
                let (hdr, body) = decode_data_bytes(&frame.payload).expect("unpack");
                (src, frame, hdr, body)
            },
            BatchSize::SmallInput,
        )
    });

    let header = DataHeader::whole(&body);
    let body = Bytes::from(body);
    let enc = FrameEncoder::new();
    g.bench_function("encode_vectored_parts", |b| {
        b.iter(|| black_box(data_frame_parts(&enc, &header, body.clone()).expect("fits")))
    });
    let payload = encode_data_payload(&header, &body).expect("pack");
    g.bench_function("length_delimited_encode", |b| {
        let mut codec = length_delimited_encoder();
        let mut dst = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            dst.clear();
            length_delimited_encode(&mut codec, FrameType::Data, black_box(&payload), &mut dst);
            black_box(&dst);
        })
    });
    g.bench_function("encode_contiguous", |b| {
        let mut dst = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            dst.clear();
            enc.encode(FrameType::Data, black_box(&payload), &mut dst)
                .expect("fits");
            black_box(&dst);
        })
    });
    g.finish();
}

/// An ACK taking the generic path every control payload had before ACK got
/// its hand-rolled one: the trait's default `decode`/`encode`, i.e. bounded
/// serde_json. `transparent` makes its JSON exactly `Ack`'s.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct SerdeAck(Ack);

impl ControlPayload for SerdeAck {
    const FRAME_TYPE: FrameType = FrameType::Ack;
}

fn ack(c: &mut Criterion) {
    const N: usize = 1024;
    let enc = FrameEncoder::new();
    let acks: Vec<Ack> = (0..N as u64)
        .map(|i| Ack {
            corr_id: Some(i),
            credit: 65_536 * (i + 1),
        })
        .collect();
    let payloads: Vec<Bytes> = acks.iter().map(Ack::encode).collect();
    let mut wire = BytesMut::new();
    for p in &payloads {
        enc.encode(FrameType::Ack, p, &mut wire).expect("fits");
    }
    let wire = wire.freeze();
    check_length_delimited_matches(&wire);
    for (ack, p) in acks.iter().zip(&payloads) {
        assert_eq!(SerdeAck::decode(p).expect("serde").0, *ack);
        assert_eq!(SerdeAck(*ack).encode(), *p);
    }

    let mut g = c.benchmark_group("ack_x1024");
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("memcpy_baseline", |b| {
        let mut dst = vec![0u8; wire.len()];
        b.iter(|| {
            dst.copy_from_slice(black_box(&wire));
            black_box(&dst);
        })
    });
    // `LengthDelimitedCodec` only works on a `BytesMut`; OAP's decoder is
    // timed on one too (`frame_decode_bytesmut`) next to its borrowed-slice
    // API (`frame_decode`), which has no buffer bookkeeping at all.
    g.bench_function("length_delimited_decode", |b| {
        let mut codec = length_delimited_decoder();
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut src| {
                while let Some(frame) = codec.decode(&mut src).expect("valid") {
                    black_box(frame);
                }
                src
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("frame_decode_bytesmut", |b| {
        let mut dec = FrameDecoder::new();
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut src| {
                while let Some(frame) = dec.decode(&mut src).expect("valid") {
                    black_box(frame);
                }
                src
            },
            BatchSize::SmallInput,
        )
    });
    parse_cases::<Ack, SerdeAck>(&mut g, &wire);

    // Framing alone, of the payloads already in JSON.
    g.bench_function("length_delimited_encode", |b| {
        let mut codec = length_delimited_encoder();
        let mut dst = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            dst.clear();
            for p in black_box(&payloads) {
                length_delimited_encode(&mut codec, FrameType::Ack, p, &mut dst);
            }
            black_box(&dst);
        })
    });
    g.bench_function("frame_encode", |b| {
        let mut dst = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            dst.clear();
            for p in black_box(&payloads) {
                enc.encode(FrameType::Ack, p, &mut dst).expect("fits");
            }
            black_box(&dst);
        })
    });

    // JSON plus framing, as the connection sends an ACK.
    let ack = Ack {
        corr_id: Some(7),
        credit: 131_072,
    };
    g.bench_function("encode", |b| {
        let mut dst = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            dst.clear();
            for _ in 0..N {
                enc.encode(FrameType::Ack, &black_box(ack).encode(), &mut dst)
                    .expect("fits");
            }
            black_box(&dst);
        })
    });
    g.bench_function("encode_serde", |b| {
        let mut dst = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            dst.clear();
            for _ in 0..N {
                enc.encode(FrameType::Ack, &SerdeAck(black_box(ack)).encode(), &mut dst)
                    .expect("fits");
            }
            black_box(&dst);
        })
    });
    g.finish();
}

/// A DATA header parsed the way every header was before its hand-rolled
/// fast path: the trait's default `decode` is the bounded serde path
/// (`from_slice_bounded`), the very call `DataHeader`'s parser made first,
/// and all it did for a well-formed header. `transparent` makes its JSON
/// exactly `DataHeader`'s. The frame type is unused: only `decode` is.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct SerdeDataHeader(DataHeader);

impl ControlPayload for SerdeDataHeader {
    const FRAME_TYPE: FrameType = FrameType::Data;
}

/// The header a sender puts on frame `i` of a 1 KiB put: what the
/// connection writes for a whole small object on request `i`.
fn small_data_header(i: u64, body: &[u8]) -> DataHeader {
    DataHeader {
        offset: Some(0),
        total_len: Some(body.len() as u64),
        corr_id: Some(i),
        ..DataHeader::whole(body)
    }
}

/// 1,024 DATA frames with 1 KiB bodies: the per-frame cost the small-object
/// benchmark pays, dominated by the header once the body is small.
fn data_small(c: &mut Criterion) {
    const N: usize = 1024;
    const SMALL_BODY: usize = 1024;
    let enc = FrameEncoder::new();
    let bodies: Vec<Bytes> = (0..N)
        .map(|i| {
            (0..SMALL_BODY)
                .map(|j| ((i * 7 + j * 31) % 251) as u8)
                .collect()
        })
        .collect();
    let headers: Vec<DataHeader> = bodies
        .iter()
        .zip(0..)
        .map(|(body, i)| small_data_header(i, body))
        .collect();
    let mut wire = BytesMut::new();
    for (h, body) in headers.iter().zip(&bodies) {
        let payload = encode_data_payload(h, body).expect("pack");
        enc.encode(FrameType::Data, &payload, &mut wire)
            .expect("fits");
    }
    let wire = wire.freeze();
    check_length_delimited_matches(&wire);
    // Before and after must agree, or the comparison means nothing.
    for h in &headers {
        let json = h.json();
        assert_eq!(json, serde_json::to_vec(h).expect("serialise"));
        assert_eq!(SerdeDataHeader::decode(&json).expect("serde").0, *h);
    }

    let mut g = c.benchmark_group("data_1k_x1024");
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("frame_decode", |b| {
        let mut dec = FrameDecoder::new();
        b.iter(|| {
            for_each_frame(&mut dec, &wire, |p| {
                black_box(p);
            });
        })
    });
    g.bench_function("frame_decode_unpack_parse", |b| {
        let mut dec = FrameDecoder::new();
        b.iter(|| {
            for_each_frame(&mut dec, &wire, |p| {
                black_box(decode_data_payload(p).expect("unpack"));
            });
        })
    });
    g.bench_function("frame_decode_unpack_parse_serde", |b| {
        let mut dec = FrameDecoder::new();
        b.iter(|| {
            for_each_frame(&mut dec, &wire, |p| {
                let (json, body) = unpack_data_raw(p).expect("unpack");
                black_box((SerdeDataHeader::decode(json).expect("header").0, body));
            });
        })
    });

    // The header JSON alone, then (below) with the frame built around it.
    g.bench_function("header_json", |b| {
        b.iter(|| {
            for h in black_box(&headers) {
                black_box(h.json());
            }
        })
    });
    g.bench_function("header_json_serde", |b| {
        b.iter(|| {
            for h in black_box(&headers) {
                black_box(serde_json::to_vec(h).unwrap_or_default());
            }
        })
    });

    // As the connection sends: each header's JSON, then the frame head
    // (frame header, header_len, JSON) next to the shared body. The headers
    // are built beforehand: building one hashes its body, which would
    // swamp the JSON being measured.
    g.bench_function("encode_parts", |b| {
        b.iter(|| {
            for (h, body) in headers.iter().zip(&bodies) {
                let json = black_box(h).json();
                black_box(data_frame_parts_json(&enc, &json, body.clone()).expect("fits"));
            }
        })
    });
    g.bench_function("encode_parts_serde", |b| {
        b.iter(|| {
            for (h, body) in headers.iter().zip(&bodies) {
                // `DataHeader::json` before its fast path, exactly.
                let json = serde_json::to_vec(black_box(h)).unwrap_or_default();
                black_box(data_frame_parts_json(&enc, &json, body.clone()).expect("fits"));
            }
        })
    });
    g.finish();
}

/// An END taking the trait's default `decode`/`encode` (bounded serde),
/// as END did before its hand-rolled path; JSON exactly `End`'s.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct SerdeEnd(End);

impl ControlPayload for SerdeEnd {
    const FRAME_TYPE: FrameType = FrameType::End;
}

/// 1,024 ENDs as a put's answer carries them (`corr_id` and `obj`).
fn end(c: &mut Criterion) {
    let ends: Vec<End> = (0..1024u64)
        .map(|i| End {
            corr_id: Some(i),
            obj: Some(ObjectId::of(&i.to_le_bytes())),
        })
        .collect();
    fast_and_serde::<End, SerdeEnd>(c, "end_x1024", &ends, |s| s.0);
}

/// A START taking the trait's default `decode`/`encode` (bounded serde),
/// as START did before its hand-rolled path; JSON exactly `Start`'s.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct SerdeStart(Start);

impl ControlPayload for SerdeStart {
    const FRAME_TYPE: FrameType = FrameType::Start;
}

/// 1,024 STARTs as the client writes them, puts and gets alternating:
/// `{"corr_id":N,"op":"put","collection":"docs","id":"doc-N"}` and
/// `{"corr_id":N,"op":"get","addr":"b3:<hex>"}`.
fn start(c: &mut Criterion) {
    let starts: Vec<Start> = (0..1024u64)
        .map(|i| {
            if i % 2 == 0 {
                Start {
                    corr_id: Some(i),
                    op: Some("put".into()),
                    collection: Some("docs".into()),
                    doc_id: Some(format!("doc-{i:06}")),
                    ..Start::default()
                }
            } else {
                Start {
                    corr_id: Some(i),
                    op: Some("get".into()),
                    addr: Some(ObjectId::of(&i.to_le_bytes()).to_string()),
                    ..Start::default()
                }
            }
        })
        .collect();
    fast_and_serde::<Start, SerdeStart>(c, "start_x1024", &starts, |s| s.0);
}

/// Frames `items` (control payloads of type `T`), then times framing
/// alone, parsing through `T`'s fast path and through `S` (the same JSON
/// by the trait's default serde path, as `T` parsed before its fast path),
/// and encoding both ways (serde_json straight from the borrowed value, as
/// the default `encode` did). Both paths are first checked to agree.
fn fast_and_serde<T, S>(c: &mut Criterion, group: &str, items: &[T], unwrap: fn(S) -> T)
where
    T: ControlPayload + PartialEq + std::fmt::Debug,
    S: ControlPayload,
{
    let enc = FrameEncoder::new();
    let serde_json_of = |x: &T| Bytes::from(serde_json::to_vec(x).unwrap_or_default());
    let mut wire = BytesMut::new();
    for x in items {
        enc.encode(T::FRAME_TYPE, &x.encode(), &mut wire)
            .expect("fits");
    }
    let wire = wire.freeze();
    check_length_delimited_matches(&wire);
    for x in items {
        let p = x.encode();
        assert_eq!(unwrap(S::decode(&p).expect("serde")), *x);
        assert_eq!(serde_json_of(x), p);
    }

    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(items.len() as u64));
    parse_cases::<T, S>(&mut g, &wire);
    let encode_all = |b: &mut criterion::Bencher<'_>, json: &dyn Fn(&T) -> Bytes| {
        let mut dst = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            dst.clear();
            for x in black_box(items) {
                enc.encode(T::FRAME_TYPE, &json(x), &mut dst).expect("fits");
            }
            black_box(&dst);
        })
    };
    g.bench_function("encode", |b| encode_all(b, &|x| x.encode()));
    g.bench_function("encode_serde", |b| encode_all(b, &serde_json_of));
    g.finish();
}

/// Times framing alone, then framing plus parsing through `T`'s fast path
/// and through `S` (the same JSON by the trait's default serde path).
fn parse_cases<T: ControlPayload, S: ControlPayload>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    wire: &[u8],
) {
    g.bench_function("frame_decode", |b| {
        let mut dec = FrameDecoder::new();
        b.iter(|| {
            for_each_frame(&mut dec, wire, |p| {
                black_box(p);
            });
        })
    });
    g.bench_function("frame_decode_and_parse_json", |b| {
        let mut dec = FrameDecoder::new();
        b.iter(|| {
            for_each_frame(&mut dec, wire, |p| {
                black_box(T::decode(p).expect("fast path"));
            });
        })
    });
    g.bench_function("frame_decode_and_parse_json_serde", |b| {
        let mut dec = FrameDecoder::new();
        b.iter(|| {
            for_each_frame(&mut dec, wire, |p| {
                black_box(S::decode(p).expect("serde"));
            });
        })
    });
}

criterion_group!(benches, data, ack, data_small, end, start);
criterion_main!(benches);
