//! A hand-rolled reader and writer for the JSON shape DATA headers take on
//! the wire.
//!
//! Every DATA frame carries a header, so on small objects serde_json was a
//! large share of the per-frame cost (issue #9). serde_json writes the
//! fields in declaration order, without whitespace, skipping absent ones:
//!
//! ```text
//! {"obj":"b3:<hex>"[,"offset":N][,"total_len":N][,"corr_id":N][,"content_type":"…"][,"e2e":true]}
//! ```
//!
//! and that exact shape is read here directly.
//!
//! The reader answers `None` for anything it is not certain about
//! (whitespace, other key order, unknown or repeated fields, `null`,
//! `"e2e":false`, escapes, leading zeros, signs, fractions, exponents,
//! numbers past `u64::MAX`, object ids `ObjectId::from_str` refuses, input
//! past the control-JSON bound). The caller then takes the serde path,
//! which decides and reports errors exactly as it did before this fast path
//! existed. Whatever the reader does accept, that path parses to the same
//! [`DataHeader`].

use super::DataHeader;
use super::canonical::{
    OBJECT_ID_JSON_LEN, has_escapes, plain_string, put_object_id, put_plain_string, put_u64,
    read_object_id, read_u64, u64_len,
};
use crate::limits::MAX_CONTROL_JSON;

/// Start of every header, up to the `obj` value.
const OPEN_OBJ: &[u8] = br#"{"obj":"#;
/// Key of `offset`, with the comma before it.
const OFFSET: &[u8] = br#","offset":"#;
/// Key of `total_len`, with the comma before it.
const TOTAL_LEN: &[u8] = br#","total_len":"#;
/// Key of `corr_id`, with the comma before it.
const CORR_ID: &[u8] = br#","corr_id":"#;
/// Key of `content_type`, with the comma before it.
const CONTENT_TYPE: &[u8] = br#","content_type":"#;
/// `e2e` as written: the field is skipped when false.
const E2E_TRUE: &[u8] = br#","e2e":true"#;
/// End of every header.
const CLOSE: &[u8] = b"}";

/// Reads a header in exactly the encoder's shape, or `None` if `bytes` is
/// anything else (the caller then falls back to serde).
pub(super) fn decode(bytes: &[u8]) -> Option<DataHeader> {
    // The serde path refuses oversized input before parsing; only a long
    // `content_type` can get here, and it must get the same error.
    if bytes.len() > MAX_CONTROL_JSON {
        return None;
    }
    let rest = bytes.strip_prefix(OPEN_OBJ)?;
    let (obj, mut rest) = read_object_id(rest)?;
    let offset = optional_u64(&mut rest, OFFSET)?;
    let total_len = optional_u64(&mut rest, TOTAL_LEN)?;
    let corr_id = optional_u64(&mut rest, CORR_ID)?;
    let content_type = match rest.strip_prefix(CONTENT_TYPE) {
        Some(after_key) => {
            let (text, after) = plain_string(after_key)?;
            rest = after;
            Some(text.to_owned())
        }
        None => None,
    };
    let e2e = match rest.strip_prefix(E2E_TRUE) {
        Some(after) => {
            rest = after;
            true
        }
        None => false,
    };
    (rest == CLOSE).then_some(DataHeader {
        obj,
        offset,
        total_len,
        corr_id,
        content_type,
        e2e,
    })
}

/// Reads `key` and its number if `rest` starts with `key`, advancing past
/// them. `Some(None)`: the field is absent; `None`: present but not a
/// canonical `u64`, so the whole header goes to serde.
fn optional_u64(rest: &mut &[u8], key: &[u8]) -> Option<Option<u64>> {
    let Some(after_key) = rest.strip_prefix(key) else {
        return Some(None);
    };
    let (n, after) = read_u64(after_key)?;
    *rest = after;
    Some(Some(n))
}

