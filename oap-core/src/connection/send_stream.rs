//! The send side of one outgoing object: the one place that writes an
//! object out as the peer's credit allows.
//!
//! A [`SendStream`] holds the unsent tail of an object (its
//! [`ObjectSource`]) and, each time it is polled, queues as much of it as
//! credit allows, then END if asked for. Poll it once after opening it,
//! again on every [`super::Event::CreditGranted`] for its request, and
//! again whenever its source got new bytes. It never reads a file or a
//! socket: a source that has no bytes ready makes [`SendStream::poll`]
//! answer [`SendState::NeedBytes`], and the caller fetches them (from a
//! disk, a network store) and hands them over with [`ChunkSource::push`].
//!
//! What a stream holds is bounded by what its caller supplies: a
//! [`Bytes`] source is the caller's own buffer (shared, not copied); a
//! [`ChunkSource`] filled only as [`SendState::NeedBytes`] asks holds at
//! most the credit the peer granted, whatever the object's size.

use bytes::Bytes;

use super::{CommandError, Connection, OutgoingObject, RequestId};
use crate::object_id::ObjectId;
use crate::spill_deque::SpillDeque;

/// Where the bytes of an outgoing object come from, in order.
pub trait ObjectSource {
    /// Bytes of the object not yet handed out, whether ready or not.
    fn remaining(&self) -> u64;

    /// Bytes that [`ObjectSource::take`] can hand out now.
    fn ready(&self) -> u64;

    /// Hands out the next bytes: at least one and at most `max` (and at
    /// most [`ObjectSource::ready`]). Called only when `ready() > 0` and
    /// `max > 0`.
    fn take(&mut self, max: usize) -> Bytes;
}

/// A whole object in memory: every byte is ready, and taking slices the
/// buffer without copying it.
impl ObjectSource for Bytes {
    fn remaining(&self) -> u64 {
        self.len() as u64
    }

    fn ready(&self) -> u64 {
        self.len() as u64
    }

    fn take(&mut self, max: usize) -> Bytes {
        self.split_to(max.min(self.len()))
    }
}

/// An object the caller reads from somewhere slow, piece by piece, as
/// [`SendState::NeedBytes`] asks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ChunkSource {
    chunks: SpillDeque<Bytes>,
    ready: u64,
    unfetched: u64,
}

impl ChunkSource {
    /// A source for an object of `total_len` bytes, none fetched yet.
    pub fn new(total_len: u64) -> Self {
        Self {
            chunks: SpillDeque::new(),
            ready: 0,
            unfetched: total_len,
        }
    }

    /// Appends the next bytes of the object. Refused, with nothing taken,
    /// if they run past the object's length.
    pub fn push(&mut self, bytes: Bytes) -> Result<(), CommandError> {
        let n = bytes.len() as u64;
        if n > self.unfetched {
            return Err(CommandError::ObjectOverrun);
        }
        self.unfetched -= n;
        self.ready += n;
        if !bytes.is_empty() {
            self.chunks.push_back(bytes);
        }
        Ok(())
    }

    /// Bytes of the object the caller has not pushed yet: where its next
    /// read starts is `total_len - unfetched()`.
    pub fn unfetched(&self) -> u64 {
        self.unfetched
    }
}

impl ObjectSource for ChunkSource {
    fn remaining(&self) -> u64 {
        self.ready + self.unfetched
    }

    fn ready(&self) -> u64 {
        self.ready
    }

    fn take(&mut self, max: usize) -> Bytes {
        let Some(front) = self.chunks.front_mut() else {
            return Bytes::new();
        };
        let out = if front.len() <= max {
            self.chunks.pop_front().unwrap_or_default()
        } else {
            front.split_to(max)
        };
        self.ready -= out.len() as u64;
        out
    }
}

