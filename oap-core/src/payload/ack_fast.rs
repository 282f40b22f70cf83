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

/// Start of an ACK with a `corr_id`, as serde_json writes it.
const OPEN_CORR_ID: &[u8] = br#"{"corr_id":"#;
/// Start of an ACK without a `corr_id` (the field is skipped when `None`).
const OPEN_CREDIT: &[u8] = br#"{"credit":"#;
/// Between the `corr_id` value and the `credit` value.
const MID_CREDIT: &[u8] = br#","credit":"#;
/// End of every ACK.
const CLOSE: &[u8] = b"}";
/// Decimal digits of `u64::MAX`.
const MAX_DIGITS: usize = 20;
/// Longest ACK the writer produces: both fields at `u64::MAX` (62 bytes).
const MAX_LEN: usize =
    OPEN_CORR_ID.len() + MAX_DIGITS + MID_CREDIT.len() + MAX_DIGITS + CLOSE.len();

/// Reads an ACK in exactly the encoder's shape, or `None` if `bytes` is
/// anything else (the caller then falls back to serde).
pub(super) fn decode(bytes: &[u8]) -> Option<Ack> {
    let (corr_id, rest) = match bytes.strip_prefix(OPEN_CORR_ID) {
        Some(rest) => {
            let (corr_id, rest) = canonical_u64(rest)?;
            (Some(corr_id), rest.strip_prefix(MID_CREDIT)?)
        }
        None => (None, bytes.strip_prefix(OPEN_CREDIT)?),
    };
    let (credit, rest) = canonical_u64(rest)?;
    (rest == CLOSE).then_some(Ack { corr_id, credit })
}

/// Splits a leading decimal number off `bytes`, if it is written the way
/// serde_json writes a `u64` and fits one.
///
/// A leading zero before another digit is refused rather than parsed:
/// JSON forbids it, so serde must be the one to reject it. A sign,
/// fraction or exponent leaves a non-digit after the number, which the
/// caller's next expected byte refuses.
fn canonical_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let (digits, rest) = bytes.split_at(len);
    match digits {
        [] | [b'0', _, ..] => None,
        _ => digits
            .iter()
            .try_fold(0u64, |n, &d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
            .map(|n| (n, rest)),
    }
}

/// Writes `ack` byte-for-byte as serde_json would, with one allocation.
///
/// serde_json grows a `Vec` whose length is not its capacity, so turning it
/// into `Bytes` costs a second allocation; here the JSON is assembled on the
/// stack and copied out once.
pub(super) fn encode(ack: &Ack) -> Bytes {
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
    Bytes::copy_from_slice(out.as_slice())
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

    /// Appends `n` in decimal, digits produced last-first into a scratch
    /// array and copied in order.
    fn put_u64(&mut self, mut n: u64) {
        let mut digits = [0u8; MAX_DIGITS];
        let mut start = MAX_DIGITS;
        loop {
            start -= 1;
            // `n % 10` is below 10, so the narrowing is exact.
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(&digits[start..]);
    }

    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::payload::json::from_slice_bounded;
    use crate::payload::{ControlPayload, PayloadError};

    /// What the bounded serde path alone makes of `bytes`.
    fn serde_only(bytes: &[u8]) -> Result<Ack, PayloadError> {
        from_slice_bounded(bytes)
    }

    /// `Ack::decode` (fast path, then fallback) and serde alone agree on
    /// `bytes`: same value, or both an error with the same message.
    fn assert_same_as_serde(bytes: &[u8]) -> Result<(), TestCaseError> {
        let with_fast = Ack::decode(bytes);
        let serde = serde_only(bytes);
        match (&with_fast, &serde) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            _ => prop_assert!(
                false,
                "{:?}: fast path gave {:?}, serde {:?}",
                String::from_utf8_lossy(bytes),
                with_fast,
                serde
            ),
        }
        // Stronger than the above: whatever the fast path accepts on its
        // own, serde accepts with the same value.
        if let Some(fast) = decode(bytes) {
            prop_assert_eq!(serde.ok(), Some(fast));
        }
        Ok(())
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
        for bytes in not_canonical {
            assert_eq!(decode(bytes), None, "{}", String::from_utf8_lossy(bytes));
            assert_same_as_serde(bytes).expect("same as serde");
        }
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

    /// Numbers of every length, with the edges over-represented.
    fn number() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            0..1_000u64,
            (0..20u32).prop_map(|e| 10u64.pow(e)),
            (1..20u32).prop_map(|e| 10u64.pow(e) - 1),
            Just(u64::MAX),
        ]
    }

    fn ack() -> impl Strategy<Value = Ack> {
        (proptest::option::of(number()), number())
            .prop_map(|(corr_id, credit)| Ack { corr_id, credit })
    }

    /// Bytes that matter to the parser, plus any byte at all.
    fn nearby_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            proptest::sample::select(b"0123456789{}\":,-+.eE \t\n\\nulcrdit_".to_vec()),
            any::<u8>(),
        ]
    }

    /// One edit of a byte string: replace, insert or delete at a position
    /// (taken modulo the length).
    #[derive(Debug, Clone)]
    enum Edit {
        Replace(usize, u8),
        Insert(usize, u8),
        Delete(usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), nearby_byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
            (any::<usize>(), nearby_byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
            any::<usize>().prop_map(Edit::Delete),
        ]
    }

    fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
        match *edit {
            Edit::Replace(i, b) if !bytes.is_empty() => {
                let i = i % bytes.len();
                bytes[i] = b;
            }
            Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Edit::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % bytes.len());
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn encoded_acks_round_trip_through_the_fast_path(ack in ack()) {
            let bytes = encode(&ack);
            prop_assert_eq!(&bytes[..], &serde_json::to_vec(&ack).expect("serialise")[..]);
            prop_assert_eq!(decode(&bytes), Some(ack));
            assert_same_as_serde(&bytes)?;
        }

        #[test]
        fn mutated_acks_decode_as_serde_decodes_them(
            ack in ack(),
            edits in proptest::collection::vec(edit(), 1..4),
        ) {
            let mut bytes = encode(&ack).to_vec();
            for e in &edits {
                apply(&mut bytes, e);
            }
            assert_same_as_serde(&bytes)?;
        }

        #[test]
        fn arbitrary_bytes_decode_as_serde_decodes_them(
            bytes in proptest::collection::vec(nearby_byte(), 0..80),
        ) {
            assert_same_as_serde(&bytes)?;
        }
    }
}
