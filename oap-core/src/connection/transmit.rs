//! The outgoing queue and `poll_transmit`.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::time::Instant;

use bytes::Bytes;

use super::Connection;
use crate::frame::{FrameEncoder, FrameType};
use crate::limits::HEADER_LEN;
use crate::payload::{DataFrameError, HeaderJson, data_prefix};

/// Bodies at least this long are handed out separately instead of being
/// copied into the caller's buffer.
const INLINE_BODY_MAX: usize = 4 * 1024;

/// `poll_transmit` stops appending once the buffer grew by this much, so one
/// call never builds an unbounded batch.
const BATCH: usize = 64 * 1024;

/// Room the queue keeps once drained while requests are open (a burst of
/// ACKs and ENDs for every request in flight fits); more is freed, and
/// all of it once no request is open, so idle connections stay small.
const BUSY_QUEUE_ROOM: usize = 16 * 1024;

/// Room an empty buffer takes at its first frame, the queue's and the
/// caller's of `poll_transmit` alike: a HELLO answer, an ACK and an END
/// with its object id fit, where growing from nothing would allocate
/// again for each (and twice for a frame: its header, then its payload).
/// A queue buffer that gave its room back since takes what it had grown
/// to instead (see `OutQueue::rewind`), and `poll_transmit` a whole
/// batch.
const FIRST_ROOM: usize = 256;

/// `buf`, given `room` (at least [`FIRST_ROOM`]) if it has no room at all.
fn with_room(buf: &mut Vec<u8>, room: usize) -> &mut Vec<u8> {
    if buf.capacity() == 0 {
        buf.reserve(room.max(FIRST_ROOM));
    }
    buf
}

/// Written bytes at the front of the queue's buffer worth dropping while
/// the queue is not empty (see `OutQueue::compact`).
const COMPACT_AFTER: usize = 4 * 1024;

/// A batch of bytes to write, produced by [`Connection::poll_transmit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// A DATA body to write right after the bytes appended to the buffer
    /// (unset: the buffer holds everything). Writing it separately, e.g.
    /// with a vectored write, avoids copying large bodies.
    pub body: Option<Bytes>,
}

/// What the FIFO holds; the encoded bytes of each are the next ones in
/// [`OutQueue::encoded`].
#[derive(Debug, Hash)]
enum Item {
    /// A control frame of this many bytes.
    Control(usize),
    /// A DATA frame: this many bytes of frame header and packed header,
    /// then the body.
    Data { head: usize, body: Bytes },
}

/// Frames waiting for the transport. ACKs overtake everything else: they
/// depend on no other frame's order, and returning credit early keeps the
/// peer's sends flowing.
///
/// Frames are encoded straight into two byte buffers that are reused from
/// one batch to the next, so queueing a frame allocates nothing in the
/// steady state.
#[derive(Debug, Default)]
pub(super) struct OutQueue {
    /// Encoded urgent frames, in order.
    urgent: Vec<u8>,
    urgent_frames: u64,
    /// Encoded control frames and DATA heads of the FIFO, in order; those
    /// before `taken` are written already.
    encoded: Vec<u8>,
    taken: usize,
    fifo: VecDeque<Item>,
    control_bytes: usize,
    /// Bytes of DATA bodies in the FIFO short enough to be copied into
    /// `poll_transmit`'s buffer: with the encoded bytes, what a batch
    /// appends, reserved at once.
    inline_body_bytes: usize,
    /// Room `encoded` and `urgent` take at their next first frame: the
    /// most they had grown to when a connection with no request open gave
    /// it back, at most [`BUSY_QUEUE_ROOM`]. A gateway's connection goes
    /// from all answered to a window of new requests at every batch; each
    /// batch grew both buffers from [`FIRST_ROOM`] through every doubling
    /// again.
    encoded_room: usize,
    urgent_room: usize,
}

