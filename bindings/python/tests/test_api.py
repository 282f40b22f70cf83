"""The Python API beyond the vectors: the shapes other tools rely on."""

from __future__ import annotations

import gc
import importlib.resources
import inspect
import json
import pickle

import pytest

import oap

HELLO = b'{"hello":"oap/1"}'


def test_library_was_found():
    assert oap.LIBRARY_PATH.is_file()


def test_the_package_ships_its_type_information():
    package = importlib.resources.files("oap")
    assert (package / "py.typed").is_file()
    assert (package / "_oap.pyi").is_file()


def test_frames_are_values_like_the_dataclass_they_replace():
    ack = oap.Frame("ACK", 1, b'{"credit":1}')
    decoded = oap.Decoder().feed(oap.encode_frame("ACK", b'{"credit":1}'))[0]
    assert ack == decoded and not ack != decoded
    assert hash(ack) == hash(decoded) == hash(("ACK", 1, b'{"credit":1}'))
    assert ack != oap.Frame("ACK", 1, b'{"credit":2}')
    assert ack != oap.Frame("END", 1, b'{"credit":1}')
    assert ack != ("ACK", 1, b'{"credit":1}')
    assert repr(ack) == """Frame(typ='ACK', ver=1, payload=b'{"credit":1}')"""
    assert pickle.loads(pickle.dumps(ack)) == ack
    assert oap.Frame.__match_args__ == ("typ", "ver", "payload")
    assert oap.Frame(typ="END", ver=1, payload=bytearray(b"{}")).payload == b"{}"
    with pytest.raises(AttributeError):
        ack.typ = "END"
    with pytest.raises(ValueError):
        oap.Frame("PING", 1, b"")


def test_decoder_keeps_partial_input_and_returns_frames_in_order():
    wire = oap.encode_frame("HELLO", HELLO) + oap.encode_frame("END", b"") + oap.encode_frame("ACK", b'{"credit":1}')
    dec = oap.Decoder()
    assert dec.feed(wire[:5]) == []
    assert dec.buffered == 5
    frames = dec.feed(wire[5:-2])
    assert [f.typ for f in frames] == ["HELLO", "END"]
    assert frames[0] == oap.Frame("HELLO", 1, HELLO)
    assert frames[0].json() == {"hello": "oap/1"}
    assert frames[1].payload == b""
    assert dec.feed(wire[-2:]) == [oap.Frame("ACK", 1, b'{"credit":1}')]
    assert dec.buffered == 0
    dec.finish()


def test_feed_accepts_bytearray_and_memoryview():
    wire = oap.encode_frame("END", b"{}")
    assert oap.Decoder().feed(bytearray(wire))[0].payload == b"{}"
    assert oap.Decoder().feed(memoryview(wire))[0].typ == "END"
    with pytest.raises(TypeError):
        oap.Decoder().feed("text")


def test_finish_reports_truncation():
    dec = oap.Decoder()
    dec.feed(oap.encode_frame("HELLO", HELLO)[:-1])
    with pytest.raises(oap.DecodeError) as e:
        dec.finish()
    assert e.value.kind == "truncated"


@pytest.mark.parametrize(
    "wire, kind",
    [
        (b"\x02\x01\x00\x00\x00\x00", "bad_version"),
        (b"\x01\x07\x00\x00\x00\x00", "unknown_type"),
        (b"\x01\x03\x00\x10\x00\x01", "too_large"),
    ],
)
def test_header_errors_carry_the_vector_names_and_are_permanent(wire, kind):
    good = oap.encode_frame("END", b"")
    dec = oap.Decoder()
    with pytest.raises(oap.DecodeError) as e:
        dec.feed(good + wire)
    assert e.value.kind == kind
    assert e.value.frames == [oap.Frame("END", 1, b"")]
    assert isinstance(e.value, ValueError)
    with pytest.raises(oap.DecodeError) as again:
        dec.feed(good)
    assert again.value.kind == kind
    with pytest.raises(oap.DecodeError):
        dec.finish()


def test_max_frame_is_enforced_from_the_header_alone():
    dec = oap.Decoder(max_frame=4)
    assert dec.feed(oap.encode_frame("END", b"1234", max_frame=4))[0].payload == b"1234"
    with pytest.raises(oap.DecodeError) as e:
        dec.feed(b"\x01\x04\x00\x00\x00\x05")  # no payload bytes needed to refuse
    assert e.value.kind == "too_large"
    for bad in (-1, 2**32, 1.5, True):
        with pytest.raises(ValueError):
            oap.Decoder(max_frame=bad)
        with pytest.raises(ValueError):
            oap.encode_frame("END", b"", max_frame=bad)


