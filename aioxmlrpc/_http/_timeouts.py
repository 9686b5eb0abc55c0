"""Timeouts: ours checked and turned into aiohttp's.

A number is seconds for the whole call, with at most ``DEFAULT_CONNECT_TIMEOUT`` of them
to establish a connection; ``None`` and ``math.inf`` are no limit; NaN, zero and
negative values are refused. An ``aiohttp.ClientTimeout`` is used as given, its NaN or
negative fields refused and infinite ones made ``None``.
"""

from __future__ import annotations

import math

import aiohttp

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "client_timeout", "queue_limit", "with_total"]

#: Seconds to establish a TCP connection, within the whole call's time (waiting for a
#: free connection from the pool counts only against the whole call's time).
DEFAULT_CONNECT_TIMEOUT = 10.0


def queue_limit(timeout: aiohttp.ClientTimeout) -> float | None:
    """How long a call may wait for a pooled connection: aiohttp counts it in both."""
    limits = [t for t in (timeout.total, timeout.connect) if t is not None]
    return min(limits) if limits else None


def client_timeout(timeout: float | aiohttp.ClientTimeout | None) -> aiohttp.ClientTimeout:
    """The aiohttp timeout for ours: NaN, zero and negative refused; infinity is no limit."""
    if isinstance(timeout, aiohttp.ClientTimeout):
        fields = {}
        for field in _FIELDS:
            value = getattr(timeout, field)
            if value != 0:  # aiohttp reads 0 as "no limit"
                fields[field] = _seconds(value, f"timeout.{field}")
        return with_total(timeout, **fields)
    seconds = _seconds(timeout, "timeout")
    if seconds is None:
        return aiohttp.ClientTimeout(total=None)
    # sock_connect, not connect: aiohttp counts waiting for a free pooled connection in
    # "connect", and a busy pool is not a dead server (the total bounds the wait anyway).
    return aiohttp.ClientTimeout(total=seconds, sock_connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))


_FIELDS = ("total", "connect", "sock_read", "sock_connect")


def with_total(timeout: aiohttp.ClientTimeout, **changes: float | None) -> aiohttp.ClientTimeout:
    """``timeout`` with ``changes`` (aiohttp's ClientTimeout was an attrs class before 3.10)."""
    options = {name: getattr(timeout, name) for name in (*_FIELDS, "ceil_threshold")}
    options.update(changes)
    return aiohttp.ClientTimeout(**options)


def _seconds(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {value!r}")
    if math.isnan(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, inf or None, not {value!r}")
    return None if math.isinf(value) else float(value)
