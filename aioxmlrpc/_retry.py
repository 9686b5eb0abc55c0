"""Retries in XML-RPC's terms: what is safe to send again, when, and when to stop trying.

A failed call is sent again only when that cannot run it twice:

- the method is declared idempotent (by name, or a pattern such as ``"*.get*"``); or
- the failure proves the server never ran the call: the connection was refused, the
  name did not resolve, connecting timed out (nothing was sent), the server answered
  HTTP 429, or 503 with ``Retry-After``, or a Fault that says so: a rate limit ("...
  may reset in N seconds", PyPI's -32500) or one of the ``offline_faults`` codes.

Anything else (a reset after the request went out, a timeout while waiting for the
reply, a truncated reply, any other Fault) is retried only for idempotent methods, or
never for a Fault that is not listed: the server answered, so it ran the call.

Waits grow exponentially with full jitter (a random wait between 0 and the backoff), or
follow the server's ``Retry-After``/"reset in N seconds". Every attempt and every wait
fits in one deadline, by default the call's ``timeout``: no wait starts that would end
past it, and the attempt running at the deadline is cancelled then.
"""

from __future__ import annotations

import fnmatch
import math
import random
import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from ._exceptions import (
    ConnectionRefused,
    Fault,
    NameResolutionError,
    ProtocolError,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
)

__all__ = ["CircuitBreaker", "CircuitOpenError", "RetryPolicy"]

#: "Limit may reset in 3 seconds" (PyPI), "retry after 3 s", "try again in 3 seconds".
_RESET_IN = re.compile(
    r"(?:reset|retry|try again)\w*\s+(?:in|after)\s+(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)",
    re.IGNORECASE,
)
_RATE_LIMITED = re.compile(r"rate.?limit|too many requests", re.IGNORECASE)


class CircuitOpenError(TransportError):
    """The circuit breaker is open: calls fail at once until its trial time."""


@dataclass
class CircuitBreaker:
    """Fail fast after ``failures`` failed calls in a row, for ``reset_after`` seconds.

    A failure is a call that ended with a transport error, a timeout or an HTTP error
    (a Fault is an answer: it counts as a success). While open, calls raise
    :class:`CircuitOpenError` without touching the network, except those in ``bypass``
    (health checks), which go through and close the circuit when they succeed. After
    ``reset_after`` seconds one call is let through as a trial: success closes the
    circuit, failure opens it again. One breaker may be shared by several proxies of
    the same server.
    """

    failures: int = 5
    reset_after: float = 30.0
    bypass: Collection[str] = ("ping", "system.listMethods", "system.methodHelp")
    _count: int = field(default=0, init=False, repr=False)
    _opened: float | None = field(default=None, init=False, repr=False)
    _trial: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.failures < 1:
            raise ValueError(f"failures must be at least 1, not {self.failures!r}")
        if not self.reset_after >= 0:
            raise ValueError(f"reset_after must be >= 0, not {self.reset_after!r}")

    @property
    def open(self) -> bool:
        """Whether calls are being refused now."""
        return self._opened is not None

    def before(self, method: str, where: str) -> None:
        """Let the call go, or raise :class:`CircuitOpenError`."""
        if self._opened is None or method in self.bypass:
            return
        wait = self._opened + self.reset_after - time.monotonic()
        if wait <= 0 and not self._trial:
            self._trial = True  # this call is the trial
            return
        raise CircuitOpenError(
            f"circuit open for {where} after {self._count} failed calls in a row; "
            f"next trial in {max(wait, 0):.1f} s"
        )

    def succeeded(self) -> None:
        """Record a call that was answered."""
        self._count = 0
        self._opened = None
        self._trial = False

    def failed(self) -> None:
        """Record a call that failed."""
        self._count += 1
        self._trial = False
        if self._count >= self.failures:
            self._opened = time.monotonic()


@dataclass(frozen=True)
class RetryPolicy:
    """Which failed calls to send again, how often and how long to wait.

    Args:
        idempotent: Methods safe to run twice, by name or ``fnmatch`` pattern
            (``"system.*"``, ``"*.get*"``). Others are retried only when the failure
            proves the server did not run them.
        attempts: Attempts in all, the first included.
        backoff: The first wait's upper bound, in seconds; it doubles at each retry, up
            to ``max_backoff``. The wait is random below it (full jitter).
        max_backoff: The largest wait, also for ``Retry-After`` and "reset in N s".
        deadline: Seconds for the whole call, attempts and waits; None: the proxy's
            ``timeout``.
        offline_faults: Fault codes that say the server did not run the call (it is
            offline, shutting down, busy): retried for every method.
        breaker: A :class:`CircuitBreaker`, or None.
    """

    idempotent: Collection[str] = ()
    attempts: int = 3
    backoff: float = 0.1
    max_backoff: float = 10.0
    deadline: float | None = None
    offline_faults: Collection[int] = ()
    breaker: CircuitBreaker | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts!r}")
        for name in ("backoff", "max_backoff"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be finite and >= 0, not {value!r}")
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError(f"deadline must be positive, not {self.deadline!r}")
        if isinstance(self.idempotent, str):
            raise TypeError("idempotent takes a collection of names, not one string")

    def is_idempotent(self, method: str) -> bool:
        """Whether ``method`` was declared safe to run twice."""
        return any(
            method == pattern or fnmatch.fnmatchcase(method, pattern) for pattern in self.idempotent
        )

    def delay(self, error: BaseException, method: str, attempt: int) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None not to retry."""
        if attempt >= self.attempts:
            return None
        told = self._not_run(error)
        if told is None and not (self.is_idempotent(method) and _transient(error)):
            return None
        backoff = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        wait = random.uniform(0, backoff)  # noqa: S311 - jitter, not cryptography
        return min(max(wait, told or 0.0), self.max_backoff)

    def _not_run(self, error: BaseException) -> float | None:
        """If ``error`` proves the call did not run: the wait it asks for (0 if none)."""
        if isinstance(error, (ConnectionRefused, NameResolutionError)):
            return 0.0
        if isinstance(error, TransportError) and getattr(error, "request_sent", None) is False:
            return 0.0
        if isinstance(error, ProtocolError):
            after = _retry_after(error.headers)
            if error.errcode == 429:
                return after or 0.0
            if error.errcode == 503 and after is not None:
                return after
            return None
        if isinstance(error, Fault):
            if error.faultCode in self.offline_faults:
                return 0.0
            text = str(error.faultString)
            match = _RESET_IN.search(text)
            if match is not None and (error.faultCode == -32500 or _RATE_LIMITED.search(text)):
                return float(match[1])
            if error.faultCode == -32500 and _RATE_LIMITED.search(text):
                return 0.0
        return None


def _transient(error: BaseException) -> bool:
    """Whether sending again could succeed (for methods safe to run twice)."""
    if isinstance(error, (TransportError, TimeoutError, TruncatedResponse)):
        return not isinstance(error, CircuitOpenError)
    if isinstance(error, ProtocolError):
        return error.errcode in (408, 429, 500, 502, 503, 504)
    return False


def _retry_after(headers: Any) -> float | None:
    """The seconds of a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = None
    for name, text in getattr(headers, "items", dict)():
        if str(name).lower() == "retry-after":
            value = text
    if not value:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def deadline_error(where: str, seconds: float) -> TransportTimeout:
    """The error of a call whose retries ran out of time."""
    return TransportTimeout(f"call to {where} timed out after {seconds:g} s (retry deadline)")