/// What a [`SendStream`] waits for after a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendState {
    /// Every byte is queued, and END too if the stream was asked to send
    /// it. Nothing more to do.
    Done,
    /// The peer's credit is used up: poll again on
    /// [`super::Event::CreditGranted`] for this request.
    Blocked,
    /// Credit is left but the source has no bytes ready: supply up to
    /// `want` more (for a [`ChunkSource`], [`ChunkSource::push`]), then
    /// poll again. Supplying no more than `want` keeps what the stream
    /// holds within the peer's credit.
    NeedBytes {
        /// Bytes the peer's credit would take right now.
        want: u64,
    },
}

/// One object being sent on a request, with its unsent tail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SendStream<S> {
    id: RequestId,
    source: S,
    /// END to send after the last byte (`Some`), naming this object id.
    end: Option<Option<ObjectId>>,
}

impl<S: ObjectSource> SendStream<S> {
    /// Announces `object` on request `id` (see
    /// [`Connection::begin_object`]) and returns the stream that sends
    /// `source` as its bytes. Nothing is sent until
    /// [`SendStream::poll`].
    pub fn open(
        conn: &mut Connection,
        id: RequestId,
        object: OutgoingObject,
        source: S,
    ) -> Result<Self, CommandError> {
        if source.remaining() != object.total_len {
            return Err(CommandError::ObjectOverrun);
        }
        conn.begin_object(id, object)?;
        Ok(Self {
            id,
            source,
            end: None,
        })
    }

    /// Sends END naming `obj` once the last byte is queued (a put names
    /// the object it sent, a get the object it served).
    pub fn end_with(mut self, obj: Option<ObjectId>) -> Self {
        self.end = Some(obj);
        self
    }

    /// The request this stream sends on.
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// Bytes of the object not queued yet (0: all of it went out).
    pub fn unsent(&self) -> u64 {
        self.source.remaining()
    }

    /// The source, to push more bytes into.
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// Queues as much of the object as credit and the source allow, then
    /// END once all of it is queued, and says what the stream waits for.
    /// Errors are the connection's ([`CommandError::UnknownRequest`] once
    /// the request ended): the stream is then useless.
    pub fn poll(&mut self, conn: &mut Connection) -> Result<SendState, CommandError> {
        loop {
            if self.source.remaining() == 0 {
                if let Some(obj) = self.end.take() {
                    conn.finish(self.id, obj)?;
                }
                return Ok(SendState::Done);
            }
            let credit = conn
                .send_credit(self.id)
                .ok_or(CommandError::UnknownRequest(self.id))?;
            if credit == 0 {
                return Ok(SendState::Blocked);
            }
            let ready = self.source.ready();
            if ready == 0 {
                return Ok(SendState::NeedBytes { want: credit });
            }
            let max = usize::try_from(credit.min(ready)).unwrap_or(usize::MAX);
            let bytes = self.source.take(max);
            let len = bytes.len();
            let sent = conn.send_data(self.id, bytes)?;
            // Never more than the credit: the connection takes it all.
            debug_assert_eq!(sent, len, "send_data took less than the credit");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_source_hands_out_in_order_and_refuses_overruns() {
        let mut s = ChunkSource::new(5);
        s.push(Bytes::from_static(b"abc")).expect("fits");
        assert_eq!(
            s.push(Bytes::from_static(b"xyz")),
            Err(CommandError::ObjectOverrun)
        );
        assert_eq!((s.ready(), s.unfetched(), s.remaining()), (3, 2, 5));
        assert_eq!(&s.take(2)[..], b"ab");
        s.push(Bytes::from_static(b"de")).expect("fits");
        assert_eq!(&s.take(10)[..], b"c");
        assert_eq!(&s.take(10)[..], b"de");
        assert_eq!(s.remaining(), 0);
    }

    #[test]
    fn bytes_source_is_sliced_not_copied() {
        let whole = Bytes::from(vec![7u8; 100]);
        let mut s = whole.clone();
        let first = s.take(40);
        assert_eq!(first.as_ptr(), whole.as_ptr());
        assert_eq!(s.remaining(), 60);
    }
}
