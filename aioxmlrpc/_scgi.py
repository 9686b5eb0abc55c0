"""XML-RPC over SCGI (rTorrent's framing) on asyncio streams: ``scgi://`` and ``scgi+unix://``.

The rules, in the order a call meets them:

1. One connection per call, closed after it, as rTorrent expects: it answers one request
   per connection and then closes. At most ``pool_size`` calls hold a connection at once;
   the others wait in turn, within their time.
2. The request is a netstring of NUL-terminated header pairs, ``CONTENT_LENGTH`` first
   and ``SCGI`` = ``1`` second (the SCGI spec's two required headers), then
   ``REQUEST_METHOD`` and ``REQUEST_URI`` (what nginx's ``scgi_params`` sends), then the
   body.
3. The reply is CGI-style: header lines, a blank line, the body. ``Status: 200`` (or no
   ``Status`` at all, CGI's default) is success; any other status raises
   :class:`~aioxmlrpc.ProtocolError`. A head over 64 KiB, a line that is not a header or
   an unreadable ``Status`` or ``Content-Length`` raises
   :class:`~aioxmlrpc.InvalidResponse`; so does a body labelled HTML or JSON that is
   not XML-RPC either (one that is, is read).
4. A declared ``Content-Length`` over the parser's ``max_bytes`` raises
   :class:`~aioxmlrpc.ResponseTooLarge` before the body is read; without one, the body
   runs to the end of the stream and the parser counts it. A body shorter than declared,
   or cut by the peer, raises :class:`~aioxmlrpc.TruncatedResponse`.
5. Time: ``timeout`` bounds the whole call (connecting at most ``connect_timeout`` of
   it); expiry raises :class:`~aioxmlrpc.TransportTimeout`. Connecting fails with
   :class:`~aioxmlrpc.ConnectionRefused`, :class:`~aioxmlrpc.NameResolutionError` or
   :class:`~aioxmlrpc.ConnectError`, with the real ``errno``.
6. The connection is closed on every outcome, errors and cancellation included.
"""

from __future__ import annotations

import asyncio
import errno as errnos
import logging
import os
import re
import socket
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import unquote, urlsplit

from ._exceptions import (
    ConnectError,
    ConnectionRefused,
    InvalidResponse,
    NameResolutionError,
    ProtocolError,
    ResponseError,
    ResponseTooLarge,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
)
from ._http import DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT
from ._http._dump import Secrets, WireDump, logger
from ._redact import redact_url
from ._types import Value
from .codec import ResponseParser

__all__ = ["MAX_SCGI_HEAD_BYTES", "SCGITransport", "scgi_address"]

#: The largest reply head (status and header lines) accepted, in bytes.
MAX_SCGI_HEAD_BYTES = 64 * 1024
_READ = 64 * 1024
_NOT_XML = re.compile(r"\s*(text/html|application/xhtml\+xml|application/json|[^;]*\+json)\b", re.I)


def scgi_address(url: str) -> tuple[str, int] | str:
    """Where an ``scgi://host:port/`` or ``scgi+unix:///path`` URL points.

    Returns:
        ``(host, port)`` for TCP, the socket's path for a unix socket.

    Raises:
        OSError: The URL is not an SCGI URL, or has no host, port or path.
    """
    parts = urlsplit(url)
    if parts.scheme == "scgi+unix":
        # scgi+unix:///path/to.sock, or the path percent-encoded as the host.
        path = unquote(parts.netloc) if parts.netloc else parts.path
        if not path:
            raise OSError(f"no socket path in SCGI URL {redact_url(url)!r}")
        return path
    if parts.scheme != "scgi":
        raise OSError("unsupported XML-RPC protocol")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise OSError(f"SCGI URL {redact_url(url)!r} needs a host and a port")
    return parts.hostname, port