/// Writes `header` byte-for-byte as serde_json would, with one exactly
/// sized allocation, or `None` if its `content_type` needs escaping (rare
/// enough that the caller just uses serde_json for the whole header).
pub(super) fn encode(header: &DataHeader) -> Option<Vec<u8>> {
    let len = fast_len(header)?;
    let mut out = Vec::with_capacity(len);
    encode_into(header, &mut out);
    Some(out)
}

/// The length [`encode_into`] writes for `header`, or `None` if its
/// `content_type` needs escaping (the header is then serde's to write).
pub(super) fn fast_len(header: &DataHeader) -> Option<usize> {
    let escapes = header.content_type.as_deref().is_some_and(has_escapes);
    (!escapes).then(|| encoded_len(header))
}

/// Appends what [`encode`] writes to `out`. Only for a header
/// [`fast_len`] measured: one whose `content_type` needs no escaping.
pub(super) fn encode_into(header: &DataHeader, out: &mut Vec<u8>) {
    let begin = out.len();
    out.extend_from_slice(OPEN_OBJ);
    put_object_id(out, &header.obj);
    for (key, value) in [
        (OFFSET, header.offset),
        (TOTAL_LEN, header.total_len),
        (CORR_ID, header.corr_id),
    ] {
        if let Some(n) = value {
            out.extend_from_slice(key);
            put_u64(out, n);
        }
    }
    if let Some(text) = header.content_type.as_deref() {
        out.extend_from_slice(CONTENT_TYPE);
        put_plain_string(out, text);
    }
    if header.e2e {
        out.extend_from_slice(E2E_TRUE);
    }
    out.extend_from_slice(CLOSE);
    // A wrong sum would only cost a reallocation, but it would be a bug.
    debug_assert_eq!(
        out.len() - begin,
        encoded_len(header),
        "encoded_len disagrees with encode"
    );
}