@pytest.mark.parametrize("call", [oap.Decoder, oap.encode_frame, oap.encode_header])
def test_max_frame_defaults_to_the_protocol_default(call):
    assert inspect.signature(call).parameters["max_frame"].default == oap.DEFAULT_MAX_FRAME == 1 << 20
    assert oap.Decoder().max_frame == oap.DEFAULT_MAX_FRAME


def test_encode_refuses_what_the_peer_must_reject():
    with pytest.raises(oap.EncodeError) as e:
        oap.encode_frame("DATA", b"x" * 5, max_frame=4)
    assert e.value.kind == "too_large"
    with pytest.raises(ValueError):
        oap.encode_frame("PING", b"")
    assert oap.encode_header("DATA", 70_000) == b"\x01\x03\x00\x01\x11\x70"
    big = oap.encode_frame("DATA", b"\0" * oap.DEFAULT_MAX_FRAME)
    assert len(big) == oap.DEFAULT_MAX_FRAME + 6
    with pytest.raises(oap.EncodeError):
        oap.encode_frame("DATA", b"\0" * (oap.DEFAULT_MAX_FRAME + 1))


def test_data_pack_unpack_round_trip():
    body = bytes(range(256)) * 3
    header = {"obj": oap.object_id(body), "corr_id": 9, "content_type": "application/x-test"}
    payload = oap.pack_data(header, body)
    assert int.from_bytes(payload[:2], "big") == len(json.dumps(header, separators=(",", ":")))
    assert oap.unpack_data(payload) == (header, body)
    frames = oap.Decoder().feed(oap.encode_frame("DATA", payload))
    assert oap.unpack_data(frames[0].payload)[1] == body


@pytest.mark.parametrize(
    "header, kind",
    [
        ({}, "bad_data_header"),
        ({"obj": "k12:" + "0" * 64}, "bad_object_id"),
        ({"obj": "b3:" + "A" * 64}, "bad_object_id"),
        ({"obj": "b3:" + "0" * 63}, "bad_object_id"),
        ({"obj": oap.object_id(b""), "offset": "zero"}, "bad_data_header"),
    ],
)
def test_pack_data_refuses_bad_headers(header, kind):
    with pytest.raises(oap.EncodeError) as e:
        oap.pack_data(header, b"")
    assert e.value.kind == kind


@pytest.mark.parametrize(
    "payload, kind",
    [
        (b"", "bad_data_header"),
        (b"\x00", "bad_data_header"),
        (b"\x00\x09{}", "bad_data_header"),
        (b"\x00\x02{}", "bad_data_header"),
        (b'\x00\x0c{"obj":"b3"}', "bad_object_id"),
    ],
)
def test_unpack_data_errors(payload, kind):
    with pytest.raises(oap.DecodeError) as e:
        oap.unpack_data(payload)
    assert e.value.kind == kind


def test_object_ids():
    assert oap.object_id(b"") == "b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    assert oap.verify_object_id(oap.object_id(b"abc"), b"abc")
    assert not oap.verify_object_id(oap.object_id(b"abc"), b"abd")
    with pytest.raises(oap.DecodeError) as e:
        oap.verify_object_id("b3:xyz", b"")
    assert e.value.kind == "bad_object_id"
    h = oap.ObjectHasher()
    for piece in (b"ab", b"", b"c"):
        h.update(piece)
    assert h.object_id() == oap.object_id(b"abc")


def test_object_ids_of_large_and_copied_inputs_agree():
    # 1 MiB and more is hashed with the GIL released, from a copy for
    # bytearray and memoryview: every path must give the same id.
    big = bytes(range(256)) * 4096 + b"tail"
    want = oap.object_id(big)
    assert oap.object_id(bytearray(big)) == oap.object_id(memoryview(big)) == want
    assert oap.ObjectHasher().update(big[:5]).update(memoryview(big)[5:]).object_id() == want
    assert oap.verify_object_id(want, bytearray(big))
    assert not oap.verify_object_id(want, big[:-1])


def test_decoders_can_be_closed_and_collected():
    dec = oap.Decoder()
    dec.feed(b"\x01\x01\x00")
    dec.close()
    dec.close()
    with pytest.raises(ValueError):
        dec.feed(b"")
    with oap.Decoder() as d:
        d.feed(b"\x01")
    for _ in range(1000):
        oap.Decoder().feed(b"\x01\x01\x00\x00\x00\x01")
    gc.collect()
