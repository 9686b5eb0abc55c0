"""MultiCall: the stdlib's semantics against the stdlib's server, then what it adds."""

from __future__ import annotations

import asyncio
import time
import xmlrpc.client
from typing import Any

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Fault,
    InvalidResponse,
    MultiCall,
    MultiCallIterator,
    ProtocolError,
)
from aioxmlrpc._demo import ExampleServer

from servers import Methods


def _drain(results: MultiCallIterator, into: list[Any]) -> None:
    for result in results:
        into.append(result)


async def test_the_seed_example_stops_at_the_fault(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        multicall = MultiCall(proxy)
        multicall.ping()
        multicall.show_type(1)
        multicall.raises_exception("Next to last call stops execution")
        multicall.show_type("string")
        results = await multicall()
        seen: list[Any] = []
        with pytest.raises(xmlrpc.client.Fault) as info:
            _drain(results, seen)
    assert seen == [True, ["1", "<class 'int'>", 1]]
    assert str(info.value) == (
        "<Fault 1: \"<class 'RuntimeError'>:Next to last call stops execution\">"
    )


async def test_results_match_the_stdlibs_multicall(example_server: ExampleServer) -> None:
    stdlib = xmlrpc.client.MultiCall(xmlrpc.client.ServerProxy(example_server.url))
    async with AsyncServerProxy(example_server.url) as proxy:
        ours = MultiCall(proxy)
        for batch in (stdlib, ours):
            batch.ping()
            batch.show_type(1)
            batch.show_type("string")
            batch.system.methodHelp("ping")
        expected: list[Any] = list(stdlib())  # type: ignore[call-overload]
        results = await ours()
    assert isinstance(results, MultiCallIterator)
    assert list(results) == expected
    assert len(results) == 4
    assert results[1] == expected[1]
    assert results[-1] == expected[-1]


async def test_indexing_a_failed_result_raises_its_fault(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        multicall = MultiCall(proxy)
        multicall.raises_exception("first")
        multicall.ping()
        results = await multicall()
    assert results[1] is True
    with pytest.raises(Fault, match="first"):
        results[0]


async def test_return_exceptions_gives_every_result(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        multicall = MultiCall(proxy)
        multicall.ping()
        multicall.raises_exception("boom")
        multicall.show_type(2.5)
        results = await multicall(return_exceptions=True)
    assert results[0] is True
    assert isinstance(results[1], Fault)
    assert results[1].faultString == "<class 'RuntimeError'>:boom"
    assert results[2] == ["2.5", "<class 'float'>", 2.5]


async def test_an_empty_multicall_makes_no_round_trip(raw_server: str, methods: Methods) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2") as proxy:
        results = await MultiCall(proxy)()
        assert list(results) == []
        assert await MultiCall(proxy)(return_exceptions=True) == []
    assert methods.calls == {}


async def test_a_multicall_can_be_sent_again(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        multicall = MultiCall(proxy)
        multicall.ping()
        assert list(await multicall()) == [True]
        multicall.show_type("again")
        assert list(await multicall()) == [True, ["again", "<class 'str'>", "again"]]


async def test_malformed_items_raise_value_error_like_the_stdlib() -> None:
    items: Any = [["ok"], "not a list", {"faultCode": 3, "faultString": "x"}, ["a", "b"]]
    results = MultiCallIterator(items)
    theirs = xmlrpc.client.MultiCallIterator(items)
    assert results[0] == theirs[0] == "ok"
    assert results[3] == theirs[3] == "a"
    with pytest.raises(ValueError, match="unexpected type in multicall result"):
        results[1]
    with pytest.raises(ValueError, match="unexpected type in multicall result"):
        theirs[1]
    with pytest.raises(Fault):
        results[2]


def test_bare_results_are_read_as_values() -> None:
    results = MultiCallIterator([{"statecode": 1}, 42, ["x"]], bare=True)
    assert list(results) == [{"statecode": 1}, 42, ["x"]]
    with pytest.raises(Fault, match="BAD_NAME"):
        MultiCallIterator([{"faultCode": 10, "faultString": "BAD_NAME: x"}], bare=True)[0]


async def test_proxy_options_apply(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url, allow_none=True, use_builtin_types=True) as p:
        multicall = MultiCall(p)
        multicall.show_type(None)
        multicall.now()
        none_result, now = await multicall()
    assert none_result == ["None", "<class 'NoneType'>", None]
    assert type(now).__name__ == "datetime"


async def test_ten_thousand_calls_in_one_request(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        multicall = MultiCall(proxy)
        for i in range(10_000):
            multicall.show_type(i)
        results = list(await multicall())
    assert len(results) == 10_000
    assert results[9_999] == ["9999", "<class 'int'>", 9999]


async def test_chunked_and_unchunked_results_are_identical(example_server: ExampleServer) -> None:
    async with AsyncServerProxy(example_server.url) as proxy:
        multicall = MultiCall(proxy)
        for i in range(2_500):
            if i % 997 == 0:
                multicall.raises_exception(f"call {i}")
            else:
                multicall.show_type(i)
        whole = await multicall(return_exceptions=True)
        chunked = await multicall(return_exceptions=True, chunk_size=300, max_concurrency=4)
    assert len(whole) == len(chunked) == 2_500

    def plain(items: list[Any]) -> list[Any]:
        return [(i.faultCode, i.faultString) if isinstance(i, Fault) else i for i in items]

    assert plain(whole) == plain(chunked)


async def test_a_failed_request_raises_the_same_error_with_and_without_chunks(
    raw_server: str,
) -> None:
    # /RPC2 of the test server has no system.multicall: every request gets a fault.
    async with AsyncServerProxy(f"{raw_server}/RPC2") as proxy:
        multicall = MultiCall(proxy)
        for i in range(10):
            multicall.echo(i)
        with pytest.raises(Fault) as whole:
            await multicall()
        with pytest.raises(Fault) as chunked:
            await multicall(chunk_size=4)
    assert type(whole.value) is type(chunked.value)
    assert whole.value.faultCode == chunked.value.faultCode == -32601
    async with AsyncServerProxy(f"{raw_server}/status/500") as proxy:
        multicall = MultiCall(proxy)
        for i in range(10):
            multicall.echo(i)
        with pytest.raises(ProtocolError) as http_whole:
            await multicall()
        with pytest.raises(ProtocolError) as http_chunked:
            await multicall(chunk_size=4)
    assert type(http_whole.value) is type(http_chunked.value)


async def test_a_failed_chunk_cancels_the_chunks_not_yet_sent(
    raw_server: str, methods: Methods
) -> None:
    async with AsyncServerProxy(f"{raw_server}/multicall") as proxy:
        multicall = MultiCall(proxy)
        multicall.crash()  # the first chunk fails as a whole (HTTP 500)
        for _ in range(9):
            multicall.ping()
        with pytest.raises(ProtocolError):
            await multicall(chunk_size=1, max_concurrency=1)
        assert methods.calls.get("ping", 0) == 0  # no chunk after it was sent
        assert methods.calls["system.multicall"] == 1
        again = MultiCall(proxy)
        again.ping()
        assert list(await again()) == [True]


async def test_sibling_chunks_in_flight_are_cancelled(raw_server: str, methods: Methods) -> None:
    async with AsyncServerProxy(f"{raw_server}/multicall", timeout=10) as proxy:
        multicall = MultiCall(proxy)
        multicall.crash()
        multicall.sleep(5)
        multicall.sleep(5)
        started = time.monotonic()
        with pytest.raises(ProtocolError):
            await multicall(chunk_size=1, max_concurrency=3)
        assert time.monotonic() - started < 3
        assert not _multicall_tasks()
        assert await proxy.ping() is True


async def test_the_fallback_cancels_sibling_calls_on_an_error(
    raw_server: str, methods: Methods
) -> None:
    # /RPC2 lacks system.multicall (-32601), so the calls go one by one; one of them
    # fails as a whole request (HTTP 500): the others, still running, are cancelled.
    async with AsyncServerProxy(f"{raw_server}/RPC2", timeout=10) as proxy:
        multicall = MultiCall(proxy)
        multicall.sleep(5)
        multicall.crash()
        multicall.sleep(5)
        started = time.monotonic()
        with pytest.raises(ProtocolError):
            await multicall(fallback=True)
        assert time.monotonic() - started < 3
        assert not _multicall_tasks()
        assert await proxy.ping() is True


def _multicall_tasks() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and "_MultiCall__" in getattr(task.get_coro(), "__qualname__", "")
    ]


async def test_every_value_is_marshalled_before_anything_is_sent(
    raw_server: str, methods: Methods
) -> None:
    async with AsyncServerProxy(f"{raw_server}/multicall") as proxy:
        multicall = MultiCall(proxy)
        for i in range(9):
            multicall.echo(i)
        multicall.echo({1, 2})  # a set: not marshallable, in the last chunk
        with pytest.raises(TypeError, match="cannot marshal"):
            await multicall(chunk_size=3)
        with pytest.raises(TypeError, match="cannot marshal"):
            await multicall()
    assert methods.calls == {}  # nothing reached the server


async def test_a_malformed_item_raises_value_error_when_reached(raw_server: str) -> None:
    # A standard server, one item not a one-element list: the others are still unwrapped
    # (the shape of one item never turns the whole batch to "bare").
    async with AsyncServerProxy(f"{raw_server}/multicall") as proxy:
        multicall = MultiCall(proxy)
        multicall.echo(1)
        multicall.malformed()
        multicall.echo([3])
        results = await multicall()
        assert results[0] == 1
        assert results[2] == [3]
        with pytest.raises(ValueError, match="unexpected type in multicall result"):
            results[1]
        outcomes = await multicall(return_exceptions=True)
    assert outcomes[0] == 1
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2] == [3]


async def test_bare_results_are_an_explicit_option(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/multicall") as proxy:
        multicall = MultiCall(proxy, bare_results=True)
        multicall.malformed()
        multicall.fault(3, "three")
        assert (await multicall(return_exceptions=True))[0] == "bare"
        results = await multicall()
        with pytest.raises(Fault, match="three"):
            results[1]


async def test_fallback_sends_calls_one_by_one(raw_server: str, methods: Methods) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2") as proxy:
        multicall = MultiCall(proxy)
        multicall.echo("a")
        multicall.fault(7, "seven")
        multicall.ping()
        with pytest.raises(Fault, match="not found"):
            await multicall()
        results = await multicall(fallback=True, return_exceptions=True)
        assert results[0] == "a"
        assert isinstance(results[1], Fault)
        assert results[1].faultCode == 7
        assert results[2] is True
        iterated: list[Any] = []
        results_iterator = await multicall(fallback=True)
        with pytest.raises(Fault, match="seven"):
            _drain(results_iterator, iterated)
        assert iterated == ["a"]
        chunked = await multicall(fallback=True, chunk_size=2, return_exceptions=True)
        assert chunked[0] == "a"
        assert chunked[2] is True


@pytest.mark.parametrize("code", [400, 404, 500, 501])
async def test_no_fallback_on_an_http_error(raw_server: str, methods: Methods, code: int) -> None:
    # An HTTP error does not say the method is missing: the server may have run calls.
    async with AsyncServerProxy(f"{raw_server}/status/{code}") as proxy:
        multicall = MultiCall(proxy)
        multicall.ping()
        multicall.ping()
        with pytest.raises(ProtocolError):
            await multicall(fallback=True)
    assert methods.calls["status"] == 1  # not sent again one by one


async def test_no_fallback_on_a_fault_that_does_not_name_the_missing_method(
    raw_server: str, methods: Methods
) -> None:
    async with AsyncServerProxy(f"{raw_server}/multicall") as proxy:
        multicall = MultiCall(proxy)
        multicall.ping()
        multicall.whole_fault()  # Fault(1, "object not found") for the whole request
        with pytest.raises(Fault, match="object not found"):
            await multicall(fallback=True)
    assert methods.calls["system.multicall"] == 1
    assert methods.calls["ping"] == 1  # ran once, inside the multicall only


@pytest.mark.parametrize(
    ("code", "text", "falls_back"),
    [
        (-32601, "anything", True),
        (1, "method 'system.multicall' not found", True),
        (1, "<class 'Exception'>:method \"system.multicall\" is not supported", True),
        (1, "object not found", False),
        (-32600, "unknown method ping", False),
        (1, "system.multicall: bad arguments", False),
    ],
)
def test_only_an_unambiguous_not_found_falls_back(code: int, text: str, falls_back: bool) -> None:
    from aioxmlrpc._multicall import _lacks_multicall

    assert _lacks_multicall(Fault(code, text)) is falls_back


async def test_a_wrong_number_of_results_is_refused(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2") as proxy:
        multicall = MultiCall(proxy)
        multicall.system.multicall([])  # echo of a list: the test server lacks multicall
        with pytest.raises(Fault):
            await multicall()
    assert issubclass(InvalidResponse, xmlrpc.client.ResponseError)


def test_keyword_arguments_and_bad_options_are_refused() -> None:
    proxy = AsyncServerProxy("http://127.0.0.1:9")
    multicall = MultiCall(proxy)
    with pytest.raises(TypeError):
        multicall.ping(x=1)
    assert len(multicall) == 0
    assert "MultiCall of 0 calls" in repr(multicall)
