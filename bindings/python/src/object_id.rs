//! Object ids (`b3:<64 lowercase hex>`, BLAKE3-256): `object_id`,
//! `verify_object_id` and the streaming `ObjectHasher`. Large inputs are
//! hashed with the GIL released, so other Python threads run meanwhile.

use oap_core::ObjectId;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::args::Data;
use crate::errors::decode_error_alone;

/// Inputs from this many bytes on are hashed with the GIL released; below
/// it, giving the GIL up and taking it back would cost about as much as the
/// hash. (CPython's `hashlib` releases it from 2 KiB on too.)
const DETACH_FROM: usize = 2048;

/// Runs `hash` over `data`, with the GIL released if `data` is large.
///
/// Sound because `data` borrows a `bytes` object the caller holds alive,
/// and `bytes` cannot change (bytearray and memoryview inputs were copied
/// into one by [`Data`]).
fn hash_off_gil<T: Send>(py: Python<'_>, data: &[u8], hash: impl FnOnce(&[u8]) -> T + Send) -> T {
    if data.len() >= DETACH_FROM {
        py.detach(|| hash(data))
    } else {
        hash(data)
    }
}

/// The object id of `data`: `"b3:"` + 64 lowercase hex (BLAKE3-256).
#[pyfunction]
pub(crate) fn object_id(py: Python<'_>, data: Data<'_>) -> String {
    hash_off_gil(py, data.as_bytes(), ObjectId::of).to_string()
}

/// Whether `data` hashes to `obj` (constant-time comparison). Raises
/// `DecodeError(kind="bad_object_id")` if `obj` is not a valid id.
#[pyfunction]
pub(crate) fn verify_object_id(
    py: Python<'_>,
    obj: &Bound<'_, PyString>,
    data: Data<'_>,
) -> PyResult<bool> {
    let id: ObjectId = obj
        .to_cow()?
        .parse()
        .map_err(|_| decode_error_alone(py, "bad_object_id"))?;
    Ok(hash_off_gil(py, data.as_bytes(), |d| id.verify(d)))
}

/// Streaming object id for an object that arrives in pieces.
///
/// One thread at a time: while `update` hashes a large piece with the GIL
/// released, a call from another thread raises `RuntimeError` (already
/// borrowed) instead of racing on the state.
#[pyclass(module = "oap")]
pub(crate) struct ObjectHasher {
    inner: oap_core::object_id::ObjectHasher,
}

#[pymethods]
impl ObjectHasher {
    /// A hasher that has seen no bytes.
    #[new]
    fn new() -> Self {
        ObjectHasher {
            inner: oap_core::object_id::ObjectHasher::new(),
        }
    }

    /// Adds the next piece of the object; returns the hasher itself.
    fn update<'py>(mut slf: PyRefMut<'py, Self>, data: Data<'py>) -> PyRefMut<'py, Self> {
        let py = slf.py();
        let inner = &mut slf.inner;
        hash_off_gil(py, data.as_bytes(), |d| {
            inner.update(d);
        });
        slf
    }

    /// The id of everything so far (more bytes may follow).
    fn object_id(&self) -> String {
        self.inner.finalize().to_string()
    }
}
