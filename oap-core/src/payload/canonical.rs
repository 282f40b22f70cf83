//! The JSON values the fast paths share: a `u64`, an [`ObjectId`] string
//! and a plain string, written exactly as serde_json writes them and read
//! back only in that one spelling.
//!
//! Readers answer `None` for anything else, leaving the decision (and the
//! error) to the serde path; see [`ack_fast`](super::ack_fast),
//! [`data_fast`](super::data_fast), [`end_fast`](super::end_fast),
//! [`hello_fast`](super::hello_fast) and [`start_fast`](super::start_fast).

use crate::object_id::{HEX_LEN, ObjectId, SCHEME, decode_digest};

/// Decimal digits of `u64::MAX`.
pub(super) const U64_MAX_DIGITS: usize = 20;

/// Length of an object id as a JSON string: quotes, `b3:`, 64 hex digits.
pub(super) const OBJECT_ID_JSON_LEN: usize = 1 + SCHEME.len() + HEX_LEN + 1;

/// The opening of an object id string: `"b3:`.
const OPEN_OBJECT_ID: &[u8] = br#""b3:"#;

/// Whether serde_json escapes `b` inside a string: the quote, the
/// backslash and the control characters below U+0020, nothing else (not
/// DEL, not non-ASCII). A string with none of them is written as itself.
pub(super) fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// Where the first byte of `bytes` that [`needs_escape`] is. Every START
/// and DATA header is scanned so, an object address alone is 67 bytes: the
/// bytes are tested 16 at a time without a branch per byte, which the
/// compiler turns into vector compares, and only a block with a hit is
/// searched byte by byte.
pub(super) fn first_needing_escape(bytes: &[u8]) -> Option<usize> {
    let mut skipped = 0;
    for block in bytes.chunks(16) {
        if block.iter().fold(false, |hit, &b| hit | needs_escape(b)) {
            return block
                .iter()
                .position(|&b| needs_escape(b))
                .map(|i| skipped + i);
        }
        skipped += block.len();
    }
    None
}

/// Whether a byte of `text` [`needs_escape`].
pub(super) fn has_escapes(text: &str) -> bool {
    first_needing_escape(text.as_bytes()).is_some()
}

/// Splits a leading JSON string off `bytes` if its contents are their own
/// value: no byte that [`needs_escape`] (so no escape sequence, and no raw
/// control character, which JSON forbids), valid UTF-8. That is exactly
/// what serde_json writes for such a string, and exactly how it reads it.
pub(super) fn plain_string(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let rest = bytes.strip_prefix(b"\"")?;
    // One pass: the first byte that needs escaping must be the closing
    // quote. A backslash (which may escape a quote) or a raw control
    // character before it sends the string to serde.
    let end = first_needing_escape(rest)?;
    if rest[end] != b'"' {
        return None;
    }
    let (contents, rest) = rest.split_at(end);
    let text = std::str::from_utf8(contents).ok()?;
    Some((text, &rest[1..]))
}

/// Splits a leading decimal number off `bytes`, if it is written the way
/// serde_json writes a `u64` and fits one.
///
/// A leading zero before another digit is refused rather than parsed:
/// JSON forbids it, so serde must be the one to reject it. A sign,
/// fraction or exponent leaves a non-digit after the number, which the
/// caller's next expected byte refuses.
pub(super) fn read_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
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

/// Splits a leading `"b3:<64 lowercase hex>"` off `bytes`.
///
/// Everything else is refused, including ids `ObjectId::from_str` would
/// reject: those must fail on the serde path, which names the exact
/// [`ObjectIdError`](crate::object_id::ObjectIdError). An escape anywhere
/// in the string makes a non-hex byte here, so it is refused too.
pub(super) fn read_object_id(bytes: &[u8]) -> Option<(ObjectId, &[u8])> {
    let rest = bytes.strip_prefix(OPEN_OBJECT_ID)?;
    let (hex, rest) = rest.split_first_chunk::<HEX_LEN>()?;
    let rest = rest.strip_prefix(b"\"")?;
    // As `ObjectId::from_str` decodes: no branch per digit (a hash's
    // digits are random, so a digit-or-letter test mispredicted about
    // every other time and was most of this function's time).
    let digest = decode_digest(hex)?;
    Some((ObjectId::from_bytes(digest), rest))
}

/// Number of decimal digits serde_json writes for `n`, so callers can
/// size their buffer exactly before writing.
pub(super) fn u64_len(n: u64) -> usize {
    // `checked_ilog10` is `None` only for 0, which is one digit; a u64 has
    // at most 20 digits, so the widening cast is exact.
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// Makes room for `len` more bytes of one payload: exactly in an empty
/// buffer, which `encode` then turns into `Bytes` without a second
/// allocation; amortised in one that holds other frames already (the
/// connection's queue), where growing exactly would move the whole queue
/// at every frame.
pub(super) fn reserve_for(out: &mut Vec<u8>, len: usize) {
    if out.is_empty() {
        out.reserve_exact(len);
    } else {
        out.reserve(len);
    }
}

/// Appends `n` in decimal.
pub(super) fn put_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(u64_digits(n, &mut itoa::Buffer::new()));
}

