"""RetryPolicy and the hooks, through the fault proxy, against a counting server.

Every scenario but the circuit breaker's and the hooks' goes through
:class:`~faultproxy.FaultProxy`, relaying as is or injecting its fault.

The server counts **executions** per method: a call counts once its handler ran, not
when a 503, a 429 or a rate-limit Fault refused it. Every scenario asserts the outcome,
the attempts the hooks saw, and the executions: a method not declared idempotent is
never run twice.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from aioxmlrpc import (
    AsyncServerProxy,
    CircuitBreaker,
    CircuitOpenError,
    ConnectError,
    ConnectionRefused,
    Fault,
    MultiCall,
    ProtocolError,
    RetryPolicy,
    TransportTimeout,
    TruncatedResponse,
)
from aioxmlrpc.codec import RequestParser, encode_fault, encode_response
from aioxmlrpc.hooks import CallInfo, Hook

from faultproxy import (
    FaultProxy,
    none,
    one_byte_writes,
    reset,
    stall_response,
    truncate_response,
)

XML = "text/xml"


def fast(**options: Any) -> RetryPolicy:
    """A policy with short waits, for tests."""
    return RetryPolicy(backoff=0.02, max_backoff=2.0, **options)


@dataclass
class Script:
    """What the server answers: per method, a queue of refusals before it runs it."""

    refusals: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    executions: dict[str, int] = field(default_factory=dict)
    requests: int = 0


def _app(script: Script) -> web.Application:
    async def rpc(request: web.Request) -> web.Response:
        script.requests += 1
        parser = RequestParser()
        parser.feed(await request.read())
        name, params = parser.close()
        queue = script.refusals.get(name)
        if queue:
            kind, *args = queue.pop(0)
            if kind == "status":
                status, headers = args
                return web.Response(status=status, text="busy", headers=headers)
            code, text = args
            return web.Response(body=encode_fault(Fault(code, text)), content_type=XML)
        script.executions[name] = script.executions.get(name, 0) + 1
        if name == "system.multicall":
            calls: list[dict[str, Any]] = params[0]  # type: ignore[assignment]
            value: object = [[call["methodName"]] for call in calls]
        elif name == "fail":
            return web.Response(body=encode_fault(Fault(7, "no")), content_type=XML)
        else:
            value = [name, *params]
        return web.Response(body=encode_response(value), content_type=XML)

    app = web.Application()
    app.router.add_post("/RPC2", rpc)
    return app


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def server(script: Script) -> AsyncIterator[int]:
    runner = web.AppRunner(_app(script), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@pytest.fixture
async def faults(server: int) -> AsyncIterator[FaultProxy]:
    async with FaultProxy("127.0.0.1", server, io_timeout=5, idle_timeout=5) as proxy:
        yield proxy


class Recorder(Hook):
    """Every event, as (event, method, attempt, extra)."""

    def __init__(self, on_retry: Any = None) -> None:
        self.events: list[tuple[str, str, int, Any]] = []
        self.calls: list[CallInfo] = []
        self._on_retry = on_retry

    def on_request(self, call: CallInfo) -> None:
        self.calls.append(call)
        self.events.append(("request", call.method, call.attempt, call.params))

    def on_retry(self, call: CallInfo, error: BaseException, delay: float) -> None:
        self.events.append(("retry", call.method, call.attempt, type(error).__name__))
        if self._on_retry is not None:
            self._on_retry()

    def on_response(self, call: CallInfo, result: Any) -> None:
        self.events.append(("response", call.method, call.attempt, result))

    def on_fault(self, call: CallInfo, fault: Fault) -> None:
        self.events.append(("fault", call.method, call.attempt, fault.faultCode))

    def on_error(self, call: CallInfo, error: BaseException) -> None:
        self.events.append(("error", call.method, call.attempt, type(error).__name__))

    def kinds(self) -> list[str]:
        return [event[0] for event in self.events]


def _proxy(url: str, policy: RetryPolicy, *hooks: Hook, timeout: float = 5) -> AsyncServerProxy:
    return AsyncServerProxy(url, retry=policy, hooks=hooks, timeout=timeout, pool_size=4)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- failures that prove the call never ran: retried for any method ----------------------


async def test_a_refused_connection_is_retried_until_the_server_listens(script: Script) -> None:
    port = _free_port()
    runner = web.AppRunner(_app(script), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    starting: list[asyncio.Task[None]] = []

    def start() -> None:  # the server comes up while the client waits to retry
        if not starting:
            starting.append(asyncio.ensure_future(web.TCPSite(runner, "127.0.0.1", port).start()))

    hook = Recorder(on_retry=start)
    policy = RetryPolicy(attempts=5, backoff=0.3, max_backoff=0.3)
    try:
        async with _proxy(f"http://127.0.0.1:{port}/RPC2", policy, hook) as proxy:
            assert await proxy.transfer(10) == ["transfer", 10]
    finally:
        await runner.cleanup()
    assert hook.events[0][:3] == ("request", "transfer", 1)
    assert ("retry", "transfer", 1, "ConnectionRefused") in hook.events
    assert hook.events[-1][0] == "response"
    assert script.executions == {"transfer": 1}


async def test_attempts_are_bounded(script: Script) -> None:
    hook = Recorder()
    policy = fast(attempts=3)
    async with _proxy(f"http://127.0.0.1:{_free_port()}/RPC2", policy, hook) as proxy:
        with pytest.raises(ConnectionRefused):
            await proxy.transfer(1)
    assert hook.kinds() == ["request", "retry", "request", "retry", "request", "error"]
    assert [call.attempt for call in hook.calls] == [3, 3, 3]  # one CallInfo, three attempts
    assert len({id(call) for call in hook.calls}) == 1


async def test_503_with_retry_after_is_waited_for_and_retried(
    script: Script, faults: FaultProxy
) -> None:
    script.refusals["transfer"] = [("status", 503, {"Retry-After": "1"})]
    hook = Recorder()
    started = time.monotonic()
    async with _proxy(faults.url(), fast(), hook) as proxy:
        assert await proxy.transfer(5) == ["transfer", 5]
    assert time.monotonic() - started >= 1.0  # the server's Retry-After, not the backoff
    assert hook.kinds() == ["request", "retry", "request", "response"]
    assert script.executions == {"transfer": 1}


async def test_503_without_retry_after_is_not_retried_for_a_write(
    script: Script, faults: FaultProxy
) -> None:
    script.refusals["transfer"] = [("status", 503, {})]
    async with _proxy(faults.url(), fast()) as proxy:
        with pytest.raises(ProtocolError) as info:
            await proxy.transfer(5)
    assert info.value.errcode == 503
    assert script.requests == 1


async def test_429_is_retried_for_any_method(script: Script, faults: FaultProxy) -> None:
    script.refusals["transfer"] = [("status", 429, {}), ("status", 429, {"Retry-After": "0"})]
    async with _proxy(faults.url(), fast()) as proxy:
        assert await proxy.transfer(1) == ["transfer", 1]
    assert script.requests == 3
    assert script.executions == {"transfer": 1}


async def test_a_rate_limit_fault_is_retried_after_the_time_it_names(
    script: Script, faults: FaultProxy
) -> None:
    pypi = (
        "HTTPTooManyRequests: The action could not be performed because there were too "
        "many requests by the client. Limit may reset in 1 seconds."
    )
    script.refusals["search"] = [("fault", -32500, pypi)]
    hook = Recorder()
    started = time.monotonic()
    async with _proxy(faults.url(), fast(), hook) as proxy:
        assert await proxy.search("aio") == ["search", "aio"]
    assert time.monotonic() - started >= 1.0
    assert ("retry", "search", 1, "Fault") in hook.events
    assert script.executions == {"search": 1}


async def test_offline_fault_codes_are_retried_and_other_faults_are_not(
    script: Script, faults: FaultProxy
) -> None:
    script.refusals["transfer"] = [("fault", 6, "SHUTDOWN_STATE")]
    policy = fast(offline_faults={6})
    hook = Recorder()
    async with _proxy(faults.url(), policy, hook) as proxy:
        assert await proxy.transfer(2) == ["transfer", 2]
        with pytest.raises(Fault) as info:
            await proxy.fail()  # an answer: the server ran it
    assert info.value.faultCode == 7
    assert script.executions == {"transfer": 1, "fail": 1}
    assert hook.events[-1][:3] == ("fault", "fail", 1)


# -- failures after the request went out: only idempotent methods --------------------------


async def test_a_reset_after_sending_is_not_retried_for_a_write(
    script: Script, faults: FaultProxy
) -> None:
    faults.fault = reset()
    async with _proxy(faults.url(), fast(idempotent={"get*"})) as proxy:
        with pytest.raises(ConnectError):
            await proxy.transfer(100)
    assert faults.requests == 1  # sent once, never again
    assert script.executions == {}


async def test_a_reset_is_retried_for_an_idempotent_method(
    script: Script, faults: FaultProxy
) -> None:
    faults.fault = reset()

    def heal() -> None:
        faults.fault = none()

    hook = Recorder(on_retry=heal)
    async with _proxy(faults.url(), fast(idempotent={"get*"}), hook) as proxy:
        assert await proxy.getBalance("a") == ["getBalance", "a"]
    assert hook.kinds() == ["request", "retry", "request", "response"]
    assert script.executions == {"getBalance": 1}


async def test_a_truncated_reply_runs_a_write_once(script: Script, faults: FaultProxy) -> None:
    faults.fault = truncate_response(-20)
    async with _proxy(faults.url(), fast(idempotent={"get*"})) as proxy:
        with pytest.raises(TruncatedResponse):
            await proxy.transfer(100)
    assert script.executions == {"transfer": 1}  # it ran; it is not run again


async def test_a_truncated_reply_is_retried_for_a_read(script: Script, faults: FaultProxy) -> None:
    faults.fault = truncate_response(-20)

    def heal() -> None:
        faults.fault = none()

    hook = Recorder(on_retry=heal)
    async with _proxy(faults.url(), fast(idempotent={"get*"}), hook) as proxy:
        assert await proxy.getBalance("b") == ["getBalance", "b"]
    assert script.executions == {"getBalance": 2}  # idempotent: declared safe to run twice


async def test_a_reply_dripping_a_byte_at_a_time_is_read_once(
    script: Script, faults: FaultProxy
) -> None:
    faults.fault = one_byte_writes()
    hook = Recorder()
    async with _proxy(faults.url(), fast(idempotent={"*"}), hook) as proxy:
        assert await proxy.transfer("x" * 300) == ["transfer", "x" * 300]
    assert hook.kinds() == ["request", "response"]
    assert script.executions == {"transfer": 1}


async def test_the_deadline_cuts_a_drip_and_is_kept_within_50_ms(
    script: Script, faults: FaultProxy
) -> None:
    faults.fault = stall_response(30)  # a reply head begun, then nothing
    policy = fast(idempotent={"get*"}, deadline=1.0)
    hook = Recorder()
    started = time.monotonic()
    async with _proxy(faults.url(), policy, hook, timeout=30) as proxy:
        with pytest.raises(TransportTimeout, match="retry deadline"):
            await proxy.getBalance("c")
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.05 + 0.1  # the cut itself within 50 ms; closing the proxy
    assert hook.calls[0].elapsed < 1.05
    assert hook.events[-1][0] == "error"


async def test_no_wait_starts_that_would_end_past_the_deadline(
    script: Script, faults: FaultProxy
) -> None:
    script.refusals["transfer"] = [("status", 503, {"Retry-After": "30"})]
    policy = RetryPolicy(deadline=2.0, max_backoff=60)
    started = time.monotonic()
    async with _proxy(faults.url(), policy) as proxy:
        with pytest.raises(ProtocolError):
            await proxy.transfer(1)
    assert time.monotonic() - started < 1.0  # gave up at once: 30 s would pass the deadline


async def test_the_proxy_timeout_is_the_default_deadline(
    script: Script, faults: FaultProxy
) -> None:
    faults.fault = stall_response(30)
    started = time.monotonic()
    async with _proxy(faults.url(), fast(idempotent={"*"}), timeout=1) as proxy:
        with pytest.raises(TransportTimeout):
            await proxy.getBalance("d")
    assert time.monotonic() - started < 1.3


# -- the circuit breaker ---------------------------------------------------------------------


async def test_the_breaker_opens_fails_fast_lets_health_checks_through_and_closes(
    script: Script, server: int
) -> None:
    breaker = CircuitBreaker(failures=2, reset_after=0.5)
    policy = RetryPolicy(attempts=1, breaker=breaker)
    dead = f"http://127.0.0.1:{_free_port()}/RPC2"
    async with _proxy(dead, policy) as proxy:
        for _ in range(2):
            with pytest.raises(ConnectionRefused):
                await proxy.transfer(1)
        assert breaker.open
        started = time.monotonic()
        with pytest.raises(CircuitOpenError, match="next trial in"):
            await proxy.transfer(1)
        assert time.monotonic() - started < 0.05  # no connection attempted
        with pytest.raises(ConnectionRefused):
            await proxy.ping()  # bypassed: a health check goes to the server
    # The same breaker, shared with a proxy of a live server: after reset_after, a trial.
    async with _proxy(f"http://127.0.0.1:{server}/RPC2", policy) as proxy:
        with pytest.raises(CircuitOpenError):
            await proxy.transfer(1)
        await asyncio.sleep(0.55)
        assert await proxy.transfer(2) == ["transfer", 2]
        assert [breaker.open] == [False]  # (a list: mypy narrowed the property above)
    assert script.executions == {"transfer": 1}


# -- hooks --------------------------------------------------------------------------------


async def test_hooks_see_sizes_redacted_params_and_multicall_items(
    script: Script, server: int
) -> None:
    hook = Recorder()
    url = f"http://user:pw-s3cret@127.0.0.1:{server}/RPC2"
    async with AsyncServerProxy(url, hooks=[hook], secrets=["token:T0K"]) as proxy:
        assert await proxy.add("token:T0K", {"k": ["pw-s3cret", 1]}) == [
            "add",
            "token:T0K",
            {"k": ["pw-s3cret", 1]},
        ]
        multicall = MultiCall(proxy)
        multicall.a()
        multicall.b()
        await multicall()
    first, second = hook.calls
    assert first.url == f"http://user:***@127.0.0.1:{server}/RPC2"
    assert first.params == ("***", {"k": ["***", 1]})
    assert first.request_size > 100
    assert first.response_size is not None
    assert first.response_size > 100
    assert first.finished is not None
    assert first.elapsed >= 0
    assert (second.method, second.items) == ("system.multicall", 2)
    assert hook.kinds() == ["request", "response", "request", "response"]


async def test_a_failing_hook_does_not_break_the_call(
    server: int, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Hook):
        def on_request(self, call: CallInfo) -> None:
            raise RuntimeError("exporter down")

    recorder = Recorder()
    async with AsyncServerProxy(
        f"http://127.0.0.1:{server}/RPC2", hooks=[Broken(), recorder]
    ) as proxy:
        assert await proxy.x() == ["x"]
    assert "exporter down" in caplog.text
    assert recorder.kinds() == ["request", "response"]


async def test_a_cancelled_call_ends_with_on_error(faults: FaultProxy) -> None:
    faults.fault = stall_response(30)
    hook = Recorder()
    async with AsyncServerProxy(faults.url(), hooks=[hook], timeout=10) as proxy:
        task = asyncio.ensure_future(proxy.slow())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert hook.events[-1] == ("error", "slow", 1, "CancelledError")


# -- the policy itself ---------------------------------------------------------------------


def test_waits_grow_with_full_jitter_and_stay_bounded() -> None:
    policy = RetryPolicy(idempotent={"get*", "system.*"}, attempts=10, backoff=0.1, max_backoff=1)
    refused = ConnectionRefused("refused", 111)
    for attempt in range(1, 10):
        waits = [policy.delay(refused, "transfer", attempt) for _ in range(200)]
        bound = min(1.0, 0.1 * 2 ** (attempt - 1))
        assert all(w is not None and 0 <= w <= bound for w in waits)
        assert max(w for w in waits if w is not None) > bound / 2  # jitter spreads them
    assert policy.delay(refused, "transfer", 10) is None  # attempts exhausted
    assert policy.is_idempotent("system.listMethods")
    assert policy.is_idempotent("getX")
    assert not policy.is_idempotent("transfer")
    timeout = TransportTimeout("timed out")
    assert policy.delay(timeout, "transfer", 1) is None  # may have run: not a write
    assert policy.delay(timeout, "getX", 1) is not None


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"backoff": -1}, {"max_backoff": float("nan")}, {"deadline": 0}],
)
def test_bad_policies_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RetryPolicy(**kwargs)


def test_one_name_is_not_taken_for_a_collection() -> None:
    with pytest.raises(TypeError):
        RetryPolicy(idempotent="getX")
