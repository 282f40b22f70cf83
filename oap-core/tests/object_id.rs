//! Object id parsing, formatting, hashing and prefix matching.

use oap_core::object_id::{ObjectHasher, ObjectId, ObjectIdError, ObjectIdPrefix};
use proptest::prelude::*;

/// BLAKE3 of the empty input, from the BLAKE3 reference test vectors.
const EMPTY_B3: &str = "b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

#[test]
fn known_answer() {
    assert_eq!(ObjectId::of(b"").to_string(), EMPTY_B3);
    assert_eq!(
        EMPTY_B3.parse::<ObjectId>().expect("parse"),
        ObjectId::of(b"")
    );
}

#[test]
fn precise_parse_errors() {
    let good = ObjectId::of(b"x").to_string();
    let hex = &good[3..];
    assert_eq!(hex.parse::<ObjectId>(), Err(ObjectIdError::MissingScheme));
    assert_eq!(
        format!("k12:{hex}").parse::<ObjectId>(),
        Err(ObjectIdError::UnsupportedAlgorithm("k12".into()))
    );
    assert_eq!(
        format!("b3:{}", &hex[1..]).parse::<ObjectId>(),
        Err(ObjectIdError::WrongLength { len: 63 })
    );
    assert_eq!(
        format!("b3:{hex}0").parse::<ObjectId>(),
        Err(ObjectIdError::WrongLength { len: 65 })
    );
    let upper = format!("b3:A{}", &hex[1..]);
    assert_eq!(
        upper.parse::<ObjectId>(),
        Err(ObjectIdError::Uppercase { pos: 0 })
    );
    let nonhex = format!("b3:{}g", &hex[..63]);
    assert_eq!(
        nonhex.parse::<ObjectId>(),
        Err(ObjectIdError::NonHex { pos: 63 })
    );
    assert_eq!(
        "B3:00".parse::<ObjectId>(),
        Err(ObjectIdError::UnsupportedAlgorithm("B3".into()))
    );
}

#[test]
fn verify_rejects_any_other_bytes() {
    let id = ObjectId::of(b"payload");
    assert!(id.verify(b"payload"));
    assert!(!id.verify(b"payloaD"));
    assert!(!id.verify(b""));
}

#[test]
fn serde_uses_the_text_form() {
    let id = ObjectId::of(b"abc");
    let json = serde_json::to_string(&id).expect("ser");
    assert_eq!(json, format!("\"{id}\""));
    assert_eq!(serde_json::from_str::<ObjectId>(&json).expect("de"), id);
    assert!(serde_json::from_str::<ObjectId>("\"b3:00\"").is_err());
}

#[test]
fn prefix_routes_but_only_full_ids_verify() {
    let id = ObjectId::of(b"routed");
    let text = id.to_string();
    let p: ObjectIdPrefix = text[..3 + 8].parse().expect("prefix");
    assert!(p.matches(&id));
    assert!(!p.matches(&ObjectId::of(b"other")));
    assert_eq!(p.digits(), 8);
    assert_eq!(p.to_full(), None);
    let full: ObjectIdPrefix = text.parse().expect("full prefix");
    assert_eq!(full.to_full(), Some(id));
    assert!("b3:".parse::<ObjectIdPrefix>().is_err());
    assert!("b3:ABC".parse::<ObjectIdPrefix>().is_err());
}

proptest! {
    #[test]
    fn display_parse_roundtrip(bytes in any::<[u8; 32]>()) {
        let id = ObjectId::from_bytes(bytes);
        prop_assert_eq!(id.to_string().parse::<ObjectId>(), Ok(id));
        prop_assert_eq!(id.as_bytes(), &bytes);
        // The text is written by hand; BLAKE3's own hex is the reference.
        prop_assert_eq!(id.to_string(), format!("b3:{}", id.to_hex()));
    }

    #[test]
    fn streaming_hash_equals_one_shot(data in proptest::collection::vec(any::<u8>(), 0..5000),
                                      cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let mut h = ObjectHasher::new();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut from = 0;
        for c in cuts.into_iter().chain(std::iter::once(data.len())) {
            h.update(&data[from..c]);
            from = c;
        }
        prop_assert_eq!(h.len(), data.len() as u64);
        prop_assert_eq!(h.finalize(), ObjectId::of(&data));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,80}") {
        let _ = s.parse::<ObjectId>();
        let _ = s.parse::<ObjectIdPrefix>();
    }
}

proptest! {
    /// Ids are hashed by their first eight bytes: equal ids hash equally,
    /// and ids that share those bytes stay distinct keys of a map.
    #[test]
    fn ids_sharing_their_first_bytes_are_distinct_keys(
        head in any::<[u8; 8]>(),
        tails in proptest::collection::hash_set(any::<[u8; 24]>(), 1..16),
    ) {
        use std::collections::HashMap;
        use std::hash::BuildHasher;
        let ids: Vec<ObjectId> = tails
            .iter()
            .map(|tail| {
                let mut bytes = [0; 32];
                bytes[..8].copy_from_slice(&head);
                bytes[8..].copy_from_slice(tail);
                ObjectId::from_bytes(bytes)
            })
            .collect();
        let state = std::hash::RandomState::new();
        let copy = ObjectId::from_bytes(*ids[0].as_bytes());
        prop_assert_eq!(state.hash_one(ids[0]), state.hash_one(copy));
        let map: HashMap<ObjectId, usize> = ids.iter().copied().zip(0..).collect();
        prop_assert_eq!(map.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            prop_assert_eq!(map.get(id), Some(&i));
        }
    }
}
