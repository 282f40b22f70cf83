//! Argument conversions shared by every function: what Python may pass, and
//! the error it gets otherwise.

use oap_core::FrameType;
use oap_core::limits::DEFAULT_MAX_FRAME;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyInt, PyMemoryView, PyString};

/// Byte input: a `bytes` object as it is, or a copy of a `bytearray` or
/// `memoryview`.
///
/// Copying those two keeps every later step simple and safe: a `bytes`
/// object cannot change, so its buffer may be read with the GIL released,
/// while a `bytearray` could be resized by another thread meanwhile.
pub(crate) struct Data<'py>(pub(crate) Bound<'py, PyBytes>);

impl Data<'_> {
    /// The bytes, borrowed from the `bytes` object this holds alive.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Data<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Data(b.to_owned()));
        }
        if obj.is_instance_of::<PyByteArray>() || obj.is_instance_of::<PyMemoryView>() {
            let copy = obj.py().get_type::<PyBytes>().call1((obj,))?;
            return Ok(Data(copy.cast_into::<PyBytes>()?));
        }
        Err(PyTypeError::new_err(format!(
            "expected bytes, got {}",
            obj.get_type().name()?
        )))
    }
}

/// A `max_frame` argument: the largest payload, in bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaxFrame(pub(crate) u32);

impl MaxFrame {
    /// 1 MiB, the protocol's default.
    pub(crate) const DEFAULT: MaxFrame = MaxFrame(DEFAULT_MAX_FRAME);
}

impl<'a, 'py> FromPyObject<'a, 'py> for MaxFrame {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // `bool` is an `int` subclass, and a float or an out-of-range int
        // must not be truncated into a different limit than the caller
        // wrote: all are refused.
        let refuse = || PyValueError::new_err("max_frame must be an int in [0, 2**32 - 1]");
        if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
            return Err(refuse());
        }
        obj.extract::<u32>().map(MaxFrame).map_err(|_| refuse())
    }
}

/// A frame type given by its upper-case name (`"HELLO"`, ... `"ERROR"`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TypeName(pub(crate) FrameType);

impl<'a, 'py> FromPyObject<'a, 'py> for TypeName {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let name = obj.cast::<PyString>().ok();
        let text = name.as_ref().and_then(|s| s.to_cow().ok());
        text.as_deref()
            .and_then(FrameType::from_name)
            .map(TypeName)
            .ok_or_else(|| {
                let names: Vec<&str> = FrameType::ALL.iter().map(|t| t.name()).collect();
                let shown = obj
                    .repr()
                    .map_or_else(|_| "?".to_owned(), |r| r.to_string());
                PyValueError::new_err(format!(
                    "unknown frame type {shown}; expected one of ['{}']",
                    names.join("', '")
                ))
            })
    }
}

/// A payload length for `encode_header`: a non-negative `int`.
///
/// One above `usize::MAX` is kept as `usize::MAX`: it is above any
/// `max_frame` all the same, so the encoder refuses it as `too_large`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PayloadLen(pub(crate) usize);

impl<'a, 'py> FromPyObject<'a, 'py> for PayloadLen {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let refuse = || PyValueError::new_err("payload_len must be a non-negative int");
        if !obj.is_instance_of::<PyInt>() || obj.lt(0)? {
            return Err(refuse());
        }
        Ok(PayloadLen(obj.extract::<usize>().unwrap_or(usize::MAX)))
    }
}
