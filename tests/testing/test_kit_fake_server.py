"""FakeServer: a real loopback server with scripted answers, against our own client."""

from __future__ import annotations

import asyncio
import time
import xmlrpc.client

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Fault,
    InvalidResponse,
    MalformedXML,
    MultiCall,
    ProtocolError,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
)
from aioxmlrpc.testing import Call, FakeServer, Reply


async def test_scripted_results_and_faults_in_order_the_last_repeats() -> None:
    async with FakeServer() as server:
        server.script("next", 1, Fault(7, "seven"), Reply(result=[3]))
        async with server.proxy() as proxy:
            assert await proxy.next() == 1
            with pytest.raises(Fault) as info:
                await proxy.next()
            assert (info.value.faultCode, info.value.faultString) == (7, "seven")
            assert await proxy.next() == [3]
            assert await proxy.next() == [3]  # the last reply stays
        assert server.calls == [Call("next", ())] * 4


async def test_the_call_log_holds_parsed_params() -> None:
    async with FakeServer() as server:
        server.script("supervisor.startProcess", True)
        async with AsyncServerProxy(server.url) as proxy:
            assert await proxy.supervisor.startProcess("web", False) is True
            assert await proxy.supervisor.startProcess("db", True) is True
        assert server.calls == [
            ("supervisor.startProcess", ("web", False)),
            ("supervisor.startProcess", ("db", True)),
        ]
        assert server.headers[0]["Content-Type"] == "text/xml"
        assert server.headers[0]["User-Agent"].startswith("aioxmlrpc/")
        async with AsyncServerProxy(server.url.replace("//", "//al:pw@")) as proxy:
            assert await proxy.supervisor.startProcess("x", True) is True
        assert server.headers[-1]["Authorization"] == "Basic YWw6cHc="
        assert len(server.headers) == len(server.calls) == 3
        server.clear_calls()
        assert server.calls == []
        assert server.headers == []
        assert "0 calls" in repr(server)


async def test_unscripted_methods_go_to_the_dispatcher() -> None:
    async with FakeServer() as server:
        server.dispatcher.register_function(lambda a, b: a * b, "mul")
        server.script("scripted", "yes")
        async with server.proxy() as proxy:
            assert await proxy.mul(6, 7) == 42
            with pytest.raises(Fault) as info:
                await proxy.nothing_here()
            assert info.value.faultCode == xmlrpc.client.METHOD_NOT_FOUND
            methods = await proxy.system.listMethods()
            assert {"mul", "scripted", "system.multicall"} <= set(methods)
            server.script("scripted")  # removed: not found any more
            with pytest.raises(Fault) as info:
                await proxy.scripted()
            assert info.value.faultCode == xmlrpc.client.METHOD_NOT_FOUND


async def test_function_replies_compute_from_params_and_their_errors_are_faults() -> None:
    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    def boom() -> None:
        raise RuntimeError("boom")

    async with FakeServer() as server:
        server.script("add", Reply(function=add))
        server.script("boom", Reply(function=boom))
        server.script("refuse", Reply(function=lambda: (_ for _ in ()).throw(Fault(3, "x"))))
        server.script("bad", {1, 2})  # a value no server can marshal
        async with server.proxy() as proxy:
            assert await proxy.add(2, 5) == 7
            with pytest.raises(Fault, match="RuntimeError'>:boom"):
                await proxy.boom()
            with pytest.raises(Fault) as info:
                await proxy.refuse()
            assert info.value.faultCode == 3
            with pytest.raises(Fault, match="cannot marshal"):
                await proxy.bad()
            assert await proxy.add(1, 1) == 2


async def test_http_statuses_and_raw_bodies() -> None:
    async with FakeServer() as server:
        server.script("busy", Reply(status=503, reason="Busy", headers={"Retry-After": "2"}), True)
        server.script("html", Reply(body=b"<html>login</html>", content_type="text/html"))
        server.script("broken", Reply(body=b"<methodResponse><params><param>"))
        async with server.proxy() as proxy:
            with pytest.raises(ProtocolError) as info:
                await proxy.busy()
            assert info.value.errcode == 503
            assert info.value.errmsg == "Busy"
            assert info.value.headers["Retry-After"] == "2"
            assert await proxy.busy() is True  # the next reply in the script
            with pytest.raises(InvalidResponse, match="text/html"):
                await proxy.html()
            with pytest.raises((TruncatedResponse, MalformedXML)):
                await proxy.broken()
            assert await proxy.busy() is True


async def test_latency_is_felt_and_bounded_by_the_clients_timeout() -> None:
    async with FakeServer() as server:
        server.script("slow", Reply(result="late", delay=0.3))
        async with server.proxy(timeout=0.1) as proxy:
            started = time.monotonic()
            with pytest.raises(TransportTimeout):
                await proxy.slow()
            assert time.monotonic() - started < 0.3
        async with server.proxy(timeout=5) as proxy:
            started = time.monotonic()
            assert await proxy.slow() == "late"
            assert time.monotonic() - started >= 0.3


async def test_a_drip_arrives_whole_and_slowly() -> None:
    async with FakeServer() as server:
        server.script("drip", Reply(result="d" * 300, drip=0.02, chunk_size=100))
        async with server.proxy(timeout=5) as proxy:
            started = time.monotonic()
            assert await proxy.drip() == "d" * 300
            # the body is a few hundred bytes: at least three pieces, two waits
            assert time.monotonic() - started >= 0.04


