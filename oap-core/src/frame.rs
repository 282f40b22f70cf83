//! The OAP/1 frame codec.
//!
//! A frame is a 6-byte header followed by `len` payload bytes:
//!
//! ```text
//! +--------+--------+--------------------------+------------------+
//! | ver u8 | typ u8 | len u32 (big-endian)     | payload[len]     |
//! +--------+--------+--------------------------+------------------+
//! ```
//!
//! This is byte-for-byte the framing of the original RustyOnions codec.
//! Everything here is sans-IO: decoders take bytes the caller read, encoders
//! write into buffers the caller owns.
//!
//! * [`FrameDecoder`] decodes from a caller's [`bytes::BytesMut`] (the shape
//!   of tokio-util's `Decoder`) or from a plain slice, borrowing the payload.
//! * [`StreamDecoder`] owns its buffer and never holds more than
//!   `max_frame + 6` bytes, for hosts that push arbitrary chunks; its
//!   `feed_ref` hands out a frame that lies whole in the input without
//!   copying it.
//! * [`FrameEncoder`] checks the same bounds on the way out and can emit the
//!   header alone, so a large body is written without a copy.

mod decoder;
mod encoder;
mod error;
mod header;
mod stream;
mod types;

pub use decoder::FrameDecoder;
pub use encoder::FrameEncoder;
pub use error::{DecodeError, EncodeError};
pub use header::FrameHeader;
pub use stream::StreamDecoder;
pub use types::{DecodedFrame, Frame, FrameRef, FrameType};