impl Hash for OutQueue {
    /// What is still to be written, not where it sits in the buffers.
    fn hash<H: Hasher>(&self, h: &mut H) {
        (&self.urgent, &self.encoded[self.taken..], &self.fifo).hash(h);
    }
}

impl OutQueue {
    pub(super) fn is_empty(&self) -> bool {
        self.urgent.is_empty() && self.fifo.is_empty()
    }

    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Bytes of control frames waiting.
    pub(super) fn control_bytes(&self) -> usize {
        self.control_bytes
    }

    /// Queues a DATA frame; its body is not copied.
    pub(super) fn push_data(
        &mut self,
        encoder: &FrameEncoder,
        json: &HeaderJson<'_>,
        body: Bytes,
    ) -> Result<(), DataFrameError> {
        let prefix = data_prefix(encoder, json.len(), body.len())?;
        let dst = with_room(&mut self.encoded, self.encoded_room);
        let before = dst.len();
        dst.extend_from_slice(&prefix);
        json.append_to(dst);
        let head = dst.len() - before;
        if body.len() < INLINE_BODY_MAX {
            self.inline_body_bytes += body.len();
        }
        self.fifo.push_back(Item::Data { head, body });
        Ok(())
    }

    /// The next `n` encoded FIFO bytes.
    fn take(&mut self, n: usize) -> &[u8] {
        let from = self.taken;
        self.taken += n;
        &self.encoded[from..self.taken]
    }

    /// While the queue is never empty (a long stream whose next frames are
    /// queued before the last ones are written), drops the bytes already
    /// written once they are most of the buffer: it then holds at most
    /// twice what waits, plus [`COMPACT_AFTER`], instead of everything
    /// written since the queue was last empty. Amortised, each byte moves
    /// at most once.
    fn compact(&mut self) {
        if self.taken >= COMPACT_AFTER && self.taken * 2 >= self.encoded.len() {
            self.encoded.drain(..self.taken);
            self.taken = 0;
        }
    }

    /// Bytes waiting: what `poll_transmit` appends to write them all.
    fn waiting_bytes(&self) -> usize {
        self.urgent.len() + (self.encoded.len() - self.taken) + self.inline_body_bytes
    }

    /// Once everything is written: rewinds the buffers and gives back
    /// room an idle connection should not keep, remembering how much each
    /// buffer needed for the next batch.
    fn rewind(&mut self, requests_open: bool) {
        self.encoded.clear();
        self.taken = 0;
        let keep = if requests_open { BUSY_QUEUE_ROOM } else { 0 };
        for (buf, room) in [
            (&mut self.encoded, &mut self.encoded_room),
            (&mut self.urgent, &mut self.urgent_room),
        ] {
            *room = buf.capacity().max(*room).min(BUSY_QUEUE_ROOM);
            buf.shrink_to(keep);
        }
    }
}

impl Connection {
    /// Encodes a control frame onto the queue. Control payloads are small
    /// JSON; one that does not fit `max_frame` is a bug on this side.
    pub(super) fn queue_frame(&mut self, typ: FrameType, payload: &[u8], urgent: bool) {
        self.queue_frame_with(typ, urgent, |dst| dst.extend_from_slice(payload));
    }

    /// Queues a control frame whose payload `write` appends straight into
    /// the queue's buffer; its header is filled in once the length is
    /// known.
    pub(super) fn queue_frame_with(
        &mut self,
        typ: FrameType,
        urgent: bool,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let out = &mut self.out;
        let (dst, room) = if urgent {
            (&mut out.urgent, out.urgent_room)
        } else {
            (&mut out.encoded, out.encoded_room)
        };
        let dst = with_room(dst, room);
        let start = dst.len();
        dst.extend_from_slice(&[0; HEADER_LEN]);
        write(dst);
        let Ok(head) = self.encoder.header(typ, dst.len() - start - HEADER_LEN) else {
            dst.truncate(start);
            debug_assert!(false, "control frame larger than max_frame");
            return;
        };
        dst[start..start + HEADER_LEN].copy_from_slice(&head);
        let len = dst.len() - start;
        if urgent {
            out.urgent_frames += 1;
        } else {
            out.fifo.push_back(Item::Control(len));
        }
        out.control_bytes += len;
    }

