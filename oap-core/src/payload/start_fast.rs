//! A hand-rolled reader and writer for the JSON shapes START takes on the
//! wire.
//!
//! Every request opens with a START, so on small objects its serde_json
//! parse was the last control payload the server still ran through serde
//! (issue #9). serde_json writes the fields in declaration order, without
//! whitespace, skipping absent ones:
//!
//! ```text
//! {["corr_id":N][,"op":"…"][,"topic":"…"][,"addr":"…"][,"collection":"…"][,"id":"…"]}
//! ```
//!
//! (the first field present has no comma before it, down to `{}`), and
//! those exact shapes are read here directly: the client's
//! `{"op":"put","collection":"…","id":"…"}` and `{"op":"get","addr":"b3:…"}`
//! among them.
//!
//! The reader answers `None` for anything it is not certain about
//! (whitespace, other key order, unknown or repeated fields, `null`,
//! leading zeros, signs, fractions, exponents, numbers past `u64::MAX`,
//! input past the control-JSON bound, and any string holding a quote, a
//! backslash, a control character or invalid UTF-8: the one plain-string
//! rule of [`canonical`](super::canonical) that every fast path shares). The caller then
//! takes the bounded serde path, which decides and reports errors exactly
//! as it did before this fast path existed. Whatever the reader does
//! accept, that path parses to the same [`Start`].

use std::borrow::Cow;

use bytes::Bytes;

use super::Start;
use super::canonical::{
    has_escapes, plain_string, put_plain_string, put_u64, read_u64, reserve_for, u64_len,
};
use super::messages::{KNOWN_OPS, StartRef};
use crate::limits::MAX_CONTROL_JSON;

/// Start of every START.
const OPEN: &[u8] = b"{";
/// Keys, each with the comma that precedes it unless it is the first field
/// written (then the comma is dropped: see [`key`]).
const CORR_ID: &[u8] = br#","corr_id":"#;
const OP: &[u8] = br#","op":"#;
const TOPIC: &[u8] = br#","topic":"#;
const ADDR: &[u8] = br#","addr":"#;
const COLLECTION: &[u8] = br#","collection":"#;
const ID: &[u8] = br#","id":"#;
/// End of every START.
const CLOSE: &[u8] = b"}";

/// `key` as written: without its leading comma when it is the first field.
fn key(key: &[u8], first: bool) -> &[u8] {
    if first { &key[1..] } else { key }
}

/// Reads a START in exactly one of the encoder's shapes, or `None` if
/// `bytes` is anything else (the caller then falls back to serde).
pub(super) fn decode(bytes: &[u8]) -> Option<Start> {
    // The serde path refuses oversized input before parsing; only long
    // strings can get here, and they must get the same error.
    if bytes.len() > MAX_CONTROL_JSON {
        return None;
    }
    let mut reader = Reader {
        rest: bytes.strip_prefix(OPEN)?,
        first: true,
    };
    let corr_id = if reader.key(CORR_ID) {
        let (n, after) = read_u64(reader.rest)?;
        reader.rest = after;
        Some(n)
    } else {
        None
    };
    let op = reader.op()?;
    let topic = reader.string(TOPIC)?;
    let addr = reader.string(ADDR)?;
    let collection = reader.string(COLLECTION)?;
    let doc_id = reader.string(ID)?;
    (reader.rest == CLOSE).then_some(Start {
        corr_id,
        op,
        topic,
        addr,
        collection,
        doc_id,
    })
}

/// What is left of the object, and whether no field has been read yet.
struct Reader<'a> {
    rest: &'a [u8],
    first: bool,
}

impl<'a> Reader<'a> {
    /// Steps past `key` (comma included unless first) if it comes next.
    fn key(&mut self, key_with_comma: &[u8]) -> bool {
        match self.rest.strip_prefix(key(key_with_comma, self.first)) {
            Some(after) => {
                self.rest = after;
                self.first = false;
                true
            }
            None => false,
        }
    }

    /// Reads `key` and its string if they come next. `Some(None)`: the
    /// field is absent; `None`: present but not a plain string, so the
    /// whole START goes to serde.
    fn string(&mut self, key_with_comma: &[u8]) -> Option<Option<String>> {
        Some(self.str(key_with_comma)?.map(str::to_owned))
    }

