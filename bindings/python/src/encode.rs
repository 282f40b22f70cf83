//! `encode_frame` and `encode_header`.

use oap_core::FrameEncoder;
use oap_core::frame::EncodeError;
use oap_core::limits::HEADER_LEN;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::{Data, MaxFrame, PayloadLen, TypeName};
use crate::errors::encode_error;

/// The 6 header bytes, or `EncodeError(kind="too_large")` for a payload
/// above `max_frame`: this side never emits what the peer must reject.
fn header(py: Python<'_>, typ: TypeName, len: usize, max_frame: MaxFrame) -> PyResult<[u8; 6]> {
    FrameEncoder::with_max_frame(max_frame.0)
        .header(typ.0, len)
        .map_err(|e| {
            let kind = match e {
                EncodeError::TooLarge { .. } => "too_large",
                // Not returned by `header`, which writes into no buffer.
                EncodeError::BufferTooSmall { .. } => "buffer_too_small",
            };
            encode_error(py, kind)
        })
}

/// The wire bytes of one frame. Raises `EncodeError(kind="too_large")` if
/// the payload exceeds `max_frame`.
#[pyfunction]
// The text signature shows the default's value (PyO3 would show `...`);
// a test checks it against DEFAULT_MAX_FRAME.
#[pyo3(
    signature = (typ, payload, max_frame = MaxFrame::DEFAULT),
    text_signature = "(typ, payload, max_frame=1048576)"
)]
pub(crate) fn encode_frame<'py>(
    py: Python<'py>,
    typ: TypeName,
    payload: Data<'py>,
    max_frame: MaxFrame,
) -> PyResult<Bound<'py, PyBytes>> {
    let payload = payload.as_bytes();
    // Checked before the output is allocated: a refused payload costs no
    // frame-sized buffer.
    let head = header(py, typ, payload.len(), max_frame)?;
    PyBytes::new_with(py, HEADER_LEN + payload.len(), |out| {
        let (h, p) = out.split_at_mut(HEADER_LEN);
        h.copy_from_slice(&head);
        p.copy_from_slice(payload);
        Ok(())
    })
}

/// The 6 header bytes of a frame, to send before a payload written
/// separately.
#[pyfunction]
#[pyo3(
    signature = (typ, payload_len, max_frame = MaxFrame::DEFAULT),
    text_signature = "(typ, payload_len, max_frame=1048576)"
)]
pub(crate) fn encode_header<'py>(
    py: Python<'py>,
    typ: TypeName,
    payload_len: PayloadLen,
    max_frame: MaxFrame,
) -> PyResult<Bound<'py, PyBytes>> {
    let head = header(py, typ, payload_len.0, max_frame)?;
    Ok(PyBytes::new(py, &head))
}
