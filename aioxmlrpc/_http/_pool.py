"""The connection pool: a fair queue in front of it, and connectors that report reuse.

The queue: calls get a connection in the order they asked for one.

aiohttp's connector wakes a waiter when a connection is released, but a call that starts
before the waiter runs can take that connection first. Under a steady stream of calls
beyond the pool's size, some waiters lose again and again: measured with 1,000 calls in
flight on 100 connections to the example server, p50 0.19 s but p99 26 s, where a fair
queue gives p50 1.8 s and p99 2.0 s for the same throughput. So our own sessions put
this queue in front of the connector: a released place is handed to the oldest waiter
directly, and the connector never has to wait.

The connectors: each tells the try in progress whether its connection served before,
and checks a pooled connection before it is used again. One that has anything to read
while idle (stray bytes from a broken server, or its end of stream) is closed, never
reused, so no stray bytes are ever read as the next call's reply.

The protocol: aiohttp's, with one change. A reply head that declares both
``Transfer-Encoding: chunked`` and ``Content-Length`` (Perl's HTTP::Daemon sends that for
any reply over 1 MiB) is read as RFC 9112 section 6.3 says: the chunked coding wins, the
``Content-Length`` is dropped, and the connection is closed after that reply. aiohttp's
parser refuses such a head; every other head reaches it unchanged.

aiohttp's private parts used here (``ResponseHandler``, the connector's ``_factory``,
the protocol's ``data_received``, ``_buffer`` and ``_tail``) are pinned by
``tests/client/test_wire.py`` under the lowest and the newest aiohttp CI installs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import math
import re
import select
import weakref
from collections import deque
from typing import Any, cast

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.tracing import Trace

__all__ = [
    "ATTEMPT",
    "Attempt",
    "FairGate",
    "GateClosed",
    "Handler",
    "TCPConnector",
    "UnixConnector",
]


class FairGate:
    """At most ``size`` holders at once; the others wait their turn, first come first served.

    Every waiter waits at most ``timeout`` seconds (None: without limit). One timeout for
    all makes the queue's order also the order of the deadlines, so a single timer, for
    the oldest waiter, serves the whole queue instead of one timer per waiting call.
    """

    __slots__ = ("_free", "_size", "_timeout", "_timer", "_waiters")

    def __init__(self, size: int, timeout: float | None) -> None:
        """Start with ``size`` free places."""
        self._free = size
        self._size = size
        self._timeout = timeout
        self._waiters: deque[tuple[asyncio.Future[None], float]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def busy(self) -> int:
        """Places taken now."""
        return self._size - self._free

    def close(self) -> None:
        """Wake every waiter with :class:`GateClosed`: nobody gets a place any more."""
        self._free = self._size = 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiters, self._waiters = self._waiters, deque()
        for waiter, _ in waiters:
            if not waiter.done():
                waiter.set_exception(GateClosed())

    def try_enter(self) -> bool:
        """Take a place now if one is free and nobody is waiting; the common case."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def enter(self) -> None:
        """Wait for a place, in turn.

        Raises:
            TimeoutError: No place within the gate's timeout.
        """
        if self.try_enter():
            return
        if not self._size:
            raise GateClosed()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        deadline = math.inf if self._timeout is None else loop.time() + self._timeout
        entry = (waiter, deadline)
        self._waiters.append(entry)
        if self._timer is None and deadline != math.inf:
            self._timer = loop.call_at(deadline, self._expire)
        try:
            # A bare future, not asyncio.wait_for: before Python 3.12 that can swallow a
            # cancellation arriving as the place is handed over.
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.leave()  # handed a place while giving up: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(entry)
            raise

    def leave(self) -> None:
        """Give a place back: to the oldest waiter, so no newcomer can take it first."""
        if not self._size:
            return  # closed
        waiters = self._waiters
        while waiters:
            waiter, _ = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    def _expire(self) -> None:
        # Deadlines grow along the queue: only its head can have passed.
        self._timer = None
        waiters = self._waiters
        now = asyncio.get_running_loop().time() + 0.001  # a timer may fire a little early
        while waiters and waiters[0][1] <= now:
            waiter, _ = waiters.popleft()
            if not waiter.done():
                waiter.set_exception(TimeoutError())
        if waiters and waiters[0][1] != math.inf:
            self._timer = asyncio.get_running_loop().call_at(waiters[0][1], self._expire)


