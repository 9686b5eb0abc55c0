"""The pool's queue: calls beyond pool_size wait their turn, within their timeout."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from aioxmlrpc import AsyncServerProxy, TransportTimeout
from aioxmlrpc._http._pool import FairGate


async def test_a_call_waiting_for_the_pool_is_not_overtaken_by_later_calls(
    raw_server: str,
) -> None:
    # One connection; a busy caller issues call after call, back to back. A call made
    # meanwhile must get the connection next, not whenever the busy caller pauses:
    # aiohttp's connector alone lets each new call of the busy one go first.
    async with AsyncServerProxy(f"{raw_server}/RPC2", pool_size=1, timeout=30) as proxy:
        busy_done = 0
        stop = asyncio.Event()

        async def busy() -> None:
            nonlocal busy_done
            for i in range(200):
                if stop.is_set():
                    return
                assert await proxy.echo(i) == i
                busy_done += 1

        runner = asyncio.create_task(busy())
        for _ in range(1000):  # until the busy caller is under way
            if busy_done >= 3:
                break
            await asyncio.sleep(0.005)
        before = busy_done
        assert await asyncio.wait_for(proxy.echo("late"), 10) == "late"
        overtaken = busy_done - before
        stop.set()
        await runner
    assert overtaken <= 2  # at most the call in flight, and one finishing around it


async def test_a_call_queued_too_long_times_out_and_the_pool_recovers(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2", pool_size=1, timeout=0.3) as proxy:
        gate = proxy("transport")._gate
        assert gate.try_enter()  # the only place taken, as by a call that never ends
        started = time.monotonic()
        with pytest.raises(TransportTimeout, match=r"waiting for one of the pool's 1 conn"):
            await proxy.ping()
        assert 0.25 < time.monotonic() - started < 2
        gate.leave()
        assert await asyncio.wait_for(proxy.ping(), 5) is True


async def test_cancelled_waiters_give_up_their_turn(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2", pool_size=1) as proxy:
        holder = asyncio.create_task(proxy.sleep(0.2))
        await asyncio.sleep(0.05)
        waiting = [asyncio.create_task(proxy.echo(i)) for i in range(6)]
        await asyncio.sleep(0.01)
        for task in waiting[1::2]:
            task.cancel()
        results = await asyncio.wait_for(
            asyncio.gather(holder, *waiting, return_exceptions=True), 10
        )
        assert results[0] is True
        for i, result in enumerate(results[1:]):
            if i % 2:
                assert isinstance(result, asyncio.CancelledError)
            else:
                assert result == i
        assert await asyncio.wait_for(asyncio.gather(*(proxy.echo(i) for i in range(5))), 10) == [
            0,
            1,
            2,
            3,
            4,
        ]


@pytest.mark.parametrize("timeout", [None, 5.0])
async def test_a_place_handed_to_a_waiter_cancelled_before_it_ran_is_passed_on(
    timeout: float | None,
) -> None:
    # With asyncio.wait_for, the cancellation could be swallowed here before Python 3.12.
    gate = FairGate(1, timeout)
    assert gate.try_enter()
    first = asyncio.create_task(gate.enter())
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)  # both wait
    gate.leave()  # hands the place to first...
    first.cancel()  # ...which is cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # so the place went on to second
    assert not gate.try_enter()
    gate.leave()
    assert gate.try_enter()


async def test_waiters_time_out_in_turn_and_leave_the_queue() -> None:
    gate = FairGate(1, 0.05)
    assert gate.try_enter()
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiters = []
    for _ in range(3):
        waiters.append(asyncio.create_task(gate.enter()))
        await asyncio.sleep(0.02)
    ended = []
    for task in waiters:
        with pytest.raises((TimeoutError, asyncio.TimeoutError)):
            await task
        ended.append(loop.time() - started)
    # Each after its own 0.05 s: 0.05, 0.07, 0.09 (one timer, re-armed for each).
    assert [round(t, 2) >= 0.05 + 0.02 * i for i, t in enumerate(ended)] == [True] * 3
    assert ended[-1] < 1
    gate.leave()
    assert gate.try_enter()  # free again: nobody left waiting


async def test_connect_in_a_client_timeout_bounds_the_wait_for_the_pool(raw_server: str) -> None:
    timeout = aiohttp.ClientTimeout(total=30, connect=0.3)
    async with AsyncServerProxy(f"{raw_server}/RPC2", pool_size=1, timeout=timeout) as proxy:
        gate = proxy("transport")._gate
        assert gate.try_enter()
        started = time.monotonic()
        with pytest.raises(TransportTimeout, match=r"after 0.3 s waiting"):
            await proxy.ping()
        assert time.monotonic() - started < 5
        gate.leave()
        assert await asyncio.wait_for(proxy.ping(), 5) is True
