//! Bytes that arrive in pieces, collected into one buffer.

use bytes::{Bytes, BytesMut};

/// Collects pieces of an object into one [`Bytes`].
///
/// An object that arrives in one piece (a small object's only DATA frame)
/// is kept as it came, without a copy; from the second piece on, the
/// pieces are copied once into one buffer.
#[derive(Debug, Default)]
pub struct Pieces {
    state: State,
    reserve: usize,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Pieces {
    /// No pieces yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// No pieces yet; once a second piece arrives, room for `reserve`
    /// bytes is taken at once. Cap it when it comes from a peer's claim.
    pub fn with_reserve(reserve: usize) -> Self {
        Self {
            state: State::Empty,
            reserve,
        }
    }

    /// Appends the next piece.
    pub fn push(&mut self, piece: Bytes) {
        self.state = match std::mem::take(&mut self.state) {
            State::Empty => State::One(piece),
            State::One(first) => {
                let room = self.reserve.max(first.len() + piece.len());
                let mut buf = BytesMut::with_capacity(room);
                buf.extend_from_slice(&first);
                buf.extend_from_slice(&piece);
                State::Many(buf)
            }
            State::Many(mut buf) => {
                buf.extend_from_slice(&piece);
                State::Many(buf)
            }
        };
    }

    /// Bytes collected so far.
    pub fn len(&self) -> usize {
        match &self.state {
            State::Empty => 0,
            State::One(b) => b.len(),
            State::Many(b) => b.len(),
        }
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pieces, as one buffer.
    pub fn freeze(self) -> Bytes {
        match self.state {
            State::Empty => Bytes::new(),
            State::One(b) => b,
            State::Many(b) => b.freeze(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(pieces: &[&[u8]]) -> Bytes {
        let mut all = Pieces::with_reserve(4);
        for p in pieces {
            all.push(Bytes::copy_from_slice(p));
        }
        assert_eq!(all.len(), pieces.concat().len());
        all.freeze()
    }

    #[test]
    fn pieces_come_back_as_one_buffer() {
        assert_eq!(collect(&[]), Bytes::new());
        assert_eq!(collect(&[b"one"]), &b"one"[..]);
        assert_eq!(collect(&[b"tw", b"o"]), &b"two"[..]);
        assert_eq!(collect(&[b"a", b"", b"bc", b"defgh"]), &b"abcdefgh"[..]);
    }

    /// One piece is the caller's own buffer, not a copy of it.
    #[test]
    fn one_piece_is_not_copied() {
        let piece = Bytes::from(vec![7; 100]);
        let mut all = Pieces::new();
        all.push(piece.clone());
        assert_eq!(all.freeze().as_ptr(), piece.as_ptr());
    }
}