class GateClosed(Exception):
    """The gate was closed while a call waited for a place."""


# -- the protocol: reply heads and lengths read as the standard library reads them -------

# Past this, a head is left to aiohttp's parser as it is: the repairs below are for the
# small heads real servers send.
_MAX_HEAD = 128 * 1024
# Lines end in CRLF, or in LF alone as some servers (Tcl's) write them and aiohttp and
# http.client read them: the patterns match a line from just after the LF before it.
# A Content-Length line, its end included (to be removed whole).
_CONTENT_LENGTH = re.compile(rb"(?<=\n)content-length[ \t]*:[^\r\n]*\r?\n", re.IGNORECASE)
# One Content-Length that is a number, in a head already lowercased.
_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*([0-9]{1,18})[ \t]*(?=\r?\n)")
_CHUNKED = re.compile(rb"\ntransfer-encoding[ \t]*:[^\r\n]*chunked", re.IGNORECASE)
# Whitespace between a header's name and its colon (not in a folded line, which starts
# with whitespace).
_SPACE_BEFORE_COLON = re.compile(rb"(\n[^:\s][^:\r\n]*?)[ \t]+:")
# A body cut short by the server's close by this many bytes at most is read as the
# standard library reads it (see Handler.connection_lost).
_MAX_SHORTFALL = 64 * 1024


def _head_end(data: bytes | bytearray, start: int = 0) -> tuple[int, int]:
    """Where the head in ``data`` ends (after its last line's LF) and its body starts.

    (-1, -1) while no blank line has come. The blank line is CRLF or a bare LF. None
    begins before ``start``.
    """
    crlf = data.find(b"\n\r\n", start)  # after a line ending in CRLF (or in a bare LF)
    lf = data.find(b"\n\n", start, crlf if crlf >= 0 else len(data))
    if lf >= 0:
        return lf + 1, lf + 2
    if crlf >= 0:
        return crlf + 1, crlf + 3
    return -1, -1


