"""Network faults between client and server, injected by a TCP fault proxy.

Each case sends one call through :class:`~faultproxy.FaultProxy` to a correct server
(``raw_server``'s ``/RPC2``, an aiohttp server speaking HTTP/1.1 with keep-alive, or
``example_server``, our example server, which answers as the standard library's does:
HTTP/1.0, closing after each reply, gzip-compressing large ones) and checks:

- the outcome: the right value, or exactly the error class the case names;
- the time: within the case's bound (its timeout plus a small margin);
- what the proxy saw (requests received and forwarded) and the client's transparent
  retries: one, and only for a pooled connection that gave no reply at all;
- that the same client then makes a good call once the fault is gone, over a new
  connection if the faulty one failed (a broken connection never goes back to the pool).

A call never returns a wrong value: every success is compared with what was sent.
Retries are counted from the client's debug log (``retrying ... on a new connection``):
a request that dies on a connection the proxy already closed never reaches the proxy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    ConnectError,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
)
from aioxmlrpc._demo import ExampleServer

from faultproxy import (
    FaultProxy,
    ProxyFault,
    close_idle_keepalive,
    delay,
    delayed,
    drop_second_request,
    none,
    one_byte_writes,
    reset,
    stall_response,
    truncate_response,
)

Server = Literal["raw", "stdlib"]
Call = Literal["ping", "big"]

# Seconds allowed beyond a call's nominal duration (its timeout, or its delay).
MARGIN = 0.75
# Where a body fault cuts a ~100 KB reply: well past the head, well before the end.
MID_BODY = 50_000


def _big_value() -> str:
    """About 100 KB of text that gzip cannot shrink much: markup characters to escape,
    multi-byte UTF-8 (split across writes by one_byte_writes), newlines."""
    rng = random.Random(20240607)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 <>&'\"\n" + (
        "éßøΩж中文✓€𝄞"
    )
    return "".join(rng.choice(alphabet) for _ in range(100_000))


BIG = _big_value()


async def _call(proxy: AsyncServerProxy, server: Server, call: Call) -> None:
    """Make the call and check its value: a wrong value fails the test right here."""
    if call == "ping":
        assert await proxy.ping() is True
    elif server == "raw":
        value: Any = await proxy.echo(BIG)
        assert value == BIG
    else:  # the stdlib's example server has no echo: show_type(x) is [str(x), type, x]
        value = await proxy.show_type(BIG)
        assert value == [BIG, "<class 'str'>", BIG]


@dataclass(frozen=True)
class Case:
    """One fault, one call, and what must come of it."""

    name: str
    fault: ProxyFault
    expect: type[Exception] | None  # None: success with the right value
    bound: float  # seconds the call may take at most
    call: Call = "ping"
    timeout: float = 5.0
    at_least: float = 0.0  # seconds the call must take at least (a delay, a timeout)
    prime: ProxyFault | None = None  # a good call first, under this fault: pools a connection
    pause: float = 0.0  # seconds between the priming call and the call under test
    received: int = 1  # requests the proxy receives during the call
    forwarded: int = 1  # ... and forwards to the server
    retries: int | tuple[int, ...] = 0  # transparent retries by the client (or the choices)


RAW_CASES = [
    Case("none", none(), None, MARGIN),
    Case("none-big", none(), None, 1 + MARGIN, call="big"),
    Case("delay", delay(0.3), None, 0.3 + MARGIN, at_least=0.3),
    Case("delay-past-timeout", delay(3), TransportTimeout, 1 + MARGIN, timeout=1, at_least=1,
         forwarded=0),
    Case("stall-before-reply", stall_response(0), TransportTimeout, 1 + MARGIN, timeout=1,
         at_least=1),
    Case("stall-mid-head", stall_response(20), TransportTimeout, 1 + MARGIN, timeout=1,
         at_least=1),
    Case("stall-mid-body", stall_response(MID_BODY), TransportTimeout, 1 + MARGIN, call="big",
         timeout=1, at_least=1),
    Case("stall-on-pooled-connection", stall_response(0), TransportTimeout, 1 + MARGIN,
         timeout=1, at_least=1, prime=none()),
    Case("stall-before-last-bytes", stall_response(-10), TransportTimeout, 1 + MARGIN,
         timeout=1, at_least=1),
    Case("truncate-mid-body", truncate_response(MID_BODY), TruncatedResponse, 1 + MARGIN,
         call="big"),
    Case("truncate-mid-body-on-pooled-connection", truncate_response(MID_BODY),
         TruncatedResponse, 1 + MARGIN, call="big", prime=none()),
    Case("truncate-last-bytes", truncate_response(-10), TruncatedResponse, MARGIN),
    # A fresh connection closed without a byte of reply: not retried.
    Case("dropped-fresh-connection", truncate_response(0), ConnectError, MARGIN),
    # Cut inside the reply head: still a connection failure (nothing usable came back).
    Case("truncate-mid-head", truncate_response(20), ConnectError, MARGIN),
    Case("reset", reset(), ConnectError, MARGIN, forwarded=0),
    Case("reset-after-big-request", reset(), ConnectError, 1 + MARGIN, call="big",
         forwarded=0),
    # A pooled connection that gives no reply at all is retried once, on a new connection
    # (the fault applies there too, so the call fails after that one retry).
    Case("reset-on-pooled-connection", reset(), ConnectError, MARGIN, prime=none(),
         received=2, forwarded=0, retries=1),
    Case("dropped-pooled-connection", truncate_response(0), ConnectError, MARGIN,
         prime=none(), received=2, forwarded=2, retries=1),
    Case("drop-second-request", drop_second_request(), None, MARGIN, prime=none(),
         received=2, forwarded=1, retries=1),
    Case("drop-second-request-big", drop_second_request(), None, 1 + MARGIN, call="big",
         prime=drop_second_request(), received=2, forwarded=1, retries=1),
    # The server closes the idle connection just as the client reuses it. When its end of
    # stream has arrived, the check made before sending sees it and the call takes a new
    # connection; when it arrives a moment later, the request dies in the closed socket
    # (the proxy never sees it) and one retry succeeds. Either way, the call succeeds.
    Case("close-idle-keepalive-race", close_idle_keepalive(), None, MARGIN,
         prime=close_idle_keepalive(), retries=(0, 1)),
    # The client saw the close while idle: a new connection, no retry needed.
    Case("close-idle-keepalive-noticed", close_idle_keepalive(), None, MARGIN,
         prime=close_idle_keepalive(), pause=0.2),
    Case("one-byte-writes", one_byte_writes(), None, 1 + MARGIN),
    # CPU-bound (some 270,000 one-byte writes): about 2 s, allowed far more on a busy machine.
    Case("one-byte-writes-big", one_byte_writes(), None, 20 + MARGIN, call="big", timeout=20),
]  # fmt: skip

# The standard library's server closes every connection after its reply (HTTP/1.0), so
# nothing is pooled: a second request never arrives on a used connection, nothing retries.
STDLIB_CASES = [
    Case("none", none(), None, MARGIN),
    Case("none-big", none(), None, 1 + MARGIN, call="big"),
    Case("delay", delay(0.3), None, 0.3 + MARGIN, at_least=0.3),
    Case("stall-mid-body", stall_response(MID_BODY), TransportTimeout, 1 + MARGIN, call="big",
         timeout=1, at_least=1),
    Case("truncate-mid-gzip-body", truncate_response(MID_BODY), TruncatedResponse,
         1 + MARGIN, call="big"),
    Case("dropped-fresh-connection", truncate_response(0), ConnectError, MARGIN),
    Case("reset", reset(), ConnectError, MARGIN, forwarded=0),
    Case("drop-second-request", drop_second_request(), None, MARGIN, prime=none()),
    Case("close-idle-keepalive", close_idle_keepalive(), None, MARGIN,
         prime=close_idle_keepalive()),
    # CPU-bound, as above (the reply is gzip-compressed, so a little less).
    Case("one-byte-writes-big", one_byte_writes(), None, 20 + MARGIN, call="big", timeout=20),
]  # fmt: skip

CASES = [pytest.param("raw", case, id=f"raw-{case.name}") for case in RAW_CASES] + [
    pytest.param("stdlib", case, id=f"stdlib-{case.name}") for case in STDLIB_CASES
]


@pytest.fixture
def upstreams(raw_server: str, example_server: ExampleServer) -> dict[Server, tuple[str, int]]:
    """Host and port of each correct server."""
    return {"raw": _address(raw_server), "stdlib": _address(example_server.url)}


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port is not None
    return parts.hostname, parts.port


@pytest.fixture
def retries() -> Iterator[list[str]]:
    """The client's transparent retries, as its debug log announces them."""
    seen: list[str] = []

    class Retries(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith("retrying "):
                seen.append(message)

    logger = logging.getLogger("aioxmlrpc")
    handler = Retries(logging.DEBUG)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # keep 100 KB debug dumps of bodies out of pytest's log capture
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@dataclass(frozen=True)
class Seen:
    """What the proxy and the client's log have seen so far."""

    connections: int
    received: int
    forwarded: int
    retries: int

    @classmethod
    def now(cls, faults: FaultProxy, retries: list[str]) -> Seen:
        return cls(faults.connections, faults.requests, faults.forwarded, len(retries))


async def _good_call_on_a_new_connection(
    faults: FaultProxy, proxy: AsyncServerProxy, server: Server, call: Call, retries: list[str]
) -> None:
    """After a failed call: a good call, first try, on a connection opened for it."""
    faults.fault = none()
    before = Seen.now(faults, retries)
    old = [record.requests for record in faults.records]
    await asyncio.wait_for(_call(proxy, server, call), 10)
    after = Seen.now(faults, retries)
    assert after.retries == before.retries
    assert after.connections == before.connections + 1
    assert [record.requests for record in faults.records[: len(old)]] == old
    assert faults.records[-1].requests == 1


@pytest.mark.parametrize(("server", "case"), CASES)
async def test_a_fault_gives_the_right_outcome_in_time(
    upstreams: dict[Server, tuple[str, int]], retries: list[str], server: Server, case: Case
) -> None:
    async with (
        FaultProxy(*upstreams[server]) as faults,
        AsyncServerProxy(faults.url("/RPC2"), timeout=case.timeout) as proxy,
    ):
        if case.prime is not None:
            faults.fault = case.prime
            await asyncio.wait_for(_call(proxy, server, "ping"), 5)
            await asyncio.sleep(case.pause)
        faults.fault = case.fault
        before = Seen.now(faults, retries)
        started = time.monotonic()
        if case.expect is None:
            await asyncio.wait_for(_call(proxy, server, case.call), case.bound + 5)
        else:
            with pytest.raises(case.expect) as info:
                await asyncio.wait_for(_call(proxy, server, case.call), case.bound + 5)
            assert type(info.value) is case.expect, repr(info.value)
        elapsed = time.monotonic() - started
        after = Seen.now(faults, retries)

        assert case.at_least - 0.05 <= elapsed <= case.bound, elapsed
        assert after.received - before.received == case.received
        assert after.forwarded - before.forwarded == case.forwarded
        allowed = case.retries if isinstance(case.retries, tuple) else (case.retries,)
        assert after.retries - before.retries in allowed

        if case.expect is None:
            faults.fault = none()
            await asyncio.wait_for(_call(proxy, server, case.call), 10)
        else:
            await _good_call_on_a_new_connection(faults, proxy, server, case.call, retries)
        assert faults.errors == []


@pytest.mark.parametrize(
    ("fault", "call"),
    [
        pytest.param(stall_response(MID_BODY), "big", id="stalled-mid-body"),
        pytest.param(stall_response(20), "ping", id="stalled-mid-head"),
        pytest.param(delay(5), "ping", id="request-held-back"),
    ],
)
async def test_a_call_cancelled_under_a_fault_leaves_the_proxy_usable(
    raw_server: str, retries: list[str], fault: ProxyFault, call: Call
) -> None:
    async with (
        FaultProxy(*_address(raw_server)) as faults,
        AsyncServerProxy(faults.url("/RPC2"), timeout=10) as proxy,
    ):
        await asyncio.wait_for(_call(proxy, "raw", "ping"), 5)
        (stalled,) = faults.records  # the pooled connection, which the call will reuse
        faults.fault = fault
        started = time.monotonic()
        task = asyncio.create_task(_call(proxy, "raw", call))
        await asyncio.wait_for(stalled.held.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        assert time.monotonic() - started < 5

        # The stalled connection was closed by the client, not kept for another call.
        await asyncio.wait_for(stalled.done.wait(), 5)
        assert stalled.closed_by_client
        await _good_call_on_a_new_connection(faults, proxy, "raw", call, retries)
        assert stalled.requests == 2  # the priming call and the cancelled one, nothing more
        assert faults.errors == []


async def test_fifty_concurrent_calls_over_one_byte_writes_are_all_right(
    raw_server: str, retries: list[str]
) -> None:
    values = [f"call {index}: é✓𝄞 <&> " * (1 + index % 4) for index in range(50)]
    started = time.monotonic()
    async with (
        FaultProxy(*_address(raw_server), fault=one_byte_writes()) as faults,
        AsyncServerProxy(faults.url("/RPC2"), timeout=20) as proxy,
    ):
        results = await asyncio.wait_for(
            asyncio.gather(*(proxy.echo(value) for value in values)), 22
        )
        assert results == values
        assert faults.requests == faults.forwarded == 50
        assert 1 <= faults.connections <= 50
        assert retries == []
        faults.fault = none()
        assert await proxy.echo(BIG) == BIG
        assert faults.errors == []
    assert time.monotonic() - started < 25  # about 1 s on an idle machine


# -- bugs: the correct behaviour, asserted, failing until fixed ------------------------------


@pytest.mark.parametrize("after_bytes", [5, 60], ids=["mid-status-line", "mid-headers"])
async def test_a_partial_reply_on_a_pooled_connection_is_not_retried(
    raw_server: str, retries: list[str], after_bytes: int
) -> None:
    async with (
        FaultProxy(*_address(raw_server)) as faults,
        AsyncServerProxy(faults.url("/RPC2"), timeout=5) as proxy,
    ):
        await asyncio.wait_for(_call(proxy, "raw", "ping"), 5)
        faults.fault = truncate_response(after_bytes)
        before = Seen.now(faults, retries)
        with pytest.raises(TransportError):
            await asyncio.wait_for(proxy.ping(), 10)
        after = Seen.now(faults, retries)
        assert after.forwarded - before.forwarded == 1  # the server ran it once, not twice
        assert after.retries == before.retries


async def test_a_retry_stays_within_the_call_timeout(raw_server: str) -> None:
    async with (
        FaultProxy(*_address(raw_server)) as faults,
        AsyncServerProxy(faults.url("/RPC2"), timeout=1) as proxy,
    ):
        await asyncio.wait_for(_call(proxy, "raw", "ping"), 5)
        # The pooled connection hangs up after 0.8 s without replying; the retry's new
        # connection answers after 0.8 s: 1.6 s in all, over the 1 s timeout.
        faults.fault = delayed(drop_second_request(), 0.8)
        started = time.monotonic()
        with pytest.raises(TransportTimeout):
            await asyncio.wait_for(proxy.ping(), 10)
        assert time.monotonic() - started <= 1 + MARGIN
