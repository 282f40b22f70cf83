//! Parsing the textual form, with errors precise enough to act on.

use super::SCHEME;

/// Why a string is not an object id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectIdError {
    /// No `<algorithm>:` prefix at all.
    #[error("object id must start with \"b3:\"")]
    MissingScheme,
    /// Another algorithm, such as `sha256:`; only BLAKE3 addresses objects.
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
pub(super) fn decode_hex(hex: &str, out: &mut [u8]) -> Result<(), ObjectIdError> {
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
