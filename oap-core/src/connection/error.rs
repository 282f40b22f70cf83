//! Errors of application commands.

use super::RequestId;

/// Why a command on a [`super::Connection`] was refused. The connection is
/// unchanged when a command fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The HELLO exchange has not completed yet.
    #[error("the connection is not established yet")]
    NotEstablished,
    /// The connection is closing or closed.
    #[error("the connection is closed")]
    Closed,
    /// The command belongs to the other role (e.g. `start` on a server).
    #[error("this command is not available to this role")]
    WrongRole,
    /// No such open request.
    #[error("no open request {0}")]
    UnknownRequest(RequestId),
    /// The id is already in use by an open request.
    #[error("request {0} is already open")]
    DuplicateRequest(RequestId),
    /// Opening another request would exceed the negotiated `max_inflight`.
    #[error("max_inflight requests are already open")]
    TooManyInflight,
    /// `send_data` without a current object, or `begin_object` while one is
    /// still being sent.
    #[error("no object is being sent on this request, or one is unfinished")]
    ObjectState,
    /// More bytes than the current object has left.
    #[error("data exceeds the object's total_len")]
    ObjectOverrun,
    /// This side already sent END on the request.
    #[error("this side already finished the request")]
    AlreadyFinished,
    /// The request was already accepted.
    #[error("the request was already accepted")]
    AlreadyAccepted,
}
