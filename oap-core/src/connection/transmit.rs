//! The outgoing queue and `poll_transmit`.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use super::Connection;
use crate::frame::FrameType;

/// Bodies at least this long are handed out separately instead of being
/// copied into the caller's buffer.
const INLINE_BODY_MAX: usize = 4 * 1024;

/// `poll_transmit` stops appending once the buffer grew by this much, so one
/// call never builds an unbounded batch.
const BATCH: usize = 64 * 1024;

/// A batch of bytes to write, produced by [`Connection::poll_transmit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// A DATA body to write right after the bytes appended to the buffer
    /// (unset: the buffer holds everything). Writing it separately, e.g.
    /// with a vectored write, avoids copying large bodies.
    pub body: Option<Bytes>,
}

#[derive(Debug, Hash)]
enum Item {
    Frame(Bytes),
    Data { head: Bytes, body: Bytes },
}

/// Frames waiting for the transport. ACKs overtake everything else: they
/// depend on no other frame's order, and returning credit early keeps the
/// peer's sends flowing.
#[derive(Debug, Default, Hash)]
pub(super) struct OutQueue {
    urgent: VecDeque<Bytes>,
    fifo: VecDeque<Item>,
    control_bytes: usize,
}

impl OutQueue {
    pub(super) fn is_empty(&self) -> bool {
        self.urgent.is_empty() && self.fifo.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.urgent.clear();
        self.fifo.clear();
        self.control_bytes = 0;
    }

    /// Bytes of control frames waiting.
    pub(super) fn control_bytes(&self) -> usize {
        self.control_bytes
    }
}

impl Connection {
    /// Encodes a control frame onto the queue. Control payloads are small
    /// JSON; one that does not fit `max_frame` is a bug on this side.
    pub(super) fn queue_frame(&mut self, typ: FrameType, payload: &[u8], urgent: bool) {
        let Ok(bytes) = self.encoder.to_bytes(typ, payload) else {
            debug_assert!(false, "control frame larger than max_frame");
            return;
        };
        let bytes = bytes.freeze();
        self.out.control_bytes += bytes.len();
        if urgent {
            self.out.urgent.push_back(bytes);
        } else {
            self.out.fifo.push_back(Item::Frame(bytes));
        }
    }

    pub(super) fn queue_data(&mut self, head: Bytes, body: Bytes) {
        self.out.fifo.push_back(Item::Data { head, body });
    }

    /// Appends bytes to write to `buf` and returns `Some` if there were any.
    ///
    /// When the returned [`Transmit`] carries a `body`, write `buf` and then
    /// the body, in that order, before calling again. Call until it returns
    /// `None` after every input or command, then poll events again (the
    /// last bytes of a closing connection produce [`super::Event::Closed`]).
    /// `now` is taken for symmetry with the other inputs; OAP/1 has no
    /// pacing.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let _ = now;
        let start = buf.len();
        let mut body = None;
        while buf.len() - start < BATCH {
            if let Some(frame) = self.out.urgent.pop_front() {
                self.out.control_bytes -= frame.len();
                buf.extend_from_slice(&frame);
            } else {
                match self.out.fifo.pop_front() {
                    None => break,
                    Some(Item::Frame(frame)) => {
                        self.out.control_bytes -= frame.len();
                        buf.extend_from_slice(&frame);
                    }
                    Some(Item::Data { head, body: b }) => {
                        buf.extend_from_slice(&head);
                        if b.len() >= INLINE_BODY_MAX {
                            self.stats.bytes_out += b.len() as u64;
                            body = Some(b);
                            self.stats.frames_out += 1;
                            break;
                        }
                        buf.extend_from_slice(&b);
                    }
                }
            }
            self.stats.frames_out += 1;
        }
        self.stats.bytes_out += (buf.len() - start) as u64;
        self.maybe_finish_close();
        (buf.len() > start || body.is_some()).then_some(Transmit { body })
    }
}
