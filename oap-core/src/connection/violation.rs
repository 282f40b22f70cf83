//! How a peer can break OAP/1: one variant per violation this side detects.

use std::fmt;

use crate::frame::{DecodeError, FrameType};
use crate::object_id::ObjectId;
use crate::payload::{ErrorCode, ErrorEnvelope, PayloadError};

/// Something the peer did that OAP/1 forbids, detected by this side.
///
/// A violation ends the request it happened on, or the whole connection,
/// with an ERROR whose `code` is [`Violation::code`] and whose `msg` is the
/// violation's `Display` text. The ending event carries it
/// ([`Event::Closed`](super::Event::Closed),
/// [`RequestOutcome::Failed`](super::RequestOutcome::Failed)), so a caller
/// can `match` on the cause rather than parse a message — as rustls's
/// `PeerMisbehaved` does.
///
/// The `Display` text is short and never repeats the peer's text at length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Violation {
    /// The byte stream is not OAP/1 frames (a bad header, or it ended
    /// inside a frame). Ends the connection.
    MalformedFrame(DecodeError),
    /// A frame whose payload could not be decoded. Ends the connection.
    MalformedPayload {
        /// The frame's type.
        frame: FrameType,
        /// What is wrong with its payload.
        error: PayloadError,
    },
    /// HELLO named a protocol other than `oap/1`.
    UnsupportedProtocol,
    /// HELLO proposed a `max_frame` below the protocol minimum.
    MaxFrameBelowMinimum,
    /// HELLO proposed a `max_inflight` or `credit` of zero.
    ZeroLimit,
    /// HELLO's `app_proto_id`, `tenant` or `token` is over 128 bytes.
    HelloStringTooLong,
    /// The server's HELLO answer raised a limit the client proposed.
    RaisedLimit,
    /// A second HELLO on an established connection.
    DuplicateHello,
    /// A frame other than HELLO (or ERROR) before the HELLO exchange.
    FirstFrameNotHello,
    /// A START sent to the client: only the client opens requests.
    StartFromServer,
    /// A START whose `corr_id` names a request that is still open.
    CorrIdInUse,
    /// A START beyond the negotiated `max_inflight`.
    TooManyInflight,
    /// DATA or END for a request that is not open.
    RequestNotOpen {
        /// The frame's type.
        frame: FrameType,
    },
    /// DATA after the peer's END on the same request.
    DataAfterEnd,
    /// DATA beyond the credit this side granted.
    CreditExceeded,
    /// An object's first DATA frame does not start at offset 0.
    FirstDataNotAtZero,
    /// DATA for another object before the current one completed.
    ObjectInterleaved,
    /// `total_len` changed within an object.
    TotalLenChanged,
    /// `e2e` changed within an object.
    E2eChanged,
    /// DATA whose offset is not the object's next byte.
    OffsetGap,
    /// DATA running past the object's `total_len`.
    PastTotalLen,
    /// An object longer than this side's `max_object_bytes`.
    ObjectTooLarge {
        /// The length the object's first DATA frame claimed.
        total_len: u64,
        /// This side's bound.
        max: u64,
    },
    /// An object's bytes do not hash to the id they were sent under.
    DigestMismatch {
        /// The id the peer claimed.
        obj: ObjectId,
    },
    /// A second END on the same request.
    DuplicateEnd,
    /// END while an object was still missing bytes.
    EndMidObject,
    /// The peer closed its sending half with the request not ended.
    EofBeforeEnd,
    /// The peer sends but does not read this side's answers.
    NotReading,
}

impl Violation {
    /// The ERROR this violation is answered with (connection-wide; a
    /// request's scopes it to its `corr_id`).
    pub(crate) fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope::new(self.code(), self.to_string())
    }

    /// The ERROR code this violation is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MalformedFrame(e) => e.error_code(),
            Self::MalformedPayload { .. } => ErrorCode::BadFrame,
            Self::TooManyInflight => ErrorCode::TooManyInflight,
            Self::CreditExceeded => ErrorCode::CreditExceeded,
            Self::ObjectTooLarge { .. } => ErrorCode::TooLarge,
            Self::DigestMismatch { .. } => ErrorCode::BadDigest,
            Self::NotReading => ErrorCode::Busy,
            Self::UnsupportedProtocol
            | Self::MaxFrameBelowMinimum
            | Self::ZeroLimit
            | Self::HelloStringTooLong
            | Self::RaisedLimit
            | Self::DuplicateHello
            | Self::FirstFrameNotHello
            | Self::StartFromServer
            | Self::CorrIdInUse
            | Self::RequestNotOpen { .. }
            | Self::DataAfterEnd
            | Self::FirstDataNotAtZero
            | Self::ObjectInterleaved
            | Self::TotalLenChanged
            | Self::E2eChanged
            | Self::OffsetGap
            | Self::PastTotalLen
            | Self::DuplicateEnd
            | Self::EndMidObject
            | Self::EofBeforeEnd => ErrorCode::Proto,
        }
    }
}

