//! The closed set of ERROR codes.

use serde::{Deserialize, Serialize};

/// An ERROR frame's `code`.
///
/// This side only ever sends the named codes. A code it does not know, from a
/// newer or hostile peer, decodes as [`ErrorCode::Unknown`] rather than
/// failing the whole envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A frame that could not be parsed (bad JSON, bad DATA packing, cut off).
    BadFrame,
    /// Frame version other than 1.
    BadVersion,
    /// Unassigned frame type.
    UnknownType,
    /// Frame larger than the negotiated `max_frame`.
    TooLarge,
    /// Object bytes do not hash to their `obj`.
    BadDigest,
    /// The tenant's quota is used up for now.
    QuotaExhausted,
    /// The server is at its connection limit.
    Busy,
    /// DATA beyond the credit the receiver granted.
    CreditExceeded,
    /// A START beyond the negotiated `max_inflight`.
    TooManyInflight,
    /// A handshake, idle or request deadline passed.
    Timeout,
    /// The peer is not allowed to do this.
    Unauthorized,
    /// A frame that is valid alone but wrong here (e.g. DATA before START).
    Proto,
    /// A fault on the sender's side.
    Internal,
    /// The requested object does not exist.
    NotFound,
    /// The receiver's store has no room for the object (a full disk); the
    /// same put may succeed once room is made.
    StoreFull,
    /// The sender gave up on the request (its caller dropped it); nothing
    /// was wrong with the peer.
    Cancelled,
    /// The receiver's store could not be reached or did not answer in
    /// time; nothing of the object was kept and the same request may
    /// succeed later.
    Unavailable,
    /// A code this implementation does not know.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every code this side may send.
    pub const ALL: [ErrorCode; 17] = [
        Self::BadFrame,
        Self::BadVersion,
        Self::UnknownType,
        Self::TooLarge,
        Self::BadDigest,
        Self::QuotaExhausted,
        Self::Busy,
        Self::CreditExceeded,
        Self::TooManyInflight,
        Self::Timeout,
        Self::Unauthorized,
        Self::Proto,
        Self::Internal,
        Self::NotFound,
        Self::StoreFull,
        Self::Cancelled,
        Self::Unavailable,
    ];

    /// Whether the same request may succeed if sent again later unchanged.
    ///
    /// Load and time conditions are retryable; a malformed or forbidden
    /// request will fail the same way again.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Self::QuotaExhausted
                | Self::Busy
                | Self::TooManyInflight
                | Self::Timeout
                | Self::Internal
                | Self::StoreFull
                | Self::Unavailable
        )
    }

    /// The wire spelling (`"quota_exhausted"`, ...), also used as the
    /// `reason` label of `rejected_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadFrame => "bad_frame",
            Self::BadVersion => "bad_version",
            Self::UnknownType => "unknown_type",
            Self::TooLarge => "too_large",
            Self::BadDigest => "bad_digest",
            Self::QuotaExhausted => "quota_exhausted",
            Self::Busy => "busy",
            Self::CreditExceeded => "credit_exceeded",
            Self::TooManyInflight => "too_many_inflight",
            Self::Timeout => "timeout",
            Self::Unauthorized => "unauthorized",
            Self::Proto => "proto",
            Self::Internal => "internal",
            Self::NotFound => "not_found",
            Self::StoreFull => "store_full",
            Self::Cancelled => "cancelled",
            Self::Unavailable => "unavailable",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_spelling_matches_serde_for_every_code() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).expect("serialise");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).expect("parse");
            assert_eq!(back, code);
        }
    }

    #[test]
    fn unknown_codes_are_kept_as_unknown() {
        let c: ErrorCode = serde_json::from_str("\"flux_capacitor\"").expect("parse");
        assert_eq!(c, ErrorCode::Unknown);
    }
}
