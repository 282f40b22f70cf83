"""Hashing large inputs gives other Python threads the GIL."""

from __future__ import annotations

import select
import sys
import threading

import pytest

import oap

BIG = bytes(16 << 20)
BIG_ID = oap.object_id(BIG)


@pytest.mark.parametrize(
    "hash_big",
    [
        oap.object_id,
        lambda data: oap.verify_object_id(BIG_ID, data),
        lambda data: oap.ObjectHasher().update(data),
    ],
    ids=["object_id", "verify_object_id", "ObjectHasher.update"],
)
def test_other_threads_run_while_a_large_input_is_hashed(hash_big):
    # A counter thread that gives the GIL up on every turn (select with a
    # zero timeout releases it and returns at once). With forced switches
    # made 100 s apart, this thread keeps the GIL unless it lets go itself,
    # so the counter moves during a hash only if the hash released the GIL.
    counted = 0
    running = threading.Event()
    stop = False

    def count():
        nonlocal counted
        running.set()
        while not stop:
            counted += 1
            select.select([], [], [], 0)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    counter = threading.Thread(target=count)
    try:
        counter.start()
        running.wait()
        before = counted
        # Each hash is a chance for the counter's thread to be scheduled;
        # without a release none of them is.
        for _ in range(100):
            hash_big(BIG)
            if counted != before:
                break
        moved = counted - before
    finally:
        stop = True
        counter.join()
        sys.setswitchinterval(interval)
    assert moved > 0
