//! Codec throughput: 64 KiB DATA frames and small ACK frames, each measured
//! next to a plain memcpy of the same bytes so the ratio holds on a noisy
//! machine.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use oap_core::frame::{FrameDecoder, FrameEncoder, FrameType};
use oap_core::payload::{
    Ack, ControlPayload, DataHeader, data_frame_parts, decode_data_bytes, encode_data_payload,
};

const BODY: usize = 64 * 1024;

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
    g.bench_function("decode_and_unpack", |b| {
        let mut dec = FrameDecoder::new();
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut src| {
                let frame = dec.decode(&mut src).expect("valid").expect("whole");
                let (hdr, body) = decode_data_bytes(&frame.payload).expect("unpack");
                // Returned, so freeing the buffer is not timed either.
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
    g.bench_function("encode_contiguous", |b| {
        let mut dst = BytesMut::with_capacity(wire.len());
        let payload = encode_data_payload(&header, &body).expect("pack");
        b.iter(|| {
            dst.clear();
            enc.encode(FrameType::Data, black_box(&payload), &mut dst)
                .expect("fits");
            black_box(&dst);
        })
    });
    g.finish();
}

fn ack(c: &mut Criterion) {
    const N: usize = 1024;
    let enc = FrameEncoder::new();
    let mut wire = BytesMut::new();
    for i in 0..N as u64 {
        let ack = Ack {
            corr_id: Some(i),
            credit: 65_536 * (i + 1),
        };
        enc.encode(FrameType::Ack, &ack.encode(), &mut wire)
            .expect("fits");
    }
    let wire = wire.freeze();
    let mut g = c.benchmark_group("ack_x1024");
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("memcpy_baseline", |b| {
        let mut dst = vec![0u8; wire.len()];
        b.iter(|| {
            dst.copy_from_slice(black_box(&wire));
            black_box(&dst);
        })
    });
    g.bench_function("frame_decode", |b| {
        let mut dec = FrameDecoder::new();
        b.iter(|| {
            let mut rest: &[u8] = &wire;
            while !rest.is_empty() {
                let (n, f) = dec.decode_slice(rest);
                black_box(f.expect("valid"));
                rest = &rest[n..];
            }
        })
    });
    g.bench_function("frame_decode_and_parse_json", |b| {
        let mut dec = FrameDecoder::new();
        b.iter(|| {
            let mut rest: &[u8] = &wire;
            while !rest.is_empty() {
                let (n, f) = dec.decode_slice(rest);
                let f = f.expect("valid").expect("whole");
                black_box(Ack::decode(f.payload).expect("ack"));
                rest = &rest[n..];
            }
        })
    });
    g.bench_function("encode", |b| {
        let mut dst = BytesMut::with_capacity(wire.len());
        let ack = Ack {
            corr_id: Some(7),
            credit: 131_072,
        };
        b.iter(|| {
            dst.clear();
            for _ in 0..N {
                enc.encode(FrameType::Ack, &black_box(ack).encode(), &mut dst)
                    .expect("fits");
            }
            black_box(&dst);
        })
    });
    g.finish();
}

criterion_group!(benches, data, ack);
criterion_main!(benches);
