//! `oap.Frame`: one decoded frame, a value like the frozen dataclass it
//! replaces (equality, hash, repr, pickling and `match` by fields).

use oap_core::FrameType;
use oap_core::limits::OAP_VERSION;
use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyString};

use crate::args::{Data, TypeName};

/// One decoded frame: `typ` is the upper-case type name, `ver` is always 1,
/// `payload` the payload bytes (owned by Python).
#[pyclass(frozen, module = "oap")]
pub(crate) struct Frame {
    typ: FrameType,
    ver: u8,
    payload: Py<PyBytes>,
}

impl Frame {
    /// The Python value of a frame from the core's decoder (copies the
    /// payload into a `bytes` object).
    pub(crate) fn decoded(py: Python<'_>, frame: &oap_core::Frame) -> Self {
        Frame {
            typ: frame.typ,
            ver: OAP_VERSION,
            payload: PyBytes::new(py, &frame.payload).unbind(),
        }
    }

    fn fields<'py>(&self, py: Python<'py>) -> (Bound<'py, PyString>, u8, Bound<'py, PyBytes>) {
        (self.typ_name(py), self.ver, self.payload.bind(py).clone())
    }

    /// The type name, as one interned string per type: reading `typ` of a
    /// million frames makes no new string.
    fn typ_name<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        let names = TYPE_NAMES.get_or_init(py, || {
            FrameType::ALL.map(|t| PyString::intern(py, t.name()).unbind())
        });
        let index = FrameType::ALL.iter().position(|t| *t == self.typ);
        names[index.expect("FrameType::ALL lists every type")]
            .bind(py)
            .clone()
    }
}

static TYPE_NAMES: PyOnceLock<[Py<PyString>; 6]> = PyOnceLock::new();
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

#[pymethods]
impl Frame {
    /// A frame of type `typ` (a name from `FRAME_TYPES`), protocol version
    /// `ver` and payload `payload`.
    #[new]
    fn new(typ: TypeName, ver: u8, payload: Data<'_>) -> Self {
        Frame {
            typ: typ.0,
            ver,
            payload: payload.0.unbind(),
        }
    }

    /// The upper-case type name: `"HELLO"`, `"START"`, `"DATA"`, `"END"`,
    /// `"ACK"` or `"ERROR"`.
    #[getter]
    fn typ<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        self.typ_name(py)
    }

    /// The protocol version (always 1 for a decoded frame).
    #[getter]
    fn ver(&self) -> u8 {
        self.ver
    }

    /// The payload bytes.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.payload.bind(py).clone()
    }

    /// The payload parsed as JSON (control frames), with `json.loads`.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        JSON_LOADS
            .import(py, "json", "loads")?
            .call1((self.payload.bind(py),))
    }

    #[classattr]
    fn __match_args__() -> (&'static str, &'static str, &'static str) {
        ("typ", "ver", "payload")
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<Frame>() else {
            return Ok(py.NotImplemented());
        };
        let other = other.get();
        let equal = self.typ == other.typ
            && self.ver == other.ver
            && self.payload.bind(py).as_bytes() == other.payload.bind(py).as_bytes();
        let answer = match op {
            CompareOp::Eq => equal,
            CompareOp::Ne => !equal,
            _ => return Ok(py.NotImplemented()),
        };
        Ok(PyBool::new(py, answer).to_owned().into_any().unbind())
    }

    /// The hash of `(typ, ver, payload)`, as a frozen dataclass has it.
    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        self.fields(py).into_pyobject(py)?.hash()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (typ, ver, payload) = self.fields(py);
        Ok(format!(
            "Frame(typ={}, ver={ver}, payload={})",
            typ.repr()?,
            payload.repr()?
        ))
    }

    /// Pickles as `Frame(typ, ver, payload)`.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (
        Bound<'py, PyAny>,
        (Bound<'py, PyString>, u8, Bound<'py, PyBytes>),
    ) {
        let py = slf.py();
        (slf.get_type().into_any(), slf.get().fields(py))
    }
}
