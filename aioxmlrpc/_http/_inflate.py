"""Bounded decompression of gzip and deflate replies: a bomb cannot make us hold much.

The rules, as the standard library reads a body:

- gzip is read as :func:`gzip.decompress` reads it: one or more members one after the
  other (RFC 1952 allows that; ``cat a.gz b.gz`` makes one), zero bytes between or after
  them skipped, anything else after a member refused;
- deflate is read as :func:`zlib.decompress` reads it (a zlib stream, or a raw deflate
  stream as some servers send), and any further zlib stream after the first is read too,
  as gzip members are; other bytes after the stream are ignored, as zlib does;
- a body whose first byte is one an XML-RPC body can begin with (``<``, a blank, the
  first byte of a byte order mark) is read as it is: it is labelled compressed and is
  not (a proxy inflated it and kept the header). No gzip or zlib stream begins so (a
  raw deflate stream could, which the standard library would not inflate either: it
  inflates only ``gzip``, and reads a body of any other label as it is).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from .._exceptions import InvalidResponse, TruncatedResponse
from ..codec._text import XML_FIRST_BYTES

__all__ = ["Inflater"]

# Decompressed bytes produced per step: what a gzip bomb can make us hold at once.
_INFLATE_STEP = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def _zlib_header(data: bytes) -> bool:
    # RFC 1950: deflate method, and CMF*256+FLG a multiple of 31.
    return data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


class Inflater:
    """gzip/deflate in bounded steps: never more than ``_INFLATE_STEP`` bytes at once."""

    def __init__(self, encoding: str) -> None:
        """Start reading a body in ``encoding`` (``gzip``, ``x-gzip`` or ``deflate``)."""
        self._gzip = encoding != "deflate"
        self._encoding = encoding
        # 47 = 32 (detect gzip or zlib header) + 15; raw deflate is tried if that fails.
        self._inflate: Any = zlib.decompressobj(47 if self._gzip else 15)
        self._started = False
        self._members = 1
        self._rest = b""  # between members: bytes that do not yet say what follows
        self._ignoring = False  # deflate: what follows the stream is not a stream
        self._plain = False  # not compressed after all: passed on as it is

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Yield the decompressed pieces of ``data``, each at most ``_INFLATE_STEP`` long."""
        if not self._started and data:
            self._started = True
            if data[0] in XML_FIRST_BYTES:
                self._plain = True
            elif not self._gzip and data[0] & 0x0F != 8:
                self._inflate = zlib.decompressobj(-15)  # deflate sent without its zlib header
        if self._plain:
            if data:
                yield data
            return
        try:
            pending = data
            drain = False  # zlib may hold output back when a step ends on the limit
            while True:
                inflate = self._inflate
                if inflate is None:
                    if not self._next_member(self._rest + pending):
                        return
                    pending, self._rest = self._rest, b""
                    continue
                if not pending and not drain:
                    return
                piece = inflate.decompress(pending, _INFLATE_STEP)
                if piece:
                    yield piece
                if inflate.eof:
                    pending, self._inflate, drain = inflate.unused_data, None, False
                else:
                    pending = inflate.unconsumed_tail
                    drain = len(piece) == _INFLATE_STEP
        except zlib.error as exc:
            raise InvalidResponse(f"body is not valid {self._encoding}: {exc}") from exc

    def _next_member(self, data: bytes) -> bool:
        """Between members: start the next one if ``data`` begins one (its bytes in _rest)."""
        self._rest = b""
        if self._ignoring:
            return False
        if self._gzip:
            data = data.lstrip(b"\x00")  # padding, as gzip.decompress allows
        if len(data) < 2:
            self._rest = data
            return False
        if self._gzip:
            if not data.startswith(_GZIP_MAGIC):
                raise InvalidResponse(
                    f"body is not valid {self._encoding}: junk after member {self._members}"
                )
            self._inflate = zlib.decompressobj(31)
        elif _zlib_header(data):
            self._inflate = zlib.decompressobj(15)
        else:
            self._ignoring = True  # as zlib.decompress ignores what follows its stream
            return False
        self._members += 1
        self._rest = data
        return True

    def finish(self) -> None:
        """Check that the body held whole streams.

        Raises:
            TruncatedResponse: It ended inside one.
        """
        if self._plain:
            return
        if self._inflate is not None or (self._gzip and self._rest):
            raise TruncatedResponse(f"compressed body ({self._encoding}) ended early")
