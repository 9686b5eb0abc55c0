"""Bounded leniency for servers that print before their reply: junk before ``<?xml``.

WordPress plugins and PHP notices print a ``<style>`` block, blank lines or a warning
before the document. The codec is right to refuse them (the standard library does); a
profile with ``junk_before_xml`` wraps the parser in :class:`LenientParser`, which holds
back at most that many bytes, skips what precedes ``<?xml`` or ``<methodResponse``, and
says how much it skipped. Past the bound, or without either marker, the bytes go to the
codec as they are, which refuses them as the standard proxy does.
"""

from __future__ import annotations

from collections.abc import Callable

from ._types import Value
from .codec import Limits, ResponseParser

__all__ = ["LenientParser"]

_MARKERS = (b"<?xml", b"<methodResponse")
_LONGEST = max(map(len, _MARKERS))


class LenientParser(ResponseParser):
    """A :class:`ResponseParser` that skips at most ``budget`` bytes before the document."""

    __slots__ = ("_budget", "_held", "_on_skip", "_started")

    def __init__(
        self,
        budget: int,
        on_skip: Callable[[bytes], None],
        *,
        use_datetime: bool = False,
        use_builtin_types: bool = False,
        limits: Limits | None = None,
    ) -> None:
        """Skip at most ``budget`` bytes; call ``on_skip`` with what was skipped."""
        super().__init__(
            use_datetime=use_datetime, use_builtin_types=use_builtin_types, limits=limits
        )
        self._budget = budget
        self._on_skip = on_skip
        self._held = bytearray()
        self._started = False

    def _start(self, data: bytes | bytearray | memoryview, final: bool) -> bytes | None:
        """Hold ``data`` until the document starts; return the bytes from its start."""
        self._held += data
        held = bytes(self._held)
        found = [index for index in map(held.find, _MARKERS) if 0 <= index <= self._budget]
        if found:
            start = min(found)
            if start:
                self._on_skip(held[:start])
            held = held[start:]
        elif not final and len(held) < self._budget + _LONGEST:
            return None  # the marker may still come
        self._started = True
        self._held = bytearray()
        return held

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse the next piece, once the document has started."""
        if self._started:
            super().feed(data)
            return
        start = self._start(data, final=False)
        if start:
            super().feed(start)

    def close(self, data: bytes | bytearray | memoryview = b"") -> Value:
        """Finish the body, skipping junk first if the document had not started yet."""
        if self._started:
            return super().close(data)
        return super().close(self._start(data, final=True) or b"")
