//! A hand-rolled reader and writer for the JSON shapes HELLO takes on the
//! wire.
//!
//! Every connection opens with two HELLOs, the client's and the server's
//! answer, so where a connection carries one request (clients that connect
//! per request) they cost as much as the request's own control frames:
//! through serde_json, about 2,200 instructions of the gateway's 52,000 per
//! connection (`docs/PERFORMANCE.md`). serde_json writes the fields in
//! declaration order, without whitespace, skipping absent ones; `hello` is
//! always there, so always first:
//!
//! ```text
//! {"hello":"…"[,"max_frame":N][,"max_inflight":N][,"credit":N][,"app_proto_id":"…"][,"tenant":"…"][,"token":"…"]}
//! ```
//!
//! Those exact shapes are read here directly: the original client's
//! `{"hello":"oap/1"}` and the server's answer with its three limits among
//! them.
//!
//! The reader answers `None` for anything it is not certain about
//! (whitespace, other key order, unknown or repeated fields, `null`,
//! leading zeros, signs, fractions, exponents, numbers past what the field
//! holds, input past the control-JSON bound, and any string holding a
//! quote, a backslash, a control character or invalid UTF-8: the one
//! plain-string rule of [`canonical`](super::canonical) that every fast
//! path shares). The caller then takes the bounded serde path, which
//! decides and reports errors exactly as it did before this fast path
//! existed. Whatever the reader does accept, that path parses to the same
//! [`Hello`].

use std::borrow::Cow;

use super::canonical::{
    has_escapes, plain_string, put_plain_string, put_u64, read_u64, reserve_for, u64_len,
};
use super::{Hello, PROTOCOL_NAME};
use crate::limits::MAX_CONTROL_JSON;

/// Start of every HELLO, up to the protocol name's string.
const OPEN: &[u8] = br#"{"hello":"#;
/// The optional fields' keys, each with the comma before it.
const MAX_FRAME: &[u8] = br#","max_frame":"#;
const MAX_INFLIGHT: &[u8] = br#","max_inflight":"#;
const CREDIT: &[u8] = br#","credit":"#;
const APP_PROTO_ID: &[u8] = br#","app_proto_id":"#;
const TENANT: &[u8] = br#","tenant":"#;
const TOKEN: &[u8] = br#","token":"#;
/// End of every HELLO.
const CLOSE: &[u8] = b"}";

/// Reads a HELLO in exactly one of the encoder's shapes, or `None` if
/// `bytes` is anything else (the caller then falls back to serde).
pub(super) fn decode(bytes: &[u8]) -> Option<Hello> {
    // The serde path refuses oversized input before parsing; only long
    // strings can get here, and they must get the same error.
    if bytes.len() > MAX_CONTROL_JSON {
        return None;
    }
    let (hello, rest) = plain_string(bytes.strip_prefix(OPEN)?)?;
    let mut reader = Reader { rest };
    let hello = Hello {
        hello: protocol_name(hello),
        max_frame: reader.u32(MAX_FRAME)?,
        max_inflight: reader.u32(MAX_INFLIGHT)?,
        credit: reader.u64(CREDIT)?,
        app_proto_id: reader.string(APP_PROTO_ID)?,
        tenant: reader.string(TENANT)?,
        token: reader.string(TOKEN)?,
    };
    (reader.rest == CLOSE).then_some(hello)
}

/// HELLO's protocol name, borrowed when it is this crate's.
fn protocol_name(name: &str) -> Cow<'static, str> {
    if name == PROTOCOL_NAME {
        Cow::Borrowed(PROTOCOL_NAME)
    } else {
        Cow::Owned(name.to_owned())
    }
}

/// What is left of the object after the fields read so far.
struct Reader<'a> {
    rest: &'a [u8],
}

/// Each reader: `Some(None)` if the field is absent (its key does not come
/// next); `None` if it is present but not in the encoder's spelling, so the
/// whole HELLO goes to serde.
impl Reader<'_> {
    fn u64(&mut self, key: &[u8]) -> Option<Option<u64>> {
        let Some(after) = self.rest.strip_prefix(key) else {
            return Some(None);
        };
        let (n, after) = read_u64(after)?;
        self.rest = after;
        Some(Some(n))
    }

    /// A `u64` field's spelling, and a value that fits a `u32` (serde
    /// refuses a larger one, with its own error).
    fn u32(&mut self, key: &[u8]) -> Option<Option<u32>> {
        match self.u64(key)? {
            None => Some(None),
            Some(n) => u32::try_from(n).ok().map(Some),
        }
    }

    fn string(&mut self, key: &[u8]) -> Option<Option<String>> {
        let Some(after) = self.rest.strip_prefix(key) else {
            return Some(None);
        };
        let (text, after) = plain_string(after)?;
        self.rest = after;
        Some(Some(text.to_owned()))
    }
}

