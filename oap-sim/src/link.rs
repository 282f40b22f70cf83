//! One direction of the simulated transport.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::BytesMut;
use oap_core::frame::{Frame, FrameDecoder, FrameEncoder};
use rand::Rng;
use rand::rngs::StdRng;

use crate::FaultPlan;

/// What a link did to frames, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames the sender wrote.
    pub frames: u64,
    /// Frames dropped.
    pub dropped: u64,
    /// Frames duplicated.
    pub duplicated: u64,
    /// Frames reordered.
    pub reordered: u64,
    /// Frames truncated.
    pub truncated: u64,
    /// Frames corrupted.
    pub corrupted: u64,
}

/// Carries one endpoint's writes to the other, applying the fault plan.
#[derive(Debug)]
pub(crate) struct Link {
    plan: FaultPlan,
    /// Re-frames the sender's byte stream so faults can act on whole frames.
    tap: BytesMut,
    tap_decoder: FrameDecoder,
    held: Option<Vec<u8>>,
    in_flight: VecDeque<(Instant, Vec<u8>)>,
    last_due: Option<Instant>,
    closed: bool,
    eof_delivered: bool,
    pub stats: LinkStats,
}

impl Link {
    pub(crate) fn new(plan: FaultPlan) -> Self {
        Self {
            plan,
            tap: BytesMut::new(),
            tap_decoder: FrameDecoder::with_max_frame(u32::MAX),
            held: None,
            in_flight: VecDeque::new(),
            last_due: None,
            closed: false,
            eof_delivered: false,
            stats: LinkStats::default(),
        }
    }

    /// Accepts bytes the sender wrote and returns the frames they complete,
    /// exactly as sent (before any fault).
    pub(crate) fn send(&mut self, now: Instant, bytes: &[u8], rng: &mut StdRng) -> Vec<Frame> {
        self.tap.extend_from_slice(bytes);
        let mut frames = Vec::new();
        while let Some(f) = self
            .tap_decoder
            .decode(&mut self.tap)
            .expect("an endpoint wrote a malformed frame")
        {
            frames.push(f);
        }
        let enc = FrameEncoder::with_max_frame(u32::MAX);
        let mut out = Vec::new();
        for f in &frames {
            self.stats.frames += 1;
            let mut wire = enc.to_bytes(f.typ, &f.payload).expect("encodes").to_vec();
            if rng.random_bool(self.plan.drop) {
                self.stats.dropped += 1;
                continue;
            }
            if rng.random_bool(self.plan.corrupt) {
                self.stats.corrupted += 1;
                let i = rng.random_range(0..wire.len());
                wire[i] ^= 1 << rng.random_range(0..8);
            }
            if rng.random_bool(self.plan.truncate) {
                self.stats.truncated += 1;
                let keep = rng.random_range(0..wire.len());
                wire.truncate(keep);
            }
            let copies = if rng.random_bool(self.plan.duplicate) {
                self.stats.duplicated += 1;
                2
            } else {
                1
            };
            if self.held.is_none() && rng.random_bool(self.plan.reorder) {
                self.stats.reordered += 1;
                self.held = Some(wire);
                continue;
            }
            for _ in 0..copies {
                out.extend_from_slice(&wire);
            }
            if let Some(h) = self.held.take() {
                out.extend_from_slice(&h);
            }
        }
        // A frame held back and never overtaken goes out with the next write.
        if frames.is_empty() {
            if let Some(h) = self.held.take() {
                out.extend_from_slice(&h);
            }
        }
        self.schedule(now, out, rng);
        frames
    }

    fn schedule(&mut self, now: Instant, bytes: Vec<u8>, rng: &mut StdRng) {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = match self.plan.max_segment {
                0 => rest.len(),
                m => rng.random_range(1..=m).min(rest.len()),
            };
            let delay = if self.plan.max_delay.is_zero() {
                std::time::Duration::ZERO
            } else {
                rng.random_range(std::time::Duration::ZERO..=self.plan.max_delay)
            };
            // TCP keeps order: a segment is never due before its predecessor.
            let due = self.last_due.map_or(now + delay, |l| l.max(now + delay));
            self.last_due = Some(due);
            self.in_flight.push_back((due, rest[..n].to_vec()));
            rest = &rest[n..];
        }
    }

    /// The sender closed: EOF follows the bytes in flight.
    pub(crate) fn close(&mut self) {
        self.closed = true;
    }

    /// All bytes due by `now`, coalesced into one read.
    pub(crate) fn take_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        while self.in_flight.front().is_some_and(|(due, _)| *due <= now) {
            let (_, seg) = self.in_flight.pop_front().expect("front exists");
            out.get_or_insert_with(Vec::new).extend_from_slice(&seg);
        }
        out
    }

    /// Whether the EOF is due now (once, after every byte).
    pub(crate) fn take_eof(&mut self) -> bool {
        if self.closed && self.in_flight.is_empty() && !self.eof_delivered {
            self.eof_delivered = true;
            return true;
        }
        false
    }

    /// When the next segment is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.in_flight.front().map(|(d, _)| *d)
    }
}
