"""AsyncServerProxy against real servers on 127.0.0.1: calls, options, pooling, closing."""

from __future__ import annotations

import asyncio
import datetime
import gc
import io
import xmlrpc.client

import aiohttp
import pytest

from aioxmlrpc import AsyncServerProxy, Binary, DateTime, Fault, HTTPTransport
from aioxmlrpc._demo import ExampleServer

from servers import Methods


async def test_ping_against_the_stdlib_example_server(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        assert await proxy.ping() is True


async def test_dotted_and_getattr_names(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        methods = await proxy.system.listMethods()
        assert "show_type" in methods
        help_text = await getattr(proxy, "system.methodHelp")("ping")
        assert "connectivity" in help_text


async def test_values_of_every_type_go_and_come_back(example_server: ExampleServer) -> None:
    value = {
        "int": 1,
        "float": 2.5,
        "bool": True,
        "str": "some text & <markup>",
        "list": [1, "a", [2.0]],
        "binary": Binary(b"\x00\x01"),
        "date": DateTime("20261125T10:00:00"),
        "nil": None,
    }
    async with AsyncServerProxy(example_server.url, allow_none=True) as proxy:
        _text, kind, echoed = await proxy.show_type(value)
        assert kind == "<class 'dict'>"
        assert echoed == value


async def test_use_datetime_and_builtin_types(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url, use_builtin_types=True) as proxy:
        now = await proxy.now()
        assert isinstance(now, datetime.datetime)
        assert await proxy.send_back_binary(Binary(b"raw\x00")) == b"raw\x00"
    async with AsyncServerProxy(example_server.url) as proxy:
        assert isinstance(await proxy.now(), xmlrpc.client.DateTime)


async def test_faults_are_the_stdlib_class(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        with pytest.raises(xmlrpc.client.Fault) as info:
            await proxy.raises_exception("A message")
        assert info.value.faultCode == 1
        assert info.value.faultString == "<class 'RuntimeError'>:A message"
        assert await proxy.ping() is True


async def test_keyword_arguments_are_refused() -> None:
    proxy = AsyncServerProxy("http://127.0.0.1:9/RPC2")
    with pytest.raises(TypeError, match="position only"):
        proxy.ping(x=1)  # type: ignore[unused-coroutine]
    await proxy.aclose()


async def test_none_is_refused_locally_without_allow_none() -> None:
    proxy = AsyncServerProxy("http://127.0.0.1:9/RPC2")
    with pytest.raises(TypeError, match="cannot marshal None unless allow_none is enabled"):
        await proxy.show_type(None)
    await proxy.aclose()


def test_only_http_and_https_like_the_stdlib() -> None:
    with pytest.raises(OSError, match="unsupported XML-RPC protocol"):
        AsyncServerProxy("ftp://example.com/")
    with pytest.raises(OSError, match="unsupported XML-RPC protocol"):
        xmlrpc.client.ServerProxy("ftp://example.com/")


def test_a_proxy_can_be_made_outside_a_running_loop() -> None:
    proxy = AsyncServerProxy("http://127.0.0.1:9")
    assert repr(proxy) == "<AsyncServerProxy for http://127.0.0.1:9/RPC2>"
    asyncio.run(proxy.aclose())


def test_repr_hides_the_password() -> None:
    proxy = AsyncServerProxy("https://alice:s3cr%40t@example.com:8443/xmlrpc")
    assert repr(proxy) == "<AsyncServerProxy for https://alice:***@example.com:8443/xmlrpc>"
    assert "s3cr" not in str(proxy)
    asyncio.run(proxy.aclose())


async def test_the_path_defaults_to_rpc2_and_credentials_become_basic_auth(
    raw_server: str, methods: Methods
) -> None:
    host = raw_server.removeprefix("http://")
    async with AsyncServerProxy(f"http://alice:p%40ss@{host}") as proxy:
        headers = await proxy.headers()
    assert headers["Authorization"] == "Basic YWxpY2U6cEBzcw=="  # alice:p@ss
    assert headers["Content-Type"] == "text/xml"
    assert headers["User-Agent"].startswith("aioxmlrpc/")
    assert headers["Accept-Encoding"] == "gzip"


async def test_extra_headers_and_user_agent(raw_server: str) -> None:
    async with AsyncServerProxy(
        f"{raw_server}/RPC2", headers=[("X-Token", "abc")], user_agent="probe/1"
    ) as proxy:
        headers = await proxy.headers()
    assert headers["X-Token"] == "abc"
    assert headers["User-Agent"] == "probe/1"


async def test_call_close_and_transport_like_the_stdlib(raw_server: str) -> None:
    proxy = AsyncServerProxy(f"{raw_server}/RPC2")
    assert isinstance(proxy("transport"), HTTPTransport)
    assert await proxy.ping() is True
    await proxy("close")()
    await proxy.aclose()  # idempotent
    with pytest.raises(AttributeError):
        proxy("other")


async def test_a_callers_session_is_used_and_left_open(raw_server: str) -> None:
    async with aiohttp.ClientSession() as session:
        proxy = AsyncServerProxy(f"{raw_server}/RPC2", session=session)
        assert await proxy.ping() is True
        await proxy.aclose()
        assert not session.closed
        async with session.get(raw_server) as response:  # still usable
            assert response.status == 405


async def test_many_concurrent_calls_share_the_pool(raw_server: str, methods: Methods) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2", pool_size=20) as proxy:
        results = await asyncio.gather(*(proxy.echo(i) for i in range(500)))
    assert results == list(range(500))
    assert methods.calls["echo"] == 500


async def test_cancelling_calls_leaves_the_proxy_usable(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2", pool_size=10) as proxy:
        tasks = [asyncio.create_task(proxy.sleep(5)) for _ in range(100)]
        await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert await asyncio.wait_for(proxy.echo("after"), 10) == "after"


async def test_verbose_prints_the_exchange_without_credentials(
    raw_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    host = raw_server.removeprefix("http://")
    async with AsyncServerProxy(f"http://bob:hunter2@{host}/RPC2", verbose=True) as proxy:
        assert await proxy.ping() is True
    out = capsys.readouterr().out
    assert "send: b'POST /RPC2 HTTP/1.1\\r\\n" in out
    assert "reply: 'HTTP/1.1 200 OK\\r\\n'" in out
    assert "body: b" in out
    assert "<methodName>ping</methodName>" in out
    assert "hunter2" not in out
    assert "Authorization: Basic ***" in out


async def test_debug_logging_carries_the_exchange_without_credentials(
    raw_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    host = raw_server.removeprefix("http://")
    with caplog.at_level("DEBUG", logger="aioxmlrpc"):
        async with AsyncServerProxy(f"http://bob:hunter2@{host}/RPC2") as proxy:
            await proxy.ping()
    text = caplog.text
    assert "POST /RPC2" in text
    assert "hunter2" not in text
    assert "Ym9iOmh1bnRlcjI" not in text  # nor its base64


async def test_gzip_replies_are_decompressed(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/gzip") as proxy:
        assert await proxy.anything() == ["compressed"] * 1000
    async with AsyncServerProxy(f"{raw_server}/deflate") as proxy:
        assert await proxy.anything() == "deflated"


async def test_large_requests_can_be_gzipped(raw_server: str, methods: Methods) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2", gzip_threshold=1000) as proxy:
        # aiohttp's server inflates a gzip request body transparently
        assert await proxy.echo("y" * 5000) == "y" * 5000
        assert methods.last_headers["Content-Encoding"] == "gzip"


async def test_a_reply_with_a_generic_content_type_is_accepted(raw_server: str) -> None:
    # aiohttp labels an untyped body application/octet-stream; so do some servers.
    async with AsyncServerProxy(f"{raw_server}/no-content-type") as proxy:
        assert await proxy.anything() == "untyped"


async def test_closed_proxies_leave_no_session_behind(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2") as proxy:
        await proxy.ping()
    gc.collect()  # an unclosed aiohttp session would warn here, and warnings are errors


async def test_verbose_output_can_be_redirected(raw_server: str) -> None:
    output = io.StringIO()
    transport = HTTPTransport(output=output)
    async with AsyncServerProxy(f"{raw_server}/RPC2", transport, verbose=True) as proxy:
        await proxy.ping()
    assert "reply: 'HTTP/1.1 200 OK" in output.getvalue()


def test_http_options_with_a_transport_are_refused() -> None:
    with pytest.raises(TypeError, match="transport"):
        AsyncServerProxy("http://127.0.0.1:9", HTTPTransport(), proxy="http://p:3128")


async def test_fault_from_the_codec_server(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2") as proxy:
        with pytest.raises(Fault) as info:
            await proxy.fault(42, "nope")
        assert (info.value.faultCode, info.value.faultString) == (42, "nope")
