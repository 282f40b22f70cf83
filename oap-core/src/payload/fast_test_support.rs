//! What the fast-path tests share (HELLO, START, ACK, DATA header, END):
//! numbers with their edges over-represented, small byte edits of an
//! encoding, and the checks that a fast path agrees with serde.

use std::fmt::Debug;

use proptest::prelude::*;

use super::{ControlPayload, PayloadError};
use crate::object_id::ObjectId;

/// Numbers of every length, with the edges over-represented.
pub(super) fn number() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0..1_000u64,
        (0..20u32).prop_map(|e| 10u64.pow(e)),
        (1..20u32).prop_map(|e| 10u64.pow(e) - 1),
        Just(u64::MAX),
    ]
}

/// Any object id.
pub(super) fn object_id() -> impl Strategy<Value = ObjectId> {
    any::<[u8; 32]>().prop_map(ObjectId::from_bytes)
}

/// `parser_bytes` (what matters to the parser being tested), or any byte.
pub(super) fn nearby_byte(parser_bytes: &'static [u8]) -> impl Strategy<Value = u8> {
    prop_oneof![proptest::sample::select(parser_bytes), any::<u8>()]
}

/// One edit of a byte string: replace, insert or delete at a position
/// (taken modulo the length).
#[derive(Debug, Clone)]
pub(super) enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

/// An edit whose new bytes come from `nearby_byte(parser_bytes)`.
pub(super) fn edit(parser_bytes: &'static [u8]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), nearby_byte(parser_bytes)).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), nearby_byte(parser_bytes)).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

/// One to three edits.
pub(super) fn edits(parser_bytes: &'static [u8]) -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(edit(parser_bytes), 1..4)
}

/// `bytes` with `edits` applied in order.
pub(super) fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
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
    bytes
}

/// Two decode results agree: the same value, or errors of the same variant
/// with the same message. `Debug` covers both, down to serde_json's line
/// and column.
pub(super) fn assert_same_result<T: PartialEq + Debug>(
    input: &[u8],
    with_fast: &Result<T, PayloadError>,
    serde: &Result<T, PayloadError>,
) -> Result<(), TestCaseError> {
    match (with_fast, serde) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        (Err(a), Err(b)) => prop_assert_eq!(format!("{a:?}"), format!("{b:?}")),
        _ => prop_assert!(
            false,
            "{:?}: fast path gave {:?}, serde {:?}",
            String::from_utf8_lossy(input),
            with_fast,
            serde
        ),
    }
    Ok(())
}

/// The public decoder (`public`: the fast path, then the fallback) and serde
/// alone (`serde`) agree on `bytes`; and whatever the fast reader (`fast`)
/// accepts on its own, serde accepts with the same value.
pub(super) fn assert_fast_path_agrees<T: PartialEq + Debug>(
    bytes: &[u8],
    public: impl Fn(&[u8]) -> Result<T, PayloadError>,
    serde: impl Fn(&[u8]) -> Result<T, PayloadError>,
    fast: impl Fn(&[u8]) -> Option<T>,
) -> Result<(), TestCaseError> {
    let serde = serde(bytes);
    assert_same_result(bytes, &public(bytes), &serde)?;
    if let Some(fast) = fast(bytes) {
        prop_assert_eq!(serde.ok(), Some(fast));
    }
    Ok(())
}

/// Each of `cases` is left to serde by the fast reader `fast` (it answers
/// `None`), and the public decoder still agrees with serde on it
/// (`same_as_serde`, the module's own check).
pub(super) fn assert_left_to_serde<T: Debug, B: AsRef<[u8]>>(
    cases: &[B],
    fast: impl Fn(&[u8]) -> Option<T>,
    same_as_serde: impl Fn(&[u8]) -> Result<(), TestCaseError>,
) {
    for bytes in cases.iter().map(AsRef::as_ref) {
        let taken = fast(bytes);
        assert!(
            taken.is_none(),
            "{}: the fast path took it as {taken:?}",
            String::from_utf8_lossy(bytes)
        );
        same_as_serde(bytes).expect("same as serde");
    }
}

/// [`ControlPayload::encode_into`] appends exactly what
/// [`ControlPayload::encode`] returns (`encoded`) after what the buffer
/// already held.
pub(super) fn assert_encode_into_appends<P: ControlPayload>(
    payload: &P,
    encoded: &[u8],
) -> Result<(), TestCaseError> {
    let mut buf = b"held".to_vec();
    payload.encode_into(&mut buf);
    prop_assert_eq!(&buf[..4], b"held");
    prop_assert_eq!(&buf[4..], encoded);
    Ok(())
}
