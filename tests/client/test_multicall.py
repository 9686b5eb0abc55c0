"""MultiCall: the stdlib's semantics against the stdlib's server, then what it adds."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Fault,
    InvalidResponse,
    MultiCall,
    MultiCallError,
    MultiCallIterator,
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


async def test_a_failed_chunk_says_which_calls_it_carried(raw_server: str) -> None:
    # /RPC2 of the test server has no system.multicall: every chunk gets a fault.
    async with AsyncServerProxy(f"{raw_server}/RPC2") as proxy:
        multicall = MultiCall(proxy)
        for i in range(10):
            multicall.echo(i)
        with pytest.raises(MultiCallError) as info:
            await multicall(chunk_size=4)
    error = info.value
    assert (error.start, error.stop, error.total) in {(0, 4, 10), (4, 8, 10), (8, 10, 10)}
    assert f"calls {error.start}-{error.stop - 1} of 10 failed" in str(error)
    assert isinstance(error.__cause__, Fault)


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


async def test_fallback_on_an_http_error(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/status/404") as proxy:
        multicall = MultiCall(proxy)
        multicall.ping()
        with pytest.raises(xmlrpc.client.ProtocolError):
            await multicall(fallback=True)  # every individual call fails too


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
