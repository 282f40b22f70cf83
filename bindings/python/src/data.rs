//! The byte side of DATA payloads, `[u16 header_len BE][JSON header][body]`;
//! `oap.pack_data` / `oap.unpack_data` do the JSON side in Python.

use oap_core::payload::{decode_data_payload, pack_data_raw};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::Data;
use crate::errors::{decode_error_alone, encode_error};

/// Packs `header_json` (UTF-8 JSON) and `body` into a DATA payload.
///
/// The header is validated as the receiver will validate it (`"obj"` a
/// valid `b3:` id, the DATA header's shape, at most 65535 bytes); otherwise
/// `EncodeError` with kind `bad_object_id` or `bad_data_header`.
#[pyfunction]
pub(crate) fn _pack_data<'py>(
    py: Python<'py>,
    header_json: Data<'py>,
    body: Data<'py>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (header_json, body) = (header_json.as_bytes(), body.as_bytes());
    // Validated on the header alone, so the body is copied only once, into
    // the result.
    let head = pack_data_raw(header_json, &[]).map_err(|e| encode_error(py, e.kind()))?;
    decode_data_payload(&head).map_err(|e| encode_error(py, e.kind()))?;
    PyBytes::new_with(py, head.len() + body.len(), |out| {
        let (h, b) = out.split_at_mut(head.len());
        h.copy_from_slice(&head);
        b.copy_from_slice(body);
        Ok(())
    })
}

/// Splits and validates a DATA payload into `(header JSON bytes, body)`.
///
/// Raises `DecodeError` with kind `bad_data_header` or `bad_object_id`.
/// The body is not hashed.
#[pyfunction]
pub(crate) fn _unpack_data<'py>(
    py: Python<'py>,
    payload: Data<'py>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let payload = payload.as_bytes();
    let (_, body) = decode_data_payload(payload).map_err(|e| decode_error_alone(py, e.kind()))?;
    // The JSON sits between the 2-byte length field and the body.
    let json = &payload[2..payload.len() - body.len()];
    Ok((PyBytes::new(py, json), PyBytes::new(py, body)))
}
