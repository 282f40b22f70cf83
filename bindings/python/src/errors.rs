//! Raising the package's exceptions, which are Python classes of
//! `oap/_errors.py` (so they keep their `kind` and `frames` attributes and
//! their `ValueError` base exactly as the ctypes package defined them).

use pyo3::call::PyCallArgs;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};

static DECODE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ENCODE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Builds an instance of `oap._errors.<name>` from `args`; imported on
/// first use and kept. If even that fails, the failure is what is raised.
fn raise<'py>(
    py: Python<'py>,
    cell: &PyOnceLock<Py<PyType>>,
    name: &str,
    args: impl PyCallArgs<'py>,
) -> PyErr {
    match cell
        .import(py, "oap._errors", name)
        .and_then(|class| class.call1(args))
    {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// `oap.DecodeError(kind, frames)`: `frames` are the whole frames the
/// failing call completed before the error.
pub(crate) fn decode_error(py: Python<'_>, kind: &str, frames: &Bound<'_, PyList>) -> PyErr {
    raise(py, &DECODE_ERROR, "DecodeError", (kind, frames))
}

/// `oap.DecodeError(kind)` with no frames (a DATA payload, an object id).
pub(crate) fn decode_error_alone(py: Python<'_>, kind: &str) -> PyErr {
    decode_error(py, kind, &PyList::empty(py))
}

/// `oap.EncodeError(kind)`.
pub(crate) fn encode_error(py: Python<'_>, kind: &str) -> PyErr {
    raise(py, &ENCODE_ERROR, "EncodeError", (kind,))
}