/// The length [`encode`] writes for `header` (whose `content_type`, if
/// any, needs no escaping).
fn encoded_len(header: &DataHeader) -> usize {
    let number = |key: &[u8], value: Option<u64>| value.map_or(0, |n| key.len() + u64_len(n));
    OPEN_OBJ.len()
        + OBJECT_ID_JSON_LEN
        + number(OFFSET, header.offset)
        + number(TOTAL_LEN, header.total_len)
        + number(CORR_ID, header.corr_id)
        + header
            .content_type
            .as_ref()
            .map_or(0, |text| CONTENT_TYPE.len() + text.len() + 2)
        + if header.e2e { E2E_TRUE.len() } else { 0 }
        + CLOSE.len()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::object_id::ObjectId;
    use crate::payload::PayloadError;
    use crate::payload::fast_test_support::{
        apply, assert_fast_path_agrees, assert_left_to_serde, edits, nearby_byte, number, object_id,
    };

    /// Bytes that matter to this parser.
    const PARSER_BYTES: &[u8] = b"0123456789abcdefABCDEF{}\":,-+.eE \t\n\\bnulltrsoj_";

    /// `DataHeader::from_json` (fast path, then fallback) and the serde path
    /// alone agree on `bytes`; and whatever the fast path accepts on its
    /// own, serde accepts with the same value.
    fn assert_same_as_serde(bytes: &[u8]) -> Result<(), TestCaseError> {
        assert_fast_path_agrees(
            bytes,
            DataHeader::from_json,
            DataHeader::from_json_serde,
            decode,
        )
    }

    fn obj() -> ObjectId {
        ObjectId::of(b"data header")
    }

    /// A header with every field set, `content_type` as given.
    fn full(content_type: &str) -> DataHeader {
        DataHeader {
            offset: Some(4096),
            total_len: Some(1 << 20),
            corr_id: Some(7),
            content_type: Some(content_type.to_owned()),
            e2e: true,
            ..DataHeader::for_object(obj())
        }
    }

    /// The JSON of a header with only `obj` set, then `tail` before `}`.
    fn with_tail(tail: &str) -> Vec<u8> {
        format!("{{\"obj\":\"{}\"{tail}}}", obj()).into_bytes()
    }

    #[test]
    fn canonical_shapes_take_the_fast_path() {
        let headers = [
            DataHeader::for_object(obj()),
            DataHeader {
                offset: Some(0),
                total_len: Some(1024),
                corr_id: Some(1),
                ..DataHeader::for_object(obj())
            },
            DataHeader {
                corr_id: Some(u64::MAX),
                ..DataHeader::for_object(obj())
            },
            DataHeader {
                e2e: true,
                ..DataHeader::for_object(obj())
            },
            full("application/octet-stream"),
            full(""),
            full("text/plain; charset=utf-8 \u{7f} é 漢字 🦀"),
        ];
        for header in headers {
            let bytes = header.json();
            assert_eq!(bytes, header.json_serde());
            assert_eq!(decode(&bytes).as_ref(), Some(&header));
            assert_same_as_serde(&bytes).expect("same as serde");
        }
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        let hex = obj().to_hex();
        let not_canonical: Vec<Vec<u8>> = vec![
            // Valid JSON serde accepts, in shapes the encoder never writes.
            format!("{{ \"obj\":\"b3:{hex}\"}}").into_bytes(),
            format!("{{\"obj\" :\"b3:{hex}\"}}").into_bytes(),
            format!("{{\"obj\":\"b3:{hex}\"}} ").into_bytes(),
            format!("{{\"corr_id\":1,\"obj\":\"b3:{hex}\"}}").into_bytes(),
            with_tail(r#","corr_id":1,"offset":2"#),
            with_tail(r#","offset":null"#),
            with_tail(r#","e2e":false"#),
            with_tail(r#","extra":1"#),
            with_tail(r#","e2e":true,"extra":1"#),
            with_tail(r#","offset":1 "#),
            with_tail(r#","content_type":"a\"b""#),
            with_tail(r#","content_type":"a\\b""#),
            with_tail(r#","content_type":"\u0041""#),
            with_tail(r#","corr\u005fid":1"#),
            // Repeated fields: serde's error, not a silent last-one-wins.
            with_tail(r#","offset":1,"offset":2"#),
            with_tail(&format!(",\"obj\":\"b3:{hex}\"")),
            // Numbers JSON or u64 refuse.
            with_tail(r#","offset":01"#),
            with_tail(r#","offset":-1"#),
            with_tail(r#","offset":+1"#),
            with_tail(r#","total_len":1.0"#),
            with_tail(r#","total_len":1e3"#),
            with_tail(r#","corr_id":18446744073709551616"#),
            with_tail(r#","corr_id":"#),
            with_tail(r#","e2e":tru"#),
            // Strings JSON refuses raw.
            with_tail(",\"content_type\":\"a\tb\""),
            with_tail(",\"content_type\":\"a\u{0}b\""),
            // Truncated, empty, or no object.
            format!("{{\"obj\":\"b3:{hex}\"").into_bytes(),
            format!("{{\"obj\":\"b3:{hex}\"}}}}").into_bytes(),
            b"".to_vec(),
            b"{}".to_vec(),
            br#"{"offset":1}"#.to_vec(),
        ];
        assert_left_to_serde(&not_canonical, decode, assert_same_as_serde);
        // Invalid UTF-8 inside a string.
        let mut bytes = with_tail(r#","content_type":"ab""#);
        let at = bytes.len() - 3;
        bytes[at] = 0xff;
        assert_eq!(decode(&bytes), None);
        assert_same_as_serde(&bytes).expect("same as serde");
        // The fallback still accepts what serde always accepted.
        assert_eq!(
            DataHeader::from_json(&not_canonical[3]).expect("reordered"),
            DataHeader {
                corr_id: Some(1),
                ..DataHeader::for_object(obj())
            }
        );
    }

    #[test]
    fn bad_object_ids_keep_their_typed_errors() {
        let hex = obj().to_hex();
        let cases = [
            format!("b3:{}", hex.to_uppercase()),
            format!("b3:{}", &hex[2..]),
            format!("k12:{hex}"),
            hex.clone(),
            format!("b3:{}zz", &hex[2..]),
        ];
        for id in cases {
            let bytes = format!("{{\"obj\":\"{id}\",\"corr_id\":1}}").into_bytes();
            assert_eq!(decode(&bytes), None, "{id}");
            let err = DataHeader::from_json(&bytes).expect_err("bad id");
            assert!(matches!(err, PayloadError::BadObjectId(_)), "{err:?}");
            assert_eq!(err.kind(), "bad_object_id");
            assert_same_as_serde(&bytes).expect("same as serde");
        }
        let missing = DataHeader::from_json(br#"{"corr_id":1}"#).expect_err("no obj");
        assert!(
            matches!(missing, PayloadError::MissingObject),
            "{missing:?}"
        );
    }

    #[test]
    fn oversized_headers_get_the_size_error() {
        let header = full(&"a".repeat(MAX_CONTROL_JSON));
        let bytes = header.json();
        assert_eq!(bytes, header.json_serde());
        assert_eq!(decode(&bytes), None);
        assert!(matches!(
            DataHeader::from_json(&bytes),
            Err(PayloadError::JsonTooLarge { .. })
        ));
        assert_same_as_serde(&bytes).expect("same as serde");
        // Exactly at the bound takes the fast path; one byte over does not.
        let fixed = full("").json().len();
        let header = full(&"a".repeat(MAX_CONTROL_JSON - fixed));
        let bytes = header.json();
        assert_eq!(bytes.len(), MAX_CONTROL_JSON);
        assert_eq!(decode(&bytes), Some(header));
        let bytes = full(&"a".repeat(MAX_CONTROL_JSON + 1 - fixed)).json();
        assert_eq!(decode(&bytes), None);
        assert_same_as_serde(&bytes).expect("same as serde");
    }

    #[test]
    fn encode_writes_what_serde_writes() {
        let content_types = [
            None,
            Some("application/octet-stream"),
            Some(""),
            Some("say \"hi\""),
            Some("back\\slash"),
            Some("tab\there, nul\u{0}, unit sep\u{1f}, del\u{7f}"),
            Some("é 漢字 🦀 \u{2028}"),
        ];
        for content_type in content_types {
            for n in [None, Some(0), Some(9), Some(10), Some(u64::MAX)] {
                for e2e in [false, true] {
                    let header = DataHeader {
                        offset: n,
                        total_len: n.map(|n| n / 2),
                        corr_id: n.map(|n| n.wrapping_add(1)),
                        content_type: content_type.map(str::to_owned),
                        e2e,
                        ..DataHeader::for_object(obj())
                    };
                    assert_eq!(header.json(), header.json_serde(), "{header:?}");
                    let escapes = content_type.is_some_and(has_escapes);
                    assert_eq!(encode(&header).is_none(), escapes, "{header:?}");
                    // Appended where a frame is built: the same bytes,
                    // after what the buffer held, of the length announced.
                    let parts = header.json_parts();
                    let mut dst = b"frame so far".to_vec();
                    parts.append_to(&mut dst);
                    assert_eq!(parts.len(), header.json_serde().len(), "{header:?}");
                    assert_eq!(&dst[..12], b"frame so far");
                    assert_eq!(dst[12..], header.json_serde(), "{header:?}");
                }
            }
        }
    }

    /// Each character alone, so one mis-drawn edge of the escape set (say
    /// U+001F) cannot hide behind another character that sends the whole
    /// string to serde anyway.
    #[test]
    fn every_ascii_character_is_written_and_read_as_serde_does() {
        for c in (0..=0x7f)
            .map(char::from)
            .chain(['\u{80}', 'é', '\u{2028}', '🦀'])
        {
            let header = full(&format!("a{c}b"));
            let bytes = header.json();
            assert_eq!(bytes, header.json_serde(), "{c:?}");
            assert_same_as_serde(&bytes).expect("same as serde");
            // The character raw, as a peer might send it.
            let mut raw = with_tail(r#","content_type":"a"#);
            raw.pop();
            raw.extend_from_slice(c.to_string().as_bytes());
            raw.extend_from_slice(br#"b"}"#);
            assert_same_as_serde(&raw).expect("same as serde");
        }
    }

    /// Media types as senders write them, printable ASCII (quotes and
    /// backslashes included), and any characters at all.
    fn content_type() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(&["application/octet-stream", "text/plain", ""][..])
                .prop_map(str::to_owned),
            "[ -~]{0,24}",
            proptest::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        ]
    }

    fn header() -> impl Strategy<Value = DataHeader> {
        (
            object_id(),
            proptest::option::of(number()),
            proptest::option::of(number()),
            proptest::option::of(number()),
            proptest::option::of(content_type()),
            any::<bool>(),
        )
            .prop_map(
                |(obj, offset, total_len, corr_id, content_type, e2e)| DataHeader {
                    obj,
                    offset,
                    total_len,
                    corr_id,
                    content_type,
                    e2e,
                },
            )
    }

    /// Pieces of headers, right and wrong, to string together: sequences of
    /// these reach the fast path far more often than random bytes do.
    fn token() -> impl Strategy<Value = Vec<u8>> {
        let fixed: &[&[u8]] = &[
            OFFSET,
            TOTAL_LEN,
            CORR_ID,
            CONTENT_TYPE,
            E2E_TRUE,
            br#","e2e":false"#,
            br#","obj":"#,
            br#","other":"#,
            b"0",
            b"1",
            b"01",
            b"-1",
            b"1.5",
            b"1e3",
            b"18446744073709551615",
            b"18446744073709551616",
            br#""text/plain""#,
            br#""a\"b""#,
            br#""\u0041""#,
            b"null",
            b"true",
            b"}",
            b"{",
            b",",
            b" ",
        ];
        prop_oneof![
            4 => proptest::sample::select(fixed).prop_map(<[u8]>::to_vec),
            1 => (object_id(), any::<bool>()).prop_map(|(id, upper)| {
                let text = format!("\"{id}\"");
                if upper { text.to_uppercase() } else { text }.into_bytes()
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn encoded_headers_round_trip_through_the_fast_path(header in header()) {
            let bytes = header.json();
            prop_assert_eq!(&bytes, &header.json_serde());
            let escapes = header
                .content_type
                .as_deref()
                .is_some_and(has_escapes);
            // Escaped strings are left to serde; everything else is read
            // back by the fast path itself.
            prop_assert_eq!(decode(&bytes), (!escapes).then(|| header.clone()));
            prop_assert_eq!(DataHeader::from_json(&bytes).ok(), Some(header));
            assert_same_as_serde(&bytes)?;
        }

        #[test]
        fn mutated_headers_decode_as_serde_decodes_them(
            header in header(),
            edits in edits(PARSER_BYTES),
        ) {
            assert_same_as_serde(&apply(header.json(), &edits))?;
        }

        #[test]
        fn arbitrary_bytes_decode_as_serde_decodes_them(
            bytes in proptest::collection::vec(nearby_byte(PARSER_BYTES), 0..200),
        ) {
            assert_same_as_serde(&bytes)?;
        }

        #[test]
        fn strung_together_pieces_decode_as_serde_decodes_them(
            id in object_id(),
            start_right in proptest::bool::weighted(0.8),
            tokens in proptest::collection::vec(token(), 0..7),
            close in proptest::bool::weighted(0.8),
        ) {
            let mut bytes = Vec::new();
            if start_right {
                bytes.extend_from_slice(OPEN_OBJ);
                put_object_id(&mut bytes, &id);
            }
            tokens.iter().for_each(|t| bytes.extend_from_slice(t));
            if close {
                bytes.extend_from_slice(CLOSE);
            }
            assert_same_as_serde(&bytes)?;
        }
    }
}
