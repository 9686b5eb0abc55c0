"""The ASGI application under a real ASGI server, uvicorn, on 127.0.0.1.

``test_server_asgi.py`` drives the application with ASGI messages; here uvicorn (PyPI,
test extra) speaks HTTP to our client, to the standard library's ``ServerProxy`` and to
raw sockets, so that what uvicorn does between them (its body chunks, keep-alive, its
``http.disconnect`` when a client goes) is part of the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import xmlrpc.client
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from aioxmlrpc import AsyncServerProxy, Fault, MultiCall, ProtocolError
from aioxmlrpc._demo._service import example_dispatcher
from aioxmlrpc.server import XMLRPCDispatcher, asgi_app

from servers import BILLION_LAUGHS

START_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0
LIMIT = 256 * 1024  # max_request_size of the application under test


class Hang:
    """A method that waits until it is cancelled, and says so."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def __call__(self) -> bool:
        self.started.set()
        try:
            await asyncio.sleep(CALL_TIMEOUT * 3)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return True


@pytest.fixture
def hang() -> Hang:
    return Hang()


@pytest.fixture
async def uvicorn_url(hang: Hang) -> AsyncIterator[str]:
    """The example service and ``hang``, as an ASGI app under uvicorn; yields the URL."""
    dispatcher: XMLRPCDispatcher = example_dispatcher()
    dispatcher.register_function(hang, "hang")
    app = asgi_app(dispatcher, paths=["/RPC2"], max_request_size=LIMIT)
    async with _uvicorn(app) as base:
        yield f"{base}/RPC2"


@contextlib.asynccontextmanager
async def _uvicorn(app: Any) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(int(START_TIMEOUT / 0.01)):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, START_TIMEOUT)
        sock.close()


