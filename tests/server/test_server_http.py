"""The HTTP side: serve(), make_app() mounted in an application, statuses, gzip, cancellation.

One server per module (``ServerThread``: ``serve()`` in a thread of its own), reached with
aiohttp's client, raw sockets and our own ``AsyncServerProxy``; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import math
import socket
import tempfile
import threading
import xmlrpc.client
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aioxmlrpc import AsyncServerProxy, Fault, MultiCall
from aioxmlrpc.server import XMLRPCDispatcher, make_app, serve, xmlrpc_handler

from servers import ServerThread

TIMEOUT = aiohttp.ClientTimeout(total=10)
PING = xmlrpc.client.dumps((), "ping").encode()
LIMIT = 64 * 1024


class Observed:
    def __init__(self) -> None:
        self.started = threading.Event()
        self.cancelled = threading.Event()


OBSERVED = Observed()


def dispatcher() -> XMLRPCDispatcher:
    d = XMLRPCDispatcher(allow_none=True)
    d.register_introspection_functions()
    d.register_multicall_functions()
    d.register_function(lambda: True, "ping")
    d.register_function(lambda value: value, "echo")

    @d.register_function
    async def hang() -> bool:
        OBSERVED.started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            OBSERVED.cancelled.set()
            raise
        return True

    return d


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(dispatcher(), max_request_size=LIMIT) as running:
        yield running


@pytest.fixture(scope="module")
def paged() -> Iterator[ServerThread]:
    with ServerThread(dispatcher(), page="<h1>XML-RPC here</h1>") as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
        yield client


async def post(
    session: aiohttp.ClientSession, url: str, body: bytes, **headers: str
) -> tuple[int, str, bytes]:
    headers.setdefault("Content-Type", "text/xml")
    async with session.post(url, data=body, headers=headers) as response:
        return response.status, response.headers.get("Allow", ""), await response.read()


async def test_a_post_is_answered_and_the_connection_kept_alive(server: ServerThread) -> None:
    host, port = server.url.split("//")[1].split("/")[0].split(":")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 10)
    try:
        for _ in range(2):
            writer.write(
                b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(PING), PING)
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            body = await asyncio.wait_for(reader.readexactly(length), 10)
            assert xmlrpc.client.loads(body)[0] == (True,)
    finally:
        writer.close()


async def test_get_is_405_unless_a_page_is_configured(
    server: ServerThread, paged: ServerThread, session: aiohttp.ClientSession
) -> None:
    async with session.get(server.url) as response:
        assert response.status == 405
        assert response.headers["Allow"] == "POST"
        assert "XML-RPC takes POST requests, not GET" in await response.text()
    async with session.put(server.url, data=PING) as response:
        assert response.status == 405
    async with session.get(paged.url) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert await response.text() == "<h1>XML-RPC here</h1>"
    async with session.delete(paged.url) as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET, HEAD, POST"
    assert (await post(session, paged.url, PING))[0] == 200


async def test_a_wrong_content_type_is_415_and_xml_types_are_accepted(
    server: ServerThread, session: aiohttp.ClientSession
) -> None:
    status, _, body = await post(session, server.url, PING, **{"Content-Type": "application/json"})
    assert status == 415
    assert b"XML-RPC requests are text/xml, not application/json" in body
    for content_type in ("text/xml", "text/xml; charset=utf-8", "application/xml", "a/b+xml"):
        status, _, body = await post(session, server.url, PING, **{"Content-Type": content_type})
        assert status == 200, content_type
    # No Content-Type at all is read, as the standard library reads it.
    async with session.post(server.url, data=PING, headers={"Content-Type": ""}) as response:
        assert response.status in (200, 415)


async def test_other_paths_are_404(server: ServerThread, session: aiohttp.ClientSession) -> None:
    status, _, body = await post(session, server.url.replace("/RPC2", "/elsewhere"), PING)
    assert status == 404
    assert b"no XML-RPC endpoint at /elsewhere" in body
    assert (await post(session, server.url.replace("/RPC2", "/"), PING))[0] == 200


async def test_a_gzip_request_is_accepted(
    server: ServerThread, session: aiohttp.ClientSession
) -> None:
    body = gzip.compress(xmlrpc.client.dumps(("x" * 20_000,), "echo").encode())
    status, _, reply = await post(session, server.url, body, **{"Content-Encoding": "gzip"})
    assert status == 200
    assert xmlrpc.client.loads(reply)[0] == ("x" * 20_000,)


async def test_a_body_over_the_limit_is_413_declared_or_inflated(
    server: ServerThread, session: aiohttp.ClientSession
) -> None:
    big = xmlrpc.client.dumps(("x" * LIMIT,), "echo").encode()
    status, _, body = await post(session, server.url, big)
    assert status == 413
    assert f"exceeds {LIMIT} bytes".encode() in body
    status, _, _ = await post(
        session, server.url, gzip.compress(big), **{"Content-Encoding": "gzip"}
    )
    assert status == 413
    assert (await post(session, server.url, PING))[0] == 200


async def test_a_body_that_does_not_inflate_is_400(
    server: ServerThread, session: aiohttp.ClientSession
) -> None:
    status, _, body = await post(
        session, server.url, b"not gzip at all", **{"Content-Encoding": "gzip"}
    )
    assert status == 400
    assert body.startswith(b"400 Bad Request: ")
    assert (await post(session, server.url, PING))[0] == 200


async def test_a_client_disconnect_cancels_the_call(server: ServerThread) -> None:
    OBSERVED.started.clear()
    OBSERVED.cancelled.clear()
    async with AsyncServerProxy(server.url, timeout=0.5) as proxy:
        with pytest.raises(Exception):  # noqa: B017, PT011 - the client's own timeout
            await proxy.hang()
    assert await asyncio.to_thread(OBSERVED.started.wait, 10)
    assert await asyncio.to_thread(OBSERVED.cancelled.wait, 10)


async def test_our_own_client_and_multicall(server: ServerThread) -> None:
    async with AsyncServerProxy(server.url, allow_none=True) as proxy:
        assert await proxy.ping() is True
        assert await proxy.echo({"a": [1, 2.5, None]}) == {"a": [1, 2.5, None]}
        with pytest.raises(Fault) as info:
            await proxy.nope()
        assert info.value.faultCode == -32601
        batch = MultiCall(proxy)
        batch.ping()
        batch.echo("x")
        batch.nope()
        results = await batch(return_exceptions=True)
        assert results[:2] == [True, "x"]
        assert isinstance(results[2], Fault)
        assert results[2].faultCode == -32601
        assert "echo" in await proxy.system.listMethods()


async def test_make_app_and_the_handler_mount_in_an_existing_application() -> None:
    d = dispatcher()
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app.router.add_get("/", hello)
    app.add_subapp("/xmlrpc/", make_app(d, paths=["/"]))
    app.router.add_route("*", "/rpc", xmlrpc_handler(d, max_request_size=1000))
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                assert await response.text() == "hello"
            for path in ("/xmlrpc/", "/rpc"):
                status, _, body = await post(session, f"http://127.0.0.1:{port}{path}", PING)
                assert (status, xmlrpc.client.loads(body)[0]) == (200, (True,)), path
            big = xmlrpc.client.dumps(("x" * 2000,), "echo").encode()
            assert (await post(session, f"http://127.0.0.1:{port}/rpc", big))[0] == 413
    finally:
        await runner.cleanup()


async def test_a_middleware_that_reads_the_body_first() -> None:
    # aiohttp keeps what request.read() read; the handler must not find the stream empty.
    seen: list[bytes] = []

    @web.middleware
    async def log_body(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(await request.read())
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[log_body])
    app.router.add_route("*", "/RPC2", xmlrpc_handler(dispatcher(), max_request_size=1000))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/RPC2"
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            status, _, body = await post(session, url, PING)
            assert (status, xmlrpc.client.loads(body)[0]) == (200, (True,))
            zipped = gzip.compress(PING)  # aiohttp inflated it before the middleware read
            status, _, body = await post(session, url, zipped, **{"Content-Encoding": "gzip"})
            assert (status, xmlrpc.client.loads(body)[0]) == (200, (True,))
            big = xmlrpc.client.dumps(("x" * 2000,), "echo").encode()
            assert (await post(session, url, big))[0] == 413
        assert seen[:2] == [PING, PING]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("auto_decompress", [True, False])
async def test_compressed_requests_whoever_inflates_them(auto_decompress: bool) -> None:
    # A user's runner may have aiohttp inflate requests (its default) or not (as serve()
    # does): the handler inflates what is still compressed, and only that.
    app = web.Application()
    app.router.add_route("*", "/rpc", xmlrpc_handler(dispatcher()))
    runner = web.AppRunner(app, access_log=None, auto_decompress=auto_decompress)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/rpc"
        request = xmlrpc.client.dumps(("é" * 5000,), "echo").encode()
        bodies = {"gzip": gzip.compress(request), "deflate": zlib.compress(request)}
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            for encoding, body in bodies.items():
                status, _, reply = await post(session, url, body, **{"Content-Encoding": encoding})
                assert (status, xmlrpc.client.loads(reply)[0]) == (200, ("é" * 5000,)), encoding
    finally:
        await runner.cleanup()


async def test_serve_on_a_unix_socket_and_close() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "rpc.sock")
        async with serve(dispatcher(), unix_socket=path) as server:
            assert server.port is None
            assert server.url == "http://localhost/RPC2"
            async with AsyncServerProxy(server.url, unix_socket=path) as proxy:
                assert await proxy.ping() is True


async def test_serve_awaited_with_a_socket_and_closed_by_serve_forever_cancelled() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    server = await serve(dispatcher(), sock=sock, paths=["/api"])
    assert server.url.endswith("/api")
    assert server is await server.start()  # starting twice is harmless
    forever = asyncio.ensure_future(server.serve_forever())
    async with AsyncServerProxy(server.url) as proxy:
        assert await proxy.ping() is True
    forever.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(forever, 10)
    assert server.port is None
    with pytest.raises(ValueError, match="paths"):
        _ = serve(dispatcher(), paths=[])


def test_the_ipv6_url_is_bracketed() -> None:
    async def main() -> str | None:
        try:
            async with serve(dispatcher(), "::1", 0) as server:
                return server.url
        except OSError:
            return None

    url = asyncio.run(main())
    if url is None:
        pytest.skip("no IPv6 loopback on this machine")
    assert url.startswith("http://[::1]:")


async def _expecting(
    port: int, body: bytes, *, version: str = "1.1", length: int | None = None
) -> tuple[bytes, bytes]:
    """POST with ``Expect: 100-continue``: (what came before the body was sent, the rest).

    The body goes once "100 Continue" came, or after 0.5 s without it, as curl does;
    not at all after a final answer (the rest is then empty).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = (
            f"POST /RPC2 HTTP/{version}\r\nHost: x\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n"
            "Expect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode())
        await writer.drain()
        early = b""
        with contextlib.suppress(asyncio.TimeoutError):
            early = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5)
        if early and not early.startswith(b"HTTP/1.1 100 "):
            return early, b""  # refused on its head: the body is not to be sent
        writer.write(body)
        await writer.drain()
        rest = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        await writer.wait_closed()
    return early, rest


