//! A hand-rolled reader and writer for the JSON shapes END takes on the
//! wire.
//!
//! Every request ends with an END (a put's carries the object id), so on
//! small objects its serde_json round trip is part of the per-request
//! cost (issue #9). serde_json writes `{"corr_id":N,"obj":"b3:<hex>"}`,
//! leaving out whichever field is absent (down to `{}`), and those exact
//! shapes are read here directly.
//!
//! The reader answers `None` for anything it is not certain about
//! (whitespace, other key order, unknown or repeated fields, `null`,
//! escapes, leading zeros, signs, fractions, exponents, numbers past
//! `u64::MAX`, object ids `ObjectId::from_str` refuses). The caller then
//! takes the bounded serde path, which decides and reports errors exactly
//! as it did before this fast path existed. Whatever the reader does
//! accept, serde parses to the same [`End`].

use bytes::Bytes;

use super::End;
use super::canonical::{
    OBJECT_ID_JSON_LEN, U64_MAX_DIGITS, put_object_id, put_u64, read_object_id, read_u64,
    reserve_for, u64_len,
};
use crate::limits::MAX_CONTROL_JSON;

/// Start of every END.
const OPEN: &[u8] = b"{";
/// Key of `corr_id`, always the first field when present.
const CORR_ID: &[u8] = br#""corr_id":"#;
/// Key of `obj` when it is the first field.
const OBJ_FIRST: &[u8] = br#""obj":"#;
/// Key of `obj` after `corr_id`.
const OBJ_AFTER: &[u8] = br#","obj":"#;
/// End of every END.
const CLOSE: &[u8] = b"}";
/// Longest END the writer produces (108 bytes).
const MAX_LEN: usize = OPEN.len()
    + CORR_ID.len()
    + U64_MAX_DIGITS
    + OBJ_AFTER.len()
    + OBJECT_ID_JSON_LEN
    + CLOSE.len();

// Nothing this reader accepts can be refused by the serde path's size
// bound, so the reader need not check it.
const _: () = assert!(MAX_LEN <= MAX_CONTROL_JSON);

/// Reads an END in exactly one of the encoder's shapes, or `None` if
/// `bytes` is anything else (the caller then falls back to serde).
pub(super) fn decode(bytes: &[u8]) -> Option<End> {
    let mut rest = bytes.strip_prefix(OPEN)?;
    let corr_id = match rest.strip_prefix(CORR_ID) {
        Some(after_key) => {
            let (n, after) = read_u64(after_key)?;
            rest = after;
            Some(n)
        }
        None => None,
    };
    let obj_key = if corr_id.is_some() {
        OBJ_AFTER
    } else {
        OBJ_FIRST
    };
    let obj = match rest.strip_prefix(obj_key) {
        Some(after_key) => {
            let (id, after) = read_object_id(after_key)?;
            rest = after;
            Some(id)
        }
        None => None,
    };
    (rest == CLOSE).then_some(End { corr_id, obj })
}

/// Writes `end` byte-for-byte as serde_json would.
///
/// The buffer is sized exactly, so turning it into `Bytes` takes it over
/// without a second allocation (serde_json's `Vec` has spare capacity, and
/// `Bytes` then allocates a shared header for it).
pub(super) fn encode(end: &End) -> Bytes {
    let mut out = Vec::new();
    encode_into(end, &mut out);
    Bytes::from(out)
}

/// Appends what [`encode`] writes to `out` (see [`reserve_for`]).
pub(super) fn encode_into(end: &End, out: &mut Vec<u8>) {
    let len = encoded_len(end);
    reserve_for(out, len);
    let start = out.len();
    out.extend_from_slice(OPEN);
    if let Some(corr_id) = end.corr_id {
        out.extend_from_slice(CORR_ID);
        put_u64(out, corr_id);
    }
    if let Some(obj) = &end.obj {
        let key = if end.corr_id.is_some() {
            OBJ_AFTER
        } else {
            OBJ_FIRST
        };
        out.extend_from_slice(key);
        put_object_id(out, obj);
    }
    out.extend_from_slice(CLOSE);
    // A wrong sum would only cost an allocation, but it would be a bug.
    debug_assert_eq!(out.len() - start, len, "encoded_len disagrees with encode");
}

