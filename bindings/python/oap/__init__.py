"""OAP/1 frame codec for Python: ctypes over liboap (the ``oap-c`` crate).

>>> import oap
>>> dec = oap.Decoder()
>>> wire = oap.encode_frame("ACK", b'{"credit":65536}')
>>> [f.typ for f in dec.feed(wire[:3])], [f.typ for f in dec.feed(wire[3:])]
([], ['ACK'])
>>> dec.finish()

See ``oap._lib`` for how the shared library is found (``OAP_LIB`` first).
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass

from . import _lib
from ._lib import DEFAULT_MAX_FRAME, LIBRARY_PATH

__all__ = [
    "DEFAULT_MAX_FRAME",
    "LIBRARY_PATH",
    "FRAME_TYPES",
    "OapError",
    "DecodeError",
    "EncodeError",
    "Frame",
    "Decoder",
    "encode_frame",
    "encode_header",
    "pack_data",
    "unpack_data",
    "object_id",
    "verify_object_id",
    "ObjectHasher",
]

_L = _lib.lib

#: Frame type names and their wire values.
FRAME_TYPES = {"HELLO": 1, "START": 2, "DATA": 3, "END": 4, "ACK": 5, "ERROR": 6}
_TYPE_NAMES = {v: k for k, v in FRAME_TYPES.items()}


def _status_name(status: int) -> str:
    return _L.oap_status_name(status).decode("ascii")


class OapError(ValueError):
    """An error reported by liboap; ``kind`` is its stable snake-case name."""

    def __init__(self, kind: str, message: str | None = None):
        super().__init__(message or kind)
        self.kind = kind


class DecodeError(OapError):
    """Input that is not valid OAP/1.

    ``kind`` is one of the test-vector names: ``bad_version``,
    ``unknown_type``, ``too_large``, ``truncated`` (from a decoder), or
    ``bad_data_header`` / ``bad_object_id`` (from :func:`unpack_data`).
    ``frames`` holds the whole frames that the failing :meth:`Decoder.feed`
    call completed before the error (empty otherwise).
    """

    def __init__(self, kind: str, frames: list[Frame] | None = None):
        super().__init__(kind)
        self.frames = list(frames or [])


class EncodeError(OapError):
    """Something that must not be sent: ``too_large`` (payload above
    ``max_frame``), ``bad_data_header`` or ``bad_object_id`` (DATA header)."""


def _raise_for(status: int, cls: type[OapError] = EncodeError) -> None:
    if status == _lib.OK:
        return
    kind = _status_name(status)
    if kind in ("null_pointer", "panic", "invalid_argument", "unknown_status"):
        raise RuntimeError(f"liboap failed: {kind}")
    raise cls(kind)


def _check_max_frame(max_frame) -> None:
    # ctypes would silently wrap an out-of-range value into a uint32_t
    if isinstance(max_frame, bool) or not isinstance(max_frame, int) or not 0 <= max_frame <= 0xFFFF_FFFF:
        raise ValueError("max_frame must be an int in [0, 2**32 - 1]")


def _as_bytes(data) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected bytes, got {type(data).__name__}")


@dataclass(frozen=True)
class Frame:
    """One decoded frame. ``typ`` is the upper-case type name, ``ver`` is
    always 1, ``payload`` the raw payload bytes (a copy owned by Python)."""

    typ: str
    ver: int
    payload: bytes

    def json(self):
        """The payload parsed as JSON (control frames)."""
        return json.loads(self.payload)


class Decoder:
    """Incremental decoder: feed bytes split anywhere, get whole frames.

    Frames longer than ``max_frame`` payload bytes are refused from their
    header alone. Errors are permanent: once :class:`DecodeError` has been
    raised, every later :meth:`feed` / :meth:`finish` raises it again.
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME):
        _check_max_frame(max_frame)
        self._dec = ctypes.c_void_p()
        _raise_for(_L.oap_decoder_new(max_frame, ctypes.byref(self._dec)), RuntimeError)
        self.max_frame = max_frame

    def feed(self, data: bytes) -> list[Frame]:
        """Takes ``data`` and returns the whole frames it completed, in order.

        A trailing partial frame is kept for the next call. Raises
        :class:`DecodeError` at the first invalid header; the frames that
        preceded it in this call are in the exception's ``frames``.
        """
        data = _as_bytes(data)
        frames: list[Frame] = []
        st = _L.oap_decoder_push(self._handle(), data, len(data))
        if st != _lib.OK:
            raise DecodeError(_status_name(st))
        f = _lib.OapFrame()
        while True:
            st = _L.oap_decoder_next(self._dec, ctypes.byref(f))
            if st == _lib.NEED_MORE:
                return frames
            if st != _lib.OK:
                raise DecodeError(_status_name(st), frames)
            payload = ctypes.string_at(f.payload, f.payload_len) if f.payload_len else b""
            frames.append(Frame(_TYPE_NAMES[f.typ], f.ver, payload))

    def finish(self) -> None:
        """Declares end of input: raises ``DecodeError(kind="truncated")`` if
        it ended inside a frame (or the error already raised)."""
        st = _L.oap_decoder_finish(self._handle())
        if st != _lib.OK:
            raise DecodeError(_status_name(st))

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame (never above ``max_frame + 6``)."""
        n = ctypes.c_size_t()
        _raise_for(_L.oap_decoder_buffered(self._handle(), ctypes.byref(n)), RuntimeError)
        return n.value

    def _handle(self):
        if not self._dec:
            raise ValueError("decoder is closed")
        return self._dec

    def close(self) -> None:
        """Releases the native decoder now (otherwise done on garbage collection)."""
        dec, self._dec = getattr(self, "_dec", None), ctypes.c_void_p()
        if dec and _L is not None:  # _L may be gone at interpreter shutdown
            _L.oap_decoder_free(dec)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _type_value(typ: str) -> int:
    try:
        return FRAME_TYPES[typ]
    except (KeyError, TypeError):
        raise ValueError(f"unknown frame type {typ!r}; expected one of {list(FRAME_TYPES)}") from None


def encode_frame(typ: str, payload: bytes, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """The wire bytes of one frame. Raises ``EncodeError(kind="too_large")``
    if the payload exceeds ``max_frame`` (the peer would have to reject it)."""
    _check_max_frame(max_frame)
    payload = _as_bytes(payload)
    out = ctypes.create_string_buffer(_lib.HEADER_LEN + len(payload))
    n = ctypes.c_size_t()
    st = _L.oap_encode_frame(
        _type_value(typ), payload, len(payload), max_frame, out, len(out), ctypes.byref(n)
    )
    _raise_for(st)
    return out.raw[: n.value]


def encode_header(typ: str, payload_len: int, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """The 6 header bytes of a frame, to send before a payload written separately."""
    _check_max_frame(max_frame)
    if not isinstance(payload_len, int) or payload_len < 0:
        raise ValueError("payload_len must be a non-negative int")
    out = ctypes.create_string_buffer(_lib.HEADER_LEN)
    n = ctypes.c_size_t()
    _raise_for(
        _L.oap_encode_header(_type_value(typ), payload_len, max_frame, out, len(out), ctypes.byref(n))
    )
    return out.raw[: n.value]


def pack_data(header: dict, body: bytes) -> bytes:
    """A DATA payload: ``[u16 header_len BE][header JSON][body]``.

    ``header`` must hold ``"obj": "b3:<64 hex>"`` (for a whole object,
    ``object_id(body)``); otherwise ``EncodeError`` with kind
    ``bad_object_id`` or ``bad_data_header``. Frame the result with
    ``encode_frame("DATA", ...)``.
    """
    if not isinstance(header, dict):
        raise TypeError("header must be a dict")
    body = _as_bytes(body)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    out = ctypes.create_string_buffer(2 + len(hj) + len(body))
    n = ctypes.c_size_t()
    _raise_for(_L.oap_data_pack(hj, len(hj), body, len(body), out, len(out), ctypes.byref(n)))
    return out.raw[: n.value]


def unpack_data(payload: bytes) -> tuple[dict, bytes]:
    """Splits and validates a DATA payload into (header dict, body).

    Raises ``DecodeError`` with kind ``bad_data_header`` (bad length field,
    header not a JSON object of the DATA shape, no ``obj``) or
    ``bad_object_id``. The body is not hashed: a whole object (no
    ``total_len``) can be checked with :func:`verify_object_id`.
    """
    payload = _as_bytes(payload)
    view = _lib.OapDataView()
    _raise_for(_L.oap_data_unpack(payload, len(payload), ctypes.byref(view)), DecodeError)
    header = ctypes.string_at(view.header_json, view.header_json_len)
    body = payload[len(payload) - view.body_len :]
    return json.loads(header), body


def _format(oid: _lib.OapObjectId) -> str:
    out = ctypes.create_string_buffer(_lib.OBJECT_ID_BUF_LEN)
    n = ctypes.c_size_t()
    _raise_for(_L.oap_object_id_format(ctypes.byref(oid), out, len(out), ctypes.byref(n)))
    return out.raw[: n.value].decode("ascii")


def object_id(data: bytes) -> str:
    """The object id of ``data``: ``"b3:"`` + 64 lowercase hex (BLAKE3-256)."""
    data = _as_bytes(data)
    oid = _lib.OapObjectId()
    _raise_for(_L.oap_object_id_compute(data, len(data), ctypes.byref(oid)))
    return _format(oid)


def verify_object_id(obj: str, data: bytes) -> bool:
    """Whether ``data`` hashes to ``obj`` (constant-time comparison).

    Raises ``DecodeError(kind="bad_object_id")`` if ``obj`` is not a valid id.
    """
    text = obj.encode("utf-8")
    data = _as_bytes(data)
    oid = _lib.OapObjectId()
    _raise_for(_L.oap_object_id_parse(text, len(text), ctypes.byref(oid)), DecodeError)
    return _L.oap_object_id_verify(ctypes.byref(oid), data, len(data)) == _lib.OK


class ObjectHasher:
    """Streaming object id for an object that arrives in pieces."""

    def __init__(self):
        self._h = ctypes.c_void_p()
        _raise_for(_L.oap_hasher_new(ctypes.byref(self._h)), RuntimeError)

    def update(self, data: bytes) -> ObjectHasher:
        data = _as_bytes(data)
        _raise_for(_L.oap_hasher_update(self._h, data, len(data)), RuntimeError)
        return self

    def object_id(self) -> str:
        """The id of everything so far (more bytes may follow)."""
        oid = _lib.OapObjectId()
        _raise_for(_L.oap_hasher_finalize(self._h, ctypes.byref(oid)), RuntimeError)
        return _format(oid)

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and _L is not None:
            _L.oap_hasher_free(h)