    /// Reads `op` if it comes next, as [`Start::op`] holds it. A known
    /// operation is matched as it is written, which every START this crate
    /// sends has, without the scan a string takes (a quarter of the
    /// parse); its plain spelling is the only one, so the result is what
    /// [`Reader::str`] and [`Start::op_name`] make of it.
    fn op(&mut self) -> Option<Option<Cow<'static, str>>> {
        if !self.key(OP) {
            return Some(None);
        }
        for known in KNOWN_OPS {
            let after = self
                .rest
                .strip_prefix(b"\"")
                .and_then(|r| r.strip_prefix(known.as_bytes()))
                .and_then(|r| r.strip_prefix(b"\""));
            if let Some(after) = after {
                self.rest = after;
                return Some(Some(Cow::Borrowed(known)));
            }
        }
        Some(Some(Start::op_name(self.plain()?)))
    }

    /// [`Reader::string`], borrowed from the input.
    fn str(&mut self, key_with_comma: &[u8]) -> Option<Option<&'a str>> {
        if !self.key(key_with_comma) {
            return Some(None);
        }
        Some(Some(self.plain()?))
    }

    /// Reads the plain string that comes next, if it is one.
    fn plain(&mut self) -> Option<&'a str> {
        let (text, after) = plain_string(self.rest)?;
        self.rest = after;
        Some(text)
    }
}

/// The string fields in declaration order, with their keys.
fn strings<'a>(start: &StartRef<'a>) -> [(&'static [u8], Option<&'a str>); 5] {
    [
        (OP, start.op),
        (TOPIC, start.topic),
        (ADDR, start.addr),
        (COLLECTION, start.collection),
        (ID, start.doc_id),
    ]
}

/// Writes `start` byte-for-byte as serde_json would, with one exactly
/// sized allocation, or `None` if one of its strings needs escaping (rare
/// enough that the caller just uses serde_json for the whole START).
///
/// The buffer is sized exactly, so turning it into `Bytes` takes it over
/// without a second allocation.
pub(super) fn encode(start: &Start) -> Option<Bytes> {
    let mut out = Vec::new();
    encode_into(&StartRef::from(start), &mut out).then(|| Bytes::from(out))
}

/// Appends what [`encode`] writes to `out` (see [`reserve_for`]);
/// `false`, with nothing written, if a string needs escaping.
pub(super) fn encode_into(start: &StartRef<'_>, out: &mut Vec<u8>) -> bool {
    let strings = strings(start);
    if strings
        .iter()
        .any(|(_, text)| text.is_some_and(has_escapes))
    {
        return false;
    }
    let len = encoded_len(start.corr_id, &strings);
    reserve_for(out, len);
    let begin = out.len();
    out.extend_from_slice(OPEN);
    let mut first = true;
    if let Some(n) = start.corr_id {
        out.extend_from_slice(key(CORR_ID, first));
        put_u64(out, n);
        first = false;
    }
    for (k, text) in strings {
        if let Some(text) = text {
            out.extend_from_slice(key(k, first));
            put_plain_string(out, text);
            first = false;
        }
    }
    out.extend_from_slice(CLOSE);
    // A wrong sum would only cost a reallocation, but it would be a bug.
    debug_assert_eq!(out.len() - begin, len, "encoded_len disagrees with encode");
    true
}

