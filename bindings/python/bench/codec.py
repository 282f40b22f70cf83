"""Times the codec through whichever ``oap`` package is importable and
prints one JSON object: seconds per call, best of several repeats, for

* ``ack``: ``Decoder().feed()`` of 1,024 ACK frames in one buffer;
* ``data``: ``Decoder().feed()`` of 64 DATA frames with 64 KiB bodies;
* ``object_id``: ``object_id()`` of 1 MiB;
* ``data_copy``: the baseline for ``data``, slicing the same bytes into 64
  ``bytes`` objects: one copy of each frame, which any decoder that returns
  payloads as ``bytes`` makes at least.

Run by ``bindings/bench-python.sh``, once with the native module and once
with the ctypes package it replaced, so both are measured in the same run.
"""

from __future__ import annotations

import json
import os
import sys
import timeit

import oap

ACK_FRAMES = 1024
DATA_FRAMES = 64
DATA_BODY = 64 * 1024
OBJECT = 1 << 20


def best(stmt) -> float:
    """Seconds per call: the least of 7 repeats of as many calls as fill
    0.2 s (the least is the run least disturbed by the rest of the
    machine)."""
    timer = timeit.Timer(stmt)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=7, number=number)) / number


def main() -> None:
    ack_wire = oap.encode_frame("ACK", b'{"credit":65536}') * ACK_FRAMES
    body = os.urandom(DATA_BODY)
    data_frame = oap.encode_frame("DATA", oap.pack_data({"obj": oap.object_id(body)}, body))
    data_wire = data_frame * DATA_FRAMES
    step = len(data_frame)
    blob = os.urandom(OBJECT)

    # Each workload checks its result once, so a broken build cannot
    # report a fast time.
    assert len(oap.Decoder().feed(ack_wire)) == ACK_FRAMES
    assert [oap.unpack_data(f.payload)[1] for f in oap.Decoder().feed(data_wire)] == [body] * DATA_FRAMES
    assert oap.verify_object_id(oap.object_id(blob), blob)

    result = {
        "module": os.path.dirname(oap.__file__),
        "ack": best(lambda: oap.Decoder().feed(ack_wire)),
        "data": best(lambda: oap.Decoder().feed(data_wire)),
        "data_bytes": len(data_wire),
        "object_id": best(lambda: oap.object_id(blob)),
        "data_copy": best(lambda: [data_wire[i : i + step] for i in range(0, len(data_wire), step)]),
    }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
