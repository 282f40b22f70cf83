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
const NOT_HEX: u8 = 0x10;

/// The value of every byte as a lowercase hex digit, or [`NOT_HEX`]: for
/// the digits [`decode_blocks`] leaves (an odd prefix's last ones), and to
/// find the first bad digit.
///
/// The digits of a hash are random, so testing each for digit-or-letter
/// mispredicts about every other branch; a lookup has no branch, and a bad
/// digit only sets a flag bit that is checked once at the end.
const HEX_VALUE: [u8; 256] = {
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

/// A byte of `0x01` in every byte of a `u64`.
const ONES: u64 = u64::MAX / 0xff;

/// The high bit of each byte of `x` whose value lies strictly between
/// `above` and `below` (both at most 0x80); a byte with its high bit set
/// is in no range. Each byte is computed apart: no carry or borrow
/// crosses into its neighbour, as `127 + below - (byte & 0x7f)` and
/// `(byte & 0x7f) + 127 - above` stay within 0 to 255.
const fn between(x: u64, above: u8, below: u8) -> u64 {
    let low7 = x & (ONES * 0x7f);
    let under = (ONES * (127 + below as u64)) - low7;
    let over = low7 + ONES * (127 - above as u64);
    under & over & !x & (ONES * 0x80)
}

/// Decodes eight lowercase hex digits at once, as one `u64`: a dozen
/// arithmetic steps where a table took a lookup per digit (and a hash's
/// random digits defeat a branch per digit). The bytes are meaningless
/// unless the flag says every digit was one; `digits` other than eight
/// bytes long are refused.
fn decode_eight(digits: &[u8]) -> ([u8; 4], bool) {
    // Zero bytes are no digits: a wrong length is refused below.
    let x = u64::from_le_bytes(digits.try_into().unwrap_or([0; 8]));
    let decimal = between(x, b'0' - 1, b'9' + 1);
    let letter = between(x, b'a' - 1, b'f' + 1);
    let valid = decimal | letter == ONES * 0x80;
    // '0'..'9' and 'a'..'f' end in their value, and in their value less
    // nine: add nine to the letters.
    let nibbles = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Each pair of nibbles into the low byte of its 16-bit lane (the
    // first digit, at the lower address, is the high nibble), then the
    // four lanes' bytes side by side.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    let bytes = (pairs | (pairs >> 16)) & 0xffff_ffff;
    // The mask keeps 32 bits: the narrowing is exact.
    ((bytes as u32).to_le_bytes(), valid)
}

/// Decodes `hex`, eight digits at a time, into `out`, four bytes at a
/// time (as many blocks as both have); whether every digit was one.
fn decode_blocks(hex: &[u8], out: &mut [u8]) -> bool {
    let mut valid = true;
    for (dst, digits) in out.chunks_exact_mut(4).zip(hex.chunks_exact(8)) {
        let (bytes, ok) = decode_eight(digits);
        dst.copy_from_slice(&bytes);
        valid &= ok;
    }
    valid
}

/// The 32-byte digest 64 lowercase hex digits spell, if they are all
/// digits.
pub(crate) fn decode_digest(hex: &[u8; 64]) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    let valid = decode_blocks(hex, &mut digest);
    valid.then_some(digest)
}

/// Decodes lowercase hex digits into `out` (which may be shorter than
/// `hex.len() / 2` for odd-length prefixes: only whole bytes are written).
///
/// Every digit is checked, written to `out` or not: eight at a time where
/// `out` has room for their bytes, the rest through [`HEX_VALUE`]. Only if
/// one is bad is `hex` scanned again to name the first.
pub(super) fn decode_hex(hex: &str, out: &mut [u8]) -> Result<(), ObjectIdError> {
    let hex = hex.as_bytes();
    let fast = (hex.len() / 8).min(out.len() / 4);
    let valid = decode_blocks(&hex[..fast * 8], &mut out[..fast * 4]);
    let (hex_rest, out_rest) = (&hex[fast * 8..], &mut out[fast * 4..]);
    let mut flags = 0u8;
    let pairs = hex_rest.chunks_exact(2);
    let whole = out_rest.len().min(pairs.len()) * 2;
    for (byte, pair) in out_rest.iter_mut().zip(pairs) {
        let high = HEX_VALUE[usize::from(pair[0])];
        let low = HEX_VALUE[usize::from(pair[1])];
        flags |= high | low;
        // Meaningless if either digit is bad; the error is returned then.
        *byte = high << 4 | low;
    }
    for &b in &hex_rest[whole..] {
        flags |= HEX_VALUE[usize::from(b)];
    }
    if valid && flags & NOT_HEX == 0 {
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

    /// Eight digits at once give what the table gives, for every byte
    /// value in every position of a block and both neighbours' extremes
    /// (a carry or borrow between bytes would show there).
    #[test]
    fn eight_digits_decode_as_the_table_does() {
        for fill in [b'0', b'9', b'a', b'f', 0x00, 0x7f, 0x80, 0xff] {
            for pos in 0..8 {
                for b in 0..=u8::MAX {
                    let mut digits = [fill; 8];
                    digits[pos] = b;
                    let values = digits.map(|d| HEX_VALUE[usize::from(d)]);
                    let want_valid = values.iter().all(|&v| v & NOT_HEX == 0);
                    let (bytes, valid) = decode_eight(&digits);
                    assert_eq!(valid, want_valid, "{digits:?}");
                    if want_valid {
                        let want: Vec<u8> = values.chunks(2).map(|p| p[0] << 4 | p[1]).collect();
                        assert_eq!(bytes[..], want[..], "{digits:?}");
                    }
                }
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
