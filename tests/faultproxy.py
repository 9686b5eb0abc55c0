"""A small asyncio TCP fault proxy for the resilience tests, on 127.0.0.1 only.

:class:`FaultProxy` listens on a free loopback port and relays each client connection
to a new connection to the upstream server, one HTTP/1.x exchange at a time (request
head and ``Content-Length`` body; the response likewise, or up to the end of stream when
it declares no length; chunked messages are not supported). A response is read whole
from the server, then delivered to the client as the fault says. Its
:attr:`~FaultProxy.fault` may be changed between calls and is read once per request,
when the request has arrived::

    async with FaultProxy("127.0.0.1", port) as faults:
        proxy = AsyncServerProxy(faults.url("/RPC2"))
        faults.fault = stall_response(100)
        ...

Faults (build them with the functions below):

- :func:`none`: relay as is.
- :func:`delay`: wait that many seconds before forwarding the request upstream.
- :func:`stall_response`: forward that many bytes of the response, then nothing more,
  keeping the connection open until the client closes it. A negative count is taken from
  the end, as a slice would: ``stall_response(-10)`` holds back the last ten bytes.
- :func:`truncate_response`: forward that many bytes of the response (negative: all but
  that many), then close.
- :func:`reset`: on a request, close the client connection with an RST (``SO_LINGER``
  0) without forwarding it or replying.
- :func:`close_idle_keepalive`: close the client connection as soon as it is idle after
  a response (a server's keep-alive timeout, racing the client's reuse).
- :func:`drop_second_request`: forward the first request of each client connection;
  on a later one, close without forwarding it or replying (a stale pooled connection).
- :func:`one_byte_writes`: forward everything, both ways, one byte per write.
- :func:`delayed`: any of these, acted on only after a wait (a server that hangs up late).

The proxy counts what it saw: :attr:`~FaultProxy.connections` accepted,
:attr:`~FaultProxy.requests` received and :attr:`~FaultProxy.forwarded` upstream, and
keeps a :class:`ConnectionRecord` per client connection. Every wait is bounded, and
leaving the ``async with`` block closes every connection and task it made.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Literal

__all__ = [
    "ConnectionRecord",
    "FaultProxy",
    "ProxyFault",
    "close_idle_keepalive",
    "delay",
    "delayed",
    "drop_second_request",
    "none",
    "one_byte_writes",
    "reset",
    "stall_response",
    "truncate_response",
]

FaultKind = Literal[
    "none",
    "delay",
    "stall_response",
    "truncate_response",
    "reset",
    "close_idle_keepalive",
    "drop_second_request",
    "one_byte_writes",
]

# The largest HTTP message the proxy relays (a bound, not a feature).
_MAX_BODY = 64 << 20


@dataclass(frozen=True)
class ProxyFault:
    """What the proxy does to an exchange; ``str()`` gives a readable test id.

    ``seconds`` is a wait before the proxy acts on a request, for every kind: for
    ``delay`` it is the whole fault; with another kind (see :func:`delayed`) the proxy
    waits, then forwards, resets or drops as that kind says.
    """

    kind: FaultKind = "none"
    seconds: float = 0.0
    after_bytes: int = 0

    def __str__(self) -> str:
        if self.kind == "delay":
            return f"delay({self.seconds:g})"
        name: str = self.kind
        if self.kind in ("stall_response", "truncate_response"):
            name = f"{self.kind}({self.after_bytes})"
        return f"delayed({name}, {self.seconds:g})" if self.seconds else name


def delayed(fault: ProxyFault, seconds: float) -> ProxyFault:
    """``fault``, acted on only after ``seconds`` (e.g. a server that hangs up late)."""
    return replace(fault, seconds=seconds)


def none() -> ProxyFault:
    """Relay as is."""
    return ProxyFault("none")


def delay(seconds: float) -> ProxyFault:
    """Wait ``seconds`` before forwarding each request upstream."""
    return ProxyFault("delay", seconds=seconds)


def stall_response(after_bytes: int) -> ProxyFault:
    """Forward ``after_bytes`` of the response, then nothing (the socket stays open)."""
    return ProxyFault("stall_response", after_bytes=after_bytes)


def truncate_response(after_bytes: int) -> ProxyFault:
    """Forward ``after_bytes`` of the response, then close the client connection."""
    return ProxyFault("truncate_response", after_bytes=after_bytes)


def reset() -> ProxyFault:
    """Answer a request with an RST, forwarding nothing."""
    return ProxyFault("reset")


def close_idle_keepalive() -> ProxyFault:
    """Close the client connection as soon as it is idle after a response."""
    return ProxyFault("close_idle_keepalive")


def drop_second_request() -> ProxyFault:
    """Forward a connection's first request; close on a later one without replying."""
    return ProxyFault("drop_second_request")