/// The length [`encode`] writes for these fields (no string needing
/// escapes).
fn encoded_len(corr_id: Option<u64>, strings: &[(&[u8], Option<&str>); 5]) -> usize {
    let mut fields = 0;
    let mut len = corr_id.map_or(0, |n| {
        fields += 1;
        CORR_ID.len() + u64_len(n)
    });
    for (k, text) in strings {
        if let Some(text) = text {
            fields += 1;
            len += k.len() + 2 + text.len();
        }
    }
    // The first field written has no comma.
    OPEN.len() + len - usize::from(fields > 0) + CLOSE.len()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use super::*;
    use crate::object_id::ObjectId;
    use crate::payload::canonical::needs_escape;
    use crate::payload::fast_test_support::{
        apply, assert_encode_into_appends, assert_fast_path_agrees, assert_left_to_serde, edits,
        nearby_byte, number, object_id,
    };
    use crate::payload::json::from_slice_bounded;
    use crate::payload::{ControlPayload, PayloadError};

    /// Bytes that matter to this parser: structure, the keys' letters,
    /// escapes, and the edges of the plain-string range.
    const PARSER_BYTES: &[u8] =
        b"0123456789abcdef{}\":,-+.eE \t\n\\/~bnullcorid_ptgsaklun\x00\x1f\x7f\x80\xc3\xa9";

    /// What the trait's default `decode` (bounded serde) alone makes of
    /// `bytes`: START's decode before the fast path.
    fn serde_only(bytes: &[u8]) -> Result<Start, PayloadError> {
        from_slice_bounded(bytes)
    }

    /// serde_json's bytes for `start`: START's encode before the fast path.
    fn serde_bytes(start: &Start) -> Vec<u8> {
        serde_json::to_vec(start).expect("serialise")
    }

    /// `Start::decode` (fast path, then fallback) and serde alone agree on
    /// `bytes`; and whatever the fast path accepts on its own, serde
    /// accepts with the same value.
    fn assert_same_as_serde(bytes: &[u8]) -> Result<(), TestCaseError> {
        assert_fast_path_agrees(bytes, Start::decode, serde_only, decode)
    }

    /// Whether any string of `start` needs escaping (so neither the writer
    /// nor the reader takes it).
    fn escapes(start: &Start) -> bool {
        strings(&StartRef::from(start))
            .iter()
            .any(|(_, text)| text.is_some_and(has_escapes))
    }

    /// Whether the reader takes every string of `start` as written.
    fn all_plain(start: &Start) -> bool {
        !escapes(start)
    }

    fn addr() -> String {
        ObjectId::of(b"start").to_string()
    }

    /// The client's STARTs.
    fn client_starts() -> Vec<Start> {
        vec![
            Start {
                corr_id: Some(7),
                op: Some("put".into()),
                collection: Some("docs".into()),
                doc_id: Some("doc-000042".into()),
                ..Start::default()
            },
            Start {
                corr_id: Some(8),
                op: Some("get".into()),
                addr: Some(addr()),
                ..Start::default()
            },
            Start {
                op: Some("put".into()),
                collection: Some("docs".into()),
                doc_id: Some("doc-000042".into()),
                ..Start::default()
            },
            Start {
                op: Some("get".into()),
                addr: Some(addr()),
                ..Start::default()
            },
            Start {
                op: Some("subscribe".into()),
                topic: Some("news/world".into()),
                ..Start::default()
            },
            Start {
                topic: Some("legacy".into()),
                ..Start::default()
            },
        ]
    }

    /// Every subset of the six fields, with values of several lengths.
    fn every_shape() -> Vec<Start> {
        let mut starts = Vec::new();
        for mask in 0u32..64 {
            for (n, text) in [
                (0, ""),
                (9, "x"),
                (u64::MAX, "~ printable !#$%&'()*+,-./:;<=>?@[]^_`{|}"),
            ] {
                let text = |bit: u32| (mask & (1 << bit) != 0).then(|| text.to_owned());
                starts.push(Start {
                    corr_id: (mask & 1 != 0).then_some(n),
                    op: text(1).map(Into::into),
                    topic: text(2),
                    addr: text(3),
                    collection: text(4),
                    doc_id: text(5),
                });
            }
        }
        starts
    }

    /// The three operations are borrowed, whether a START is made or read;
    /// any other is kept as sent.
    #[test]
    fn known_operations_are_borrowed() {
        for op in ["put", "get", "subscribe"] {
            assert!(matches!(Start::op_name(op), Cow::Borrowed(o) if o == op));
            let read = decode(format!(r#"{{"op":"{op}"}}"#).as_bytes()).expect("fast");
            assert!(matches!(read.op, Some(Cow::Borrowed(o)) if o == op));
        }
        assert!(matches!(Start::op_name("delete"), Cow::Owned(o) if o == "delete"));
        let read = decode(br#"{"op":"Put"}"#).expect("fast");
        assert!(matches!(read.op, Some(Cow::Owned(o)) if o == "Put"));
    }

    #[test]
    fn canonical_shapes_take_the_fast_path() {
        for start in client_starts().into_iter().chain(every_shape()) {
            let bytes = start.encode();
            assert_eq!(bytes[..], serde_bytes(&start)[..]);
            assert_eq!(decode(&bytes).as_ref(), Some(&start), "{bytes:?}");
            assert_same_as_serde(&bytes).expect("same as serde");
        }
        assert_eq!(decode(b"{}"), Some(Start::default()));
        assert_eq!(
            &client_starts()[0].encode()[..],
            br#"{"corr_id":7,"op":"put","collection":"docs","id":"doc-000042"}"#
        );
    }

    /// `{"corr_id":1,"op":"put",<tail>}`.
    fn with_tail(tail: &str) -> Vec<u8> {
        format!(r#"{{"corr_id":1,"op":"put"{tail}}}"#).into_bytes()
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        let not_canonical: Vec<Vec<u8>> = vec![
            // Valid JSON serde accepts, in shapes the encoder never writes.
            b"{ }".to_vec(),
            b"{} ".to_vec(),
            br#"{"op" :"put"}"#.to_vec(),
            br#"{"op": "put"}"#.to_vec(),
            br#"{"op":"put" }"#.to_vec(),
            br#"{"op":"put","corr_id":1}"#.to_vec(),
            br#"{"id":"a","collection":"c"}"#.to_vec(),
            br#"{"addr":"a","topic":"t"}"#.to_vec(),
            br#"{"corr_id":null}"#.to_vec(),
            br#"{"op":null}"#.to_vec(),
            with_tail(r#","id":null"#),
            br#"{"extra":1}"#.to_vec(),
            with_tail(r#","extra":"x""#),
            with_tail(r#","collection":"c","id":"i","extra":1"#),
            br#"{"o\u0070":"put"}"#.to_vec(),
            // Repeated fields: serde's error, not a silent last-one-wins.
            br#"{"corr_id":1,"corr_id":2}"#.to_vec(),
            with_tail(r#","op":"get""#),
            with_tail(r#","id":"a","id":"b""#),
            // Commas out of place.
            br#"{,"op":"put"}"#.to_vec(),
            br#"{"corr_id":1"op":"put"}"#.to_vec(),
            with_tail(","),
            // Numbers JSON or u64 refuse, or strings where numbers go.
            br#"{"corr_id":01}"#.to_vec(),
            br#"{"corr_id":-1}"#.to_vec(),
            br#"{"corr_id":+1}"#.to_vec(),
            br#"{"corr_id":1.0}"#.to_vec(),
            br#"{"corr_id":1e3}"#.to_vec(),
            br#"{"corr_id":18446744073709551616}"#.to_vec(),
            br#"{"corr_id":"1"}"#.to_vec(),
            br#"{"op":1}"#.to_vec(),
            // Strings with escapes or raw control characters: serde
            // reads them.
            with_tail(r#","id":"a\"b""#),
            with_tail(r#","id":"a\\b""#),
            with_tail(r#","id":"a\/b""#),
            with_tail(r#","id":"\u0041""#),
            with_tail(",\"id\":\"a\tb\""),
            with_tail(",\"id\":\"a\u{0}b\""),
            // Truncated, unterminated, trailing, or not an object.
            b"".to_vec(),
            b"{".to_vec(),
            br#"{"op":"put""#.to_vec(),
            br#"{"op":"put}"#.to_vec(),
            br#"{"op":"put"}}"#.to_vec(),
            b"null".to_vec(),
            b"[]".to_vec(),
        ];
        assert_left_to_serde(&not_canonical, decode, assert_same_as_serde);
        // DEL and non-ASCII are their own value, as in every fast path:
        // read here, to the same string serde reads.
        for text in ["a\u{7f}b", "é", "\u{1f980}"] {
            let bytes = with_tail(&format!(",\"id\":\"{text}\""));
            assert_eq!(decode(&bytes).and_then(|s| s.doc_id), Some(text.to_owned()));
            assert_same_as_serde(&bytes).expect("same as serde");
        }
        // Invalid UTF-8 inside a string.
        for bad in [0xff, 0x80, 0xc3] {
            let mut bytes = with_tail(r#","id":"ab""#);
            let at = bytes.len() - 3;
            bytes[at] = bad;
            assert_eq!(decode(&bytes), None);
            assert_same_as_serde(&bytes).expect("same as serde");
        }
        // The fallback still accepts what serde always accepted.
        assert_eq!(
            Start::decode(&not_canonical[5]).expect("reordered"),
            Start {
                corr_id: Some(1),
                op: Some("put".into()),
                ..Start::default()
            }
        );
        assert_eq!(
            Start::decode(&with_tail(",\"id\":\"é\"")).expect("non-ASCII"),
            Start {
                corr_id: Some(1),
                op: Some("put".into()),
                doc_id: Some("é".into()),
                ..Start::default()
            }
        );
    }

    #[test]
    fn oversized_starts_get_the_size_error() {
        let long = |len: usize| Start {
            corr_id: Some(1),
            doc_id: Some("a".repeat(len)),
            ..Start::default()
        };
        let fixed = long(0).encode().len();
        // Exactly at the bound takes the fast path; one byte over does not.
        let at_bound = long(MAX_CONTROL_JSON - fixed);
        let bytes = at_bound.encode();
        assert_eq!(bytes.len(), MAX_CONTROL_JSON);
        assert_eq!(decode(&bytes), Some(at_bound));
        assert_same_as_serde(&bytes).expect("same as serde");
        let bytes = long(MAX_CONTROL_JSON + 1 - fixed).encode();
        assert_eq!(
            bytes[..],
            serde_bytes(&long(MAX_CONTROL_JSON + 1 - fixed))[..]
        );
        assert_eq!(decode(&bytes), None);
        assert!(matches!(
            Start::decode(&bytes),
            Err(PayloadError::JsonTooLarge { .. })
        ));
        assert_same_as_serde(&bytes).expect("same as serde");
    }

    #[test]
    fn encode_writes_what_serde_writes() {
        let texts = [
            None,
            Some(""),
            Some("put"),
            Some("say \"hi\""),
            Some("back\\slash"),
            Some("tab\there, nul\u{0}, unit sep\u{1f}"),
            Some("del\u{7f}"),
            Some("é 漢字 🦀 \u{2028}"),
        ];
        for text in texts {
            for n in [None, Some(0), Some(9), Some(10), Some(u64::MAX)] {
                for field in 0..5 {
                    let mut start = Start {
                        corr_id: n,
                        ..Start::default()
                    };
                    set_string(&mut start, field, text.map(str::to_owned));
                    let serde = serde_bytes(&start);
                    assert_eq!(start.encode()[..], serde[..], "{start:?}");
                    match encode(&start) {
                        Some(fast) => assert_eq!(fast[..], serde[..], "{start:?}"),
                        None => assert!(escapes(&start), "{start:?}"),
                    }
                    assert_eq!(encode(&start).is_none(), escapes(&start), "{start:?}");
                }
            }
        }
    }

    /// Sets string field `field` (0 to 4, in declaration order).
    fn set_string(start: &mut Start, field: usize, text: Option<String>) {
        match field {
            0 => start.op = text.map(Into::into),
            1 => start.topic = text,
            2 => start.addr = text,
            3 => start.collection = text,
            _ => start.doc_id = text,
        }
    }

    /// Each character alone, in each string field, so one mis-drawn edge
    /// of either byte set (say U+001F or `~`) cannot hide behind another
    /// character that sends the whole string to serde anyway.
    #[test]
    fn every_ascii_character_is_written_and_read_as_serde_does() {
        for c in (0..=0x7f)
            .map(char::from)
            .chain(['\u{80}', 'é', '\u{2028}', '🦀'])
        {
            let text = format!("a{c}b");
            for field in 0..5 {
                let mut start = client_starts()[0].clone();
                set_string(&mut start, field, Some(text.clone()));
                let bytes = start.encode();
                assert_eq!(bytes[..], serde_bytes(&start)[..], "{c:?}");
                assert_eq!(
                    encode(&start).is_none(),
                    c.is_ascii() && needs_escape(c as u8)
                );
                let plain = !(c.is_ascii() && needs_escape(c as u8));
                assert_eq!(decode(&bytes).is_some(), plain, "{c:?}");
                assert_same_as_serde(&bytes).expect("same as serde");
            }
            // The character raw, as a peer might send it.
            let mut raw = with_tail(r#","id":"a"#);
            raw.pop();
            raw.extend_from_slice(c.to_string().as_bytes());
            raw.extend_from_slice(br#"b"}"#);
            let plain = !(c.is_ascii() && needs_escape(c as u8));
            assert_eq!(decode(&raw).is_some(), plain, "{c:?}");
            assert_same_as_serde(&raw).expect("same as serde");
        }
    }

    /// Strings as clients write them, printable ASCII (quotes and
    /// backslashes included), and any characters at all.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(&["put", "get", "subscribe", "docs", ""][..])
                .prop_map(str::to_owned),
            object_id().prop_map(|id| id.to_string()),
            "[ -~]{0,24}",
            proptest::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        ]
    }

    fn start() -> impl Strategy<Value = Start> {
        (
            proptest::option::of(number()),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(text()),
        )
            .prop_map(|(corr_id, op, topic, addr, collection, doc_id)| Start {
                corr_id,
                op: op.map(Into::into),
                topic,
                addr,
                collection,
                doc_id,
            })
    }

    /// Pieces of STARTs, right and wrong, to string together: sequences of
    /// these reach the fast path far more often than random bytes do.
    fn token() -> impl Strategy<Value = Vec<u8>> {
        let fixed: &[&[u8]] = &[
            CORR_ID,
            OP,
            TOPIC,
            ADDR,
            COLLECTION,
            ID,
            &CORR_ID[1..],
            &OP[1..],
            &TOPIC[1..],
            &ADDR[1..],
            &COLLECTION[1..],
            &ID[1..],
            br#","other":"#,
            b"0",
            b"1",
            b"01",
            b"-1",
            b"1.5",
            b"1e3",
            b"18446744073709551615",
            b"18446744073709551616",
            br#""put""#,
            br#""get""#,
            br#""""#,
            br#""a\"b""#,
            br#""a\\b""#,
            br#""\u0041""#,
            "\"\u{7f}\"".as_bytes(),
            "\"é\"".as_bytes(),
            b"\"a\tb\"",
            b"\"",
            b"null",
            b"true",
            b"}",
            b"{",
            b",",
            b" ",
        ];
        prop_oneof![
            4 => proptest::sample::select(fixed.to_vec()).prop_map(<[u8]>::to_vec),
            1 => text().prop_map(|t| format!("\"{t}\"").into_bytes()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn encoded_starts_round_trip_through_the_fast_path(start in start()) {
            let bytes = start.encode();
            prop_assert_eq!(&bytes[..], &serde_bytes(&start)[..]);
            assert_encode_into_appends(&start, &bytes)?;
            prop_assert_eq!(encode(&start).is_none(), escapes(&start));
            // Strings that are not plain ASCII are left to serde;
            // everything else is read back by the fast path itself.
            prop_assert_eq!(decode(&bytes), all_plain(&start).then(|| start.clone()));
            prop_assert_eq!(Start::decode(&bytes).ok(), Some(start));
            assert_same_as_serde(&bytes)?;
        }

        #[test]
        fn mutated_starts_decode_as_serde_decodes_them(
            start in start(),
            edits in edits(PARSER_BYTES),
        ) {
            assert_same_as_serde(&apply(start.encode().to_vec(), &edits))?;
        }

        #[test]
        fn arbitrary_bytes_decode_as_serde_decodes_them(
            bytes in proptest::collection::vec(nearby_byte(PARSER_BYTES), 0..160),
        ) {
            assert_same_as_serde(&bytes)?;
        }

        #[test]
        fn strung_together_pieces_decode_as_serde_decodes_them(
            open in proptest::bool::weighted(0.8),
            tokens in proptest::collection::vec(token(), 0..9),
            close in proptest::bool::weighted(0.8),
        ) {
            let mut bytes = Vec::new();
            if open {
                bytes.extend_from_slice(OPEN);
            }
            tokens.iter().for_each(|t| bytes.extend_from_slice(t));
            if close {
                bytes.extend_from_slice(CLOSE);
            }
            assert_same_as_serde(&bytes)?;
        }
    }
}
