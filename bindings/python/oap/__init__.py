"""OAP/1 frame codec for Python: the Rust codec of ``oap-core``, compiled
into the native module ``oap._oap`` (PyO3, one abi3 wheel for CPython 3.9
and later).

>>> import oap
>>> dec = oap.Decoder()
>>> wire = oap.encode_frame("ACK", b'{"credit":65536}')
>>> [f.typ for f in dec.feed(wire[:3])], [f.typ for f in dec.feed(wire[3:])]
([], ['ACK'])
>>> dec.finish()
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import _oap
from ._errors import DecodeError, EncodeError, OapError
from ._oap import (
    DEFAULT_MAX_FRAME,
    FRAME_TYPES,
    Decoder,
    Frame,
    ObjectHasher,
    encode_frame,
    encode_header,
    object_id,
    verify_object_id,
)

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

#: The native module's file: what ``import oap`` loaded.
LIBRARY_PATH = Path(_oap.__file__)


def pack_data(header: dict[str, Any], body: bytes) -> bytes:
    """A DATA payload: ``[u16 header_len BE][header JSON][body]``.

    ``header`` must hold ``"obj": "b3:<64 hex>"`` (for a whole object,
    ``object_id(body)``); otherwise ``EncodeError`` with kind
    ``bad_object_id`` or ``bad_data_header``. It is written as compact JSON.
    Frame the result with ``encode_frame("DATA", ...)``.
    """
    if not isinstance(header, dict):
        raise TypeError("header must be a dict")
    header_json = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return _oap._pack_data(header_json, body)


def unpack_data(payload: bytes) -> tuple[dict[str, Any], bytes]:
    """Splits and validates a DATA payload into (header dict, body).

    Raises ``DecodeError`` with kind ``bad_data_header`` (bad length field,
    header not a JSON object of the DATA shape, no ``obj``) or
    ``bad_object_id``. The body is not hashed: a whole object (no
    ``total_len``) can be checked with :func:`verify_object_id`.
    """
    header_json, body = _oap._unpack_data(payload)
    return json.loads(header_json), body