def one_byte_writes() -> ProxyFault:
    """Forward everything, both ways, one byte per write."""
    return ProxyFault("one_byte_writes")


@dataclass
class ConnectionRecord:
    """What happened on one client connection."""

    number: int
    requests: int = 0
    forwarded: int = 0
    #: The client closed (or reset) the connection before the proxy did.
    closed_by_client: bool = False
    #: Set when the proxy starts holding a request or response back (a wait or a stall).
    held: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set once the proxy has closed both sides of this connection.
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Message:
    head: bytes
    body: bytes
    keep_alive: bool = True

    @property
    def data(self) -> bytes:
        return self.head + self.body


class _ClientGone(Exception):
    """The client closed its side: stop serving the connection."""


class FaultProxy:
    """Relay 127.0.0.1:<free port> to ``upstream_host:upstream_port``, with faults.

    Args:
        upstream_host: The server's address (loopback in these tests).
        upstream_port: The server's port.
        fault: The initial fault (default :func:`none`).
        idle_timeout: Seconds a connection may wait for its next request, or a stalled
            response for the client to give up, before the proxy closes it.
        io_timeout: Seconds for any one step of an exchange (connecting upstream,
            reading a message, writing one).
        byte_by_byte: With :func:`one_byte_writes`, let the event loop run after each
            single-byte write of a message's first this many bytes (its head and the
            start of its body), so that the peer reads them one byte at a time...
        yield_every: ...and after every this many writes for the rest (a megabyte byte
            by byte would take minutes; in pieces of this size it takes a second).
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        fault: ProxyFault | None = None,
        idle_timeout: float = 20.0,
        io_timeout: float = 20.0,
        byte_by_byte: int = 1024,
        yield_every: int = 64,
    ) -> None:
        """Store the settings; nothing listens until the ``async with`` block."""
        self.upstream = (upstream_host, upstream_port)
        self.fault = fault or none()
        self.records: list[ConnectionRecord] = []
        self.requests = 0
        self.forwarded = 0
        self._idle_timeout = idle_timeout
        self._io_timeout = io_timeout
        self._byte_by_byte = byte_by_byte
        self._yield_every = max(1, yield_every)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: Unexpected exceptions raised inside the proxy (a bug in it, not a fault).
        self.errors: list[Exception] = []
        self._port = 0

    @property
    def connections(self) -> int:
        """Client connections accepted so far."""
        return len(self.records)

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        return self._port

    def url(self, path: str = "/RPC2") -> str:
        """``http://127.0.0.1:<port><path>``."""
        return f"http://127.0.0.1:{self._port}{path}"

    async def __aenter__(self) -> FaultProxy:
        """Start listening."""
        self._server = await asyncio.start_server(self._on_connect, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop listening and close every connection."""
        await self.aclose()

    async def aclose(self) -> None:
        """Stop listening, cancel every connection's task and wait (bounded) for them."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 5)

    # -- one client connection ---------------------------------------------------------------

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback, so that the task is ours: cancelled on close, never orphaned.
        task = asyncio.get_running_loop().create_task(self._relay(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # A task cancelled before it ran never reaches _relay's finally: close the client
        # connection anyway (Python 3.13 warns about a StreamWriter left open).
        task.add_done_callback(lambda _: writer.close())

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record = ConnectionRecord(len(self.records) + 1)
        self.records.append(record)
        upstream: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        try:
            await self._serve(record, reader, writer, upstream)
        except _ClientGone:
            record.closed_by_client = True
        except (
            OSError,
            asyncio.TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            pass  # the upstream failed or a step timed out: close both sides
        except Exception as exc:  # a bug in the proxy itself: keep it for the tests to see
            self.errors.append(exc)
        finally:
            for _, upstream_writer in upstream:
                await _close(upstream_writer)
            await _close(writer)
            record.done.set()

    async def _serve(
        self,
        record: ConnectionRecord,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]],
    ) -> None:
        while True:
            try:
                request = await asyncio.wait_for(
                    _read_message(reader, response=False), self._idle_timeout
                )
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                raise _ClientGone from exc
            record.requests += 1
            self.requests += 1
            fault = self.fault
            if fault.seconds:
                record.held.set()
                if not await _sleep_while_connected(reader, fault.seconds):
                    raise _ClientGone
            if fault.kind == "reset":
                _abort(writer)
                return
            if fault.kind == "drop_second_request" and record.requests > 1:
                return
            one_byte = fault.kind == "one_byte_writes"
            if not upstream:
                upstream.append(
                    await asyncio.wait_for(
                        asyncio.open_connection(*self.upstream), self._io_timeout
                    )
                )
            upstream_reader, upstream_writer = upstream[0]
            await self._write(upstream_writer, request.data, one_byte)
            record.forwarded += 1
            self.forwarded += 1
            response = await asyncio.wait_for(
                _read_message(upstream_reader, response=True), self._io_timeout
            )
            data = response.data
            if fault.kind in ("stall_response", "truncate_response"):
                data = data[: fault.after_bytes]
            try:
                await self._write(writer, data, one_byte)
            except ConnectionError as exc:
                raise _ClientGone from exc
            if fault.kind == "stall_response":
                record.held.set()
                await self._wait_for_client_to_leave(reader)
                return
            if fault.kind in ("truncate_response", "close_idle_keepalive"):
                return
            if not response.keep_alive:
                return  # the server closes after this reply (HTTP/1.0): so do we

    async def _write(self, writer: asyncio.StreamWriter, data: bytes, one_byte: bool) -> None:
        await asyncio.wait_for(self._write_unbounded(writer, data, one_byte), self._io_timeout)

    async def _write_unbounded(
        self, writer: asyncio.StreamWriter, data: bytes, one_byte: bool
    ) -> None:
        if not one_byte:
            writer.write(data)
            await writer.drain()
            return
        for index in range(len(data)):
            writer.write(data[index : index + 1])
            await writer.drain()
            if index < self._byte_by_byte or index % self._yield_every == 0:
                await asyncio.sleep(0)

    async def _wait_for_client_to_leave(self, reader: asyncio.StreamReader) -> None:
        # Forward nothing more; the client times out or is cancelled and closes. Anything
        # it still sends is read and ignored. Bounded by idle_timeout.
        async def drain_reader() -> None:
            while await reader.read(65536):
                pass

        try:
            await asyncio.wait_for(drain_reader(), self._idle_timeout)
        except ConnectionError as exc:
            raise _ClientGone from exc
        raise _ClientGone


async def _sleep_while_connected(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Sleep ``seconds``; stop early (returning False) if the client goes away."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if reader.at_eof() or reader.exception() is not None:
            return False
        await asyncio.sleep(min(left, 0.02))
    return True


async def _read_message(reader: asyncio.StreamReader, *, response: bool) -> _Message:
    """One HTTP/1.x message: head, then a ``Content-Length`` body (or, for a response
    without one, the rest of the stream). Raises IncompleteReadError at end of stream."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if b"chunked" in headers.get(b"transfer-encoding", b""):
        raise ValueError("chunked messages are not supported by the fault proxy")
    version = lines[0].split(b" ", 1)[0] if response else b"HTTP/1.1"
    connection = headers.get(b"connection", b"")
    keep_alive = (version == b"HTTP/1.1" and b"close" not in connection) or (
        b"keep-alive" in connection
    )
    length = headers.get(b"content-length")
    if length is not None:
        size = int(length)
        if not 0 <= size <= _MAX_BODY:
            raise ValueError(f"Content-Length {size} is out of bounds")
        return _Message(head, await reader.readexactly(size), keep_alive)
    if not response:
        return _Message(head, b"", keep_alive)
    body = bytearray()
    while chunk := await reader.read(65536):
        body += chunk
        if len(body) > _MAX_BODY:
            raise ValueError("response body is too large for the fault proxy")
    return _Message(head, bytes(body), keep_alive=False)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with an RST: SO_LINGER on, with a zero timeout."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, asyncio.TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 2)
