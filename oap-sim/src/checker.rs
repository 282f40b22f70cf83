//! Invariants checked on the wire, independently of the connections' own
//! bookkeeping.

use std::collections::BTreeMap;
use std::fmt;

use bytes::BytesMut;
use oap_core::frame::{Frame, FrameDecoder, FrameType};
use oap_core::payload::{Ack, ControlPayload, decode_data_payload};

/// A broken invariant, with enough context to debug it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantViolation(pub String);

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that one endpoint never sends DATA beyond the credit it has
/// actually received.
///
/// It watches two streams: the endpoint's own writes (before faults) and
/// the bytes delivered to it (after faults), parsed the way the endpoint's
/// decoder parses them, so a duplicated, lost or even corrupted ACK counts
/// exactly as the endpoint saw it.
#[derive(Debug)]
pub(crate) struct CreditChecker {
    name: &'static str,
    initial: Option<u64>,
    /// How far the endpoint may grow a window beyond the initial credit.
    window_growth: u64,
    granted: BTreeMap<u64, u64>,
    sent: BTreeMap<u64, u64>,
    delivered: BytesMut,
    decoder: FrameDecoder,
    blind: bool,
}

impl CreditChecker {
    pub(crate) fn new(name: &'static str, window_growth: u64) -> Self {
        Self {
            name,
            initial: None,
            window_growth,
            granted: BTreeMap::new(),
            sent: BTreeMap::new(),
            delivered: BytesMut::new(),
            decoder: FrameDecoder::with_max_frame(u32::MAX),
            blind: false,
        }
    }

    /// The negotiated initial credit, once the endpoint knows it.
    pub(crate) fn set_initial(&mut self, credit: u64) {
        self.initial.get_or_insert(credit);
    }

    /// Bytes delivered to the endpoint.
    pub(crate) fn delivered(&mut self, bytes: &[u8]) {
        if self.blind {
            return;
        }
        self.delivered.extend_from_slice(bytes);
        loop {
            match self.decoder.decode(&mut self.delivered) {
                Ok(Some(f)) if f.typ == FrameType::Ack => match Ack::decode(&f.payload) {
                    Ok(ack) => {
                        let g = self.granted.entry(ack.corr_id.unwrap_or(0)).or_default();
                        *g = (*g).max(ack.credit);
                    }
                    // The endpoint closes on this frame; nothing after counts.
                    Err(_) => self.blind = true,
                },
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    self.blind = true;
                    break;
                }
            }
        }
    }

    /// Frames the endpoint wrote. `consumed` is what its application has
    /// read per request: credit may only run one window (the initial credit
    /// plus at most the growth budget) ahead of it, which is what makes
    /// credit follow consumption rather than receipt.
    pub(crate) fn sent(
        &mut self,
        frames: &[Frame],
        consumed: &BTreeMap<u64, u64>,
    ) -> Result<(), InvariantViolation> {
        for f in frames.iter().filter(|f| f.typ == FrameType::Ack) {
            let Ok(ack) = Ack::decode(&f.payload) else {
                return Err(InvariantViolation(format!(
                    "{}: wrote an unparsable ACK",
                    self.name
                )));
            };
            let corr = ack.corr_id.unwrap_or(0);
            let read = consumed.get(&corr).copied().unwrap_or(0);
            let window = self.initial.unwrap_or(0) + self.window_growth;
            if ack.credit > read + window {
                return Err(InvariantViolation(format!(
                    "{}: granted credit {} on request {corr} having read only {read} (window {window})",
                    self.name, ack.credit
                )));
            }
        }
        for f in frames.iter().filter(|f| f.typ == FrameType::Data) {
            let (header, body) = decode_data_payload(&f.payload).map_err(|e| {
                InvariantViolation(format!("{}: wrote an unpackable DATA: {e}", self.name))
            })?;
            let corr = header.corr_id.unwrap_or(0);
            let sent = self.sent.entry(corr).or_default();
            *sent += body.len() as u64;
            let limit = self
                .granted
                .get(&corr)
                .copied()
                .unwrap_or(0)
                .max(self.initial.unwrap_or(0));
            if *sent > limit && !self.blind {
                return Err(InvariantViolation(format!(
                    "{}: sent {} body bytes on request {corr} with only {limit} credit",
                    self.name, *sent
                )));
            }
        }
        Ok(())
    }
}
