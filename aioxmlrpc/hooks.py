"""Hooks: a typed view of every call a proxy makes, for logs, metrics, traces and tests.

Give a proxy ``hooks=[...]``; each hook sees every logical call through a
:class:`CallInfo` and these events, in this order::

    on_request    before each attempt is sent (call.attempt is 1, 2, ...)
    on_retry      after an attempt failed and before the next one, with the wait
    on_response   the call returned: its result (a MultiCall's: the raw list)
    on_fault      the call ended with a Fault
    on_error      the call ended with any other exception (cancellation included)

Exactly one of the last three ends each call. Events run synchronously in the call's
task, hook after hook; a hook that raises is logged (logger ``aioxmlrpc.hooks``) and the
call goes on, as a broken metrics exporter must not break the calls it watches.

What hooks see is redacted: :attr:`CallInfo.url` hides the password, and
:attr:`CallInfo.params` hides the URL's password and every string given to the proxy's
``secrets=`` (an aria2 token, say) wherever it occurs in the parameters. No header, and
so no ``Authorization`` or ``Cookie``, is passed to hooks at all.

With no hook attached, a call costs one test of an empty tuple more than before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from ._exceptions import Fault

__all__ = ["INSTALLED", "CallInfo", "Hook", "install", "uninstall"]

logger = logging.getLogger("aioxmlrpc.hooks")

#: Hooks that see the calls of every proxy, after each proxy's own (see :func:`install`).
INSTALLED: list[Hook] = []

#: Headers the HTTP transport adds to the request being sent: the proxy sets them from
#: :attr:`CallInfo.headers` around each attempt.
REQUEST_HEADERS: ContextVar[Mapping[str, str] | None] = ContextVar(
    "aioxmlrpc_request_headers", default=None
)


def install(hook: Hook) -> None:
    """Make ``hook`` see the calls of every proxy, existing and future."""
    if hook not in INSTALLED:
        INSTALLED.append(hook)


def uninstall(hook: Hook) -> None:
    """Undo :func:`install`; a hook not installed is ignored."""
    if hook in INSTALLED:
        INSTALLED.remove(hook)


class CallInfo:
    """One logical call, from its first request to its outcome.

    Every event of a call gets the same object; :attr:`state` is scratch space for hooks
    (a span, a start time), keyed as each hook likes.

    Attributes:
        method: The remote method; ``system.multicall`` (or the server profile's name
            for it) for a MultiCall.
        url: The server's URL, its password replaced by ``***``.
        items: The number of calls in a MultiCall, else None.
        request_size: Bytes of the request body (before any gzip).
        response_size: Bytes of the reply body read (after decompression), once known.
        attempt: 1 for the first attempt, 2 for the first retry, and so on.
        started: ``time.monotonic()`` when the call began.
        finished: ``time.monotonic()`` when it ended, or None.
        headers: Headers to add to the HTTP request; ``on_request`` may set them (a
            ``traceparent``). Other transports ignore them.
        state: A dict for the hooks' own use.
    """

    __slots__ = (
        "_hide",
        "_params",
        "attempt",
        "finished",
        "headers",
        "items",
        "method",
        "request_size",
        "response_size",
        "started",
        "state",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        params: tuple[Any, ...],
        request_size: int,
        *,
        items: int | None = None,
        hide: Callable[[str], str] | None = None,
    ) -> None:
        """Start the record of a call (the proxy makes these, not users)."""
        self.method = method
        self.url = url
        self.items = items
        self.request_size = request_size
        self.response_size: int | None = None
        self.attempt = 1
        self.started = time.monotonic()
        self.finished: float | None = None
        self.state: dict[Any, Any] = {}
        self.headers: dict[str, str] = {}
        self._params = params
        self._hide = hide

    @property
    def params(self) -> tuple[Any, ...]:
        """The call's parameters, with every registered secret replaced by ``***``."""
        if self._hide is None:
            return self._params
        return tuple(_hidden(value, self._hide) for value in self._params)

    @property
    def elapsed(self) -> float:
        """Seconds from the start of the call to its end (or to now, while it runs)."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    def __repr__(self) -> str:
        """Show the method, the (redacted) URL and the attempt."""
        return f"<CallInfo {self.method} to {self.url}, attempt {self.attempt}>"


def _hidden(value: Any, hide: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return hide(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_hidden(item, hide) for item in value)
    if isinstance(value, dict):
        return {
            hide(key) if isinstance(key, str) else key: _hidden(item, hide)
            for key, item in value.items()
        }
    return value


class Hook:
    """A base class for hooks: override the events you need; the others do nothing."""

    def on_request(self, call: CallInfo) -> None:
        """An attempt is about to be sent (``call.attempt`` says which)."""

    def on_retry(self, call: CallInfo, error: BaseException, delay: float) -> None:
        """An attempt failed with ``error``; the next starts after ``delay`` seconds."""

    def on_response(self, call: CallInfo, result: Any) -> None:
        """The call returned ``result``."""

    def on_fault(self, call: CallInfo, fault: Fault) -> None:
        """The call ended with ``fault``."""

    def on_error(self, call: CallInfo, error: BaseException) -> None:
        """The call ended with ``error`` (a transport error, a timeout, a cancellation)."""


def emit(hooks: tuple[Hook, ...], event: str, *args: Any) -> None:
    """Run ``event`` on every hook; log, and swallow, what a hook raises."""
    for hook in hooks:
        try:
            getattr(hook, event)(*args)
        except Exception:
            logger.exception("hook %r failed in %s", hook, event)
