"""Bounded inflation of gzip and deflate request bodies, for both server front ends.

A compressed body is inflated a bounded piece at a time, so that a gzip bomb costs at
most what it takes to pass the size limit: never the whole of what it inflates to.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

from ..codec._text import XML_FIRST_BYTES

__all__ = ["BadBody", "inflate", "inflater", "looks_compressed"]

_INFLATE_STEP = 64 * 1024  # bytes inflated at a time, whatever the compressed piece holds


class BadBody(Exception):
    """A compressed body that does not inflate."""


def inflater(encoding: str) -> Any:
    """A decompressor for ``gzip`` (or ``x-gzip``) or ``deflate`` (zlib or raw)."""
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    return zlib.decompressobj(32 + zlib.MAX_WBITS)  # deflate: zlib or raw-with-header


def looks_compressed(first: bytes) -> bool:
    """Whether a body declared compressed still is (aiohttp may have inflated it)."""
    return bool(first) and first[0] not in XML_FIRST_BYTES


def inflate(decompressor: Any, data: bytes, budget: int | None) -> Iterable[bytes]:
    """Inflate ``data`` a bounded piece at a time, stopping once ``budget`` is passed."""
    produced = 0
    try:
        while data:
            piece = decompressor.decompress(data, _INFLATE_STEP)
            data = decompressor.unconsumed_tail
            produced += len(piece)
            yield piece
            if budget is not None and produced > budget:
                return  # the parser refuses it; inflating further is the bomb's work
    except zlib.error as exc:
        raise BadBody(str(exc)) from None