class Handler(ResponseHandler):
    """aiohttp's protocol, with repairs of what servers send that aiohttp would refuse.

    - A head with chunked coding and a Content-Length drops the latter, and the
      connection is closed after the reply (RFC 9112, 6.1 and 6.3).
    - Content-Length repeated with the same value is kept once (RFC 9110, 8.6).
    - Whitespace between a header's name and its colon is removed (RFC 9112, 5.1 asks
      that of a proxy). The standard library reads both heads; aiohttp refuses them.
    - Bytes after a body of the declared Content-Length (a PHP script's newline after
      ``?>``, a server's stray output) are dropped, and the connection is closed after
      the reply: aiohttp's parser would take them for the next reply's head and fail the
      call whose reply was whole. The standard library reads the declared length too.

    Only the head of each reply is looked at, once, and only for those names and for
    whitespace before a colon; the connector arms the look (``_head = b""``) each time
    it hands the connection to a call. A whole document cut short of its length by the
    close is read (:meth:`connection_lost`).
    """

    _head: bytes | bytearray | None = b""  # the start of a reply head, while incomplete
    _left = -1  # body bytes still to come of a reply with a Content-Length; -1: not counted
    _coded = False  # that reply has a Content-Encoding
    _end = b""  # the last bytes of that reply received so far
    _poller: Any = None  # select.poll on this connection's socket, made on first reuse

    def data_received(self, data: bytes) -> None:
        """Pass bytes on to aiohttp's parser, the head of a reply once it is whole."""
        head = self._head
        body = 0  # where the body starts in data
        if head is not None:
            scanned = 0
            buffer: bytes | bytearray = data
            if head:
                # Appended to, and looked at from where the last look ended (less the
                # two bytes a blank line may begin with): a head that trickles in a
                # byte at a time costs its length, not its length squared.
                scanned = len(head) - 2
                head += data
                buffer = head
            end, start = _head_end(buffer, scanned)
            if end < 0 and len(buffer) < _MAX_HEAD:
                self._head = buffer if isinstance(buffer, bytearray) else bytearray(buffer)
                return
            data = bytes(buffer)  # (no copy when it came whole, as bytes)
            self._head = None
            self._left = -1
            self._end = b""
            complete = end >= 0
            if not complete:
                end = start = len(data)
            blank = start - end  # the blank line: 2 for CRLF, 1 for a bare LF
            # A cheap look first (one lowercase copy of the head), the patterns only then.
            lowered = data[:end].lower()
            if b" :" in lowered or b"\t:" in lowered:
                data, end, lowered = _without_space_before_colons(data, end)
            if b"content-length" in lowered:
                if b"transfer-encoding" in lowered:
                    data = self._reframe(data, end)
                elif complete and not lowered.startswith((b"http/1.1 1", b"http/1.0 1")):
                    declared = _LENGTH.findall(lowered)  # a 1xx head has no body to count
                    if len(declared) > 1:
                        data, end, declared = _one_length(data, end, declared)
                    if len(declared) == 1:
                        self._left = int(declared[0])
                        self._coded = b"content-encoding" in lowered
                        body = end + blank
        if self._left >= 0:
            data = self._within_length(data, body)
            if not data:
                return
        super().data_received(data)

    def _within_length(self, data: bytes, body: int) -> bytes:
        """``data`` up to the end of the declared body; what follows is dropped."""
        left = self._left
        if len(data) - body <= left:
            self._left = left - (len(data) - body)
            self._end = (self._end + data[-64:])[-64:]  # for connection_lost: cut short?
            return data
        extra = data[body + left :]
        self._left = 0
        if not extra.strip(b"\r\n"):
            return data  # blank lines: aiohttp's parser skips them, the connection lives
        self.force_close()  # never reuse a connection that sent more than it declared
        return data[: body + left]

    def _reframe(self, data: bytes, end: int) -> bytes:
        if not (_CHUNKED.search(data, 0, end) and _CONTENT_LENGTH.search(data, 0, end)):
            return data
        self.force_close()  # a framing error: never reuse this connection
        return _CONTENT_LENGTH.sub(b"", data[:end]) + data[end:]

    def connection_lost(self, exc: BaseException | None) -> None:
        """Hand aiohttp a head cut short first: it tells "no reply" from "part of one".

        A whole document that the server's close cut short of its Content-Length
        (Tcl's faults are one byte short) is read, as the standard library reads it.
        aiohttp would fail the reply, so it is given the missing bytes as blanks, which
        XML ignores after the document. Only for a clean close, an uncompressed body
        ending as a response does, and a few bytes missing; any other shortfall stays
        aiohttp's error (``TruncatedResponse``, "ended early"), as a document cut short
        is refused by the standard library too.
        """
        head, self._head = self._head, None
        if head:
            super().data_received(bytes(head))
        elif (
            exc is None
            and 0 < self._left <= _MAX_SHORTFALL
            and not self._coded
            and self._end.rstrip().endswith(b"methodResponse>")
        ):
            super().data_received(b" " * self._left)
        super().connection_lost(exc)

    def idle_with_input(self) -> bool:
        """Whether this pooled connection has anything to read: stray bytes, or its end."""
        if self._buffer or self._tail:  # read, but not asked for
            return True
        poller = self._poller
        if poller is None:
            transport = self.transport
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is None or _POLL is None:  # pragma: no cover - no socket, or Windows
                return False
            poller = self._poller = _POLL()
            try:
                poller.register(sock.fileno(), select.POLLIN)
            except (OSError, ValueError):
                return True  # cannot tell: do not reuse it
        # poll, not select: select refuses descriptors past 1023. Any event counts:
        # data, the end of stream, an error.
        return bool(poller.poll(0))