/// The length [`encode`] writes for `end`.
fn encoded_len(end: &End) -> usize {
    let corr_id = end.corr_id.map_or(0, |n| CORR_ID.len() + u64_len(n));
    let obj = match (end.obj, end.corr_id) {
        (None, _) => 0,
        (Some(_), Some(_)) => OBJ_AFTER.len() + OBJECT_ID_JSON_LEN,
        (Some(_), None) => OBJ_FIRST.len() + OBJECT_ID_JSON_LEN,
    };
    OPEN.len() + corr_id + obj + CLOSE.len()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::object_id::ObjectId;
    use crate::payload::fast_test_support::{
        apply, assert_encode_into_appends, assert_fast_path_agrees, assert_left_to_serde, edits,
        nearby_byte, number, object_id,
    };
    use crate::payload::json::from_slice_bounded;
    use crate::payload::{ControlPayload, PayloadError};

    /// Bytes that matter to this parser.
    const PARSER_BYTES: &[u8] = b"0123456789abcdefABCDEF{}\":,-+.eE \t\n\\bnullcorid_";

    /// What the trait's default `decode` (bounded serde, empty meaning
    /// `{}`) alone makes of `bytes`: END's decode before the fast path.
    fn serde_only(bytes: &[u8]) -> Result<End, PayloadError> {
        if bytes.is_empty() {
            return from_slice_bounded(b"{}");
        }
        from_slice_bounded(bytes)
    }

    /// `End::decode` (fast path, then fallback) and serde alone agree on
    /// `bytes`; and whatever the fast path accepts on its own, serde
    /// accepts with the same value.
    fn assert_same_as_serde(bytes: &[u8]) -> Result<(), TestCaseError> {
        assert_fast_path_agrees(bytes, End::decode, serde_only, decode)
    }

    fn obj() -> ObjectId {
        ObjectId::of(b"end")
    }

    fn every_shape() -> Vec<End> {
        let mut ends = Vec::new();
        for corr_id in [None, Some(0), Some(9), Some(10), Some(u64::MAX)] {
            for obj in [None, Some(obj())] {
                ends.push(End { corr_id, obj });
            }
        }
        ends
    }

    #[test]
    fn canonical_shapes_take_the_fast_path() {
        for end in every_shape() {
            let bytes = end.encode();
            assert_eq!(decode(&bytes), Some(end), "{bytes:?}");
            assert_same_as_serde(&bytes).expect("same as serde");
        }
        assert_eq!(decode(b"{}"), Some(End::default()));
        // The original codec's empty END still means `{}`.
        assert_eq!(End::decode(b"").expect("empty"), End::default());
        assert_same_as_serde(b"").expect("same as serde");
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        let hex = obj().to_hex();
        let not_canonical: Vec<Vec<u8>> = [
            // Valid JSON serde accepts, in shapes the encoder never writes.
            "{ }".to_owned(),
            "{} ".to_owned(),
            r#"{"corr_id":1 }"#.to_owned(),
            format!(r#"{{"obj":"b3:{hex}","corr_id":1}}"#),
            r#"{"corr_id":null}"#.to_owned(),
            r#"{"obj":null}"#.to_owned(),
            r#"{"extra":1}"#.to_owned(),
            r#"{"corr_id":1,"extra":1}"#.to_owned(),
            r#"{"corr\u005fid":1}"#.to_owned(),
            // Repeated fields and malformed separators.
            r#"{"corr_id":1,"corr_id":2}"#.to_owned(),
            format!(r#"{{"obj":"b3:{hex}","obj":"b3:{hex}"}}"#),
            format!(r#"{{,"obj":"b3:{hex}"}}"#),
            format!(r#"{{"corr_id":1"obj":"b3:{hex}"}}"#),
            // Numbers JSON or u64 refuse.
            r#"{"corr_id":01}"#.to_owned(),
            r#"{"corr_id":-1}"#.to_owned(),
            r#"{"corr_id":1.0}"#.to_owned(),
            r#"{"corr_id":18446744073709551616}"#.to_owned(),
            // Object ids `ObjectId::from_str` refuses.
            format!(r#"{{"obj":"b3:{}"}}"#, hex.to_uppercase()),
            format!(r#"{{"obj":"k12:{hex}"}}"#),
            format!(r#"{{"corr_id":1,"obj":"b3:{}"}}"#, &hex[1..]),
            // Truncated or not an object.
            "{".to_owned(),
            r#"{"corr_id":1"#.to_owned(),
            "null".to_owned(),
            "[]".to_owned(),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect();
        assert_left_to_serde(&not_canonical, decode, assert_same_as_serde);
        // The fallback still accepts what serde always accepted.
        assert_eq!(
            End::decode(&not_canonical[3]).expect("reordered"),
            End {
                corr_id: Some(1),
                obj: Some(obj())
            }
        );
    }

    #[test]
    fn encode_writes_what_serde_writes() {
        for end in every_shape() {
            let serde = serde_json::to_vec(&end).expect("serialise");
            assert_eq!(encode(&end)[..], serde[..]);
            assert!(serde.len() <= MAX_LEN);
        }
    }

    fn end() -> impl Strategy<Value = End> {
        (
            proptest::option::of(number()),
            proptest::option::of(object_id()),
        )
            .prop_map(|(corr_id, obj)| End { corr_id, obj })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn encoded_ends_round_trip_through_the_fast_path(end in end()) {
            let bytes = end.encode();
            prop_assert_eq!(&bytes[..], &serde_json::to_vec(&end).expect("serialise")[..]);
            assert_encode_into_appends(&end, &bytes)?;
            prop_assert_eq!(decode(&bytes), Some(end));
            assert_same_as_serde(&bytes)?;
        }

        #[test]
        fn mutated_ends_decode_as_serde_decodes_them(
            end in end(),
            edits in edits(PARSER_BYTES),
        ) {
            assert_same_as_serde(&apply(end.encode().to_vec(), &edits))?;
        }

        #[test]
        fn arbitrary_bytes_decode_as_serde_decodes_them(
            bytes in proptest::collection::vec(nearby_byte(PARSER_BYTES), 0..120),
        ) {
            assert_same_as_serde(&bytes)?;
        }
    }
}
