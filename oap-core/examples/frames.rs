//! Encodes a small OAP/1 session, feeds it back through the incremental
//! decoder in awkward chunks, and prints every frame it yields.
//!
//! Run with `cargo run -p oap-core --example frames`.

use bytes::BytesMut;
use oap_core::frame::{FrameEncoder, FrameType, StreamDecoder};
use oap_core::payload::{
    Ack, ControlPayload, DataHeader, End, ErrorCode, ErrorEnvelope, Hello, Start, data_frame,
    decode_data_payload,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let body = b"The quick brown fox jumps over the lazy dog".to_vec();
    let header = DataHeader {
        corr_id: Some(1),
        ..DataHeader::whole(&body)
    };
    let session = [
        Hello::legacy().to_frame(),
        Start {
            corr_id: Some(1),
            op: Some("put".into()),
            ..Start::default()
        }
        .to_frame(),
        Ack {
            corr_id: Some(1),
            credit: 65_536,
        }
        .to_frame(),
        data_frame(&header, &body)?,
        End {
            corr_id: Some(1),
            obj: Some(header.obj),
        }
        .to_frame(),
        ErrorEnvelope::new(ErrorCode::QuotaExhausted, "example").to_frame(),
    ];

    let enc = FrameEncoder::new();
    let mut wire = BytesMut::new();
    for f in &session {
        enc.encode_frame(f, &mut wire)?;
    }
    println!("encoded {} frames into {} bytes", session.len(), wire.len());

    // Feed the bytes back 7 at a time, as a slow socket might deliver them.
    let mut dec = StreamDecoder::default();
    for chunk in wire.chunks(7) {
        let mut input = chunk;
        while let Some(frame) = dec.feed(&mut input)? {
            let hex: String = frame
                .payload
                .iter()
                .take(12)
                .map(|b| format!("{b:02x}"))
                .collect();
            print!(
                "{:>5} ver={} len={:<4} payload[..12]={hex:<24}",
                frame.typ,
                frame.ver(),
                frame.payload.len()
            );
            if frame.typ == FrameType::Data {
                let (h, b) = decode_data_payload(&frame.payload)?;
                let verified = h.obj.verify(b);
                println!(" obj={} body={}B verified={verified}", h.obj, b.len());
            } else {
                println!(" json={}", String::from_utf8_lossy(&frame.payload));
            }
        }
    }
    dec.finish()?;
    println!("decoded every frame back; no bytes left over");
    Ok(())
}
