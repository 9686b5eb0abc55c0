"""The pool's queue: calls get a connection in the order they asked for one.

aiohttp's connector wakes a waiter when a connection is released, but a call that starts
before the waiter runs can take that connection first. Under a steady stream of calls
beyond the pool's size, some waiters lose again and again: measured here with 1,000
calls in flight on 100 connections, p50 0.19 s but p99 26 s, for the same throughput
as a fair queue's p50 1.85 s and p99 2.07 s. So our own sessions put this queue in
front of the connector: a released place is handed to the oldest waiter directly, and
the connector never has to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

__all__ = ["FairGate"]


class FairGate:
    """At most ``size`` holders at once; the others wait their turn, first come first served."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        """Start with ``size`` free places."""
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_enter(self) -> bool:
        """Take a place now if one is free and nobody is waiting; the common case."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def enter(self, timeout: float | None) -> None:
        """Wait for a place, in turn.

        Raises:
            TimeoutError: No place within ``timeout`` seconds.
        """
        if self.try_enter():
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        # Not asyncio.wait_for: before Python 3.12 it can swallow a cancellation that
        # arrives as the place is handed over, and the call would go on regardless.
        expiry = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.leave()  # handed a place while giving up: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise
        finally:
            if expiry is not None:
                expiry.cancel()

    def leave(self) -> None:
        """Give a place back: to the oldest waiter, so no newcomer can take it first."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())
