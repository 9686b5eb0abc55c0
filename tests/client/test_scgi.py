"""SCGITransport against the stdlib SCGI server of tests/scgi_server.py, and URL dispatch.

rTorrent itself is tested in tests/thirdparty/test_rtorrent.py; here are the cases it
cannot be made to produce: bad heads, statuses, oversized and dripping bodies,
connections closed mid-reply. After each error, one good call on the same proxy.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import tempfile
import xmlrpc.client
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

import aioxmlrpc
from aioxmlrpc import (
    AsyncServerProxy,
    ConnectError,
    ConnectionRefused,
    InvalidResponse,
    MultiCall,
    ProtocolError,
    ResponseTooLarge,
    SCGITransport,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
)
from aioxmlrpc.codec import ResponseParser, encode_request

from scgi_server import SCGIServer

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def scgi() -> Iterator[SCGIServer]:
    server = SCGIServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def scgi_unix() -> Iterator[SCGIServer]:
    # A short path: unix socket paths are limited to about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="scgi") as directory:
        server = SCGIServer(os.path.join(directory, "rpc.sock"))
        try:
            yield server
        finally:
            server.stop()


def _proxy(server: SCGIServer, **options: object) -> AsyncServerProxy:
    return AsyncServerProxy(server.url, timeout=options.pop("timeout", TIMEOUT), **options)  # type: ignore[arg-type]


async def _still_works(proxy: AsyncServerProxy) -> None:
    assert await proxy.add(2, 3) == 5


# -- the happy path ---------------------------------------------------------------------------


async def test_a_call_over_tcp(scgi: SCGIServer) -> None:
    async with _proxy(scgi) as proxy:
        assert await proxy.add(2, 3) == 5
        assert await proxy.echo({"a": [1, "two", 3.5]}) == {"a": [1, "two", 3.5]}
        assert isinstance(proxy("transport"), SCGITransport)


async def test_a_call_over_a_unix_socket(scgi_unix: SCGIServer) -> None:
    assert scgi_unix.url.startswith("scgi+unix:///")
    async with _proxy(scgi_unix) as proxy:
        assert await proxy.add(40, 2) == 42
        assert "system.listMethods" in await proxy.system.listMethods()


async def test_the_request_is_framed_as_the_spec_says(scgi: SCGIServer) -> None:
    async with AsyncServerProxy(scgi.url.rstrip("/") + "/custom/path", timeout=TIMEOUT) as proxy:
        pairs = await proxy.scgi.headers()
    names = [name for name, _ in pairs]
    assert names == ["CONTENT_LENGTH", "SCGI", "REQUEST_METHOD", "REQUEST_URI"]
    body = encode_request("scgi.headers", ())
    assert pairs[0] == ["CONTENT_LENGTH", str(len(body))]
    assert ["SCGI", "1"] in pairs
    assert ["REQUEST_URI", "/custom/path"] in pairs
    assert not scgi.framing_errors


async def test_one_connection_per_call(scgi: SCGIServer) -> None:
    before = scgi.connections
    async with _proxy(scgi) as proxy:
        results = await asyncio.gather(*(proxy.add(i, i) for i in range(20)))
    assert results == [2 * i for i in range(20)]
    assert scgi.connections - before == 20


async def test_pool_size_bounds_the_open_connections(scgi: SCGIServer) -> None:
    async with _proxy(scgi, pool_size=2) as proxy:
        transport = proxy("transport")
        assert isinstance(transport, SCGITransport)
        seen: list[int] = []

        async def call(i: int) -> int:
            result: int = await proxy.add(i, 1)
            seen.append(len(transport._writers))
            return result

        assert await asyncio.gather(*(call(i) for i in range(10))) == list(range(1, 11))
    assert max(seen) <= 2


async def test_a_fault_and_a_multicall(scgi: SCGIServer) -> None:
    async with _proxy(scgi) as proxy:
        with pytest.raises(aioxmlrpc.Fault) as info:
            await proxy.mode.fault()
        assert (info.value.faultCode, info.value.faultString) == (7, "seven")
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        multicall.echo("x")
        assert list(await multicall()) == [3, "x"]


async def test_lf_heads_and_missing_status_or_length_are_read(scgi: SCGIServer) -> None:
    async with _proxy(scgi) as proxy:
        assert await proxy.mode.lf_only() == "ok"
        assert await proxy.mode.no_status_no_length() == "ok"
        assert await proxy.mode.labelled_html() == "ok"  # the label alone decides nothing


async def test_a_long_body_is_read_in_pieces(scgi: SCGIServer) -> None:
    async with _proxy(scgi) as proxy:
        assert await proxy.mode.long_body(300_000) == "z" * 300_000


# -- errors -----------------------------------------------------------------------------------


async def test_a_status_other_than_200_is_a_protocol_error(scgi: SCGIServer) -> None:
    async with _proxy(scgi) as proxy:
        with pytest.raises(ProtocolError) as info:
            await proxy.mode.status500()
        assert info.value.errcode == 500
        assert info.value.errmsg == "Internal Server Error"
        assert info.value.headers["X-Why"] == "testing"
        assert info.value.url == scgi.url
        await _still_works(proxy)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("bad_line", "malformed SCGI reply head"),
        ("bad_status", "malformed Status 'abc'"),
        ("bad_length", "malformed Content-Length 'ten'"),
        ("html", "got Content-Type 'text/html'"),
        ("huge_head", "exceeds 65536 bytes"),
        ("many_headers", "exceeds 65536 bytes"),
    ],
)
async def test_a_bad_head_is_an_invalid_response(scgi: SCGIServer, mode: str, message: str) -> None:
    async with _proxy(scgi) as proxy:
        with pytest.raises(InvalidResponse, match=message):
            await getattr(proxy.mode, mode)()
        await _still_works(proxy)


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    scgi: SCGIServer,
) -> None:
    async with _proxy(scgi, max_response_size=1000) as proxy:
        with pytest.raises(ResponseTooLarge, match="declares 5000 bytes, over the 1000 allowed"):
            await proxy.mode.declared_large(5000)
        await _still_works(proxy)


async def test_a_streamed_body_over_the_limit_is_refused(scgi: SCGIServer) -> None:
    async with _proxy(scgi, max_response_size=100_000) as proxy:
        with pytest.raises(ResponseTooLarge):
            await proxy.mode.streamed_large(500_000)
        await _still_works(proxy)


async def test_a_dripping_reply_times_out(scgi: SCGIServer) -> None:
    async with _proxy(scgi, timeout=0.5) as proxy:
        with pytest.raises(TransportTimeout, match=r"timed out after 0\.5 s \(timeout\)") as info:
            await proxy.mode.drip()
        assert isinstance(info.value, TimeoutError)
        await _still_works(proxy)


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("close_mid_body", TruncatedResponse, "closed the connection after"),
        ("close_mid_head", TruncatedResponse, "in its reply's head"),
        ("close_at_once", ConnectError, "closed the connection without replying"),
    ],
)
async def test_a_connection_closed_early_is_typed(
    scgi: SCGIServer, mode: str, error: type[Exception], message: str
) -> None:
    async with _proxy(scgi) as proxy:
        with pytest.raises(error, match=message):
            await getattr(proxy.mode, mode)()
        await _still_works(proxy)


async def test_nothing_listening_is_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with AsyncServerProxy(f"scgi://127.0.0.1:{port}/", timeout=TIMEOUT) as proxy:
        with pytest.raises(ConnectionRefused) as info:
            await proxy.add(1, 2)
    assert info.value.errno == errno.ECONNREFUSED
    assert isinstance(info.value, ConnectionRefusedError)


async def test_a_missing_socket_file_is_a_connect_error(tmp_path: Path) -> None:
    async with AsyncServerProxy(f"scgi+unix://{tmp_path}/none.sock", timeout=TIMEOUT) as proxy:
        with pytest.raises(ConnectError, match="cannot connect to") as info:
            await proxy.add(1, 2)
    assert info.value.errno == errno.ENOENT


async def test_a_closed_proxy_refuses_calls_and_ends_those_in_flight(scgi: SCGIServer) -> None:
    proxy = _proxy(scgi)
    call = asyncio.ensure_future(proxy.mode.drip())
    await asyncio.sleep(0.3)
    await proxy.aclose()
    with pytest.raises(TransportError, match="the proxy was closed"):
        await call
    with pytest.raises(TransportError, match="refused: the proxy was closed"):
        await proxy.add(1, 2)
    await proxy.aclose()  # twice is fine


async def test_a_cancelled_call_closes_its_connection(scgi: SCGIServer) -> None:
    async with _proxy(scgi) as proxy:
        transport = proxy("transport")
        call = asyncio.ensure_future(proxy.mode.drip())
        await asyncio.sleep(0.3)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert not transport._writers
        await _still_works(proxy)


def test_the_server_refuses_bad_framing(scgi: SCGIServer) -> None:
    # The stand-in is strict: what it accepts from us, it refuses from a sloppy client.
    reply = scgi.send_raw(b"12:SCGI\x001\x00XX\x00y\x00,")
    assert reply.startswith(b"Status: 400")
    assert "CONTENT_LENGTH is not the first header" in scgi.framing_errors[-1]


# -- options, verbose output, URLs ------------------------------------------------------------


async def test_verbose_shows_the_exchange_with_secrets_hidden(
    scgi: SCGIServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioxmlrpc")
    async with _proxy(scgi, verbose=True, secrets=["hunter2"]) as proxy:
        assert await proxy.echo("the password is hunter2") == "the password is hunter2"
        assert await proxy.mode.long_body(70_000) == "z" * 70_000
    out = capsys.readouterr().out
    assert "send: b'" in out
    assert "CONTENT_LENGTH\\x00" in out
    assert "reply: b'Status: 200 OK\\r\\n" in out
    assert "the password is ***" in out
    assert "hunter2" not in out
    assert "hunter2" not in caplog.text


def test_http_options_are_refused_for_scgi() -> None:
    with pytest.raises(TypeError, match="headers, user_agent: HTTP options"):
        AsyncServerProxy("scgi://127.0.0.1:5000/", headers={"X": "y"}, user_agent="me")
    with pytest.raises(ValueError, match="pool_size"):
        SCGITransport(pool_size=0)
    with pytest.raises(ValueError, match="timeout"):
        SCGITransport(timeout=0)
    with pytest.raises(TypeError, match="timeout"):
        SCGITransport(timeout="5")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "uri",
    ["ftp://host/RPC2", "file:///etc/passwd", "unix:///tmp/sock", "scgi+tcp://h:1/", "host:80"],
)
def test_an_unknown_scheme_is_the_stdlibs_error(uri: str) -> None:
    with pytest.raises(OSError, match=r"^unsupported XML-RPC protocol$"):
        AsyncServerProxy(uri)
    with pytest.raises(OSError, match=r"^unsupported XML-RPC protocol$"):
        xmlrpc.client.ServerProxy(uri)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("scgi://127.0.0.1/", "needs a host and a port"),
        ("scgi://:5000/", "needs a host and a port"),
        ("scgi+unix://", "no socket path"),
        ("http+unix:///RPC2", "no socket path"),
    ],
)
def test_an_incomplete_url_is_refused_at_once(uri: str, message: str) -> None:
    with pytest.raises(OSError, match=message):
        AsyncServerProxy(uri)


async def test_the_transport_can_be_used_alone(scgi: SCGIServer) -> None:
    transport = SCGITransport(timeout=TIMEOUT)
    body = encode_request("add", (20, 22))
    assert await transport.request(scgi.url, body, ResponseParser()) == 42
    await transport.aclose()
    assert transport.closed


# -- http+unix:// ---------------------------------------------------------------------------


@pytest.fixture
async def http_unix_server() -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        params, method = xmlrpc.client.loads(await request.read())
        answer = {"path": request.path, "method": method, "params": list(params)}
        auth = request.headers.get("Authorization")
        if auth:
            answer["auth"] = auth
        body = xmlrpc.client.dumps((answer,), methodresponse=True)
        return web.Response(body=body.encode(), content_type="text/xml")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    with tempfile.TemporaryDirectory(prefix="hu") as directory:
        path = os.path.join(directory, "web server.sock")
        site = web.UnixSite(runner, path)
        await site.start()
        try:
            yield path
        finally:
            await runner.cleanup()


async def test_http_over_a_unix_socket_by_url(http_unix_server: str) -> None:
    from urllib.parse import quote

    encoded = quote(http_unix_server, safe="")
    async with AsyncServerProxy(f"http+unix://{encoded}", timeout=TIMEOUT) as proxy:
        assert await proxy.ping(1) == {"path": "/RPC2", "method": "ping", "params": [1]}
        assert repr(proxy) == f"<AsyncServerProxy for http+unix://{encoded}/RPC2>"
    url = f"http+unix://alice:s3cret@{encoded}/custom"
    async with AsyncServerProxy(url, timeout=TIMEOUT) as proxy:
        answer = await proxy.ping()
        assert answer["path"] == "/custom"
        assert answer["auth"].startswith("Basic ")
        assert "s3cret" not in repr(proxy)
    with pytest.raises(TypeError, match="names its socket"):
        AsyncServerProxy(f"http+unix://{encoded}/RPC2", unix_socket=http_unix_server)


async def test_the_socket_path_may_be_percent_encoded_and_timeouts_may_be_off(
    scgi_unix: SCGIServer,
) -> None:
    from urllib.parse import quote

    path = scgi_unix.url.removeprefix("scgi+unix://")
    url = f"scgi+unix://{quote(path, safe='')}"
    async with AsyncServerProxy(url, timeout=None) as proxy:
        assert await proxy.add(1, 1) == 2
    transport = SCGITransport(timeout=None, connect_timeout=None)
    body = encode_request("add", (2, 2))
    assert await transport.request(scgi_unix.url, body, ResponseParser()) == 4


def test_a_port_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(OSError, match="needs a host and a port"):
        AsyncServerProxy("scgi://127.0.0.1:http/")


async def test_a_reset_before_any_reply_is_a_connect_error() -> None:
    # A listener that accepts, then resets the connection (SO_LINGER 0) unread.
    import struct

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with AsyncServerProxy(f"scgi://127.0.0.1:{port}/", timeout=TIMEOUT) as proxy:
            with pytest.raises(ConnectError) as info:
                await proxy.add(1, 2)
        assert not isinstance(info.value, TruncatedResponse)
    finally:
        server.close()
        await server.wait_closed()


def test_one_transport_serves_one_event_loop_after_another(scgi: SCGIServer) -> None:
    proxy = AsyncServerProxy(scgi.url, timeout=TIMEOUT, pool_size=1)

    async def call(value: int) -> int:
        result: int = await proxy.add(value, 1)
        return result

    assert asyncio.run(call(1)) == 2
    assert asyncio.run(call(2)) == 3  # a new loop: a new gate, no stale connection
    asyncio.run(proxy.aclose())
