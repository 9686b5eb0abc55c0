"""The wire dump: each exchange printed as ``http.client``'s debuglevel prints it, secrets hidden.

What ``verbose=True`` prints (and the ``aioxmlrpc`` logger records at DEBUG) passes
through a :class:`Secrets` first, which replaces every known secret with ``***``:

- the password of the URL, as written (percent-encoded) and decoded;
- the ``user:password`` pair in base64, as the ``Authorization`` header carries it (a
  reply that echoes the header shows ``Basic ***``);
- every string registered with ``secrets=`` (an aria2 ``token:...`` parameter, an API
  key), in the text, XML-escaped, and in base64 forms;
- and, by name, the values of credential headers (see :mod:`aioxmlrpc._redact`).

The same holds in request heads and bodies, reply heads and bodies. A streamed body is
shown as it arrives, but a secret split across two reads is still hidden: the last few
bytes of each piece wait for the next one. Nothing here runs unless verbose output or
debug logging is on.
"""

from __future__ import annotations

import base64
import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from multidict import CIMultiDict
from yarl import URL

from .._redact import REDACTED, redact_headers

__all__ = ["BodyDump", "Secrets", "WireDump", "logger"]

logger = logging.getLogger("aioxmlrpc")

_QUOTES = {'"': "&quot;", "'": "&apos;"}


class Secrets:
    """The strings to hide: their bytes in every form a body or a header may carry."""

    __slots__ = ("_pattern", "longest")

    def __init__(self, strings: Iterable[str]) -> None:
        """Collect ``strings`` (empty ones are ignored) and their encoded forms."""
        forms: set[bytes] = set()
        for text in strings:
            if not text:
                continue
            for variant in {text, escape(text), escape(text, _QUOTES)}:
                forms.add(variant.encode("utf-8", "replace"))
                forms.add(variant.encode("ascii", "xmlcharrefreplace"))
            forms.add(base64.b64encode(text.encode("utf-8")))
        ordered = sorted(forms, key=len, reverse=True)  # the longest form wins
        self._pattern = re.compile(b"|".join(map(re.escape, ordered))) if ordered else None
        self.longest = len(ordered[0]) if ordered else 0

    @classmethod
    def of_url(cls, url: str, extra: Iterable[str] = ()) -> Secrets:
        """The secrets of ``url`` (its password and basic-auth pair), plus ``extra``."""
        strings = list(extra)
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        if ":" in userinfo:
            password = userinfo.partition(":")[2]
            strings += [password, unquote(password), unquote(userinfo)]
        return cls(strings)

    def hide(self, data: bytes) -> bytes:
        """Return ``data`` with every secret replaced by ``***``."""
        if self._pattern is None:
            return data
        return self._pattern.sub(REDACTED.encode(), data)

    def hide_text(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``***``."""
        if self._pattern is None:
            return text
        return self.hide(text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")


class WireDump:
    """Print an exchange to ``output`` (when verbose) and to the logger at DEBUG."""

    __slots__ = ("_output", "secrets", "verbose")

    def __init__(self, secrets: Secrets, verbose: bool, output: TextIO | None) -> None:
        """Show through ``secrets``; print only when ``verbose``."""
        self.secrets = secrets
        self.verbose = verbose
        self._output = output

    def line(self, text: str) -> None:
        """Show one line, secrets hidden."""
        text = self.secrets.hide_text(text)
        logger.debug("%s", text)
        if self.verbose:
            print(text, file=self._output or sys.stdout)

    def request(self, url: URL, headers: CIMultiDict[str], body: bytes) -> None:
        """Show a request head and body."""
        path = url.raw_path_qs or "/"
        host = url.host or "localhost"
        if url.explicit_port:
            host = f"{host}:{url.port}"
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in redact_headers(headers)]
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.line(f"send: {self.secrets.hide(head)!r}")
        self.line(f"send: {self.secrets.hide(body)!r}")

    def reply(
        self, version: tuple[int, int], status: int, reason: str, raw: Iterable[tuple[str, str]]
    ) -> None:
        """Show a reply's status line and headers."""
        major, minor = version
        self.line(f"reply: 'HTTP/{major}.{minor} {status} {reason}\\r\\n'")
        for name, value in redact_headers(raw):
            self.line(f"header: {name}: {value}")

    def body(self) -> BodyDump:
        """Start showing a reply body, piece by piece."""
        return BodyDump(self)

    def whole_body(self, data: bytes) -> None:
        """Show a reply body read whole."""
        self.line(f"body: {self.secrets.hide(data)!r}")


class BodyDump:
    """A reply body shown as it arrives; a secret split between two pieces stays hidden."""

    __slots__ = ("_dump", "_keep", "_tail")

    def __init__(self, dump: WireDump) -> None:
        """Show through ``dump``."""
        self._dump = dump
        self._keep = max(dump.secrets.longest - 1, 0)
        self._tail = b""

    def feed(self, data: bytes) -> None:
        """Show ``data`` (all but its last bytes, when a secret could start there)."""
        if self._keep:
            data = self._tail + data
            if len(data) <= self._keep:
                self._tail = data
                return
            # Hide first, then hold back what could be the start of a secret.
            data = self._dump.secrets.hide(data)
            data, self._tail = data[: -self._keep], data[-self._keep :]
        if data:
            self._dump.line(f"body: {data!r}")

    def close(self) -> None:
        """Show what was held back."""
        if self._tail:
            tail, self._tail = self._tail, b""
            self._dump.line(f"body: {self._dump.secrets.hide(tail)!r}")
