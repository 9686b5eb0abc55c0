"""Bounded decompression of gzip and deflate replies: a bomb cannot make us hold much."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from ._exceptions import InvalidResponse, TruncatedResponse

__all__ = ["Inflater"]

# Decompressed bytes produced per step: what a gzip bomb can make us hold at once.
_INFLATE_STEP = 64 * 1024


class Inflater:
    """gzip/deflate in bounded steps: never more than ``_INFLATE_STEP`` bytes at once."""

    def __init__(self, encoding: str) -> None:
        # 47 = 32 (detect gzip or zlib header) + 15; raw deflate is tried if that fails.
        self._encoding = encoding
        self._inflate = zlib.decompressobj(47 if encoding != "deflate" else 15)
        self._started = False

    def feed(self, data: bytes) -> Iterable[bytes]:
        try:
            if not self._started and self._encoding == "deflate" and data and data[0] & 0x0F != 8:
                self._inflate = zlib.decompressobj(-15)  # deflate sent without its zlib header
            self._started = True
            piece = self._inflate.decompress(data, _INFLATE_STEP)
            while True:
                if piece:
                    yield piece
                tail = self._inflate.unconsumed_tail
                if not tail:
                    return
                piece = self._inflate.decompress(tail, _INFLATE_STEP)
        except zlib.error as exc:
            raise InvalidResponse(f"body is not valid {self._encoding}: {exc}") from None

    def finish(self) -> None:
        if not self._inflate.eof:
            raise TruncatedResponse(f"compressed body ({self._encoding}) ended early")
