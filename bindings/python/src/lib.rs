//! `oap._oap`: the OAP/1 codec of `oap-core` as a CPython extension module.
//!
//! The Python package `oap` (`bindings/python/oap/`) re-exports everything
//! here and adds the two functions whose work is Python's own, JSON in and
//! out of DATA headers (`pack_data`, `unpack_data`, over `_pack_data` and
//! `_unpack_data` below). Its exceptions are plain Python classes in
//! `oap._errors`, raised from here by the private `errors` module.
//!
//! Conventions, as the ctypes package that preceded this module had them:
//! byte inputs are `bytes`, `bytearray` or `memoryview` (the last two are
//! copied once, as `bytes(data)` would); `max_frame` is an `int` in
//! `[0, 2**32 - 1]` or `ValueError`; frame types are the upper-case names.
//!
//! Built with the abi3 feature for CPython 3.9: one wheel serves 3.9 and
//! every later version. No `unsafe` here: PyO3's safe API is enough, and a
//! Rust panic reaches Python as `pyo3_runtime.PanicException`, never as
//! unwinding through the interpreter.
//!
//! The module is a `cdylib` for CPython, so it has no Rust doctests (they
//! would have to embed libpython); the pytest suite (`bindings/run-tests.sh`)
//! tests it. From Python:
//!
//! ```python
//! import oap
//! frames = oap.Decoder().feed(oap.encode_frame("END", b""))
//! assert [f.typ for f in frames] == ["END"]
//! ```

mod args;
mod data;
mod decoder;
mod encode;
mod errors;
mod frame;
mod object_id;

use oap_core::FrameType;
use oap_core::limits::DEFAULT_MAX_FRAME;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The module `oap._oap`.
#[pymodule]
fn _oap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DEFAULT_MAX_FRAME", DEFAULT_MAX_FRAME)?;
    let types = PyDict::new(py);
    for t in FrameType::ALL {
        types.set_item(t.name(), t.as_u8())?;
    }
    m.add("FRAME_TYPES", types)?;
    m.add_class::<frame::Frame>()?;
    m.add_class::<decoder::Decoder>()?;
    m.add_class::<object_id::ObjectHasher>()?;
    m.add_function(wrap_pyfunction!(encode::encode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(encode::encode_header, m)?)?;
    m.add_function(wrap_pyfunction!(data::_pack_data, m)?)?;
    m.add_function(wrap_pyfunction!(data::_unpack_data, m)?)?;
    m.add_function(wrap_pyfunction!(object_id::object_id, m)?)?;
    m.add_function(wrap_pyfunction!(object_id::verify_object_id, m)?)?;
    Ok(())
}
