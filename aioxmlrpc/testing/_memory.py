"""``MemoryTransport``: a proxy's calls answered by a dispatcher in the same process.

Every call goes through the real codec both ways, as over HTTP: the proxy marshals the
request (so an unmarshallable parameter raises the same ``TypeError`` before anything is
"sent"), the dispatcher parses that body and answers with response bytes (a method's
exception becomes the same fault 1, an unknown method the same -32601), and those bytes
are fed to the proxy's own parser (its limits and ``use_datetime`` apply, a fault is
raised as the same :class:`~aioxmlrpc.Fault`). Only the sockets are missing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from .._exceptions import ResponseError, TransportError
from .._proxy import AsyncServerProxy
from .._types import Value
from ..codec import ResponseParser
from ..server import XMLRPCDispatcher
from ..server._dispatcher import parse_error_fault
from ._calls import Call

__all__ = ["DEFAULT_MEMORY_URL", "MemoryTransport"]

#: The URL :meth:`MemoryTransport.proxy` gives its proxies: any http URL would do.
DEFAULT_MEMORY_URL = "http://memory.invalid/RPC2"


def _dispatcher_for(
    methods: XMLRPCDispatcher | Mapping[str, Callable[..., Any]] | None,
) -> XMLRPCDispatcher:
    if isinstance(methods, XMLRPCDispatcher):
        return methods
    # A test double: it sends what it is given (None, 64-bit integers), and offers the
    # introspection and system.multicall that most servers have.
    dispatcher = XMLRPCDispatcher(allow_none=True, allow_i8=True)
    dispatcher.register_introspection_functions()
    dispatcher.register_multicall_functions()
    for name, function in (methods or {}).items():
        if not callable(function):
            raise TypeError(f"method {name!r} is {type(function).__name__}, not a callable")
        dispatcher.register_function(function, name)
    return dispatcher


class MemoryTransport:
    """A [Transport][aioxmlrpc.Transport] that hands each request to a dispatcher, in memory.

    ::

        transport = MemoryTransport({"add": lambda a, b: a + b})
        async with transport.proxy() as proxy:
            assert await proxy.add(2, 3) == 5
        assert transport.calls == [("add", (2, 3))]

    Args:
        methods: An [XMLRPCDispatcher][aioxmlrpc.server.XMLRPCDispatcher], used as it is,
            or a mapping of method names to callables (plain or coroutine functions),
            registered on a new dispatcher with ``allow_none`` and ``allow_i8``, the
            introspection functions and ``system.multicall``. ``None``: that dispatcher,
            empty; register more on :attr:`dispatcher`.
        chunk_size: Feed each response to the parser in pieces of this many bytes (as a
            network would deliver it); ``None`` (the default) feeds it whole.
        output: Where ``verbose=True`` prints the bodies (default ``sys.stdout``).

    Attributes:
        dispatcher: What answers the calls.
        calls: Every request received, in order, as a [Call][aioxmlrpc.testing.Call].
    """

    def __init__(
        self,
        methods: XMLRPCDispatcher | Mapping[str, Callable[..., Any]] | None = None,
        *,
        chunk_size: int | None = None,
        output: TextIO | None = None,
    ) -> None:
        """Wrap (or build) the dispatcher; nothing runs until the first call."""
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size!r}")
        self.dispatcher = _dispatcher_for(methods)
        self.calls: list[Call] = []
        self._chunk_size = chunk_size
        self._output = output
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called (later calls are refused, as over HTTP)."""
        return self._closed

    def proxy(self, uri: str = DEFAULT_MEMORY_URL, **options: Any) -> AsyncServerProxy:
        """Return an [AsyncServerProxy][aioxmlrpc.AsyncServerProxy] on a transport of its own.

        The new transport shares this one's dispatcher and :attr:`calls`, so closing the
        proxy (``async with``) leaves this transport usable for the next one. ``options``
        are the proxy's (``allow_none``, ``use_datetime``...).
        """
        twin = MemoryTransport(self.dispatcher, chunk_size=self._chunk_size, output=self._output)
        twin.calls = self.calls
        return AsyncServerProxy(uri, transport=twin, **options)

    async def request(
        self, url: str, body: bytes, parser: ResponseParser, *, verbose: bool = False
    ) -> Value:
        """Dispatch ``body`` and return what ``parser`` makes of the response bytes.

        Raises:
            Fault: The dispatcher answered with a fault.
            TransportError: The transport was closed.
        """
        if self._closed:
            raise TransportError(f"call to {url} refused: the transport was closed")
        output = self._output or sys.stdout
        if verbose:
            print(f"send: {body!r}", file=output)
        dispatcher = self.dispatcher
        request = dispatcher.request_parser()
        try:
            request.feed(body)
            method, params = request.close()
        except ResponseError as exc:
            reply = dispatcher.fault_response(parse_error_fault(exc))
        else:
            self.calls.append(Call(method, params))
            reply = await dispatcher.call(method, params)
        if verbose:
            print(f"body: {reply!r}", file=output)
        size = self._chunk_size
        if size is None:
            return parser.close(reply)
        for start in range(0, len(reply), size):
            parser.feed(reply[start : start + size])
        return parser.close()

    async def aclose(self) -> None:
        """Refuse further calls; calling it again does nothing."""
        self._closed = True

    def __repr__(self) -> str:
        return f"<MemoryTransport with {len(self.calls)} calls>"
