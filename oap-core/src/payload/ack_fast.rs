//! A hand-rolled reader and writer for the one JSON shape ACK takes on the
//! wire.
//!
//! ACK is the most frequent control frame (one per credit window on every
//! request), and serde_json took most of its decode time: framing alone runs
//! over ten times faster than framing plus serde. The encoder only ever
//! writes `{"corr_id":N,"credit":M}`, or `{"credit":M}` when there is no
//! `corr_id`, so that exact byte shape is read here directly.
//!
//! The reader answers `None` for anything it is not certain about
//! (whitespace, other key order, unknown fields, `null`, escapes, leading
//! zeros, signs, fractions, exponents, numbers past `u64::MAX`). The caller
//! then takes the bounded serde path, which decides and reports errors
//! exactly as it did before this fast path existed. Whatever the reader does
//! accept, serde parses to the same [`Ack`].

use bytes::Bytes;

use super::Ack;
use super::canonical::{U64_MAX_DIGITS, read_u64, u64_digits};
use crate::limits::MAX_CONTROL_JSON;

/// Start of an ACK with a `corr_id`, as serde_json writes it.
const OPEN_CORR_ID: &[u8] = br#"{"corr_id":"#;
/// Start of an ACK without a `corr_id` (the field is skipped when `None`).
const OPEN_CREDIT: &[u8] = br#"{"credit":"#;
/// Between the `corr_id` value and the `credit` value.
const MID_CREDIT: &[u8] = br#","credit":"#;
/// End of every ACK.
const CLOSE: &[u8] = b"}";
/// Longest ACK the writer produces: both fields at `u64::MAX` (62 bytes).
const MAX_LEN: usize =
    OPEN_CORR_ID.len() + U64_MAX_DIGITS + MID_CREDIT.len() + U64_MAX_DIGITS + CLOSE.len();

// Nothing this reader accepts can be refused by the serde path's size
// bound, so the reader need not check it.
const _: () = assert!(MAX_LEN <= MAX_CONTROL_JSON);

/// Reads an ACK in exactly the encoder's shape, or `None` if `bytes` is
/// anything else (the caller then falls back to serde).
pub(super) fn decode(bytes: &[u8]) -> Option<Ack> {
    let (corr_id, rest) = match bytes.strip_prefix(OPEN_CORR_ID) {
        Some(rest) => {
            let (corr_id, rest) = read_u64(rest)?;
            (Some(corr_id), rest.strip_prefix(MID_CREDIT)?)
        }
        None => (None, bytes.strip_prefix(OPEN_CREDIT)?),
    };
    let (credit, rest) = read_u64(rest)?;
    (rest == CLOSE).then_some(Ack { corr_id, credit })
}

/// Writes `ack` byte-for-byte as serde_json would, with one allocation.
///
/// serde_json grows a `Vec` whose length is not its capacity, so turning it
/// into `Bytes` costs a second allocation; here the JSON is assembled on the
/// stack and copied out once. (An exactly sized `Vec`, as DATA and END
/// use, measured 4-6% slower on the codec bench's `ack_x1024/encode`.)
pub(super) fn encode(ack: &Ack) -> Bytes {
    Bytes::copy_from_slice(stack(ack).as_slice())
}

/// Appends what [`encode`] writes to `dst`.
pub(super) fn encode_into(ack: &Ack, dst: &mut Vec<u8>) {
    dst.extend_from_slice(stack(ack).as_slice());
}

/// `ack`'s JSON, on the stack.
fn stack(ack: &Ack) -> StackBuf {
    let mut out = StackBuf::default();
    match ack.corr_id {
        Some(corr_id) => {
            out.put(OPEN_CORR_ID);
            out.put_u64(corr_id);
            out.put(MID_CREDIT);
        }
        None => out.put(OPEN_CREDIT),
    }
    out.put_u64(ack.credit);
    out.put(CLOSE);
    out
}

/// A fixed buffer large enough for any ACK.
struct StackBuf {
    buf: [u8; MAX_LEN],
    len: usize,
}

impl Default for StackBuf {
    fn default() -> Self {
        Self {
            buf: [0; MAX_LEN],
            len: 0,
        }
    }
}

impl StackBuf {
    /// Appends `bytes`; the callers above never exceed `MAX_LEN` in total.
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Appends `n` in decimal.
    fn put_u64(&mut self, n: u64) {
        self.put(u64_digits(n, &mut itoa::Buffer::new()));
    }

    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::payload::fast_test_support::{
        apply, assert_encode_into_appends, assert_fast_path_agrees, assert_left_to_serde, edits,
        nearby_byte, number,
    };
    use crate::payload::json::from_slice_bounded;
    use crate::payload::{ControlPayload, PayloadError};

