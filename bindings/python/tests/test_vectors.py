"""Every case of docs/specs/vectors/*.json through the Python API.

Reference semantics (oap-core/tests/vectors.rs): decoding yields the listed
frames, in order, then the listed error; ``truncated`` comes from
``Decoder.finish()`` when the input ends inside a frame; a DATA frame whose
payload fails ``unpack_data`` is the error at that point.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

import oap

VECTORS = Path(
    os.environ.get("OAP_VECTORS_DIR", Path(__file__).resolve().parents[3] / "docs" / "specs" / "vectors")
)
FILES = sorted(VECTORS.glob("*.json"))
CASES = [case for f in FILES for case in json.loads(f.read_text())]


def decode(case: dict, chunks) -> tuple[list[oap.Frame], str | None]:
    dec = oap.Decoder(case.get("max_frame", 1_048_576))
    data = bytes.fromhex(case["input_hex"])
    frames: list[oap.Frame] = []
    error = None
    try:
        pos = 0
        for n in chunks(len(data)):
            frames += dec.feed(data[pos : pos + n])
            assert dec.buffered <= dec.max_frame + 6
            pos += n
        assert pos == len(data)
        dec.finish()
    except oap.DecodeError as e:
        frames += e.frames
        error = e.kind
    for i, f in enumerate(frames):
        if f.typ == "DATA":
            try:
                oap.unpack_data(f.payload)
            except oap.DecodeError as e:
                return frames[:i], e.kind
    return frames, error


def whole(n):
    return [n] if n else []


def bytewise(n):
    return [1] * n


def random_chunks(n, seed=0):
    rng = random.Random(seed)
    out = []
    while n > 0:
        k = min(n, rng.randint(1, 9))
        out.append(k)
        n -= k
    return out


def test_the_vector_files_are_there():
    assert len(FILES) >= 3, f"no vectors in {VECTORS}"
    assert len(CASES) >= 30


@pytest.mark.parametrize("how", [whole, bytewise, random_chunks], ids=["whole", "bytewise", "chunks"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case, how):
    frames, error = decode(case, how)
    assert error == case["error"]
    assert len(frames) == len(case["frames"])
    for got, want in zip(frames, case["frames"]):
        assert got.ver == want["ver"]
        assert got.typ == want["typ"]
        assert got.payload.hex() == want["payload_hex"]
        if "json" in want:
            assert json.loads(got.payload) == want["json"]
        assert ("data" in want) == (got.typ == "DATA")
        if "data" in want:
            header, body = oap.unpack_data(got.payload)
            assert header == want["data"]["header"]
            assert body.hex() == want["data"]["body_hex"]
            if "total_len" not in header:
                # a whole object: the body hashes to obj, and only it does
                assert oap.object_id(body) == header["obj"]
                assert oap.verify_object_id(header["obj"], body)
                assert not oap.verify_object_id(header["obj"], body + b"\0")
            # packing the same header and body again round-trips, and gives
            # the very same bytes when the sender wrote compact JSON
            repacked = oap.pack_data(header, body)
            assert oap.unpack_data(repacked) == (header, body)
            raw_header = got.payload[2 : len(got.payload) - len(body)]
            if raw_header == json.dumps(header, separators=(",", ":")).encode():
                assert repacked == got.payload


@pytest.mark.parametrize("case", [c for c in CASES if c["error"] is None], ids=lambda c: c["name"])
def test_encoding_the_listed_frames_reproduces_the_input(case):
    max_frame = case.get("max_frame", 1_048_576)
    out = b"".join(
        oap.encode_frame(f["typ"], bytes.fromhex(f["payload_hex"]), max_frame) for f in case["frames"]
    )
    assert out.hex() == case["input_hex"]


def test_vectors_cover_every_type_and_error():
    types = {f["typ"] for c in CASES for f in c["frames"]}
    assert types == set(oap.FRAME_TYPES)
    errors = {c["error"] for c in CASES} - {None}
    assert errors == {"bad_version", "unknown_type", "too_large", "truncated", "bad_data_header", "bad_object_id"}
