"""MemoryTransport: calls answered in memory, through the real codec both ways."""

from __future__ import annotations

import asyncio
import datetime
import io
import xmlrpc.client

import pytest

from aioxmlrpc import Binary, DateTime, Fault, MultiCall, ResponseTooLarge, TransportError
from aioxmlrpc.server import XMLRPCDispatcher
from aioxmlrpc.testing import Call, MemoryTransport


async def test_plain_callables_answer_sync_and_async() -> None:
    async def slow_add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    transport = MemoryTransport({"add": slow_add, "echo": lambda value: value})
    async with transport.proxy(allow_none=True) as proxy:
        assert await proxy.add(2, 3) == 5
        assert await proxy.echo({"nested": [1, "two", 3.5, None]}) == {
            "nested": [1, "two", 3.5, None]
        }
    assert transport.calls == [
        Call("add", (2, 3)),
        ("echo", ({"nested": [1, "two", 3.5, None]},)),
    ]


async def test_a_dispatcher_is_used_as_it_is() -> None:
    dispatcher = XMLRPCDispatcher()  # allow_none off, as a strict server
    dispatcher.register_function(lambda: None, "nothing")
    dispatcher.register_function(lambda x: x * 2, "double")
    transport = MemoryTransport(dispatcher)
    assert transport.dispatcher is dispatcher
    async with transport.proxy() as proxy:
        assert await proxy.double(21) == 42
        with pytest.raises(Fault) as info:
            await proxy.nothing()
        # the server could not marshal None: the standard library's fault 1
        assert info.value.faultCode == 1
        assert "cannot marshal None" in info.value.faultString
        assert await proxy.double("ab") == "abab"  # usable after a fault


async def test_faults_are_those_a_server_sends() -> None:
    def refuse(name: str) -> None:
        raise Fault(10, f"BAD_NAME: {name}")

    def broken() -> None:
        raise RuntimeError("boom")

    transport = MemoryTransport({"refuse": refuse, "broken": broken, "one": lambda a: a})
    async with transport.proxy() as proxy:
        with pytest.raises(Fault) as info:
            await proxy.refuse("web")
        assert (info.value.faultCode, info.value.faultString) == (10, "BAD_NAME: web")
        with pytest.raises(Fault) as info:
            await proxy.broken()
        assert info.value.faultCode == 1
        assert info.value.faultString == "<class 'RuntimeError'>:boom"
        with pytest.raises(Fault) as info:
            await proxy.missing()
        assert info.value.faultCode == xmlrpc.client.METHOD_NOT_FOUND
        with pytest.raises(Fault) as info:
            await proxy.one(1, 2)
        assert info.value.faultCode == xmlrpc.client.INVALID_METHOD_PARAMS
        assert await proxy.one("still works") == "still works"


async def test_client_marshalling_errors_raise_before_dispatch() -> None:
    transport = MemoryTransport({"echo": lambda value: value})
    async with transport.proxy() as proxy:
        with pytest.raises(TypeError, match="cannot marshal"):
            await proxy.echo({1, 2})
        with pytest.raises(TypeError, match="cannot marshal None"):
            await proxy.echo(None)
        with pytest.raises(OverflowError):
            await proxy.echo(2**40)
    assert transport.calls == []
    async with transport.proxy(allow_none=True, allow_i8=True) as proxy:
        assert await proxy.echo(None) is None
        assert await proxy.echo(2**40) == 2**40


async def test_the_proxys_parser_options_apply_to_the_reply() -> None:
    when = datetime.datetime(2024, 5, 6, 7, 8, 9)
    transport = MemoryTransport(
        {"when": lambda: when, "blob": lambda: Binary(b"\x00\xff"), "big": lambda: "x" * 500}
    )
    async with transport.proxy() as proxy:
        assert await proxy.when() == DateTime(when)
        assert isinstance(await proxy.when(), DateTime)
        assert await proxy.blob() == Binary(b"\x00\xff")
    async with transport.proxy(use_builtin_types=True) as proxy:
        assert await proxy.when() == when
        assert await proxy.blob() == b"\x00\xff"
    async with transport.proxy(max_response_size=200) as proxy:
        with pytest.raises(ResponseTooLarge):
            await proxy.big()
        assert await proxy.blob() == Binary(b"\x00\xff")


async def test_multicall_goes_through_the_dispatchers_system_multicall() -> None:
    def refuse() -> None:
        raise Fault(4, "no")

    transport = MemoryTransport({"add": lambda a, b: a + b, "refuse": refuse})
    async with transport.proxy() as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        multicall.refuse()
        multicall.add("a", "b")
        results = await multicall(return_exceptions=True)
    assert results[0] == 3
    assert isinstance(results[1], Fault)
    assert results[1].faultCode == 4
    assert results[2] == "ab"
    # one request on the wire, as over HTTP
    assert [call.method for call in transport.calls] == ["system.multicall"]
    (calls,) = transport.calls[0].params
    assert calls == [
        {"methodName": "add", "params": [1, 2]},
        {"methodName": "refuse", "params": []},
        {"methodName": "add", "params": ["a", "b"]},
    ]


async def test_introspection_lists_the_methods() -> None:
    transport = MemoryTransport({"b": lambda: 1, "a": lambda: 2})
    async with transport.proxy() as proxy:
        methods = await proxy.system.listMethods()
    assert {"a", "b", "system.multicall", "system.listMethods"} <= set(methods)
    assert methods == sorted(methods)


async def test_a_reply_fed_in_pieces_parses_the_same() -> None:
    value = {"text": "é" * 300, "list": list(range(50))}
    transport = MemoryTransport({"get": lambda: value}, chunk_size=1)
    async with transport.proxy() as proxy:
        assert await proxy.get() == value
    with pytest.raises(ValueError, match="chunk_size"):
        MemoryTransport(chunk_size=0)


async def test_a_closed_transport_refuses_calls_and_proxy_gives_fresh_ones() -> None:
    transport = MemoryTransport({"ping": lambda: True})
    async with transport.proxy() as proxy:
        assert await proxy.ping() is True
    with pytest.raises(TransportError, match="closed"):
        await proxy.ping()
    async with transport.proxy() as again:  # the fixture's transport stays usable
        assert await again.ping() is True
    assert len(transport.calls) == 2
    await transport.aclose()
    assert transport.closed
    with pytest.raises(TransportError):
        await transport.request("http://x/RPC2", b"", None)  # type: ignore[arg-type]


async def test_a_body_that_does_not_parse_is_answered_with_a_fault() -> None:
    from aioxmlrpc.codec import ResponseParser

    transport = MemoryTransport({"ping": lambda: True})
    with pytest.raises(Fault) as info:
        await transport.request("http://x/RPC2", b"<methodCall><oops", ResponseParser())
    assert info.value.faultCode == xmlrpc.client.NOT_WELLFORMED_ERROR
    assert transport.calls == []


async def test_verbose_prints_both_bodies() -> None:
    output = io.StringIO()
    transport = MemoryTransport({"ping": lambda: True}, output=output)
    async with transport.proxy(verbose=True) as proxy:
        assert await proxy.ping() is True
    text = output.getvalue()
    assert "send: b" in text
    assert "<methodName>ping</methodName>" in text
    assert "<boolean>1</boolean>" in text


def test_a_mapping_value_must_be_callable() -> None:
    with pytest.raises(TypeError, match="'x' is int"):
        MemoryTransport({"x": 1})  # type: ignore[dict-item]
    assert "0 calls" in repr(MemoryTransport())