    /// Bytes that matter to this parser.
    const PARSER_BYTES: &[u8] = b"0123456789{}\":,-+.eE \t\n\\nulcrdit_";

    /// What the bounded serde path alone makes of `bytes`.
    fn serde_only(bytes: &[u8]) -> Result<Ack, PayloadError> {
        from_slice_bounded(bytes)
    }

    /// `Ack::decode` (fast path, then fallback) and serde alone agree on
    /// `bytes`: same value, or the same error.
    fn assert_same_as_serde(bytes: &[u8]) -> Result<(), TestCaseError> {
        assert_fast_path_agrees(bytes, Ack::decode, serde_only, decode)
    }

    #[test]
    fn canonical_shapes_take_the_fast_path() {
        let cases = [
            (&br#"{"corr_id":123,"credit":456}"#[..], Some(123), 456),
            (br#"{"credit":131072}"#, None, 131_072),
            (br#"{"corr_id":0,"credit":0}"#, Some(0), 0),
            (
                br#"{"corr_id":18446744073709551615,"credit":18446744073709551615}"#,
                Some(u64::MAX),
                u64::MAX,
            ),
        ];
        for (bytes, corr_id, credit) in cases {
            assert_eq!(decode(bytes), Some(Ack { corr_id, credit }));
            assert_eq!(serde_only(bytes).expect("serde"), Ack { corr_id, credit });
        }
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        let not_canonical: &[&[u8]] = &[
            // Valid JSON serde accepts, in shapes the encoder never writes.
            br#"{ "corr_id":1,"credit":2}"#,
            br#"{"corr_id":1, "credit":2}"#,
            br#"{"corr_id":1,"credit":2} "#,
            br#"{"credit":2,"corr_id":1}"#,
            br#"{"corr_id":null,"credit":2}"#,
            br#"{"corr_id":1,"credit":2,"extra":true}"#,
            br#"{"corr\u005fid":1,"credit":2}"#,
            // Numbers JSON or u64 refuse: serde must produce the error.
            br#"{"credit":01}"#,
            br#"{"credit":00}"#,
            br#"{"credit":-1}"#,
            br#"{"credit":-0}"#,
            br#"{"credit":+1}"#,
            br#"{"credit":1.0}"#,
            br#"{"credit":1e3}"#,
            br#"{"credit":18446744073709551616}"#,
            br#"{"corr_id":99999999999999999999,"credit":1}"#,
            // Truncated or missing parts.
            br#"{"credit":}"#,
            br#"{"credit":1"#,
            br#"{"corr_id":1}"#,
            br#"{"corr_id":1,"credit":2}}"#,
            b"",
            b"{}",
        ];
        assert_left_to_serde(not_canonical, decode, assert_same_as_serde);
        // The fallback still accepts what serde always accepted.
        assert_eq!(
            Ack::decode(br#"{"credit":2,"corr_id":1}"#).expect("reordered"),
            Ack {
                corr_id: Some(1),
                credit: 2
            }
        );
    }

    #[test]
    fn encode_writes_what_serde_writes() {
        for corr_id in [None, Some(0), Some(7), Some(u64::MAX)] {
            for credit in [0, 9, 10, 65_536, u64::MAX] {
                let ack = Ack { corr_id, credit };
                let serde = serde_json::to_vec(&ack).expect("serialise");
                assert_eq!(encode(&ack)[..], serde[..]);
                assert!(serde.len() <= MAX_LEN);
            }
        }
    }

    fn ack() -> impl Strategy<Value = Ack> {
        (proptest::option::of(number()), number())
            .prop_map(|(corr_id, credit)| Ack { corr_id, credit })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn encoded_acks_round_trip_through_the_fast_path(ack in ack()) {
            let bytes = encode(&ack);
            prop_assert_eq!(&bytes[..], &serde_json::to_vec(&ack).expect("serialise")[..]);
            assert_encode_into_appends(&ack, &bytes)?;
            prop_assert_eq!(decode(&bytes), Some(ack));
            assert_same_as_serde(&bytes)?;
        }

        #[test]
        fn mutated_acks_decode_as_serde_decodes_them(
            ack in ack(),
            edits in edits(PARSER_BYTES),
        ) {
            assert_same_as_serde(&apply(encode(&ack).to_vec(), &edits))?;
        }

        #[test]
        fn arbitrary_bytes_decode_as_serde_decodes_them(
            bytes in proptest::collection::vec(nearby_byte(PARSER_BYTES), 0..80),
        ) {
            assert_same_as_serde(&bytes)?;
        }
    }
}
