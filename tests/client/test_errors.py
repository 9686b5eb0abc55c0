"""Every failure is typed, says what happened, hides credentials, and leaves the proxy usable.

After each error the same proxy makes one good call (the correct endpoint of the same
server), proving no broken connection went back to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import http.client
import math
import socket
import ssl
import time
import xml.parsers.expat
import xmlrpc.client
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import aiohttp
import defusedxml
import pytest
import trustme
from aiohttp import web

from aioxmlrpc import (
    AsyncServerProxy,
    ConnectError,
    ConnectionRefused,
    DTDForbidden,
    EntitiesForbidden,
    Fault,
    InvalidResponse,
    MalformedXML,
    NameResolutionError,
    ProtocolError,
    ResponseError,
    ResponseTooLarge,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
)
from aioxmlrpc._demo import ExampleServer
from aioxmlrpc.codec import encode_response

from servers import Methods, http_reply, make_app, read_request


async def _then_good_call(proxy_for: Callable[[str], AsyncServerProxy], base: str) -> None:
    good = proxy_for(f"{base}/RPC2")
    assert await good.ping() is True
    await good.aclose()


@pytest.mark.parametrize("code", [500, 401, 404])
async def test_http_errors_raise_protocol_error(raw_server: str, code: int) -> None:
    host = raw_server.removeprefix("http://")
    async with AsyncServerProxy(f"http://carol:topsecret@{host}/status/{code}") as proxy:
        with pytest.raises(xmlrpc.client.ProtocolError) as info:
            await proxy.ping()
    error = info.value
    assert isinstance(error, ProtocolError)
    assert error.errcode == code
    assert error.url == f"http://carol:***@{host}/status/{code}"
    assert "topsecret" not in repr(error)
    assert "topsecret" not in str(error.headers)
    assert error.headers["Content-Type"].startswith("text/html")


async def test_redirects_are_not_followed(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/redirect") as proxy:
        with pytest.raises(ProtocolError) as info:
            await proxy.ping()
    assert info.value.errcode == 302


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("/html", InvalidResponse, "Content-Type 'text/html"),
        ("/malformed", TruncatedResponse, "document ended"),
        ("/truncated", TruncatedResponse, "ended early"),
        ("/dtd", DTDForbidden, "DTDs are forbidden"),
        ("/xxe", DTDForbidden, "DTDs are forbidden"),
    ],
)
async def test_bad_bodies_raise_typed_response_errors(
    raw_server: str, path: str, error: type[Exception], message: str
) -> None:
    proxy = AsyncServerProxy(f"{raw_server}{path}")
    with pytest.raises(error, match=message) as info:
        await proxy.ping()
    assert isinstance(info.value, xmlrpc.client.ResponseError)
    await proxy.aclose()
    await _then_good_call(AsyncServerProxy, raw_server)


@pytest.mark.parametrize("label", ["text-html", "application-json", "application-xhtml+xml"])
async def test_a_reply_labelled_html_or_json_is_read_as_the_stdlib_reads_it(
    raw_server: str, label: str
) -> None:
    # The label alone decides nothing: a body that is XML-RPC is read, fault included.
    url = f"{raw_server}/labelled/{label}"
    expected = "labelled " + label.replace("-", "/")
    async with AsyncServerProxy(url) as proxy:
        assert await proxy.ping() == expected
    with xmlrpc.client.ServerProxy(url) as stdlib:
        assert await asyncio.to_thread(stdlib.ping) == expected
    async with AsyncServerProxy(f"{url}?fault=1") as proxy:
        with pytest.raises(Fault) as fault:
            await proxy.ping()
    assert (fault.value.faultCode, fault.value.faultString) == (7, expected)


@pytest.mark.parametrize("path", ["/html", "/html-doctype"])
async def test_a_page_that_is_not_xmlrpc_says_what_it_was_labelled(
    raw_server: str, path: str
) -> None:
    async with AsyncServerProxy(f"{raw_server}{path}") as proxy:
        with pytest.raises(InvalidResponse) as info:
            await proxy.ping()
    assert str(info.value) == (
        f"expected an XML body from {raw_server}{path}, got Content-Type 'text/html; charset=utf-8'"
    )
    assert isinstance(info.value.__cause__, xmlrpc.client.ResponseError)  # the parse's verdict


async def test_hostile_xml_errors_are_also_defusedxml_and_expat_errors(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/dtd") as proxy:
        with pytest.raises(defusedxml.DefusedXmlException):
            await proxy.ping()
    async with AsyncServerProxy(f"{raw_server}/malformed") as proxy:
        with pytest.raises(xml.parsers.expat.ExpatError):
            await proxy.ping()


async def test_a_gzip_bomb_is_refused_with_bounded_memory(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/gzip-bomb", max_response_size=10 << 20) as proxy:
        with pytest.raises(ResponseTooLarge, match="max_bytes"):
            await proxy.ping()
    await _then_good_call(AsyncServerProxy, raw_server)


async def test_a_200_mb_body_is_cut_at_the_limit(raw_server: str) -> None:
    started = time.monotonic()
    async with AsyncServerProxy(f"{raw_server}/huge?mb=200", max_response_size=5 << 20) as proxy:
        with pytest.raises(ResponseTooLarge):
            await proxy.ping()
    assert time.monotonic() - started < 20  # it stopped reading, it did not swallow 200 MB


async def test_a_declared_oversize_body_is_refused_before_reading(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/huge?mb=200&declared=1") as proxy:
        with pytest.raises(ResponseTooLarge, match="declares"):
            await proxy.ping()
    await _then_good_call(AsyncServerProxy, raw_server)


async def test_the_default_limit_refuses_a_200_mb_body(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/huge?mb=200&declared=1") as proxy:
        with pytest.raises(ResponseTooLarge, match="104857600"):
            await proxy.ping()


async def test_a_slow_server_times_out(raw_server: str) -> None:
    started = time.monotonic()
    async with AsyncServerProxy(f"{raw_server}/slow", timeout=0.5) as proxy:
        with pytest.raises(TimeoutError) as info:
            await proxy.ping()
    assert isinstance(info.value, TransportTimeout)
    assert isinstance(info.value, OSError)
    assert "timed out after 0.5 s" in str(info.value)
    assert time.monotonic() - started < 5


async def test_a_dripping_server_times_out_despite_progress(raw_server: str) -> None:
    started = time.monotonic()
    async with AsyncServerProxy(f"{raw_server}/drip", timeout=1.0) as proxy:
        with pytest.raises(TransportTimeout):
            await proxy.ping()
    assert time.monotonic() - started < 5
    await _then_good_call(AsyncServerProxy, raw_server)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]  # nothing listens once it is closed
    return port


async def test_a_refused_connection_is_a_connection_refused_error() -> None:
    port = _closed_port()
    async with AsyncServerProxy(f"http://dave:pw123@127.0.0.1:{port}/RPC2") as proxy:
        with pytest.raises(ConnectionRefusedError) as info:
            await proxy.ping()
    error = info.value
    assert isinstance(error, ConnectionRefused)
    assert isinstance(error, ConnectError)
    assert isinstance(error, TransportError)
    assert isinstance(error, OSError)
    assert isinstance(error, xmlrpc.client.Error)
    assert error.errno == errno.ECONNREFUSED  # as the stdlib's own error carries it
    assert isinstance(error.__cause__, aiohttp.ClientError)  # raised from aiohttp's
    assert str(error).endswith(": Connection refused")
    assert f"127.0.0.1:{port}" in str(error)
    assert "pw123" not in str(error)
    with pytest.raises(ConnectionRefusedError) as stdlib:
        xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/RPC2").ping()
    assert stdlib.value.errno == error.errno


async def test_an_unresolvable_host_is_a_gaierror() -> None:
    # The suite's resolver guard (conftest.py) fails names under .invalid locally, as a
    # resolver does: socket.gaierror(EAI_NONAME), and no DNS query leaves the machine.
    async with AsyncServerProxy("http://no-such-host.invalid/RPC2", timeout=10) as proxy:
        with pytest.raises(socket.gaierror) as info:
            await proxy.ping()
        error = info.value
        assert isinstance(error, NameResolutionError)
        assert isinstance(error, ConnectError)
        assert error.errno == socket.EAI_NONAME
        assert "cannot connect to http://no-such-host.invalid/RPC2" in str(error)
    with pytest.raises(socket.gaierror) as stdlib:
        xmlrpc.client.ServerProxy("http://no-such-host.invalid/RPC2").ping()
    assert stdlib.value.errno == error.errno


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port whose accept queue is full: a new connection's SYN gets no answer."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # the queue holds backlog + 1; the rest never completes
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.1)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_a_connect_timeout_names_itself(silent_listener: int) -> None:
    timeout = aiohttp.ClientTimeout(total=20, sock_connect=0.3)
    started = time.monotonic()
    url = f"http://127.0.0.1:{silent_listener}/RPC2"
    async with AsyncServerProxy(url, timeout=timeout) as proxy:
        with pytest.raises(TimeoutError) as info:
            await proxy.ping()
    assert time.monotonic() - started < 5
    assert isinstance(info.value, TransportTimeout)
    assert str(info.value) == (
        f"connecting to {url} timed out (connect timeout: sock_connect=0.3 s)"
    )
    assert "20 s" not in str(info.value)


async def test_a_whole_call_timeout_names_itself(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/slow", timeout=0.5) as proxy:
        with pytest.raises(TransportTimeout) as info:
            await proxy.ping()
    assert str(info.value) == f"call to {raw_server}/slow timed out after 0.5 s (timeout)"
    assert isinstance(info.value.__cause__, (TimeoutError, asyncio.TimeoutError))


@pytest.mark.parametrize("bad", [math.nan, -1.0, 0, -math.inf])
def test_nan_zero_and_negative_timeouts_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        AsyncServerProxy("http://127.0.0.1:1/RPC2", timeout=bad)
    if bad != 0:  # 0 in a ClientTimeout is aiohttp's "no limit"
        with pytest.raises(ValueError, match=r"timeout\.total must be a positive number"):
            AsyncServerProxy("http://127.0.0.1:1/RPC2", timeout=aiohttp.ClientTimeout(total=bad))
    with pytest.raises(ValueError, match=r"timeout\.sock_read"):
        AsyncServerProxy(
            "http://127.0.0.1:1/RPC2", timeout=aiohttp.ClientTimeout(sock_read=math.nan)
        )


async def test_an_infinite_timeout_is_no_limit(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2", timeout=math.inf) as proxy:
        transport = proxy("transport")
        assert transport._timeout.total is None
        assert await proxy.ping() is True
    timeout = aiohttp.ClientTimeout(total=math.inf, sock_read=math.inf)
    async with AsyncServerProxy(f"{raw_server}/RPC2", timeout=timeout) as proxy:
        assert proxy("transport")._timeout == aiohttp.ClientTimeout(total=None, sock_read=None)
        assert await proxy.ping() is True


async def test_a_dropped_fresh_connection_is_not_retried(raw_server: str, methods: Methods) -> None:
    async with AsyncServerProxy(f"{raw_server}/drop") as proxy:
        with pytest.raises(ConnectError, match="closed the connection"):
            await proxy.ping()
    await _then_good_call(AsyncServerProxy, raw_server)


@pytest.fixture
async def stale_keepalive_server() -> AsyncIterator[tuple[str, list[int]]]:
    """Answers the first request on each connection and keeps it open; on a later request
    on the same connection it hangs up without replying (a server-side idle timeout)."""
    served: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        on_this_connection = 0
        while True:
            body = await read_request(reader)
            if body is None:
                break
            on_this_connection += 1
            if on_this_connection > 1:
                break  # hang up, as if the connection had been idle too long
            served.append(1)
            writer.write(http_reply(encode_response(len(served))))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/RPC2", served
    finally:
        server.close()
        await server.wait_closed()


async def test_a_stale_pooled_connection_is_retried_once_transparently(
    stale_keepalive_server: tuple[str, list[int]],
) -> None:
    url, served = stale_keepalive_server
    async with AsyncServerProxy(url) as proxy:
        assert await proxy.ping() == 1
        assert await proxy.ping() == 2  # the pooled connection died; a new one answered
        assert await proxy.ping() == 3
    assert len(served) == 3


@pytest.fixture
async def tls_server(methods: Methods) -> AsyncIterator[tuple[str, trustme.CA]]:
    """The correct server over https, with a certificate from a throwaway CA."""
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    runner = web.AppRunner(make_app(methods), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"https://127.0.0.1:{port}/RPC2", ca
    finally:
        await runner.cleanup()


async def test_https_with_a_trusted_context(tls_server: tuple[str, trustme.CA]) -> None:
    url, ca = tls_server
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with AsyncServerProxy(url, context=context) as proxy:
        assert await proxy.echo("over tls") == "over tls"


async def test_https_with_an_untrusted_certificate_is_refused(
    tls_server: tuple[str, trustme.CA],
) -> None:
    url, _ = tls_server
    async with AsyncServerProxy(url) as proxy:
        with pytest.raises(ConnectError, match="certificate"):
            await proxy.ping()


@pytest.fixture
async def unix_server(
    methods: Methods, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The correct server on a unix socket (as supervisord listens by default)."""
    path = str(tmp_path_factory.mktemp("sock") / "xmlrpc.sock")
    runner = web.AppRunner(make_app(methods), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.UnixSite(runner, path)
    await site.start()
    try:
        yield path
    finally:
        await runner.cleanup()


async def test_a_unix_socket_server(unix_server: str) -> None:
    async with AsyncServerProxy("http://localhost/RPC2", unix_socket=unix_server) as proxy:
        results = await asyncio.gather(*(proxy.echo(i) for i in range(50)))
    assert results == list(range(50))


async def test_a_missing_unix_socket_is_a_connect_error(tmp_path: object) -> None:
    async with AsyncServerProxy("http://localhost/RPC2", unix_socket="/nonexistent.sock") as proxy:
        with pytest.raises(ConnectError):
            await proxy.ping()


async def test_a_closed_proxy_refuses_calls_clearly(raw_server: str) -> None:
    proxy = AsyncServerProxy(f"{raw_server}/RPC2")
    await proxy.aclose()
    with pytest.raises(TransportError, match="refused: the proxy was closed"):
        await proxy.ping()
    proxy = AsyncServerProxy(f"{raw_server}/RPC2")
    assert await proxy.ping() is True
    await proxy.aclose()
    with pytest.raises(TransportError, match="refused: the proxy was closed"):
        await proxy.ping()


async def test_calls_in_flight_or_queued_at_aclose_end_promptly(raw_server: str) -> None:
    proxy = AsyncServerProxy(f"{raw_server}/slow", pool_size=2)
    calls = [asyncio.ensure_future(proxy.ping()) for _ in range(5)]  # 2 sent, 3 queued
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await asyncio.wait_for(proxy.aclose(), 5)
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5)
    assert time.monotonic() - started < 2
    for outcome in outcomes:
        assert type(outcome) is TransportError, outcome
        assert str(outcome) == f"call to {raw_server}/slow abandoned: the proxy was closed"
    await _then_good_call(AsyncServerProxy, raw_server)


