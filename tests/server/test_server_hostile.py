"""Hostile requests, mirrored from the client's security suite, against our server.

A billion-laughs request, a 1 GiB body (declared, and streamed without a length), a gzip
bomb and 10,000-deep nesting. Each is refused within the size limit's memory (the
process's allocations are traced with :mod:`tracemalloc` while the server, in a thread of
the same process, handles it) and the server answers a good call right after.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import tracemalloc
import xmlrpc.client
from collections.abc import Iterator

import pytest

from aioxmlrpc.server import XMLRPCDispatcher

from servers import BILLION_LAUGHS, XXE, ServerThread, gzip_bomb

LIMIT = 1 << 20  # the server's max_request_size
MEMORY = 8 * LIMIT  # what handling one hostile request may allocate at its peak
GIB = 1 << 30
BLOCK = b"x" * (1 << 20)
PING = xmlrpc.client.dumps((), "ping").encode()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_function(lambda: True, "ping")
    dispatcher.register_function(lambda value: True, "take")
    with ServerThread(dispatcher, max_request_size=LIMIT) as running:
        yield running


def address(server: ServerThread) -> tuple[str, int]:
    host, port = server.url.split("//")[1].split("/")[0].split(":")
    return host, int(port)


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    tracemalloc.start()
    peak: list[int] = []
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


async def exchange(
    server: ServerThread, head: bytes, body_blocks: Iterator[bytes], limit: float = 20.0
) -> tuple[bytes, int]:
    """Send a request, streaming its body until the server answers; return (reply, sent)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(*address(server)), 10)
    sent = 0

    async def send() -> None:
        nonlocal sent
        writer.write(head)
        for block in body_blocks:
            writer.write(block)
            await writer.drain()
            sent += len(block)

    async def receive() -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return head + await reader.readexactly(length)

    sender = asyncio.ensure_future(send())
    try:
        reply = await asyncio.wait_for(receive(), limit)
    finally:
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender
        writer.close()
        with contextlib.suppress(OSError):
            await asyncio.wait_for(writer.wait_closed(), 10)
    return reply, sent