async def test_the_seed_calls_from_our_client(uvicorn_url: str) -> None:
    async with AsyncServerProxy(uvicorn_url, timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.ping() is True
        assert await proxy.show_type({"a": [1, 2.5, "x"]}) == [
            "{'a': [1, 2.5, 'x']}",
            "<class 'dict'>",
            {"a": [1, 2.5, "x"]},
        ]
        with pytest.raises(Fault) as fault:
            await proxy.raises_exception("A message")
        assert (fault.value.faultCode, fault.value.faultString) == (
            1,
            "<class 'RuntimeError'>:A message",
        )
        with pytest.raises(Fault) as unknown:
            await proxy.no.such.method()
        assert unknown.value.faultCode == -32601
        multicall = MultiCall(proxy)
        multicall.ping()
        multicall.raises_exception("stop")
        results = await multicall()
        assert results[0] is True
        with pytest.raises(Fault, match="stop"):
            results[1]
        answers = await asyncio.gather(*(proxy.show_type(n) for n in range(50)))
        assert [answer[2] for answer in answers] == list(range(50))


async def test_the_stdlib_client_gets_the_same(uvicorn_url: str) -> None:
    def calls() -> list[Any]:
        with xmlrpc.client.ServerProxy(uvicorn_url) as proxy:
            out: list[Any] = [proxy.ping(), proxy.show_type("h\u00e9llo & <b>")]
            batch = xmlrpc.client.MultiCall(proxy)
            batch.ping()
            batch.show_type(2)
            results = batch()
            out.append([results[0], results[1]])
            return out

    theirs = await asyncio.wait_for(asyncio.to_thread(calls), CALL_TIMEOUT)
    async with AsyncServerProxy(uvicorn_url, timeout=CALL_TIMEOUT) as proxy:
        batch = MultiCall(proxy)
        batch.ping()
        batch.show_type(2)
        ours = [await proxy.ping(), await proxy.show_type("h\u00e9llo & <b>"), list(await batch())]
    assert ours == theirs


async def _raw(
    url: str, head: str, body: bytes = b"", *, send_body: bool = True
) -> tuple[int, bytes]:
    """One request on its own connection: (status, body).

    Without ``send_body``, only the head goes (its Content-Length says the body's size):
    a server that refuses it at once then closes with nothing unread, so no reset can
    overtake its answer.
    """
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        request = head.replace("\n", "\r\n") + f"Content-Length: {len(body)}\r\n"
        writer.write(request.encode() + b"Connection: close\r\n\r\n" + (body if send_body else b""))
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), CALL_TIMEOUT)
    finally:
        writer.close()
        await writer.wait_closed()
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def test_http_refusals_and_the_server_goes_on(uvicorn_url: str) -> None:
    ping = xmlrpc.client.dumps((), "ping").encode()
    status, body = await _raw(uvicorn_url, "GET /RPC2 HTTP/1.1\nHost: x\n")
    assert (status, body) == (
        405,
        b"405 Method Not Allowed: XML-RPC takes POST requests, not GET\n",
    )
    status, _ = await _raw(
        uvicorn_url, "POST /RPC2 HTTP/1.1\nHost: x\nContent-Type: application/json\n", ping
    )
    assert status == 415
    status, _ = await _raw(uvicorn_url, "POST /other HTTP/1.1\nHost: x\n", ping)
    assert status == 404
    big = xmlrpc.client.dumps(("x" * LIMIT,), "show_type").encode()
    status, body = await _raw(uvicorn_url, "POST /RPC2 HTTP/1.1\nHost: x\n", big, send_body=False)
    assert status == 413
    assert body.startswith(b"413 Request Entity Too Large")
    status, body = await _raw(uvicorn_url, "POST /RPC2 HTTP/1.1\nHost: x\n", BILLION_LAUGHS)
    assert status == 200
    assert xmlrpc_fault(body)[0] == -32700
    # A gzip body is read; one that inflates past the limit is 413.
    zipped = gzip.compress(xmlrpc.client.dumps((5,), "show_type").encode())
    status, body = await _raw(
        uvicorn_url, "POST /RPC2 HTTP/1.1\nHost: x\nContent-Encoding: gzip\n", zipped
    )
    assert status == 200
    answer: Any = xmlrpc.client.loads(body)[0][0]
    assert answer[2] == 5
    bomb = gzip.compress(xmlrpc.client.dumps(("y" * (4 * LIMIT),), "show_type").encode())
    status, _ = await _raw(
        uvicorn_url, "POST /RPC2 HTTP/1.1\nHost: x\nContent-Encoding: gzip\n", bomb
    )
    assert status == 413
    async with AsyncServerProxy(uvicorn_url, timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.ping() is True


def xmlrpc_fault(body: bytes) -> tuple[int, str]:
    try:
        xmlrpc.client.loads(body)
    except xmlrpc.client.Fault as fault:
        return fault.faultCode, fault.faultString
    raise AssertionError(f"not a fault: {body!r}")


async def test_a_client_that_goes_cancels_its_call(uvicorn_url: str, hang: Hang) -> None:
    port = int(uvicorn_url.rsplit(":", 1)[1].split("/")[0])
    body = xmlrpc.client.dumps((), "hang").encode()
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    await asyncio.wait_for(hang.started.wait(), CALL_TIMEOUT)
    writer.close()
    await writer.wait_closed()
    await asyncio.wait_for(hang.cancelled.wait(), CALL_TIMEOUT)
    async with AsyncServerProxy(uvicorn_url, timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.ping() is True


async def test_a_status_other_than_200_is_a_protocol_error(uvicorn_url: str) -> None:
    async with AsyncServerProxy(uvicorn_url.replace("/RPC2", "/nope"), timeout=CALL_TIMEOUT) as p:
        with pytest.raises(ProtocolError) as error:
            await p.ping()
    assert error.value.errcode == 404


async def test_mounted_in_a_starlette_application() -> None:
    # Starlette passes the mount point in root_path and keeps it in path: the paths
    # given to asgi_app are below the mount point either way.
    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello")

    xmlrpc_app = asgi_app(example_dispatcher(), paths=["/RPC2"])
    site = Starlette(routes=[Route("/", hello), Mount("/xmlrpc", app=xmlrpc_app)])
    async with _uvicorn(site) as base:
        async with AsyncServerProxy(f"{base}/xmlrpc/RPC2", timeout=CALL_TIMEOUT) as proxy:
            assert await proxy.ping() is True
            assert (await proxy.show_type([1]))[2] == [1]
        status, body = await _raw(f"{base}/", "GET / HTTP/1.1\nHost: x\n")
        assert (status, body) == (200, b"hello")
        status, body = await _raw(f"{base}/", "POST /xmlrpc/other HTTP/1.1\nHost: x\n", b"<x/>")
        assert (status, body) == (404, b"404 Not Found: no XML-RPC endpoint at /xmlrpc/other\n")