_POLL = getattr(select, "poll", None)


def _without_space_before_colons(data: bytes, end: int) -> tuple[bytes, int, bytes]:
    """``data`` with its head's ``Name :`` lines as ``Name:``; the head's new end, lowered."""
    head = _SPACE_BEFORE_COLON.sub(rb"\1:", data[:end])
    return head + data[end:], len(head), head.lower()


def _one_length(data: bytes, end: int, declared: list[bytes]) -> tuple[bytes, int, list[bytes]]:
    """Keep one of several Content-Length lines that all say the same number.

    Other heads (lengths that differ, a line that is no number) go to aiohttp as they
    are, and it refuses them: which length is right cannot be told.
    """
    lines = list(_CONTENT_LENGTH.finditer(data, 0, end))
    if len(lines) != len(declared) or len({int(length) for length in declared}) != 1:
        return data, end, declared
    kept = lines[0].end()
    # From the LF that ends the line kept, which the pattern looks behind for.
    rest = _CONTENT_LENGTH.sub(b"", data[kept - 1 : end])[1:]
    return data[:kept] + rest + data[end:], kept + len(rest), declared[:1]


# -- connectors that tell a call whether its connection is a pooled one ---------------


class Attempt:
    """What one try of a call learned: was its connection pooled, did a reply start.

    ``crowded``: other calls of the proxy were in flight when it started.
    """

    __slots__ = ("crowded", "replied", "reused")

    def __init__(self, crowded: bool = False) -> None:
        self.reused = False
        self.replied = False
        self.crowded = crowded


# The try in progress, for the connector to mark (it runs inside the caller's task).
ATTEMPT: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "aioxmlrpc_attempt", default=None
)


class _ReuseAware:
    """Connector mixin: tells the try in progress whether its connection served before.

    ``connect()`` is aiohttp's public connector hook; a weak set remembers the
    connections already handed out. Cheaper than aiohttp's tracing, which costs every
    call a dozen signal coroutines.
    """

    _served: weakref.WeakSet[object]

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        while True:
            connection: Connection = await super().connect(req, traces, timeout)  # type: ignore[misc]
            protocol = connection.protocol
            if protocol is None:
                return connection
            handler = cast(Handler, protocol)
            served = protocol in self._served
            if served:
                # Checked before anything is sent: stray bytes are never read as a reply.
                # (The common case inline: a poller made, nothing read, nothing to read.)
                poller = handler._poller
                if (
                    handler._buffer
                    or handler._tail
                    or handler.should_close  # it sent what it had not declared
                    or (poller.poll(0) if poller is not None else handler.idle_with_input())
                ):
                    protocol.force_close()
                    connection.close()
                    continue
            else:
                self._served.add(protocol)
            handler._head = b""  # look at the head of the reply to come
            attempt = ATTEMPT.get()
            if attempt is not None:
                attempt.reused = served
            return connection


def _use_handler(connector: aiohttp.BaseConnector) -> None:
    factory = connector._factory
    handler = functools.partial(Handler, *factory.args, **factory.keywords)
    connector._factory = handler  # type: ignore[assignment]


class TCPConnector(_ReuseAware, aiohttp.TCPConnector):
    """aiohttp's TCP connector, telling each try whether its connection served before."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self._served = weakref.WeakSet()
        _use_handler(self)


class UnixConnector(_ReuseAware, aiohttp.UnixConnector):
    """aiohttp's unix-socket connector, telling each try whether its connection served before."""

    def __init__(self, path: str, **options: object) -> None:
        super().__init__(path, **options)  # type: ignore[arg-type]
        self._served = weakref.WeakSet()
        _use_handler(self)
