//! `oap.Decoder`: the core's `StreamDecoder` behind `feed(bytes) ->
//! list[Frame]`.

use oap_core::frame::StreamDecoder;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::args::{Data, MaxFrame};
use crate::errors::{decode_error, decode_error_alone};
use crate::frame::Frame;

/// Incremental decoder: feed bytes split anywhere, get whole frames.
///
/// Frames longer than `max_frame` payload bytes are refused from their
/// header alone, and the decoder never holds more than `max_frame + 6`
/// bytes of a partial frame. Errors are permanent: once `DecodeError` has
/// been raised, every later `feed` / `finish` raises it again.
#[pyclass(module = "oap")]
pub(crate) struct Decoder {
    /// `None` once closed.
    stream: Option<StreamDecoder>,
    max_frame: u32,
}

impl Decoder {
    fn stream(&mut self) -> PyResult<&mut StreamDecoder> {
        self.stream
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("decoder is closed"))
    }
}

#[pymethods]
impl Decoder {
    /// A decoder refusing payloads above `max_frame` bytes (default 1 MiB).
    #[new]
    #[pyo3(
        signature = (max_frame = MaxFrame::DEFAULT),
        text_signature = "(max_frame=1048576)"
    )]
    fn new(max_frame: MaxFrame) -> Self {
        Decoder {
            stream: Some(StreamDecoder::with_max_frame(max_frame.0)),
            max_frame: max_frame.0,
        }
    }

    /// The largest payload accepted, in bytes.
    #[getter]
    fn max_frame(&self) -> u32 {
        self.max_frame
    }

    /// Takes `data` and returns the whole frames it completed, in order.
    ///
    /// A trailing partial frame is kept for the next call. Raises
    /// `DecodeError` at the first invalid header; the frames that preceded
    /// it in this call are in the exception's `frames`.
    fn feed<'py>(&mut self, py: Python<'py>, data: Data<'py>) -> PyResult<Bound<'py, PyList>> {
        let stream = self.stream()?;
        let mut input = data.as_bytes();
        let frames = PyList::empty(py);
        loop {
            match stream.feed(&mut input) {
                Ok(Some(frame)) => frames.append(Frame::decoded(py, &frame))?,
                // `feed` says "no frame" only once the input is used up.
                Ok(None) => return Ok(frames),
                Err(e) => return Err(decode_error(py, e.kind(), &frames)),
            }
        }
    }

    /// Declares end of input: raises `DecodeError(kind="truncated")` if it
    /// ended inside a frame (or the error already raised).
    fn finish(&mut self, py: Python<'_>) -> PyResult<()> {
        self.stream()?
            .finish()
            .map_err(|e| decode_error_alone(py, e.kind()))
    }

    /// Bytes held for an incomplete frame (never above `max_frame + 6`).
    #[getter]
    fn buffered(&mut self) -> PyResult<usize> {
        Ok(self.stream()?.buffered())
    }

    /// Releases the buffer now; later calls raise `ValueError`. Closing
    /// twice is harmless.
    fn close(&mut self) {
        self.stream = None;
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the decoder; exceptions propagate.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&mut self, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }
}