/// The string fields after `hello`, in declaration order, with their keys.
fn strings(hello: &Hello) -> [(&'static [u8], Option<&str>); 3] {
    [
        (APP_PROTO_ID, hello.app_proto_id.as_deref()),
        (TENANT, hello.tenant.as_deref()),
        (TOKEN, hello.token.as_deref()),
    ]
}

/// The number fields, in declaration order, with their keys.
fn numbers(hello: &Hello) -> [(&'static [u8], Option<u64>); 3] {
    [
        (MAX_FRAME, hello.max_frame.map(u64::from)),
        (MAX_INFLIGHT, hello.max_inflight.map(u64::from)),
        (CREDIT, hello.credit),
    ]
}

/// Appends `hello` byte-for-byte as serde_json would write it, or returns
/// `false`, with nothing written, if one of its strings needs escaping
/// (rare enough that the caller just uses serde_json for the whole HELLO).
pub(super) fn encode_into(hello: &Hello, out: &mut Vec<u8>) -> bool {
    let strings = strings(hello);
    if has_escapes(&hello.hello) || strings.iter().any(|(_, s)| s.is_some_and(has_escapes)) {
        return false;
    }
    let numbers = numbers(hello);
    let len = OPEN.len()
        + hello.hello.len()
        + 2
        + numbers
            .iter()
            .filter_map(|(k, n)| Some(k.len() + u64_len((*n)?)))
            .sum::<usize>()
        + strings
            .iter()
            .filter_map(|(k, s)| Some(k.len() + (*s)?.len() + 2))
            .sum::<usize>()
        + CLOSE.len();
    reserve_for(out, len);
    let begin = out.len();
    out.extend_from_slice(OPEN);
    put_plain_string(out, &hello.hello);
    for (key, n) in numbers {
        if let Some(n) = n {
            out.extend_from_slice(key);
            put_u64(out, n);
        }
    }
    for (key, text) in strings {
        if let Some(text) = text {
            out.extend_from_slice(key);
            put_plain_string(out, text);
        }
    }
    out.extend_from_slice(CLOSE);
    // A wrong sum would only cost a reallocation, but it would be a bug.
    debug_assert_eq!(
        out.len() - begin,
        len,
        "the length disagrees with the bytes"
    );
    true
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::payload::canonical::needs_escape;
    use crate::payload::fast_test_support::{
        apply, assert_encode_into_appends, assert_fast_path_agrees, assert_left_to_serde, edits,
        nearby_byte, number,
    };
    use crate::payload::json::from_slice_bounded;
    use crate::payload::{ControlPayload, PayloadError};

    /// Bytes that matter to this parser: structure, the keys' letters,
    /// escapes, and the edges of the plain-string range.
    const PARSER_BYTES: &[u8] =
        b"0123456789{}\":,-+.eE \t\n\\/helomax_frinfgtcdpptnkoab\x00\x1f\x7f\x80\xc3\xa9";

    /// What the bounded serde path alone makes of `bytes`: HELLO's decode
    /// before the fast path.
    fn serde_only(bytes: &[u8]) -> Result<Hello, PayloadError> {
        from_slice_bounded(bytes)
    }

    /// serde_json's bytes for `hello`.
    fn serde_bytes(hello: &Hello) -> Vec<u8> {
        serde_json::to_vec(hello).expect("serialise")
    }

    /// The fast writer's bytes, if it takes `hello`.
    fn fast_bytes(hello: &Hello) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        encode_into(hello, &mut out).then_some(out)
    }

    /// `Hello::decode` (fast path, then fallback) and serde alone agree on
    /// `bytes`; and whatever the fast path accepts on its own, serde
    /// accepts with the same value.
    fn assert_same_as_serde(bytes: &[u8]) -> Result<(), TestCaseError> {
        assert_fast_path_agrees(bytes, Hello::decode, serde_only, decode)
    }

    fn server_answer() -> Hello {
        Hello {
            max_frame: Some(1_048_576),
            max_inflight: Some(32),
            credit: Some(65_536),
            ..Hello::legacy()
        }
    }

    #[test]
    fn the_shapes_peers_send_take_the_fast_path() {
        let everything = Hello {
            app_proto_id: Some("storage/1".into()),
            tenant: Some("acme".into()),
            token: Some("t0k3n".into()),
            ..server_answer()
        };
        for hello in [Hello::legacy(), server_answer(), everything] {
            let bytes = serde_bytes(&hello);
            assert_eq!(decode(&bytes), Some(hello.clone()), "{hello:?}");
            assert_eq!(fast_bytes(&hello), Some(bytes));
        }
        assert_eq!(
            fast_bytes(&server_answer()).expect("plain"),
            br#"{"hello":"oap/1","max_frame":1048576,"max_inflight":32,"credit":65536}"#
        );
    }

    /// This crate's protocol name is borrowed, never copied, whether a
    /// HELLO is made or read; another name a peer sends is kept as sent.
    #[test]
    fn the_protocol_name_is_borrowed_when_it_is_ours() {
        assert!(matches!(
            Hello::legacy().hello,
            Cow::Borrowed(PROTOCOL_NAME)
        ));
        let ours = decode(&serde_bytes(&server_answer())).expect("fast");
        assert!(matches!(ours.hello, Cow::Borrowed(PROTOCOL_NAME)));
        let theirs = decode(br#"{"hello":"oap/2"}"#).expect("fast");
        assert!(matches!(&theirs.hello, Cow::Owned(name) if name == "oap/2"));
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        let not_canonical: &[&[u8]] = &[
            // Valid JSON serde accepts, in shapes the encoder never writes.
            br#"{ "hello":"oap/1"}"#,
            br#"{"hello":"oap/1" }"#,
            br#"{"max_frame":1,"hello":"oap/1"}"#,
            br#"{"hello":"oap/1","credit":1,"max_frame":2}"#,
            br#"{"hello":"oap/1","max_frame":null}"#,
            br#"{"hello":"oap/1","token":null}"#,
            br#"{"hello":"oap/1","extra":true}"#,
            br#"{"hello":"oap\/1"}"#,
            br#"{"hello":"\u006fap/1"}"#,
            // Numbers JSON or the fields refuse: serde must produce the error.
            br#"{"hello":"oap/1","max_frame":4294967296}"#,
            br#"{"hello":"oap/1","max_inflight":99999999999}"#,
            br#"{"hello":"oap/1","credit":18446744073709551616}"#,
            br#"{"hello":"oap/1","credit":01}"#,
            br#"{"hello":"oap/1","credit":-1}"#,
            br#"{"hello":"oap/1","credit":1.0}"#,
            // Repeated, truncated or missing parts.
            br#"{"hello":"oap/1","credit":1,"credit":2}"#,
            br#"{"hello":"oap/1","tenant":"a","tenant":"b"}"#,
            br#"{"hello":"oap/1""#,
            br#"{"hello":"oap/1"}}"#,
            br#"{"hello":}"#,
            br#"{"hello":"a"b"}"#,
            b"{}",
            b"",
        ];
        assert_left_to_serde(not_canonical, decode, assert_same_as_serde);
        // The fallback still accepts what serde always accepted.
        assert_eq!(
            Hello::decode(br#"{"credit":7,"hello":"oap/1"}"#).expect("reordered"),
            Hello {
                credit: Some(7),
                ..Hello::legacy()
            }
        );
    }

    #[test]
    fn a_string_that_needs_escaping_goes_to_serde_whole() {
        for s in ["a\"b", "a\\b", "tab\there", "\u{1}"] {
            assert!(s.bytes().any(needs_escape));
            let hello = Hello {
                tenant: Some(s.into()),
                ..server_answer()
            };
            assert_eq!(fast_bytes(&hello), None);
            let mut out = b"kept".to_vec();
            assert!(!encode_into(&hello, &mut out));
            assert_eq!(out, b"kept", "nothing written");
            // The public encoder still writes serde's bytes, which decode back.
            assert_eq!(hello.encode()[..], serde_bytes(&hello)[..]);
            assert_eq!(Hello::decode(&hello.encode()).expect("decode"), hello);
        }
    }

    #[test]
    fn input_past_the_control_json_bound_is_left_to_serde() {
        let mut long = br#"{"hello":""#.to_vec();
        long.resize(MAX_CONTROL_JSON + 1, b'a');
        long.extend_from_slice(br#""}"#);
        assert_eq!(decode(&long), None);
        assert_same_as_serde(&long).expect("same as serde");
    }

    /// Strings: plain ones the fast path writes itself, and any others.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9/_.:-]{0,12}",
            any::<String>(),
            Just("oap/1".to_owned()),
        ]
    }

    fn hello() -> impl Strategy<Value = Hello> {
        (
            text(),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(number()),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(text()),
        )
            .prop_map(
                |(hello, max_frame, max_inflight, credit, app_proto_id, tenant, token)| Hello {
                    hello: hello.into(),
                    max_frame,
                    max_inflight,
                    credit,
                    app_proto_id,
                    tenant,
                    token,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn the_writer_writes_serde_bytes_and_the_reader_reads_them_back(hello in hello()) {
            let serde = serde_bytes(&hello);
            if let Some(fast) = fast_bytes(&hello) {
                prop_assert_eq!(&fast, &serde);
                prop_assert_eq!(decode(&fast), Some(hello.clone()));
            }
            prop_assert_eq!(&hello.encode()[..], &serde[..]);
            assert_encode_into_appends(&hello, &hello.encode())?;
            assert_same_as_serde(&serde)?;
        }

        #[test]
        fn mutated_hellos_decode_as_serde_decodes_them(
            hello in hello(),
            edits in edits(PARSER_BYTES),
        ) {
            assert_same_as_serde(&apply(serde_bytes(&hello), &edits))?;
        }

        #[test]
        fn arbitrary_bytes_decode_as_serde_decodes_them(
            bytes in proptest::collection::vec(nearby_byte(PARSER_BYTES), 0..100),
        ) {
            assert_same_as_serde(&bytes)?;
        }
    }
}
