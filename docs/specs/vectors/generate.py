#!/usr/bin/env python3
"""Writes the OAP/1 test vectors (frames.json, streams.json, errors.json).

This is an independent implementation of the framing in a few lines of
Python, so the vectors do not merely echo the Rust codec back at itself.
It needs the `blake3` package from PyPI (`pip install blake3`). The output is
checked in; CI only reads it. Run it again after changing a case:

    python3 docs/specs/vectors/generate.py
"""
import json
import os
import struct

import blake3

TYPES = {"HELLO": 1, "START": 2, "DATA": 3, "END": 4, "ACK": 5, "ERROR": 6}
HERE = os.path.dirname(os.path.abspath(__file__))


def js(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def obj_id(data):
    return "b3:" + blake3.blake3(data).hexdigest()


def raw(ver, typ, payload, declared_len=None):
    n = len(payload) if declared_len is None else declared_len
    return struct.pack(">BBI", ver, typ, n) + payload


def frame(typ, payload):
    return raw(1, TYPES[typ], payload)


def control(typ, obj):
    """(wire bytes, expected frame) for a JSON control frame."""
    p = js(obj)
    return frame(typ, p), {"ver": 1, "typ": typ, "payload_hex": p.hex(), "json": obj}


def empty(typ):
    return frame(typ, b""), {"ver": 1, "typ": typ, "payload_hex": ""}


def data(header, body):
    h = js(header)
    p = struct.pack(">H", len(h)) + h + body
    return frame("DATA", p), {
        "ver": 1,
        "typ": "DATA",
        "payload_hex": p.hex(),
        "data": {"header": header, "body_hex": body.hex()},
    }


def case(name, description, parts, error=None, max_frame=None, tail=b""):
    """parts: list of (wire, expected) pairs; tail: bytes after them."""
    c = {
        "name": name,
        "description": description,
        "input_hex": (b"".join(w for w, _ in parts) + tail).hex(),
        "frames": [f for _, f in parts],
        "error": error,
    }
    if max_frame is not None:
        c["max_frame"] = max_frame
    return c


HELLO_WORLD = b"hello world"
CHUNK_OBJ = bytes((i * 7) % 256 for i in range(40))


def frames():
    return [
        case("hello_legacy", "HELLO as the original RustyOnions client sends it",
             [control("HELLO", {"hello": "oap/1"})]),
        case("hello_negotiating", "HELLO proposing limits",
             [control("HELLO", {"hello": "oap/1", "max_frame": 262144,
                                "max_inflight": 8, "credit": 32768,
                                "app_proto_id": "storage/1"})]),
        case("start_topic_legacy", "START with the original codec's topic field",
             [control("START", {"topic": "tiles/v1"})]),
        case("start_put", "START of a multiplexed put",
             [control("START", {"corr_id": 7, "op": "put", "collection": "docs", "id": "a"})]),
        case("start_get", "START of a get by address",
             [control("START", {"corr_id": 8, "op": "get", "addr": obj_id(HELLO_WORLD)})]),
        case("data_whole_object", "DATA carrying a whole object; obj is BLAKE3 of the body",
             [data({"obj": obj_id(HELLO_WORLD)}, HELLO_WORLD)]),
        case("data_legacy_extra_fields", "DATA header with a field the codec does not know (ignored)",
             [data({"mime": "application/octet-stream", "obj": obj_id(HELLO_WORLD)}, HELLO_WORLD)]),
        case("data_empty_object", "DATA carrying the empty object",
             [data({"obj": obj_id(b"")}, b"")]),
        case("data_chunk", "second DATA chunk of a 40-byte object sent in two frames",
             [data({"obj": obj_id(CHUNK_OBJ), "offset": 20, "total_len": 40,
                    "corr_id": 7, "content_type": "application/octet-stream"},
                   CHUNK_OBJ[20:])]),
        case("data_e2e", "APP_E2E DATA: opaque ciphertext, obj over the bytes as sent",
             [data({"obj": obj_id(b"\x00\xffciphertext"), "corr_id": 3, "e2e": True},
                   b"\x00\xffciphertext")]),
        case("end_empty", "END with no payload, as the original client sends it", [empty("END")]),
        case("end_put_answer", "END answering a put with the stored object's id",
             [control("END", {"corr_id": 7, "obj": obj_id(HELLO_WORLD)})]),
        case("ack_legacy", "ACK with credit only", [control("ACK", {"credit": 65536})]),
        case("ack_request", "ACK for request 7", [control("ACK", {"corr_id": 7, "credit": 131072})]),
        case("error_quota", "ERROR quota_exhausted for one request",
             [control("ERROR", {"code": "quota_exhausted", "msg": "tenant over quota",
                                "corr_id": 7, "retryable": True})]),
        case("error_legacy", "ERROR in the original codec's shape",
             [control("ERROR", {"code": "bad_frame", "msg": "bad json"})]),
        case("empty_input", "no bytes at all: nothing decoded, no error", []),
    ]


def streams():
    legacy_session = [
        control("HELLO", {"hello": "oap/1"}),
        control("START", {"topic": "tiles/v1"}),
        data({"obj": obj_id(HELLO_WORLD)}, HELLO_WORLD),
        empty("END"),
    ]
    chunks = [
        control("START", {"corr_id": 1, "op": "put"}),
        data({"obj": obj_id(CHUNK_OBJ), "offset": 0, "total_len": 40, "corr_id": 1}, CHUNK_OBJ[:20]),
        control("ACK", {"corr_id": 1, "credit": 65536}),
        data({"obj": obj_id(CHUNK_OBJ), "offset": 20, "total_len": 40, "corr_id": 1}, CHUNK_OBJ[20:]),
        control("END", {"corr_id": 1}),
    ]
    every_type = [
        control("HELLO", {"hello": "oap/1"}),
        control("START", {"corr_id": 2}),
        control("ACK", {"corr_id": 2, "credit": 65536}),
        data({"obj": obj_id(b"x"), "corr_id": 2}, b"x"),
        control("END", {"corr_id": 2}),
        control("ERROR", {"code": "proto", "msg": "done"}),
    ]
    at_limit = (b"\x01" * 16)
    return [
        case("legacy_session", "the original client's whole session in one read", legacy_session),
        case("chunked_object", "one object in two DATA frames with ACK between", chunks),
        case("every_type", "one frame of every type, coalesced", every_type),
        case("exactly_max_frame", "a payload exactly max_frame long is accepted",
             [(frame("START", at_limit), {"ver": 1, "typ": "START", "payload_hex": at_limit.hex()})],
             max_frame=16),
        case("zero_length_frames", "several zero-length payloads back to back",
             [empty("END"), empty("END"), empty("END")]),
    ]


def errors():
    hello = control("HELLO", {"hello": "oap/1"})
    return [
        case("bad_version_0", "version byte 0", [], "bad_version", tail=raw(0, 1, b"{}")),
        case("bad_version_2", "version byte 2", [], "bad_version", tail=raw(2, 1, b"{}")),
        case("bad_version_after_frame", "a good frame, then a bad version", [hello], "bad_version",
             tail=raw(0xFF, 1, b"")),
        case("unknown_type_0", "type 0 is unassigned", [], "unknown_type", tail=raw(1, 0, b"")),
        case("unknown_type_7", "type 7 is unassigned", [], "unknown_type", tail=raw(1, 7, b"")),
        case("unknown_type_ff", "type 0xFF with a payload", [hello], "unknown_type",
             tail=raw(1, 0xFF, b"abc")),
        case("too_large_default", "len = 1 MiB + 1 with the default max_frame; rejected from the header",
             [], "too_large", tail=raw(1, 3, b"", declared_len=1048577)),
        case("too_large_max_u32", "len = 0xFFFFFFFF", [], "too_large",
             tail=raw(1, 2, b"", declared_len=0xFFFFFFFF)),
        case("too_large_negotiated", "len 33 above a max_frame of 32", [hello], "too_large",
             tail=raw(1, 2, b"\x00" * 33), max_frame=32),
        case("truncated_header", "input ends after 3 header bytes", [], "truncated",
             tail=b"\x01\x02\x00"),
        case("truncated_payload", "input ends 2 bytes into a 10-byte payload", [hello], "truncated",
             tail=raw(1, 2, b"{}", declared_len=10)),
        case("data_too_short", "DATA payload of 1 byte has no room for header_len", [], "bad_data_header",
             tail=frame("DATA", b"\x00")),
        case("data_header_len_past_end", "header_len 0xFFFF in a 12-byte payload", [hello],
             "bad_data_header", tail=frame("DATA", b"\xff\xff" + b"{}" + b"\x00" * 8)),
        case("data_header_not_json", "DATA header is not JSON", [], "bad_data_header",
             tail=frame("DATA", struct.pack(">H", 3) + b"{no" + b"body")),
        case("data_header_missing_obj", "DATA header without obj", [], "bad_data_header",
             tail=frame("DATA", struct.pack(">H", 2) + b"{}" + b"body")),
        case("data_obj_uppercase", "obj with upper-case hex", [], "bad_object_id",
             tail=frame("DATA", pack_header({"obj": obj_id(b"x").upper().replace("B3:", "b3:")}, b"x"))),
        case("data_obj_other_algorithm", "obj naming another algorithm", [], "bad_object_id",
             tail=frame("DATA", pack_header({"obj": "k12:" + "00" * 32}, b"x"))),
        case("data_obj_short", "obj with 63 hex digits", [], "bad_object_id",
             tail=frame("DATA", pack_header({"obj": obj_id(b"x")[:-1]}, b"x"))),
    ]


def pack_header(header, body):
    h = js(header)
    return struct.pack(">H", len(h)) + h + body


def main():
    for name, cases in (("frames", frames()), ("streams", streams()), ("errors", errors())):
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump(cases, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