async def test_a_call_through_a_closed_session_is_a_transport_error(raw_server: str) -> None:
    session = aiohttp.ClientSession()
    proxy = AsyncServerProxy(f"{raw_server}/RPC2", session=session)
    assert await proxy.ping() is True
    await session.close()
    with pytest.raises(TransportError, match="the aiohttp session given as session= is closed"):
        await proxy.ping()


def test_a_proxy_used_from_a_second_event_loop_says_so(example_server: ExampleServer) -> None:
    proxy = AsyncServerProxy(example_server.url, timeout=10)
    assert asyncio.run(proxy.ping()) is True
    with pytest.raises(TransportError, match="belong to the event loop it was first used in"):
        asyncio.run(proxy.ping())
    asyncio.run(proxy.aclose())  # releases what it can, without the first loop
    with pytest.raises(TransportError, match="the proxy was closed"):
        asyncio.run(proxy.ping())
    fresh = AsyncServerProxy(example_server.url, timeout=10)

    async def use() -> object:
        async with fresh:
            return await fresh.ping()

    assert asyncio.run(use()) is True


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda p: p.ping(), id="ping"),
        pytest.param(lambda p: p.echo([1, "two", {"three": 3.0}]), id="echo"),
    ],
)
async def test_errors_never_leak_aiohttp_exceptions(
    raw_server: str, call: Callable[[AsyncServerProxy], Awaitable[object]]
) -> None:
    for path in ("/html", "/malformed", "/truncated", "/dtd", "/drop", "/status/500"):
        async with AsyncServerProxy(f"{raw_server}{path}", timeout=5) as proxy:
            with pytest.raises(xmlrpc.client.Error) as info:
                await call(proxy)
            assert not isinstance(info.value, aiohttp.ClientError)
            assert isinstance(info.value, (ResponseError, ProtocolError, TransportError))