class SCGITransport:
    """XML-RPC over SCGI, as rTorrent speaks it, on asyncio streams; one connection per call.

    :class:`~aioxmlrpc.AsyncServerProxy` picks it for ``scgi://host:port/`` and
    ``scgi+unix:///path/to.sock`` URLs. It implements :class:`~aioxmlrpc.Transport`.

    Args:
        timeout: Seconds for a whole call (default 30), or ``None`` for no limit.
        connect_timeout: Seconds to connect, within ``timeout`` (default 10).
        pool_size: Connections open at once at most (calls beyond wait in turn).
        secrets: Strings never to show in verbose output or logs (see
            :class:`~aioxmlrpc.HTTPTransport`).
        output: Where verbose output goes (default ``sys.stdout``).

    Raises:
        ValueError: A timeout that is NaN, zero or negative, or a ``pool_size`` below 1.
    """

    def __init__(
        self,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        pool_size: int = DEFAULT_POOL_SIZE,
        secrets: Iterable[str] = (),
        output: TextIO | None = None,
    ) -> None:
        """Store the options; nothing is connected until a call."""
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size!r}")
        self._timeout = _seconds(timeout, "timeout")
        self._connect_timeout = _seconds(connect_timeout, "connect_timeout")
        self._pool_size = pool_size
        self._secrets = tuple(secrets)
        self._output = output
        # One gate per event loop: no connection outlives its call, so a transport may
        # serve several loops in turn (each asyncio.run()), unlike a pooled HTTP one.
        self._gate: asyncio.Semaphore | None = None
        self._gate_loop: asyncio.AbstractEventLoop | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def aclose(self) -> None:
        """Refuse new calls and end the ones in flight; idempotent."""
        self._closed = True
        for writer in list(self._writers):
            writer.close()

    async def request(
        self, url: str, body: bytes, parser: ResponseParser, *, verbose: bool = False
    ) -> Value:
        """Send ``body`` to the SCGI server at ``url``; return what ``parser`` makes of it.

        Raises:
            Fault: The server answered with a fault.
            ProtocolError: The reply's ``Status`` was not 200.
            ResponseError: A subclass, for a reply that is not a valid XML-RPC response.
            TransportError: A subclass, for the connection, a timeout, or a closed proxy.
        """
        display = redact_url(url)
        if self._closed:
            raise TransportError(f"call to {display} refused: the proxy was closed")
        address = scgi_address(url)
        dump = None
        if verbose or logger.isEnabledFor(logging.DEBUG):
            dump = WireDump(Secrets.of_url(url, self._secrets), verbose, self._output)
        try:
            if self._timeout is None:
                return await self._gated(url, display, address, body, parser, dump)
            return await asyncio.wait_for(
                self._gated(url, display, address, body, parser, dump), self._timeout
            )
        except (TimeoutError, asyncio.TimeoutError) as exc:
            if isinstance(exc, TransportTimeout):
                raise
            raise TransportTimeout(
                f"call to {display} timed out after {self._timeout:g} s (timeout)"
            ) from exc

    async def _gated(
        self,
        url: str,
        display: str,
        address: tuple[str, int] | str,
        body: bytes,
        parser: ResponseParser,
        dump: WireDump | None,
    ) -> Value:
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate_loop is not loop:
            self._gate, self._gate_loop = asyncio.Semaphore(self._pool_size), loop
        async with self._gate:
            reader, writer = await self._connect(display, address)
            self._writers.add(writer)
            try:
                return await self._exchange(url, display, reader, writer, body, parser, dump)
            except Exception as exc:
                if self._closed:  # our own aclose() cut it short, not the server
                    raise TransportError(
                        f"call to {display} abandoned: the proxy was closed"
                    ) from exc
                if not isinstance(exc, OSError) or isinstance(exc, TransportError):
                    raise
                raise TruncatedResponse(
                    f"connection to {display} lost during the call: {_reason(exc)}"
                ) from exc
            finally:
                self._writers.discard(writer)
                writer.close()

    async def _connect(
        self, display: str, address: tuple[str, int] | str
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            if isinstance(address, str):
                opening = asyncio.open_unix_connection(address, limit=_READ)
            else:
                opening = asyncio.open_connection(*address, limit=_READ)
            if self._connect_timeout is None:
                return await opening
            return await asyncio.wait_for(opening, self._connect_timeout)
        except (TimeoutError, asyncio.TimeoutError) as exc:
            if self._connect_timeout is None:
                raise  # the whole call's limit: reported by request()
            raise TransportTimeout(
                f"connecting to {display} timed out (connect timeout: {self._connect_timeout:g} s)"
            ) from exc
        except OSError as exc:
            raise _connect_error(f"cannot connect to {display}", exc) from exc

    async def _exchange(
        self,
        url: str,
        display: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        body: bytes,
        parser: ResponseParser,
        dump: WireDump | None,
    ) -> Value:
        request = frame(body, urlsplit(url).path if urlsplit(url).scheme == "scgi" else "")
        if dump is not None:
            dump.line(f"send: {dump.secrets.hide(request[: len(request) - len(body)])!r}")
            dump.line(f"send: {dump.secrets.hide(body)!r}")
        try:
            writer.write(request)
            await writer.drain()
            head = await _read_head(reader, display)
        except OSError as exc:
            if isinstance(exc, TransportError) or self._closed:
                raise
            # Nothing of a reply came back: the server may never have seen the request.
            raise _connect_error(f"connection to {display} failed", exc) from exc
        if dump is not None:
            dump.line(f"reply: {dump.secrets.hide(head)!r}")
        length, not_xml = _check_head(head, display, parser)
        try:
            return await _read_body(reader, display, length, parser, dump)
        except ResponseError as exc:
            # Labelled HTML or JSON and not XML-RPC either: say what it was labelled.
            if not_xml is None or isinstance(exc, ResponseTooLarge):
                raise
            raise InvalidResponse(not_xml) from exc


async def _read_body(
    reader: asyncio.StreamReader,
    display: str,
    length: int | None,
    parser: ResponseParser,
    dump: WireDump | None,
) -> Value:
    """Read the reply's body (``length`` bytes, or up to the end) into ``parser``."""
    shown = dump.body() if dump is not None else None
    if length is not None and length <= _READ:
        try:
            data = await reader.readexactly(length) if length else b""
        except asyncio.IncompleteReadError as exc:
            raise TruncatedResponse(
                f"{display} closed the connection after {len(exc.partial)} of the "
                f"{length} bytes its reply declared"
            ) from None
        if shown is not None:
            shown.feed(data)
            shown.close()
        return parser.close(data)
    received = 0
    while length is None or received < length:
        want = _READ if length is None else min(_READ, length - received)
        chunk = await reader.read(want)
        if not chunk:
            if length is not None:
                raise TruncatedResponse(
                    f"{display} closed the connection after {received} of the "
                    f"{length} bytes its reply declared"
                )
            break
        received += len(chunk)
        if shown is not None:
            shown.feed(chunk)
        parser.feed(chunk)  # counts the bytes against max_bytes
    if shown is not None:
        shown.close()
    return parser.close()


def frame(body: bytes, path: str = "") -> bytes:
    """Return the SCGI request for ``body``: the headers' netstring, then the body."""
    headers = b"CONTENT_LENGTH\x00%d\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00" % len(body)
    headers += b"REQUEST_URI\x00%s\x00" % (path or "/RPC2").encode("utf-8", "surrogateescape")
    return b"%d:%s,%s" % (len(headers), headers, body)


async def _read_head(reader: asyncio.StreamReader, display: str) -> bytes:
    """Read the reply's head, up to and including its blank line (CRLF or LF)."""
    head = bytearray()
    while True:
        try:
            line = await reader.readline()  # bounded by the stream's limit (64 KiB)
        except ValueError:  # asyncio's LimitOverrunError, as readline() raises it
            raise InvalidResponse(
                f"reply head from {display} exceeds {MAX_SCGI_HEAD_BYTES} bytes"
            ) from None
        if not line:
            if not head:
                raise ConnectError(f"{display} closed the connection without replying")
            raise TruncatedResponse(f"{display} closed the connection in its reply's head")
        head += line
        if len(head) > MAX_SCGI_HEAD_BYTES:
            raise InvalidResponse(f"reply head from {display} exceeds {MAX_SCGI_HEAD_BYTES} bytes")
        if line in (b"\r\n", b"\n"):
            return bytes(head)


def _check_head(head: bytes, display: str, parser: ResponseParser) -> tuple[int | None, str | None]:
    """Refuse a reply by its head; return its declared length, if any.

    And, when its Content-Type says HTML or JSON, the error to raise if the body turns
    out not to be XML-RPC (as over HTTP, the label alone decides nothing).
    """
    status, reason = 200, "OK"
    length: int | None = None
    fields: dict[str, str] = {}
    for raw in head.splitlines()[:-1] if head.endswith(b"\n") else head.splitlines():
        if not raw.strip():
            continue
        name, colon, value = raw.decode("latin-1").partition(":")
        if not colon or not name.strip() or name != name.strip():
            raise InvalidResponse(f"malformed SCGI reply head from {display}: {raw[:80]!r}")
        name, value = name.strip(), value.strip()
        fields[name] = value
        key = name.lower()
        if key == "status":
            code, _, reason = value.partition(" ")
            if not (code.isdigit() and len(code) == 3):
                raise InvalidResponse(f"malformed Status {value[:80]!r} from {display}")
            status = int(code)
        elif key == "content-length":
            if not value.isdigit():
                raise InvalidResponse(f"malformed Content-Length {value[:80]!r} from {display}")
            length = int(value)
    if status != 200:
        raise ProtocolError(display, status, reason.strip(), fields)
    content_type = next((v for k, v in fields.items() if k.lower() == "content-type"), "")
    not_xml = None
    if content_type and _NOT_XML.match(content_type):
        not_xml = f"expected an XML body from {display}, got Content-Type {content_type!r}"
    limit = parser.limits.max_bytes
    if length is not None and limit is not None and length > limit:
        raise ResponseTooLarge(
            f"response from {display} declares {length} bytes, "
            f"over the {limit} allowed (max_response_size)"
        )
    return length, not_xml


def _connect_error(what: str, exc: OSError) -> ConnectError:
    reason = _reason(exc)
    if isinstance(exc, socket.gaierror):
        return NameResolutionError(f"{what}: {reason}", exc.errno)
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errnos.ECONNREFUSED:
        return ConnectionRefused(f"{what}: {reason}", exc.errno or errnos.ECONNREFUSED)
    return ConnectError(f"{what}: {reason}", exc.errno)


def _reason(exc: OSError) -> str:
    if isinstance(exc.errno, int) and exc.errno > 0 and not isinstance(exc, socket.gaierror):
        return os.strerror(exc.errno)
    return exc.strerror or str(exc) or type(exc).__name__


def _seconds(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {value!r}")
    if value != value or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, inf or None, not {value!r}")
    return None if value == float("inf") else float(value)
