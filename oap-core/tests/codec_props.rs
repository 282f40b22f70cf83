//! Property tests of the frame codec.

use bytes::BytesMut;
use oap_core::frame::{DecodedFrame, Frame, FrameDecoder, FrameEncoder, FrameType, StreamDecoder};
use oap_core::limits::HEADER_LEN;
use proptest::prelude::*;

fn frame_type() -> impl Strategy<Value = FrameType> {
    proptest::sample::select(FrameType::ALL.to_vec())
}

fn frame(max: usize) -> impl Strategy<Value = Frame> {
    (frame_type(), proptest::collection::vec(any::<u8>(), 0..max))
        .prop_map(|(t, p)| Frame::new(t, p))
}

fn encode_all(frames: &[Frame], max_frame: u32) -> Vec<u8> {
    let enc = FrameEncoder::with_max_frame(max_frame);
    let mut out = BytesMut::new();
    for f in frames {
        enc.encode_frame(f, &mut out).expect("within max_frame");
    }
    out.to_vec()
}

/// Splits `bytes` at the given cut points (taken modulo the length).
fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in cuts.into_iter().chain(std::iter::once(bytes.len())) {
        out.push(bytes[from..c].to_vec());
        from = c;
    }
    out
}

proptest! {
    #[test]
    fn decode_of_encode_is_identity(frames in proptest::collection::vec(frame(300), 0..10)) {
        let wire = encode_all(&frames, 1 << 20);
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::from(&wire[..]);
        let mut got = Vec::new();
        while let Some(f) = dec.decode_eof(&mut buf).expect("valid stream") {
            got.push(f);
        }
        prop_assert_eq!(got, frames);
    }

    #[test]
    fn same_frames_whatever_the_splits(frames in proptest::collection::vec(frame(200), 1..8),
                                       cuts in proptest::collection::vec(any::<usize>(), 0..30)) {
        let wire = encode_all(&frames, 1 << 20);
        // Through the caller-buffer API, appending one chunk at a time.
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for chunk in split(&wire, &cuts) {
            buf.extend_from_slice(&chunk);
            while let Some(f) = dec.decode(&mut buf).expect("valid") {
                got.push(f);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(&got, &frames);
        // Through the owned-buffer API.
        let mut sdec = StreamDecoder::default();
        let mut got = Vec::new();
        for chunk in split(&wire, &cuts) {
            let mut input = &chunk[..];
            while let Some(f) = sdec.feed(&mut input).expect("valid") {
                got.push(f);
            }
            prop_assert!(input.is_empty());
        }
        prop_assert!(sdec.finish().is_ok());
        prop_assert_eq!(got, frames);
    }

    /// `feed_ref` copies nothing it need not: a frame comes out borrowed
    /// exactly when nothing was held from an earlier input (so the frame
    /// lay whole in this one), and the frames are the same either way.
    #[test]
    fn feed_ref_borrows_every_frame_that_lies_whole_in_one_input(
        frames in proptest::collection::vec(frame(200), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
    ) {
        let wire = encode_all(&frames, 1 << 20);
        let mut sdec = StreamDecoder::default();
        let mut got = Vec::new();
        for chunk in split(&wire, &cuts) {
            let mut input = &chunk[..];
            loop {
                let held = sdec.buffered();
                let Some(f) = sdec.feed_ref(&mut input).expect("valid") else {
                    break;
                };
                prop_assert_eq!(matches!(f, DecodedFrame::Borrowed(_)), held == 0);
                got.push(f.into_owned());
            }
        }
        prop_assert_eq!(got, frames);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(
        max_frame in 0u32..2048,
        data in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let bound = max_frame as usize + HEADER_LEN;
        let mut sdec = StreamDecoder::with_max_frame(max_frame);
        let mut failed = false;
        'outer: for chunk in split(&data, &cuts) {
            let mut input = &chunk[..];
            loop {
                match sdec.feed(&mut input) {
                    Ok(Some(f)) => prop_assert!(f.payload.len() <= max_frame as usize),
                    Ok(None) => break,
                    Err(_) => { failed = true; break 'outer; }
                }
                prop_assert!(sdec.buffered() <= bound);
            }
            prop_assert!(sdec.buffered() <= bound);
        }
        if failed {
            // Errors are permanent.
            let mut more: &[u8] = &[1, 4, 0, 0, 0, 0];
            prop_assert!(sdec.feed(&mut more).is_err());
        }

        let mut dec = FrameDecoder::with_max_frame(max_frame);
        let mut rest = &data[..];
        loop {
            let (n, r) = dec.decode_slice(rest);
            match r {
                Ok(Some(f)) => {
                    prop_assert_eq!(n, HEADER_LEN + f.payload.len());
                    rest = &rest[n..];
                }
                _ => { prop_assert_eq!(n, 0); break; }
            }
        }
    }

    #[test]
    fn arbitrary_payloads_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        use oap_core::payload::*;
        let _ = Hello::decode(&data);
        let _ = Start::decode(&data);
        let _ = Ack::decode(&data);
        let _ = End::decode(&data);
        let _ = ErrorEnvelope::decode(&data);
        let _ = decode_data_payload(&data);
    }
}