    /// Appends bytes to write to `buf` and returns `Some` if there were any.
    ///
    /// When the returned [`Transmit`] carries a `body`, write `buf` and then
    /// the body, in that order, before calling again. Call until it returns
    /// `None` after every input or command, then poll events again (the
    /// last bytes of a closing connection produce [`super::Event::Closed`]).
    /// `now` is taken for symmetry with the other inputs; OAP/1 has no
    /// pacing.
    ///
    /// Room for the whole batch (at most 64 KiB, and at least 256 bytes)
    /// is reserved in `buf` at once: clear and reuse one buffer across
    /// calls, and a busy connection allocates it once.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let _ = now;
        let start = buf.len();
        let mut body = None;
        let out = &mut self.out;
        // The whole batch at once, rather than through every doubling of
        // `buf` (a window of small gets' answers is tens of KiB); and no
        // less than a few frames' room, which a driver reusing `buf` then
        // has for its next small batches (a HELLO answer, then an ACK and
        // an END).
        let waiting = out.waiting_bytes().min(BATCH);
        if waiting > 0 {
            buf.reserve(waiting.max(FIRST_ROOM));
        }
        while buf.len() - start < BATCH {
            if !out.urgent.is_empty() {
                out.control_bytes -= out.urgent.len();
                buf.extend_from_slice(&out.urgent);
                out.urgent.clear();
                self.stats.frames_out += std::mem::take(&mut out.urgent_frames);
                continue;
            }
            match out.fifo.pop_front() {
                None => break,
                Some(Item::Control(n)) => {
                    out.control_bytes -= n;
                    buf.extend_from_slice(out.take(n));
                }
                Some(Item::Data { head, body: b }) => {
                    buf.extend_from_slice(out.take(head));
                    if b.len() >= INLINE_BODY_MAX {
                        self.stats.bytes_out += b.len() as u64;
                        body = Some(b);
                        self.stats.frames_out += 1;
                        break;
                    }
                    out.inline_body_bytes -= b.len();
                    buf.extend_from_slice(&b);
                }
            }
            self.stats.frames_out += 1;
        }
        if out.is_empty() {
            out.rewind(!self.requests.is_empty());
        } else {
            out.compact();
        }
        self.stats.bytes_out += (buf.len() - start) as u64;
        self.maybe_finish_close();
        (buf.len() > start || body.is_some()).then_some(Transmit { body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{Ack, ControlPayload};

    /// A DATA header's JSON as the queue takes it; the queue does not
    /// read it.
    fn raw_json() -> HeaderJson<'static> {
        HeaderJson::Written(b"{}".to_vec())
    }

    fn drain(conn: &mut Connection, now: Instant) -> Vec<u8> {
        let mut buf = Vec::new();
        while let Some(t) = conn.poll_transmit(now, &mut buf) {
            buf.extend(t.body.unwrap_or_default());
        }
        buf
    }

    /// Urgent frames overtake the FIFO; within each, order is kept; and
    /// once written out with no request open, the queue keeps no room.
    #[test]
    fn urgent_frames_go_first_and_an_idle_queue_keeps_no_room() {
        let now = Instant::now();
        let mut conn = Connection::server(crate::connection::ConnectionConfig::default(), now);
        let ack = |n| Ack {
            corr_id: Some(n),
            credit: n,
        };
        conn.queue_frame(FrameType::End, b"{\"a\":1}", false);
        conn.queue_control(&ack(1), true);
        conn.out
            .push_data(
                &conn.encoder.clone(),
                &raw_json(),
                Bytes::from(vec![7; 5000]),
            )
            .expect("fits");
        conn.queue_frame(FrameType::End, b"{\"a\":2}", false);
        conn.queue_control(&ack(2), true);
        assert!(conn.out.control_bytes() > 0);

        let wire = drain(&mut conn, now);
        let mut dec = crate::frame::StreamDecoder::default();
        let mut input = &wire[..];
        let mut order = Vec::new();
        while let Some(f) = dec.feed(&mut input).expect("valid") {
            order.push((f.typ, f.payload.len()));
        }
        let ack_len = |n| ack(n).encode().len();
        assert_eq!(
            order,
            [
                (FrameType::Ack, ack_len(1)),
                (FrameType::Ack, ack_len(2)),
                (FrameType::End, 7),
                (FrameType::Data, 2 + 2 + 5000),
                (FrameType::End, 7),
            ]
        );
        assert_eq!(conn.stats.frames_out, 5);
        assert_eq!(conn.out.control_bytes(), 0);
        assert_eq!(conn.out.encoded.capacity() + conn.out.urgent.capacity(), 0);
    }

    /// A batch is reserved in the caller's buffer at once, not grown
    /// through every doubling; and a queue that gave its room back when no
    /// request was open takes what it needed at its next first frame.
    #[test]
    fn batches_take_their_room_at_once() {
        let now = Instant::now();
        let mut conn = Connection::server(crate::connection::ConnectionConfig::default(), now);
        let encoder = conn.encoder;
        for i in 0..32 {
            conn.out
                .push_data(&encoder, &raw_json(), Bytes::from(vec![i; 1024]))
                .expect("fits");
            conn.queue_frame(FrameType::End, b"{\"corr_id\":1}", false);
        }
        let peak = conn.out.encoded.len();
        assert!(
            peak > 2 * FIRST_ROOM,
            "a batch of {peak} bytes grew its buffer"
        );
        let waiting = conn.out.waiting_bytes();
        let mut buf = Vec::new();
        conn.poll_transmit(now, &mut buf).expect("frames wait");
        assert_eq!(buf.len(), waiting, "one call writes the whole batch");
        // From nothing, `Vec::reserve` takes exactly what is asked: had the
        // batch grown the buffer by doubling, room would be left over.
        assert_eq!(buf.capacity(), waiting);
        assert_eq!(conn.out.waiting_bytes(), 0);
        // No request open: the room went back, and is remembered.
        assert_eq!(conn.out.encoded.capacity(), 0);

        conn.queue_frame(FrameType::End, b"{}", false);
        assert!(conn.out.encoded.capacity() >= peak.min(BUSY_QUEUE_ROOM));
        assert!(conn.out.encoded.capacity() <= BUSY_QUEUE_ROOM.next_power_of_two());
    }

    /// A queue that is never empty (each round queues the next frames
    /// before the last are written) keeps only about what waits, however
    /// much went through it.
    #[test]
    fn a_queue_that_never_empties_does_not_keep_what_it_wrote() {
        let now = Instant::now();
        let mut conn = Connection::server(crate::connection::ConnectionConfig::default(), now);
        let encoder = conn.encoder;
        let body = Bytes::from(vec![1; 8 * 1024]);
        let mut written = 0;
        let mut buf = Vec::new();
        // One frame ahead; then each round queues one and writes one, so
        // one always waits.
        conn.out
            .push_data(&encoder, &raw_json(), body.clone())
            .expect("fits");
        for _ in 0..20_000 {
            conn.out
                .push_data(&encoder, &raw_json(), body.clone())
                .expect("fits");
            buf.clear();
            let t = conn.poll_transmit(now, &mut buf).expect("a frame waits");
            written += buf.len() + t.body.map_or(0, |b| b.len());
        }
        assert!(!conn.out.is_empty(), "the queue never emptied");
        assert!(written > 100 * 1024 * 1024, "{written} bytes went through");
        let waiting: usize = conn.out.encoded.len() - conn.out.taken;
        assert!(
            conn.out.encoded.len() <= 2 * waiting + COMPACT_AFTER,
            "keeps {} bytes for {waiting} waiting",
            conn.out.encoded.len()
        );
    }
}
