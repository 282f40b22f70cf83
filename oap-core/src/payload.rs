//! Typed payloads of the six frame types.
//!
//! Control frames (HELLO, START, END, ACK, ERROR) carry UTF-8 JSON; DATA
//! carries `[u16 header_len BE][JSON header][raw body]`. Unknown JSON fields
//! are ignored so later versions can add fields, and the payload shapes of
//! the original RustyOnions codec (`{"hello":"oap/1"}`, `{"topic":…}`,
//! `{"credit":N}`, `{"code":…,"msg":…}`) decode as they are.
//!
//! All JSON goes through a bounded parser: size and nesting are checked
//! before serde sees a byte.

mod ack_fast;
mod canonical;
mod control;
mod data;
mod data_fast;
mod end_fast;
mod error;
mod error_code;
#[cfg(feature = "fuzzing")]
pub mod fast_paths;
#[cfg(test)]
mod fast_test_support;
mod hello_fast;
mod json;
mod messages;
mod start_fast;

pub use control::ControlPayload;
pub use data::{
    DataFrameError, DataFrameParts, DataHeader, data_frame, data_frame_parts,
    data_frame_parts_json, decode_data_bytes, decode_data_payload, encode_data_payload,
    pack_data_raw, put_data_head, unpack_data_raw,
};
pub(crate) use data::{HeaderJson, data_prefix};
pub use error::{JsonErrorKind, PayloadError};
pub use error_code::ErrorCode;
pub(crate) use messages::REDACTED;
pub(crate) use messages::StartRef;
pub use messages::{Ack, End, ErrorEnvelope, Hello, PROTOCOL_NAME, Start};
