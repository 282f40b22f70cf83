"""The package's exceptions. Plain Python classes: the native module
``oap._oap`` imports them from here to raise them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._oap import Frame


class OapError(ValueError):
    """An error of the OAP/1 codec; ``kind`` is its stable snake-case name."""

    def __init__(self, kind: str, message: str | None = None):
        super().__init__(message or kind)
        self.kind = kind


class DecodeError(OapError):
    """Input that is not valid OAP/1.

    ``kind`` is one of the test-vector names: ``bad_version``,
    ``unknown_type``, ``too_large``, ``truncated`` (from a decoder), or
    ``bad_data_header`` / ``bad_object_id`` (from :func:`oap.unpack_data`
    and :func:`oap.verify_object_id`). ``frames`` holds the whole frames
    that the failing :meth:`oap.Decoder.feed` call completed before the
    error (empty otherwise).
    """

    def __init__(self, kind: str, frames: list[Frame] | None = None):
        super().__init__(kind)
        self.frames: list[Frame] = list(frames or [])


class EncodeError(OapError):
    """Something that must not be sent: ``too_large`` (payload above
    ``max_frame``), ``bad_data_header`` or ``bad_object_id`` (DATA header)."""