async def test_a_truncated_body_is_an_error_and_the_next_call_works() -> None:
    async with FakeServer() as server:
        server.script("cut", Reply(result="c" * 1000, truncate=200), "whole")
        server.script("cut_head", Reply(result="x", truncate=0))
        async with server.proxy(timeout=5) as proxy:
            with pytest.raises(TruncatedResponse, match="ended early"):
                await proxy.cut()
            assert await proxy.cut() == "whole"
            with pytest.raises(TruncatedResponse, match="ended early"):
                await proxy.cut_head()


async def test_scripted_replies_answer_inside_multicall() -> None:
    async with FakeServer() as server:
        server.script("a", Reply(result=1, delay=0.01))  # a delay holds inside multicall too
        server.script("b", Fault(9, "nine"))
        server.script("c", Reply(status=500))
        server.dispatcher.register_function(lambda: "real", "real")
        async with server.proxy() as proxy:
            multicall = MultiCall(proxy)
            multicall.a()
            multicall.b()
            multicall.c()
            multicall.real()
            multicall.unknown()
            results = await multicall(return_exceptions=True)
        assert results[0] == 1
        assert [getattr(item, "faultCode", None) for item in results[1:]] == [
            9,
            xmlrpc.client.INTERNAL_ERROR,
            None,
            xmlrpc.client.METHOD_NOT_FOUND,
        ]
        assert results[3] == "real"
        assert [call.method for call in server.calls] == ["system.multicall"]


async def test_scripting_system_multicall_tests_a_clients_fallback() -> None:
    async with FakeServer() as server:
        server.script("system.multicall", Fault(-32601, "no multicall here"))
        server.script("x", 5)
        async with server.proxy() as proxy:
            multicall = MultiCall(proxy)
            multicall.x()
            multicall.x()
            assert list(await multicall(fallback=True)) == [5, 5]
        assert [call.method for call in server.calls] == ["system.multicall", "x", "x"]


async def test_bad_requests_are_refused_as_a_server_does() -> None:
    import aiohttp

    async with FakeServer() as server, aiohttp.ClientSession() as session:
        async with session.get(server.url) as response:
            assert response.status == 405
        async with session.post(server.url, data=b"<methodCall><x") as response:
            assert response.status == 200
            body = await response.read()
        with pytest.raises(Fault) as info:
            xmlrpc.client.loads(body.decode())
        assert info.value.faultCode == xmlrpc.client.NOT_WELLFORMED_ERROR
        assert server.calls == []


def test_in_a_thread_for_sync_code() -> None:
    with FakeServer() as server:
        server.script("ping", True)
        with xmlrpc.client.ServerProxy(server.url) as client:
            assert client.ping() is True
        assert server.calls == [("ping", ())]
        url = server.url
    with pytest.raises(RuntimeError, match="not running"):
        server.url  # noqa: B018
    # stopped: nothing listens on its port any more
    with pytest.raises(ConnectionRefusedError), xmlrpc.client.ServerProxy(url) as client:
        client.ping()


async def test_a_threaded_server_serves_an_async_client() -> None:
    with FakeServer() as server:
        server.script("slow", Reply(result=1, delay=0.05))
        async with server.proxy() as proxy:
            assert list(await asyncio.gather(proxy.slow(), proxy.slow(), proxy.slow())) == [1, 1, 1]
        assert len(server.calls) == 3


async def test_stopping_cancels_calls_in_flight_within_shutdown_timeout() -> None:
    server = FakeServer(shutdown_timeout=0.1)
    await server.start()
    server.script("forever", Reply(result=1, delay=60))
    proxy = server.proxy(timeout=10)
    call = asyncio.ensure_future(proxy.forever())
    for _ in range(100):
        if server.calls:
            break
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await server.aclose()
    assert time.monotonic() - started < 5
    with pytest.raises(TransportError):  # the connection closed under the call
        await asyncio.wait_for(call, 5)
    await proxy.aclose()
    assert server.port is None


def test_a_server_cannot_run_twice_and_reports_a_busy_port() -> None:
    with FakeServer() as server:
        with pytest.raises(RuntimeError, match="already running"), server:
            pass
        port = server.port
        assert isinstance(port, int)
        with pytest.raises(OSError, match="address already in use"), FakeServer(port=port):
            pass


def test_replies_refuse_contradictions() -> None:
    with pytest.raises(ValueError, match="result and fault"):
        Reply(result=1, fault=Fault(1, "x"))
    with pytest.raises(ValueError, match="status 503"):
        Reply(status=503, result=1)
    with pytest.raises(ValueError, match="HTTP status"):
        Reply(status=99)
    with pytest.raises(TypeError, match="Fault"):
        Reply(fault="oops")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="delay"):
        Reply(delay=float("nan"))
    with pytest.raises(ValueError, match="drip"):
        Reply(drip=0)
    with pytest.raises(ValueError, match="chunk_size"):
        Reply(chunk_size=0)


async def test_a_unix_socket_server(tmp_path: pytest.TempPathFactory) -> None:
    path = str(tmp_path / "fake.sock")  # type: ignore[operator]
    async with FakeServer(unix_socket=path) as server:
        server.script("where", "unix")
        assert server.port is None
        async with server.proxy() as proxy:
            assert await proxy.where() == "unix"
