"""Locating and declaring the shared library (ctypes, no compiled Python code).

The library is the ``oap-c`` crate of this repository (``liboap.so`` on
Linux, ``liboap.dylib`` on macOS, ``oap.dll`` on Windows). It is looked up,
first match wins:

1. ``$OAP_LIB``: the full path of the library file;
2. next to this package (``oap/liboap.so``), where ``pip install`` copies it
   if the crate was built before installing;
3. the cargo target directory of a source checkout: ``$CARGO_TARGET_DIR`` if
   set, else ``target/`` at the root of the repository containing this file,
   trying ``release/`` then ``debug/``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

if sys.platform == "darwin":
    LIB_FILE = "liboap.dylib"
elif sys.platform == "win32":
    LIB_FILE = "oap.dll"
else:
    LIB_FILE = "liboap.so"


def candidates() -> list[Path]:
    """Where the library is looked for, in order."""
    env = os.environ.get("OAP_LIB")
    if env:
        return [Path(env)]
    here = Path(__file__).resolve().parent
    found = [here / LIB_FILE]
    target_dirs = []
    if os.environ.get("CARGO_TARGET_DIR"):
        target_dirs.append(Path(os.environ["CARGO_TARGET_DIR"]))
    for parent in here.parents:
        if (parent / "Cargo.toml").is_file() and (parent / "bindings").is_dir():
            target_dirs.append(parent / "target")
            break
    for t in target_dirs:
        found += [t / "release" / LIB_FILE, t / "debug" / LIB_FILE]
    return found


def load() -> tuple[ctypes.CDLL, Path]:
    """Loads the first library found, or raises ImportError saying where it looked."""
    tried = candidates()
    for path in tried:
        if path.is_file():
            return ctypes.CDLL(str(path)), path
    if os.environ.get("OAP_LIB"):
        raise ImportError(f"OAP_LIB={tried[0]} does not exist")
    raise ImportError(
        "liboap not found; build it with `cargo build -p oap-c` and set OAP_LIB "
        "to the library file, or reinstall the package after building. Looked in: "
        + ", ".join(str(p) for p in tried)
    )


# ---- the C ABI, mirroring bindings/c/include/oap.h ---------------------------

OK = 0
NEED_MORE = 1
BUFFER_TOO_SMALL = -20
HEADER_LEN = 6
DEFAULT_MAX_FRAME = 1_048_576
OBJECT_ID_BUF_LEN = 68


class OapFrame(ctypes.Structure):
    _fields_ = [
        ("ver", ctypes.c_uint8),
        ("typ", ctypes.c_uint8),
        ("payload", ctypes.c_void_p),
        ("payload_len", ctypes.c_size_t),
    ]


class OapObjectId(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint8 * 32)]


class OapDataView(ctypes.Structure):
    _fields_ = [
        ("header_json", ctypes.c_void_p),
        ("header_json_len", ctypes.c_size_t),
        ("body", ctypes.c_void_p),
        ("body_len", ctypes.c_size_t),
        ("obj", OapObjectId),
        ("offset", ctypes.c_uint64),
        ("total_len", ctypes.c_uint64),
        ("corr_id", ctypes.c_uint64),
        ("has_offset", ctypes.c_bool),
        ("has_total_len", ctypes.c_bool),
        ("has_corr_id", ctypes.c_bool),
        ("e2e", ctypes.c_bool),
    ]


def declare(lib: ctypes.CDLL) -> None:
    """Sets argtypes/restype of every function used, so ctypes checks calls."""
    st = ctypes.c_int32
    buf = ctypes.c_char_p  # input bytes: passed without copying
    out = ctypes.c_void_p  # output buffers (ctypes.create_string_buffer)
    size = ctypes.c_size_t
    psize = ctypes.POINTER(ctypes.c_size_t)
    decoder = ctypes.c_void_p
    hasher = ctypes.c_void_p
    pid = ctypes.POINTER(OapObjectId)
    sigs = {
        "oap_status_name": (ctypes.c_char_p, [ctypes.c_int32]),
        "oap_frame_type_name": (ctypes.c_char_p, [ctypes.c_uint8]),
        "oap_decoder_new": (st, [ctypes.c_uint32, ctypes.POINTER(decoder)]),
        "oap_decoder_free": (None, [decoder]),
        "oap_decoder_push": (st, [decoder, buf, size]),
        "oap_decoder_next": (st, [decoder, ctypes.POINTER(OapFrame)]),
        "oap_decoder_finish": (st, [decoder]),
        "oap_decoder_buffered": (st, [decoder, psize]),
        "oap_encode_header": (st, [ctypes.c_uint8, size, ctypes.c_uint32, out, size, psize]),
        "oap_encode_frame": (st, [ctypes.c_uint8, buf, size, ctypes.c_uint32, out, size, psize]),
        "oap_data_pack": (st, [buf, size, buf, size, out, size, psize]),
        "oap_data_unpack": (st, [buf, size, ctypes.POINTER(OapDataView)]),
        "oap_object_id_compute": (st, [buf, size, pid]),
        "oap_object_id_parse": (st, [buf, size, pid]),
        "oap_object_id_format": (st, [pid, out, size, psize]),
        "oap_object_id_verify": (st, [pid, buf, size]),
        "oap_hasher_new": (st, [ctypes.POINTER(hasher)]),
        "oap_hasher_update": (st, [hasher, buf, size]),
        "oap_hasher_finalize": (st, [hasher, pid]),
        "oap_hasher_free": (None, [hasher]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


lib, LIBRARY_PATH = load()
declare(lib)