async def test_expect_100_continue_on_serve(server: ServerThread) -> None:
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    body = xmlrpc.client.dumps(("x" * 5000,), "echo").encode()
    early, rest = await _expecting(port, body)
    assert early == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
    assert xmlrpc.client.loads(rest.partition(b"\r\n\r\n")[2])[0] == ("x" * 5000,)
    # Refused on its head: the final answer at once, never "100 Continue".
    early, _ = await _expecting(port, body, length=LIMIT + 1)
    assert early.startswith(b"HTTP/1.1 413 ")
    # HTTP/1.0 has no 1xx answers.
    early, rest = await _expecting(port, PING, version="1.0")
    assert early == b""
    assert rest.startswith(b"HTTP/1.0 200 OK\r\n")


async def test_expect_100_continue_on_an_application_route() -> None:
    # aiohttp's router sends "100 Continue" itself: the handler must not send another.
    app = web.Application()
    app.router.add_route("*", "/RPC2", xmlrpc_handler(dispatcher()))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        early, rest = await _expecting(runner.addresses[0][1], PING)
    finally:
        await runner.cleanup()
    assert early == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"100 Continue" not in rest


async def _raw_post(port: int, request: bytes) -> bytes:
    """Send ``request`` as it is, on a connection that closes after the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        await writer.wait_closed()


def _request(target: bytes = b"/RPC2", extra: bytes = b"", eol: bytes = b"\r\n") -> bytes:
    lines = [
        b"POST " + target + b" HTTP/1.1",
        b"Host: x",
        b"Connection: close",
        b"Content-Type: text/xml",
        b"Content-Length: %d" % len(PING),
    ]
    return eol.join(lines) + eol + extra + eol + PING


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(_request(eol=b"\n"), id="bare-lf"),
        pytest.param(_request(extra=b"X-A : b\r\n"), id="space-before-colon"),
        pytest.param(_request(extra=b"X-A: b\r\n c\r\n"), id="folded-line"),
        pytest.param(_request(extra=b"Content-Length: %d\r\n" % len(PING)), id="length-twice"),
    ],
)
async def test_heads_simplexmlrpcserver_reads_are_400_as_documented(
    server: ServerThread, request_bytes: bytes
) -> None:
    # Stricter than http.server, as a guard against request smuggling (docs/guide/server.md).
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    reply = await _raw_post(port, request_bytes)
    assert reply.startswith(b"HTTP/1.0 400 Bad Request\r\n")
    assert (await _raw_post(port, _request())).startswith(b"HTTP/1.1 200 OK")


@pytest.mark.parametrize(("target", "status"), [(b"/RPC2?x=1", 200), (b"//RPC2", 404)])
async def test_paths_are_matched_as_sent_without_the_query(
    server: ServerThread, target: bytes, status: int
) -> None:
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    reply = await _raw_post(port, _request(target))
    assert reply.startswith(b"HTTP/1.1 %d " % status)


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf])
def test_a_keepalive_timeout_must_be_a_positive_finite_number(bad: float) -> None:
    with pytest.raises(ValueError, match="keepalive_timeout must be a positive number"):
        _ = serve(dispatcher(), keepalive_timeout=bad)