/// `n` in decimal, as serde_json writes it (through the same crate, itoa:
/// two digits per step from a table, not one per division), in
/// `scratch`.
///
/// For writers that do not append to a `Vec` (ACK assembles its JSON on
/// the stack); the others use [`put_u64`].
#[inline]
pub(super) fn u64_digits(n: u64, scratch: &mut itoa::Buffer) -> &[u8] {
    scratch.format(n).as_bytes()
}

/// Appends `text` as the JSON string serde_json writes for it, which is
/// `text` in quotes as long as no byte of it [`needs_escape`]: the caller
/// checks that first ([`has_escapes`]) and leaves any other string to
/// serde.
pub(super) fn put_plain_string(out: &mut Vec<u8>, text: &str) {
    debug_assert!(!has_escapes(text), "a string that needs escaping");
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// Appends `id` as the JSON string serde_json writes for it
/// (`"b3:<64 lowercase hex>"`, [`OBJECT_ID_JSON_LEN`] bytes).
pub(super) fn put_object_id(out: &mut Vec<u8>, id: &ObjectId) {
    out.push(b'"');
    out.extend_from_slice(id.text().as_bytes());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The blockwise scan finds what a byte-by-byte one finds, wherever
        /// the hit falls relative to the 16-byte blocks.
        #[test]
        fn the_first_byte_needing_escape_is_found_as_one_by_one(
            bytes in prop::collection::vec(
                prop_oneof![3 => b'a'..=b'z', 1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 1 => any::<u8>()],
                0..80,
            ),
            plain_prefix in 0usize..40,
        ) {
            let mut bytes = bytes;
            bytes.splice(0..0, std::iter::repeat_n(b'x', plain_prefix));
            prop_assert_eq!(
                first_needing_escape(&bytes),
                bytes.iter().position(|&b| needs_escape(b))
            );
        }
    }

    #[test]
    fn numbers_are_read_only_in_serde_json_spelling() {
        assert_eq!(read_u64(b"0}"), Some((0, &b"}"[..])));
        assert_eq!(read_u64(b"10,"), Some((10, &b","[..])));
        assert_eq!(
            read_u64(b"18446744073709551615"),
            Some((u64::MAX, &b""[..]))
        );
        for refused in [
            &b""[..],
            b"}",
            b"-1",
            b"+1",
            b"01",
            b"00",
            b"18446744073709551616",
            b"99999999999999999999",
        ] {
            assert_eq!(read_u64(refused), None, "{refused:?}");
        }
        // Fractions and exponents are left for the caller to refuse.
        assert_eq!(read_u64(b"1.5"), Some((1, &b".5"[..])));
    }

    #[test]
    fn written_numbers_have_the_length_u64_len_says() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX / 10, u64::MAX] {
            let mut out = Vec::new();
            put_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
            assert_eq!(u64_len(n), out.len());
        }
    }

    #[test]
    fn object_ids_round_trip_and_match_serde() {
        let id = ObjectId::of(b"hello");
        let mut out = Vec::new();
        put_object_id(&mut out, &id);
        assert_eq!(out, serde_json::to_vec(&id).expect("serialise"));
        assert_eq!(out.len(), OBJECT_ID_JSON_LEN);
        out.push(b'}');
        assert_eq!(read_object_id(&out), Some((id, &b"}"[..])));
    }

    /// Every byte value in every digit position, high and low nibbles
    /// alike: accepted exactly when `ObjectId::from_str` accepts it, with
    /// the same id.
    #[test]
    fn every_byte_in_every_digit_is_read_as_from_str_reads_it() {
        let hex = ObjectId::of(b"hello").to_hex().into_bytes();
        for pos in 0..HEX_LEN {
            for b in 0..=u8::MAX {
                let mut digits = hex.clone();
                digits[pos] = b;
                let mut json = br#""b3:"#.to_vec();
                json.extend_from_slice(&digits);
                json.push(b'"');
                let expected = std::str::from_utf8(&digits)
                    .ok()
                    .and_then(|d| format!("b3:{d}").parse::<ObjectId>().ok());
                let read = read_object_id(&json).map(|(id, rest)| {
                    assert!(rest.is_empty());
                    id
                });
                assert_eq!(read, expected, "byte {b:#04x} at {pos}");
            }
        }
    }

    #[test]
    fn object_ids_in_any_other_spelling_are_refused() {
        let hex = ObjectId::of(b"hello").to_hex();
        for refused in [
            format!("\"b3:{}\"", hex.to_uppercase()),
            format!("\"b3:{}\"", &hex[1..]),
            format!("\"b3:{hex}0\""),
            format!("\"b3:{hex}"),
            format!("\"k12:{hex}\""),
            format!("\"B3:{hex}\""),
            format!("\"\\u0062\\u0033:{hex}\""),
            format!("\"b3:{}g\"", &hex[1..]),
        ] {
            assert_eq!(read_object_id(refused.as_bytes()), None, "{refused}");
        }
    }
}
