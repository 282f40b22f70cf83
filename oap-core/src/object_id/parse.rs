//! Parsing the textual form, with errors precise enough to act on.

use super::SCHEME;

/// Why a string is not an object id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ObjectIdError {
    /// No `<algorithm>:` prefix at all.
    #[error("object id must start with \"b3:\"")]
    MissingScheme,
    /// Another algorithm, such as `k12:`; only BLAKE3 addresses objects.
    #[error("unsupported digest algorithm {0:?}: only b3 (BLAKE3-256) is allowed")]
    UnsupportedAlgorithm(String),
    /// The hex part is not 64 digits long (or, for a prefix, empty or longer).
    #[error("object id digest must be 64 hex digits, got {len}")]
    WrongLength {
        /// Number of characters after the scheme.
        len: usize,
    },
    /// An upper-case hex digit: ids have exactly one spelling.
    #[error("upper-case hex digit at position {pos}: object ids are lower-case")]
    Uppercase {
        /// Byte offset within the digest.
        pos: usize,
    },
    /// A character that is not a hex digit.
    #[error("non-hex character at position {pos}")]
    NonHex {
        /// Byte offset within the digest.
        pos: usize,
    },
}

/// Lowercase hex digits, the only spelling an object id has.
pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The two lowercase hex digits of every byte: one lookup per byte where
/// a digit per nibble took two, and [`super::ObjectId::text`] runs for
/// every id a frame carries.
pub(crate) const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut table = [[0; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX_DIGITS[i >> 4], HEX_DIGITS[i & 0xf]];
        i += 1;
    }
    table
};

/// Marks a byte that is not a lowercase hex digit in [`HEX_VALUE`]: a bit
/// no digit's value (0 to 15) has.
pub(crate) const NOT_HEX: u8 = 0x10;

/// The value of every byte as a lowercase hex digit, or [`NOT_HEX`].
///
/// The digits of a hash are random, so testing each for digit-or-letter
/// mispredicts about every other branch; a lookup has no branch, and a bad
/// digit only sets a flag bit that is checked once at the end. Used here
/// and by the payload fast paths (`payload::canonical`).
pub(crate) const HEX_VALUE: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < HEX_DIGITS.len() {
        // `i` is below 16, so the narrowing is exact.
        table[HEX_DIGITS[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Returns the digest part of `s`, or why `s` does not start with `b3:`.
pub(super) fn strip_scheme(s: &str) -> Result<&str, ObjectIdError> {
    if let Some(hex) = s.strip_prefix(SCHEME) {
        return Ok(hex);
    }
    match s.split_once(':') {
        // Cap the echoed name: it comes from the peer.
        Some((alg, _)) => Err(ObjectIdError::UnsupportedAlgorithm(
            alg.chars().take(32).collect(),
        )),
        None => Err(ObjectIdError::MissingScheme),
    }
}

/// Decodes lowercase hex digits into `out` (which may be shorter than
/// `hex.len() / 2` for odd-length prefixes: only whole bytes are written).
///
/// Every digit is checked, written to `out` or not, through [`HEX_VALUE`];
/// only if one is bad is `hex` scanned again to name the first.
pub(super) fn decode_hex(hex: &str, out: &mut [u8]) -> Result<(), ObjectIdError> {
    let hex = hex.as_bytes();
    let mut flags = 0u8;
    let pairs = hex.chunks_exact(2);
    let whole = out.len().min(pairs.len()) * 2;
    for (byte, pair) in out.iter_mut().zip(pairs) {
        let high = HEX_VALUE[usize::from(pair[0])];
        let low = HEX_VALUE[usize::from(pair[1])];
        flags |= high | low;
        // Meaningless if either digit is bad; the error is returned then.
        *byte = high << 4 | low;
    }
    for &b in &hex[whole..] {
        flags |= HEX_VALUE[usize::from(b)];
    }
    if flags & NOT_HEX == 0 {
        return Ok(());
    }
    let first_bad = hex
        .iter()
        .enumerate()
        .find(|&(_, &b)| HEX_VALUE[usize::from(b)] == NOT_HEX);
    match first_bad {
        Some((pos, b'A'..=b'F')) => Err(ObjectIdError::Uppercase { pos }),
        Some((pos, _)) => Err(ObjectIdError::NonHex { pos }),
        // Unreachable (some digit set the flag); refused all the same.
        None => Err(ObjectIdError::NonHex { pos: 0 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digit-by-digit decoder this module had before the table: the
    /// reference for what is accepted and which error is named.
    fn reference(hex: &str, out: &mut [u8]) -> Result<(), ObjectIdError> {
        for (pos, b) in hex.bytes().enumerate() {
            let nibble = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => return Err(ObjectIdError::Uppercase { pos }),
                _ => return Err(ObjectIdError::NonHex { pos }),
            };
            if let Some(byte) = out.get_mut(pos / 2) {
                *byte |= if pos % 2 == 0 { nibble << 4 } else { nibble };
            }
        }
        Ok(())
    }

    /// Both decoders on `hex` into a 32-byte digest and into nothing (as a
    /// prefix is checked): same result, and the same whole bytes when
    /// accepted. (The reference also wrote half a byte for an odd last
    /// digit, against its doc; no caller passes such a digit with room.)
    fn assert_same(hex: &str) {
        for out_len in [32, 0] {
            let (mut got, mut want) = ([0u8; 32], [0u8; 32]);
            let got_result = decode_hex(hex, &mut got[..out_len]);
            let want_result = reference(hex, &mut want[..out_len]);
            assert_eq!(got_result, want_result, "{hex:?} into {out_len}");
            let whole = out_len.min(hex.len() / 2);
            if want_result.is_ok() {
                assert_eq!(got[..whole], want[..whole], "{hex:?}");
            }
        }
    }

    /// Every ASCII character and a few multi-byte ones in every position,
    /// alone and before a second bad digit of either kind, in full digests
    /// and in every prefix.
    #[test]
    fn every_character_in_every_position_decodes_as_before() {
        let hex = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
        let chars = (0..=0x7f_u8).map(char::from).chain(['é', '\u{80}', '€']);
        for c in chars {
            for pos in 0..hex.len() {
                let mut bad = hex.to_owned();
                bad.replace_range(pos..=pos, c.encode_utf8(&mut [0; 4]));
                assert_same(&bad);
                // A second bad digit after the first: the first is named.
                for second in ['G', 'A'] {
                    let mut two = bad.clone();
                    two.push(second);
                    assert_same(&two);
                }
                for len in 1..=bad.len() {
                    if let Some(prefix) = bad.get(..len) {
                        assert_same(prefix);
                    }
                }
            }
        }
    }
}
