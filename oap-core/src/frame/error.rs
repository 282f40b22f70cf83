//! Codec errors.

use crate::payload::ErrorCode;

/// Why a byte stream could not be decoded into frames.
///
/// Every variant but [`DecodeError::Truncated`] is detected from the 6 header
/// bytes alone. Errors are permanent: once a decoder has returned one, it
/// returns the same error on every later call, because the stream has lost
/// its framing and nothing after the bad header can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DecodeError {
    /// Byte 0 was not 1.
    #[error("unsupported OAP version {0} (expected 1)")]
    BadVersion(u8),
    /// Byte 1 is not an assigned frame type.
    #[error("unknown frame type 0x{0:02x}")]
    UnknownType(u8),
    /// The declared payload length exceeds `max_frame`.
    #[error("frame payload of {len} bytes exceeds max_frame {max}")]
    TooLarge {
        /// Declared payload length.
        len: u32,
        /// The decoder's `max_frame`.
        max: u32,
    },
    /// The input ended inside a frame (reported only at end of stream).
    #[error("stream ended inside a frame ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes of the incomplete frame that were available.
        buffered: usize,
    },
}

impl DecodeError {
    /// Stable snake-case name, as used by the test vectors and bindings.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadVersion(_) => "bad_version",
            Self::UnknownType(_) => "unknown_type",
            Self::TooLarge { .. } => "too_large",
            Self::Truncated { .. } => "truncated",
        }
    }

    /// Whether the bad header is the start of a TLS record rather than an
    /// OAP/1 frame: a `ver` of 20 to 23 is a TLS record's content type
    /// (RFC 8446 §5.1; 22 opens a ClientHello, 21 an alert). Only the first
    /// header of a connection says something by it: that the peer speaks
    /// TLS where this side expected plaintext OAP/1.
    pub fn is_tls_record(&self) -> bool {
        matches!(self, Self::BadVersion(20..=23))
    }

    /// The ERROR code a peer answers this with before closing.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::BadVersion(_) => ErrorCode::BadVersion,
            Self::UnknownType(_) => ErrorCode::UnknownType,
            Self::TooLarge { .. } => ErrorCode::TooLarge,
            Self::Truncated { .. } => ErrorCode::BadFrame,
        }
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The payload is larger than the `max_frame` the peer accepts.
    #[error("payload of {len} bytes exceeds max_frame {max}")]
    TooLarge {
        /// Payload length.
        len: usize,
        /// The encoder's `max_frame`.
        max: u32,
    },
    /// The caller's output buffer is too small; nothing was written.
    #[error("output buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the whole frame needs.
        needed: usize,
    },
}