async def test_entities_without_a_dtd_are_refused(raw_server: str) -> None:
    # A reply using an entity it never declared: refused, not resolved.
    assert issubclass(EntitiesForbidden, ResponseError)
    assert issubclass(MalformedXML, ResponseError)


@contextlib.asynccontextmanager
async def head_server(
    write_first: Callable[[asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """Answer the first request with ``write_first``, later ones with ``True``; then close."""
    requests = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        try:
            if await read_request(reader) is not None:
                requests += 1
                if requests == 1:
                    await write_first(writer)
                else:
                    writer.write(http_reply(encode_response(True), keep_alive=False))
                    await writer.drain()
        except ConnectionError:
            pass  # the client hung up on what it refused
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/RPC2"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(("size", "read"), [(60_000, True), (70_000, False)])
async def test_a_long_header_line_is_read_as_the_stdlib_reads_it(size: int, read: bool) -> None:
    # http.client reads lines of up to 64 KiB; aiohttp's own limit is 8190 bytes.
    head, _, body = http_reply(encode_response(True), keep_alive=False).partition(b"\r\n\r\n")
    reply = head + b"\r\nSet-Cookie: session=" + b"s" * size + b"\r\n\r\n" + body

    async def write_first(writer: asyncio.StreamWriter) -> None:
        writer.write(reply)
        await writer.drain()

    async with head_server(write_first) as url:
        stdlib = xmlrpc.client.ServerProxy(url)
        if read:
            assert await asyncio.to_thread(stdlib.ping) is True
        else:
            with pytest.raises(http.client.HTTPException, match="65536"):
                await asyncio.to_thread(stdlib.ping)
    async with head_server(write_first) as url, AsyncServerProxy(url) as proxy:
        if read:
            assert await proxy.ping() is True
        else:
            with pytest.raises(TransportError, match="bad HTTP reply"):
                await proxy.ping()
        assert await proxy.ping() is True


async def test_header_lines_without_end_are_refused_within_bounded_memory() -> None:
    written = 0

    async def write_first(writer: asyncio.StreamWriter) -> None:
        nonlocal written
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n")
        block = (b"X-Flood: " + b"f" * 8000 + b"\r\n") * 16
        deadline = time.monotonic() + 20
        while written < (1 << 30) and time.monotonic() < deadline:
            writer.write(block)
            await writer.drain()
            written += len(block)

    async with head_server(write_first) as url, AsyncServerProxy(url, timeout=20) as proxy:
        with pytest.raises(TransportError, match="Too many headers") as info:
            await proxy.ping()
        assert not isinstance(info.value, TransportTimeout)
        assert written < 64 << 20  # the client stopped reading at once
        assert await proxy.ping() is True
