//! What the connection reports to the application.

use bytes::Bytes;

use super::{Negotiated, RequestId, Violation};
use crate::object_id::ObjectId;
use crate::payload::{ErrorEnvelope, Start};

/// An event, taken with [`super::Connection::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// The HELLO exchange completed; these limits now apply.
    Connected(Negotiated),
    /// (Server) the peer opened a request. Answer with
    /// [`super::Connection::accept`] or [`super::Connection::reject`].
    RequestStarted {
        /// The new request.
        id: RequestId,
        /// Its START payload, boxed: a START is the largest thing an event
        /// carries, and every event is moved through a queue and a match
        /// or two, so it stays small enough to be copied in place.
        start: Box<Start>,
    },
    /// (Client) the server accepted a request with its ACK.
    Accepted {
        /// The request.
        id: RequestId,
    },
    /// Received body bytes are waiting in [`super::Connection::read`].
    /// Reported when the buffer goes from empty to non-empty.
    Readable {
        /// The request.
        id: RequestId,
    },
    /// Every byte of an object arrived and its full BLAKE3 digest matches
    /// `obj`. Only now may the bytes read for it be treated as that object.
    ObjectVerified {
        /// The request.
        id: RequestId,
        /// The verified id.
        obj: ObjectId,
        /// Object length in bytes.
        len: u64,
        /// Whether the body was APP_E2E ciphertext (verified as sent).
        e2e: bool,
    },
    /// The peer granted more credit: [`super::Connection::send_data`] may
    /// accept more bytes (poll the request's [`super::SendStream`]).
    CreditGranted {
        /// The request.
        id: RequestId,
        /// Body bytes that may be sent now.
        available: u64,
    },
    /// The peer sent END: it will send nothing more on this request.
    Finished {
        /// The request.
        id: RequestId,
        /// The object id the peer's END named, if any (a put's answer).
        obj: Option<ObjectId>,
    },
    /// The request is over; its id may be reused. Exactly one per request.
    RequestEnded {
        /// The request.
        id: RequestId,
        /// How it ended.
        outcome: RequestOutcome,
    },
    /// The connection is closed; nothing more will be sent or received.
    Closed {
        /// The error that closed it (none for an orderly close).
        error: Option<ErrorEnvelope>,
        /// Whether the peer closed it.
        by_peer: bool,
        /// What the peer did wrong, if this side closed it for that
        /// (`error` is then the ERROR sent for it).
        violation: Option<Violation>,
    },
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestOutcome {
    /// Both sides sent END and all received bytes were read.
    Completed,
    /// An ERROR ended it.
    Failed {
        /// The error.
        error: ErrorEnvelope,
        /// Whether the peer sent the ERROR (else this side did).
        by_peer: bool,
        /// What the peer did wrong, if this side ended the request for
        /// that (`error` is then the ERROR sent for it).
        violation: Option<Violation>,
    },
    /// The connection closed while the request was open.
    Aborted,
}

/// Body bytes of one DATA frame, as returned by
/// [`super::Connection::read`].
///
/// These bytes are **provisional** until [`Event::ObjectVerified`] names
/// `obj`: a receiver may stage them (a temporary file, say) but must not
/// treat them as the object before that event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Chunk {
    /// The object the bytes belong to.
    pub obj: ObjectId,
    /// Position of `bytes` within the object.
    pub offset: u64,
    /// The object's total length.
    pub total_len: u64,
    /// The bytes.
    pub bytes: Bytes,
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::Event;
    use crate::client::ClientEvent;
    use crate::server::ServerEvent;

    /// Each event is moved through the connection's queue and a session's
    /// match or two. Up to 128 bytes the compiler copies it in place; past
    /// that every move is a call to `memcpy`, which took 4% of a small
    /// request's instructions on the client when a START made events 144
    /// bytes long (issue #18).
    #[test]
    fn events_stay_small_enough_to_copy_in_place() {
        assert!(size_of::<Event>() <= 128, "{}", size_of::<Event>());
        assert!(
            size_of::<ServerEvent>() <= 128,
            "{}",
            size_of::<ServerEvent>()
        );
        assert!(
            size_of::<ClientEvent>() <= 128,
            "{}",
            size_of::<ClientEvent>()
        );
    }
}