def request_head(length: int | None, **extra: str) -> bytes:
    lines = ["POST /RPC2 HTTP/1.1", "Host: 127.0.0.1", "Content-Type: text/xml"]
    lines.append("Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def still_serving(server: ServerThread) -> None:
    with xmlrpc.client.ServerProxy(server.url) as proxy:
        assert proxy.ping() is True


def fault_code(reply: bytes) -> int:
    body = reply.split(b"\r\n\r\n", 1)[1]
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(body)
    return info.value.faultCode


async def test_a_billion_laughs_request_is_a_parse_fault(server: ServerThread) -> None:
    for document in (BILLION_LAUGHS, XXE):
        body = document.replace(b"methodResponse", b"methodCall")
        with peak_memory() as peak:
            reply, _ = await exchange(server, request_head(len(body)), iter([body]))
        assert reply.startswith(b"HTTP/1.1 200 OK")
        assert fault_code(reply) == -32700
        assert peak[0] < MEMORY
        await asyncio.to_thread(still_serving, server)


async def test_a_declared_1_gib_body_is_refused_before_it_is_read(server: ServerThread) -> None:
    start = time.monotonic()
    with peak_memory() as peak:
        reply, sent = await exchange(
            server, request_head(GIB), (BLOCK for _ in range(GIB // len(BLOCK)))
        )
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b"exceeds 1048576 bytes" in reply
    assert sent < GIB // 4
    assert peak[0] < MEMORY
    assert time.monotonic() - start < 20
    await asyncio.to_thread(still_serving, server)


async def test_a_streamed_1_gib_body_is_refused_at_the_limit(server: ServerThread) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"%x\r\n%s\r\n" % (len(PING[:-20]), PING[:-20])
        for _ in range(GIB // len(BLOCK)):
            yield b"%x\r\n%s\r\n" % (len(BLOCK), BLOCK)

    with peak_memory() as peak:
        reply, sent = await exchange(server, request_head(None), chunks())
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert sent < GIB // 4
    assert peak[0] < MEMORY
    await asyncio.to_thread(still_serving, server)


async def test_a_gzip_bomb_is_refused_at_the_limit_after_inflating(server: ServerThread) -> None:
    bomb = gzip_bomb()  # about 300 KiB inflating to 300 MiB
    with peak_memory() as peak:
        reply, _ = await exchange(
            server, request_head(len(bomb), **{"Content-Encoding": "gzip"}), iter([bomb])
        )
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert peak[0] < MEMORY
    await asyncio.to_thread(still_serving, server)


async def test_ten_thousand_deep_nesting_is_refused(server: ServerThread) -> None:
    depth = 10_000
    body = (
        b"<?xml version='1.0'?><methodCall><methodName>take</methodName><params><param>"
        + b"<value><array><data>" * depth
        + b"</data></array></value>" * depth
        + b"</param></params></methodCall>"
    )
    assert len(body) < LIMIT
    for blocks in ([body], [body[i : i + 4096] for i in range(0, len(body), 4096)]):
        with peak_memory() as peak:
            reply, _ = await exchange(server, request_head(len(body)), iter(blocks))
        assert reply.startswith(b"HTTP/1.1 200 OK")
        assert fault_code(reply) == -32600
        assert peak[0] < MEMORY
        await asyncio.to_thread(still_serving, server)


async def test_a_body_that_trickles_in_is_refused_after_the_read_timeout() -> None:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_function(lambda: True, "ping")
    with ServerThread(dispatcher, read_timeout=0.5) as slow:

        def trickle() -> Iterator[bytes]:
            yield PING[:10]
            time.sleep(0)  # the rest never comes

        start = time.monotonic()
        reply, _ = await exchange(slow, request_head(len(PING)), trickle(), limit=10)
        assert reply.startswith(b"HTTP/1.1 408 ")
        assert b"took more than 0.5 s" in reply
        assert time.monotonic() - start < 5
        await asyncio.to_thread(still_serving, slow)


async def test_header_lines_without_end_are_refused_within_bounded_memory(
    server: ServerThread,
) -> None:
    block = (b"X-Flood: " + b"f" * 8000 + b"\r\n") * 16
    taken = 0

    def flood() -> Iterator[bytes]:
        nonlocal taken
        for _ in range(GIB // len(block)):
            taken += 1
            yield block

    head = b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    with peak_memory() as peak:
        try:
            reply, _ = await exchange(server, head, flood())
        except ConnectionResetError:  # closed with the flood unread: the reply may be lost
            reply = b""
    if reply:
        assert reply.split(b"\r\n")[0].endswith(b" 400 Bad Request")
        assert b"Too many headers" in reply
    assert taken * len(block) < 64 * LIMIT  # it stopped reading: no more was sent
    assert peak[0] < MEMORY
    await asyncio.to_thread(still_serving, server)


async def _closed_within(port: int, send: bytes, trickle: bool, limit: float) -> float:
    """Send ``send`` (a byte at a time, if ``trickle``); return when the server closed."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    start = time.monotonic()
    try:
        try:
            for piece in [send[i : i + 1] for i in range(len(send))] if trickle else [send]:
                writer.write(piece)
                with contextlib.suppress(asyncio.TimeoutError):
                    if await asyncio.wait_for(reader.read(1), 0.1) == b"":
                        break  # closed
            else:
                assert await asyncio.wait_for(reader.read(), limit) == b""
        except (ConnectionResetError, BrokenPipeError):
            # Closed with bytes of ours unread (a trickle in flight): the kernel resets.
            pass
        return time.monotonic() - start
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await asyncio.wait_for(writer.wait_closed(), 10)


@pytest.mark.parametrize(
    ("send", "trickle"),
    [(b"", False), (b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n", False), (request_head(10) * 4, True)],
    ids=["nothing", "half-a-head", "a-head-a-byte-at-a-time"],
)
async def test_a_connection_without_a_whole_head_is_closed_after_the_keepalive_timeout(
    send: bytes, trickle: bool
) -> None:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_function(lambda: True, "ping")

    async def slow() -> bool:
        await asyncio.sleep(1.5)
        return True

    dispatcher.register_function(slow, "slow")
    with ServerThread(dispatcher, keepalive_timeout=0.4) as guarded:
        elapsed = await _closed_within(address(guarded)[1], send, trickle, limit=10)
        assert 0.3 < elapsed < 5  # the timeout (and at most a quarter of it) closed it
        # A call that runs longer than the timeout is not cut, and the server serves on.
        with xmlrpc.client.ServerProxy(guarded.url) as proxy:
            assert await asyncio.to_thread(proxy.slow) is True
        await asyncio.to_thread(still_serving, guarded)
