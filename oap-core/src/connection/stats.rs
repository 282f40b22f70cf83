//! Per-connection counters the runtime layer turns into metrics.

use std::collections::BTreeMap;

use crate::payload::ErrorCode;

/// Counters of one connection. Cheap to read at any time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Frames decoded from the peer.
    pub frames_in: u64,
    /// Frames handed to the transport.
    pub frames_out: u64,
    /// Bytes taken by `handle_input`.
    pub bytes_in: u64,
    /// Bytes handed out by `poll_transmit`.
    pub bytes_out: u64,
    /// DATA body bytes received.
    pub data_bytes_in: u64,
    /// DATA body bytes queued for sending.
    pub data_bytes_out: u64,
    /// ERRORs this side sent, by code (the `rejected_total{reason}` feed).
    pub rejects: BTreeMap<ErrorCode, u64>,
    /// ERRORs the peer sent, by code.
    pub errors_received: BTreeMap<ErrorCode, u64>,
    /// Objects whose digest matched.
    pub objects_verified: u64,
    /// Objects discarded for a digest mismatch.
    pub objects_failed: u64,
    /// Requests opened (either side).
    pub requests_started: u64,
}