/// The ERROR's `msg`: these exact texts are what peers have always
/// received, so the wire stays as it was.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::MalformedFrame(e) => return e.fmt(f),
            Self::MalformedPayload { error, .. } => return error.fmt(f),
            Self::RequestNotOpen { frame } => {
                return write!(f, "{frame} for a request that is not open");
            }
            Self::ObjectTooLarge { total_len, max } => {
                return write!(
                    f,
                    "object of {total_len} bytes exceeds max_object_bytes {max}"
                );
            }
            Self::DigestMismatch { obj } => return write!(f, "object bytes do not hash to {obj}"),
            Self::UnsupportedProtocol => "unsupported protocol in HELLO",
            Self::MaxFrameBelowMinimum => "HELLO max_frame below the protocol minimum",
            Self::ZeroLimit => "HELLO max_inflight and credit must be positive",
            Self::HelloStringTooLong => "HELLO app_proto_id, tenant or token longer than 128 bytes",
            Self::RaisedLimit => "HELLO answer raised a proposed limit",
            Self::DuplicateHello => "duplicate HELLO",
            Self::FirstFrameNotHello => "first frame must be HELLO",
            Self::StartFromServer => "only the client opens requests",
            Self::CorrIdInUse => "corr_id already in use",
            Self::TooManyInflight => "max_inflight requests are open",
            Self::DataAfterEnd => "DATA after END",
            Self::CreditExceeded => "DATA beyond the granted credit",
            Self::FirstDataNotAtZero => "first DATA of an object must be at offset 0",
            Self::ObjectInterleaved => "DATA for another object before this one completed",
            Self::TotalLenChanged => "total_len changed within an object",
            Self::E2eChanged => "e2e changed within an object",
            Self::OffsetGap => "DATA offset is not the next byte of the object",
            Self::PastTotalLen => "DATA runs past total_len",
            Self::DuplicateEnd => "duplicate END",
            Self::EndMidObject => "END before the object's last byte",
            Self::EofBeforeEnd => "the peer closed its sending half before END",
            Self::NotReading => "peer is not reading this side's answers",
        };
        f.write_str(text)
    }
}

impl std::error::Error for Violation {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MalformedFrame(e) => Some(e),
            Self::MalformedPayload { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code and text of every violation without values: these are
    /// the bytes peers have always received in the ERROR, so a change
    /// here is a change on the wire.
    #[test]
    fn each_fixed_violation_keeps_its_wire_code_and_text() {
        use ErrorCode::{Busy, CreditExceeded, Proto, TooManyInflight};
        let table = [
            (
                Violation::UnsupportedProtocol,
                Proto,
                "unsupported protocol in HELLO",
            ),
            (
                Violation::MaxFrameBelowMinimum,
                Proto,
                "HELLO max_frame below the protocol minimum",
            ),
            (
                Violation::ZeroLimit,
                Proto,
                "HELLO max_inflight and credit must be positive",
            ),
            (
                Violation::HelloStringTooLong,
                Proto,
                "HELLO app_proto_id, tenant or token longer than 128 bytes",
            ),
            (
                Violation::RaisedLimit,
                Proto,
                "HELLO answer raised a proposed limit",
            ),
            (Violation::DuplicateHello, Proto, "duplicate HELLO"),
            (
                Violation::FirstFrameNotHello,
                Proto,
                "first frame must be HELLO",
            ),
            (
                Violation::StartFromServer,
                Proto,
                "only the client opens requests",
            ),
            (Violation::CorrIdInUse, Proto, "corr_id already in use"),
            (
                Violation::TooManyInflight,
                TooManyInflight,
                "max_inflight requests are open",
            ),
            (
                Violation::RequestNotOpen {
                    frame: FrameType::Data,
                },
                Proto,
                "DATA for a request that is not open",
            ),
            (
                Violation::RequestNotOpen {
                    frame: FrameType::End,
                },
                Proto,
                "END for a request that is not open",
            ),
            (Violation::DataAfterEnd, Proto, "DATA after END"),
            (
                Violation::CreditExceeded,
                CreditExceeded,
                "DATA beyond the granted credit",
            ),
            (
                Violation::FirstDataNotAtZero,
                Proto,
                "first DATA of an object must be at offset 0",
            ),
            (
                Violation::ObjectInterleaved,
                Proto,
                "DATA for another object before this one completed",
            ),
            (
                Violation::TotalLenChanged,
                Proto,
                "total_len changed within an object",
            ),
            (Violation::E2eChanged, Proto, "e2e changed within an object"),
            (
                Violation::OffsetGap,
                Proto,
                "DATA offset is not the next byte of the object",
            ),
            (Violation::PastTotalLen, Proto, "DATA runs past total_len"),
            (Violation::DuplicateEnd, Proto, "duplicate END"),
            (
                Violation::EndMidObject,
                Proto,
                "END before the object's last byte",
            ),
            (
                Violation::EofBeforeEnd,
                Proto,
                "the peer closed its sending half before END",
            ),
            (
                Violation::NotReading,
                Busy,
                "peer is not reading this side's answers",
            ),
        ];
        for (v, code, text) in table {
            assert_eq!((v.code(), v.to_string().as_str()), (code, text), "{v:?}");
            let env = v.envelope();
            assert_eq!(
                (env.code, env.msg.as_str(), env.corr_id),
                (code, text, None)
            );
        }
    }

    #[test]
    fn violations_with_values_name_them() {
        let big = Violation::ObjectTooLarge {
            total_len: 11,
            max: 10,
        };
        assert_eq!(big.code(), ErrorCode::TooLarge);
        assert_eq!(
            big.to_string(),
            "object of 11 bytes exceeds max_object_bytes 10"
        );
        let frame = Violation::MalformedFrame(DecodeError::BadVersion(2));
        assert_eq!(frame.code(), ErrorCode::BadVersion);
        assert_eq!(frame.to_string(), DecodeError::BadVersion(2).to_string());
    }
}
