//! Frame types and the owned / borrowed frame values.

use bytes::Bytes;

use crate::limits::OAP_VERSION;

/// The six OAP/1 frame types, with their wire values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FrameType {
    /// Opens the connection and negotiates limits.
    Hello = 0x01,
    /// Opens a request.
    Start = 0x02,
    /// Carries object bytes behind a JSON header.
    Data = 0x03,
    /// Closes the sending half of a request.
    End = 0x04,
    /// Grants credit for a request.
    Ack = 0x05,
    /// Reports an error for a request or the whole connection.
    Error = 0x06,
}

impl FrameType {
    /// All types, in wire order.
    pub const ALL: [FrameType; 6] = [
        FrameType::Hello,
        FrameType::Start,
        FrameType::Data,
        FrameType::End,
        FrameType::Ack,
        FrameType::Error,
    ];

    /// Maps a wire byte to a type; `None` for anything unassigned.
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(Self::Hello),
            0x02 => Some(Self::Start),
            0x03 => Some(Self::Data),
            0x04 => Some(Self::End),
            0x05 => Some(Self::Ack),
            0x06 => Some(Self::Error),
            _ => None,
        }
    }

    /// The wire byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Upper-case name as used in specs and test vectors (`"HELLO"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Hello => "HELLO",
            Self::Start => "START",
            Self::Data => "DATA",
            Self::End => "END",
            Self::Ack => "ACK",
            Self::Error => "ERROR",
        }
    }

    /// Inverse of [`FrameType::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for FrameType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// A decoded frame that owns its payload.
///
/// The payload is a [`Bytes`], so frames split off a receive buffer share its
/// allocation instead of copying it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Frame type.
    pub typ: FrameType,
    /// Payload bytes (JSON for control frames, packed header + body for DATA).
    pub payload: Bytes,
}

impl Frame {
    /// Builds a frame. Size limits are checked when it is encoded.
    pub fn new(typ: FrameType, payload: impl Into<Bytes>) -> Self {
        Self {
            typ,
            payload: payload.into(),
        }
    }

    /// Protocol version; always [`OAP_VERSION`] since other versions are
    /// rejected by the decoder.
    pub fn ver(&self) -> u8 {
        OAP_VERSION
    }

    /// Borrowed view of this frame.
    pub fn as_ref(&self) -> FrameRef<'_> {
        FrameRef {
            typ: self.typ,
            payload: &self.payload,
        }
    }
}

/// A frame from [`StreamDecoder::feed_ref`]: borrowed from the input when
/// it lay there whole, owned when it was assembled from several inputs.
///
/// [`StreamDecoder::feed_ref`]: super::StreamDecoder::feed_ref
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodedFrame<'a> {
    /// The frame, still in the caller's input.
    Borrowed(FrameRef<'a>),
    /// The frame, assembled in the decoder's buffer.
    Owned(Frame),
}

impl DecodedFrame<'_> {
    /// Frame type.
    pub fn typ(&self) -> FrameType {
        match self {
            Self::Borrowed(f) => f.typ,
            Self::Owned(f) => f.typ,
        }
    }

    /// Payload bytes.
    pub fn payload(&self) -> &[u8] {
        match self {
            Self::Borrowed(f) => f.payload,
            Self::Owned(f) => &f.payload,
        }
    }

    /// The frame as an owned [`Frame`]; copies a borrowed payload.
    pub fn into_owned(self) -> Frame {
        match self {
            Self::Borrowed(f) => f.to_owned(),
            Self::Owned(f) => f,
        }
    }
}

/// A decoded frame whose payload borrows the input slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    /// Frame type.
    pub typ: FrameType,
    /// Payload bytes, borrowed from the decoder's input.
    pub payload: &'a [u8],
}

impl FrameRef<'_> {
    /// Protocol version; always [`OAP_VERSION`].
    pub fn ver(&self) -> u8 {
        OAP_VERSION
    }

    /// Copies the payload into an owned [`Frame`].
    pub fn to_owned(&self) -> Frame {
        Frame::new(self.typ, Bytes::copy_from_slice(self.payload))
    }
}
