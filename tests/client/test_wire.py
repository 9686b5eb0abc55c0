"""What crosses the wire: framing read as RFC 9112 says, stray bytes never taken for a reply,
compressed bodies read as the standard library reads them, and the aiohttp internals the
pool relies on pinned (CI runs this under the lowest and the newest aiohttp it supports).

The servers are plain asyncio streams on 127.0.0.1 that write exact bytes.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import time
import xmlrpc.client
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from xml.parsers.expat import ExpatError

import aiohttp
import pytest
from aiohttp.client_proto import ResponseHandler

from aioxmlrpc import AsyncServerProxy, TransportError, TruncatedResponse
from aioxmlrpc._http._pool import Handler, TCPConnector, UnixConnector
from aioxmlrpc.codec import encode_response

from servers import read_request

Serve = Callable[[int, int, asyncio.StreamWriter], Awaitable[None]]


class Wire:
    """A server that answers each request with ``serve(connection, request, writer)``."""

    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.connections = 0
        self.requests = 0
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        try:
            while await read_request(reader) is not None:
                self.requests += 1
                await self.serve(connection, self.requests, writer)
        finally:
            writer.close()


@pytest.fixture
async def wire() -> AsyncIterator[Callable[[Serve], Awaitable[Wire]]]:
    servers: list[asyncio.Server] = []

    async def start(serve: Serve) -> Wire:
        state = Wire(serve)
        server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
        servers.append(server)
        state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/RPC2"
        return state

    yield start
    for server in servers:
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5)


def _chunked(body: bytes, size: int) -> bytes:
    parts = [
        b"%x\r\n" % len(body[i : i + size]) + body[i : i + size] + b"\r\n"
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def _head(*lines: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
        + b"".join(line + b"\r\n" for line in lines)
        + b"\r\n"
    )


# -- Content-Length with chunked: chunked wins (RFC 9112, 6.3) ----------------------------


async def test_chunked_wins_over_a_content_length(wire: Callable[[Serve], Awaitable[Wire]]) -> None:
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response(f"reply {request} on connection {connection}" + "x" * 100_000)
        # What HTTP::Daemon sends for a spooled RPC::XML reply: a length that is wrong
        # for the chunked bytes (it counts the body without the chunk framing).
        head = _head(b"Content-Length: %d" % len(body), b"Transfer-Encoding: chunked")
        writer.write(head + _chunked(body, 4096))
        await writer.drain()

    server = await wire(serve)
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        first = await proxy.ping()
        assert first.startswith("reply 1 on connection 1")
        second = await proxy.ping()
        # That connection was closed after its reply (RFC 9112, 6.1): a new one served.
        assert second.startswith("reply 2 on connection 2")
    assert server.connections == 2


async def test_a_split_head_with_both_lengths_is_read(
    wire: Callable[[Serve], Awaitable[Wire]],
) -> None:
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response("split")
        data = _head(b"Content-Length: 3", b"Transfer-Encoding: chunked") + _chunked(body, 7)
        for index in range(len(data)):  # one byte per write
            writer.write(data[index : index + 1])
            await writer.drain()

    server = await wire(serve)
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        assert await proxy.ping() == "split"


def _stdlib_ping(url: str) -> object:
    with xmlrpc.client.ServerProxy(url) as stdlib:
        return stdlib.ping()


@pytest.mark.parametrize(
    ("missing", "split"), [(1, False), (10, False), (60_000, False), (1, True)]
)
async def test_a_body_short_of_its_length_then_the_end_is_read_as_the_stdlib_reads_it(
    wire: Callable[[Serve], Awaitable[Wire]], missing: int, split: bool
) -> None:
    # http.client's read(amt) returns what came when the server closes: Tcl's xmlrpc
    # declares one byte more than each fault's body. A whole document is read; one cut
    # short is still truncated, for both.
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response(f"reply {request}")
        if request in (3, 4):
            body = body[:-20]  # the document itself cut short
        data = _head(b"Content-Length: %d" % (len(body) + missing)) + body
        for piece in [data[i : i + 1] for i in range(len(data))] if split else [data]:
            writer.write(piece)  # a byte at a time: the end of the body spans writes
            await writer.drain()
        writer.close()

    server = await wire(serve)
    assert await asyncio.to_thread(_stdlib_ping, server.url) == "reply 1"
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        assert await proxy.ping() == "reply 2"
        with pytest.raises(ExpatError):
            await asyncio.to_thread(_stdlib_ping, server.url)
        with pytest.raises(TruncatedResponse):
            await proxy.ping()


async def test_a_larger_shortfall_or_a_bad_framing_is_refused(
    wire: Callable[[Serve], Awaitable[Wire]],
) -> None:
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response("short")
        if request == 1:  # a Content-Length far beyond the body, then the end
            writer.write(_head(b"Content-Length: %d" % (len(body) + 100_000)) + body)
            await writer.drain()
            writer.close()
        else:  # broken chunking, with no Content-Length at all
            writer.write(_head(b"Transfer-Encoding: chunked") + b"zz\r\n" + body)
            await writer.drain()

    server = await wire(serve)
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        with pytest.raises(TruncatedResponse):
            await proxy.ping()
        with pytest.raises(TransportError, match="bad HTTP reply"):
            await proxy.ping()


async def test_heads_with_lines_ended_by_lf_alone_on_a_kept_alive_connection(
    wire: Callable[[Serve], Awaitable[Wire]],
) -> None:
    # As Tcl's xmlrpc writes them, and aiohttp and http.client read them; the connection
    # stays open, so the head must be found without waiting for the end.
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response(f"reply {request}")
        head = b"HTTP/1.1 200 OK\nContent-Type: text/xml\nContent-length: %d\n\n" % len(body)
        writer.write(head + body + (b"JUNK" if request == 4 else b""))
        await writer.drain()

    server = await wire(serve)
    assert await asyncio.to_thread(_stdlib_ping, server.url) == "reply 1"
    async with AsyncServerProxy(server.url, timeout=5) as proxy:
        assert await proxy.ping() == "reply 2"
        assert await proxy.ping() == "reply 3"  # the same connection, kept alive
        assert await proxy.ping() == "reply 4"  # bytes after its length: dropped
        assert await proxy.ping() == "reply 5"
    assert server.connections == 3  # the stdlib's, ours, and ours after the junk


@pytest.mark.parametrize(
    ("after", "reused"),
    [
        (b"JUNK", False),
        (b" \n", False),  # a PHP script's output after its closing tag
        (b"<methodResponse/>", False),
        (b"\r\n", True),  # blank lines aiohttp itself skips: the connection lives
        (b"", True),
    ],
)
async def test_bytes_after_the_declared_length_are_dropped(
    wire: Callable[[Serve], Awaitable[Wire]], after: bytes, reused: bool
) -> None:
    # The standard library reads Content-Length bytes and no more; aiohttp would read what
    # follows as the next reply's head and fail this call, whose reply was whole.
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response(f"reply {request}")
        writer.write(_head(b"Content-Length: %d" % len(body)) + body + after)  # one write
        await writer.drain()

    server = await wire(serve)
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        assert await proxy.ping() == "reply 1"
        assert await proxy.ping() == "reply 2"
    assert server.connections == (1 if reused else 2)


async def test_bytes_after_the_declared_length_in_a_later_write(
    wire: Callable[[Serve], Awaitable[Wire]],
) -> None:
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response(f"reply {request}")
        writer.write(_head(b"Content-Length: %d" % len(body)) + body[:-5])
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.write(body[-5:] + b"JUNK")
        await writer.drain()

    server = await wire(serve)
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        assert await proxy.ping() == "reply 1"
        assert await proxy.ping() == "reply 2"
    assert server.connections == 2


# -- heads aiohttp's parser refuses that the standard library reads ------------------------


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param((b"Content-Length: {n}", b"Content-Length: {n}"), id="length-twice"),
        pytest.param((b"Content-Length: {n}", b"content-length:  {n} "), id="length-twice-spelt"),
        # http.client ends the head at such a line (an email-parser defect): the lines
        # after it are ignored, so a Content-Length must come before it to be seen.
        pytest.param((b"Content-Length: {n}", b"X-Powered-By : PHP/8.2"), id="space-before-colon"),
        pytest.param((b"Content-Length: {n}", b"X-Server\t: Abyss"), id="tab-before-colon"),
        pytest.param((b"X-Folded: a", b"  b : c", b"Content-Length: {n}"), id="folded-line"),
    ],
)
async def test_heads_the_stdlib_reads_are_read(
    wire: Callable[[Serve], Awaitable[Wire]], lines: tuple[bytes, ...]
) -> None:
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response(f"reply {request}")
        n = b"%d" % len(body)
        writer.write(_head(*(line.replace(b"{n}", n) for line in lines)) + body)
        await writer.drain()

    def stdlib_ping(url: str) -> object:
        with xmlrpc.client.ServerProxy(url) as stdlib:
            return stdlib.ping()

    server = await wire(serve)
    assert await asyncio.to_thread(stdlib_ping, server.url) == "reply 1"
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        assert await proxy.ping() == "reply 2"
        assert await proxy.ping() == "reply 3"
    assert server.connections == 2  # the stdlib's, then one for both of ours: reused


async def test_content_lengths_that_differ_are_refused(
    wire: Callable[[Serve], Awaitable[Wire]],
) -> None:
    # The standard library takes the first; which one is right cannot be told (RFC 9110,
    # 8.6), and a reply read by the wrong one would desynchronise the connection.
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response("reply")
        lengths = (b"Content-Length: %d" % len(body), b"Content-Length: %d" % (len(body) - 1))
        writer.write(_head(*lengths) + body)
        await writer.drain()

    server = await wire(serve)
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        with pytest.raises(TransportError, match="bad HTTP reply"):
            await proxy.ping()


# -- stray bytes on an idle connection ----------------------------------------------------


async def test_stray_bytes_on_an_idle_connection_are_never_a_reply(
    wire: Callable[[Serve], Awaitable[Wire]],
) -> None:
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response(f"reply to request {request}")
        writer.write(_head(b"Content-Length: %d" % len(body)) + body)
        await writer.drain()
        if request == 1:
            # A broken server: a second, unasked-for reply on the idle connection.
            await asyncio.sleep(0.05)
            stray = encode_response("stray")
            writer.write(_head(b"Content-Length: %d" % len(stray)) + stray)
            await writer.drain()

    server = await wire(serve)
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        assert await proxy.ping() == "reply to request 1"
        await asyncio.sleep(0.3)  # the stray reply has arrived
        assert await proxy.ping() == "reply to request 2"  # not "stray"
        assert await proxy.ping() == "reply to request 3"
    assert server.connections == 2  # the connection with stray bytes was not reused


async def test_an_idle_connection_the_server_closed_is_not_reused(
    wire: Callable[[Serve], Awaitable[Wire]],
) -> None:
    async def serve(connection: int, request: int, writer: asyncio.StreamWriter) -> None:
        body = encode_response(request)
        writer.write(_head(b"Content-Length: %d" % len(body)) + body)
        await writer.drain()
        writer.close()  # keep-alive claimed, yet closed

    server = await wire(serve)
    async with AsyncServerProxy(server.url, timeout=10) as proxy:
        for expected in (1, 2, 3):
            assert await proxy.ping() == expected
    assert server.requests == 3  # no request was lost and sent again


# -- compressed bodies ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/gzip-members", "/deflate-members"])
async def test_a_body_of_several_members_decodes_whole(raw_server: str, path: str) -> None:
    async with AsyncServerProxy(f"{raw_server}{path}") as proxy:
        assert await proxy.ping() == ["member"] * 1000


def test_several_gzip_members_are_what_the_stdlib_reads() -> None:
    body = encode_response(["member"] * 1000)
    half = len(body) // 2
    data = gzip.compress(body[:half]) + gzip.compress(body[half:]) + b"\x00" * 8
    (value,), _ = xmlrpc.client.loads(xmlrpc.client.gzip_decode(data))
    assert value == ["member"] * 1000
    assert zlib.decompress(zlib.compress(b"a") + b"junk") == b"a"  # deflate's rule


# -- the aiohttp internals the pool relies on -----------------------------------------


async def test_the_aiohttp_internals_we_use_are_there() -> None:
    # ResponseHandler, the connector's protocol factory, and the protocol's hooks: if an
    # aiohttp release renames them, this fails (under both aiohttp versions CI installs).
    for connector in (aiohttp.TCPConnector(), aiohttp.UnixConnector("/nonexistent")):
        factory = connector._factory
        assert isinstance(factory, functools.partial)
        assert factory.func is ResponseHandler
        assert "loop" in factory.keywords
        await connector.close()
    for name in ("set_response_params", "data_received", "connection_lost", "force_close"):
        assert callable(getattr(ResponseHandler, name)), name
    assert isinstance(vars(ResponseHandler)["should_close"], property)  # force_close's effect
    protocol = ResponseHandler(loop=asyncio.get_running_loop())
    assert protocol._tail == b""
    assert len(protocol._buffer) == len(protocol) == 0
    ours = TCPConnector()
    unix = UnixConnector("/nonexistent")
    try:
        assert ours._factory.func is Handler
        assert unix._factory.func is Handler
        assert isinstance(ours._factory(), ResponseHandler)
    finally:
        await ours.close()
        await unix.close()


async def test_a_reply_head_that_trickles_in_a_byte_at_a_time_is_looked_at_in_linear_time() -> None:
    # The handler held the head's bytes and copied and searched them all again for each
    # piece: 120 KB a byte at a time took over 10 s of CPU (a hostile server's way to
    # pin a client). It appends, and looks at the new bytes only: 0.2 s, whole test.
    protocol = Handler(loop=asyncio.get_running_loop())
    lines = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 1000) for i in range(120))
    body = encode_response("ok")
    data = b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: %d\r\n\r\n" % len(body) + body
    start = time.process_time()
    for i in range(len(data)):
        protocol.data_received(data[i : i + 1])
        assert time.process_time() - start < 10, f"{i} bytes in"
    assert protocol._tail == data  # (no parser set: aiohttp keeps what it was given)
