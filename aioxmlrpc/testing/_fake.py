"""``FakeServer``: a real XML-RPC server on 127.0.0.1 whose answers a test scripts.

The rules:

- Each method has a script, a list of [Reply][aioxmlrpc.testing.Reply] objects: calls
  take them in order, and the last one answers every call after it (pytest-httpx's
  rule). ``script(method)`` with no replies removes the script.
- A method without a script is answered by :attr:`FakeServer.dispatcher`, an
  `aioxmlrpc.server.XMLRPCDispatcher` with the introspection functions
  and ``system.multicall``: register real functions there. Neither: fault -32601.
- Scripted methods answer inside ``system.multicall`` too, with their result or fault
  (after their delay); the HTTP-level parts of a reply (a status, a raw body, drips,
  truncation) have no meaning there and answer fault -32603 naming the method.
- Every request is logged, as parsed, in :attr:`FakeServer.calls`, before it is answered.
- The server runs in the current event loop (``async with``) or in a thread with its
  own loop (``with``, for sync tests and for fixtures that cannot be async). Starting and
  stopping are bounded in time; stopping closes the listening socket, the connections and
  the calls in flight (after ``shutdown_timeout``), and the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from xmlrpc.client import INTERNAL_ERROR, METHOD_NOT_FOUND

from aiohttp import web

from .._exceptions import Fault, ResponseError
from .._proxy import AsyncServerProxy
from .._types import Value
from ..codec import encode_response
from ..server import DEFAULT_PATHS, XMLRPCDispatcher, XMLRPCServer
from ..server._dispatcher import parse_error_fault
from ._calls import Call

__all__ = ["DEFAULT_START_TIMEOUT", "FakeServer", "Reply"]

#: Seconds a threaded FakeServer may take to start, or to stop, before an error.
DEFAULT_START_TIMEOUT = 10.0

_XML = "text/xml"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: what to send (a result, a fault, a status) and how.

    What to send, at most one of: ``result`` (the default, ``None`` sent as ``<nil/>``),
    ``fault``, ``function`` (called with the call's parameters; sync or async; what it
    raises is answered as the dispatcher answers a method's exception), ``body`` (raw
    bytes, e.g. an HTML error page or broken XML). A ``status`` other than 200 without a
    body sends a one-line text body.

    How to send it: after ``delay`` seconds; ``drip``: in pieces of ``chunk_size`` bytes,
    ``drip`` seconds apart (the ``Content-Length`` is declared whole); ``truncate``: only
    that many bytes of the body (negative: all but that many), then the connection is
    closed, the declared ``Content-Length`` unmet.

    ::

        Reply(result=[1, 2])
        Reply(fault=Fault(10, "BAD_NAME: foo"))
        Reply(status=503, headers={"Retry-After": "1"})
        Reply(result="x" * 1000, drip=0.01, chunk_size=100)
        Reply(result="x" * 1000, truncate=200)
        Reply(function=lambda a, b: a + b, delay=0.5)
    """

    result: object = None
    fault: Fault | None = None
    function: Callable[..., Any] | None = None
    body: bytes | None = None
    status: int = 200
    reason: str | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float | None = None
    chunk_size: int = 1
    truncate: int | None = None

    def __post_init__(self) -> None:
        """Refuse a reply that says two things, or waits that cannot be kept."""
        given = [
            name
            for name, value in (
                ("result", self.result),
                ("fault", self.fault),
                ("function", self.function),
                ("body", self.body),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise ValueError(f"a Reply sends one thing, not {' and '.join(given)}")
        if self.status != 200 and given and given != ["body"]:
            raise ValueError(f"a status {self.status} reply carries a body=, not {given[0]}=")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status (100-599), not {self.status!r}")
        if self.fault is not None and not isinstance(self.fault, Fault):
            raise TypeError(f"fault must be a Fault, not {type(self.fault).__name__}")
        if not (math.isfinite(self.delay) and self.delay >= 0):
            raise ValueError(f"delay must be a finite number of seconds >= 0, not {self.delay!r}")
        if self.drip is not None and not (math.isfinite(self.drip) and self.drip > 0):
            raise ValueError(f"drip must be a finite number of seconds > 0, not {self.drip!r}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {self.chunk_size!r}")

    @property
    def _http_only(self) -> bool:
        return (
            self.body is not None
            or self.status != 200
            or self.drip is not None
            or self.truncate is not None
        )


def _as_reply(item: object) -> Reply:
    if isinstance(item, Reply):
        return item
    if isinstance(item, Fault):
        return Reply(fault=item)
    return Reply(result=item)


class _Scripted:
    """The dispatcher's instance: scripted methods, for calls inside system.multicall."""

    def __init__(self, server: FakeServer) -> None:
        self._server = server

    def _listMethods(self) -> list[str]:  # the standard library's hook name
        return self._server._scripted_methods()

    async def _dispatch(self, method: str, params: tuple[Value, ...]) -> object:
        reply = self._server._next_reply(method)
        if reply is None:
            raise Fault(METHOD_NOT_FOUND, f'method "{method}" is not supported')
        if reply._http_only:
            raise Fault(
                INTERNAL_ERROR,
                f"{method}: a scripted HTTP-level reply cannot answer inside system.multicall",
            )
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.fault is not None:
            raise reply.fault
        return await _value(reply, params)


async def _value(reply: Reply, params: tuple[Value, ...]) -> object:
    if reply.function is None:
        return reply.result
    value = reply.function(*params)
    if inspect.isawaitable(value):
        value = await value
    return value


class FakeServer:
    """A loopback XML-RPC server with scripted results, faults, latency, drips and truncation.

    ::

        async with FakeServer() as server:
            server.script("supervisor.getState", {"statecode": 1, "statename": "RUNNING"})
            server.script("supervisor.stopProcess", Fault(10, "BAD_NAME: web"))
            async with AsyncServerProxy(server.url) as proxy:
                await code_under_test(proxy)
            assert server.calls[0] == ("supervisor.getState", ())

    ``with FakeServer() as server:`` runs it in a thread instead (for sync code, or
    ``xmlrpc.client``); functions in its replies then run in that thread.

    Args:
        host: The loopback address to listen on.
        port: The TCP port (0, the default, picks a free one).
        unix_socket: Listen on this unix socket path instead (``url`` is then
            ``http://localhost/RPC2``: give the proxy ``unix_socket=`` too).
        shutdown_timeout: Seconds that stopping waits for calls in flight before
            cancelling them.
        start_timeout: Seconds a threaded server may take to start, or to stop.

    Attributes:
        dispatcher: Answers the methods without a script (``allow_none`` and ``allow_i8``
            on; introspection and ``system.multicall`` registered).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        unix_socket: str | None = None,
        shutdown_timeout: float = 1.0,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        """Prepare the server; nothing listens until it is started."""
        self.dispatcher = XMLRPCDispatcher(allow_none=True, allow_i8=True)
        self.dispatcher.register_introspection_functions()
        self.dispatcher.register_multicall_functions()
        self.dispatcher.register_instance(_Scripted(self))
        self._host = host
        self._port = port
        self._unix_socket = unix_socket
        self._shutdown_timeout = shutdown_timeout
        self._start_timeout = start_timeout
        self._lock = threading.Lock()  # scripts and calls are shared with a server thread
        self._scripts: dict[str, list[Reply]] = {}
        self._calls: list[Call] = []
        self._headers: list[dict[str, str]] = []
        self._server: XMLRPCServer | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # -- scripting -----------------------------------------------------------------------

    def script(self, method: str, *replies: object) -> None:
        """Answer ``method`` with ``replies``, in order; the last one answers the rest.

        Each reply is a [Reply][aioxmlrpc.testing.Reply], a
        `Fault` (sent as a fault) or any other value (sent as the
        result). No replies: remove the script (the dispatcher answers again).
        """
        queue = [_as_reply(item) for item in replies]
        with self._lock:
            if queue:
                self._scripts[method] = queue
            else:
                self._scripts.pop(method, None)

    def _next_reply(self, method: str) -> Reply | None:
        with self._lock:
            queue = self._scripts.get(method)
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _scripted_methods(self) -> list[str]:
        with self._lock:
            return list(self._scripts)

    @property
    def calls(self) -> list[Call]:
        """Every request received so far, in order (a copy)."""
        with self._lock:
            return list(self._calls)

    @property
    def headers(self) -> list[dict[str, str]]:
        """The HTTP headers of each request in :attr:`calls`, in the same order (a copy).

        To check what the client sent: ``server.headers[0]["Authorization"]``. Names
        are as the client wrote them; a repeated header keeps its last value.
        """
        with self._lock:
            return [dict(item) for item in self._headers]

    def clear_calls(self) -> None:
        """Forget the requests received so far (their headers too)."""
        with self._lock:
            self._calls.clear()
            self._headers.clear()

    # -- serving -------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method != "POST":
            return web.Response(status=405, text="405 Method Not Allowed: XML-RPC takes POST\n")
        dispatcher = self.dispatcher
        parser = dispatcher.request_parser()
        try:
            while chunk := await request.content.readany():
                parser.feed(chunk)
            method, params = parser.close()
        except ResponseError as exc:
            return _xml(dispatcher.fault_response(parse_error_fault(exc)))
        with self._lock:
            self._calls.append(Call(method, params))
            self._headers.append(dict(request.headers))
        reply = self._next_reply(method)
        if reply is None:
            return _xml(await dispatcher.call(method, params))
        if reply.delay:
            await asyncio.sleep(reply.delay)
        content_type = reply.content_type or _XML
        if reply.body is not None:
            body = reply.body
        elif reply.status != 200:
            reason = reply.reason or "scripted"
            body = f"{reply.status} {reason}\n".encode()
            content_type = reply.content_type or "text/plain"
        else:
            body = await self._answer(reply, method, params)
        return await _send(request, reply, body, content_type)

    async def _answer(self, reply: Reply, method: str, params: tuple[Value, ...]) -> bytes:
        """The response body for a result, a fault or a function, as the dispatcher makes it."""
        dispatcher = self.dispatcher
        if reply.fault is not None:
            return dispatcher.fault_response(reply.fault)
        try:
            value = await _value(reply, params)
        except Fault as fault:
            return dispatcher.fault_response(fault)
        except Exception as exc:
            return dispatcher.fault_response(Fault(1, f"{type(exc)}:{exc}"))
        try:
            return encode_response(
                value,
                encoding=dispatcher.encoding,
                allow_none=dispatcher.allow_none,
                allow_i8=dispatcher.allow_i8,
            )
        except Exception as exc:  # what the standard library answers for a bad value
            return dispatcher.fault_response(Fault(1, f"{type(exc)}:{exc}"))

    @property
    def url(self) -> str:
        """The URL to call (``http://127.0.0.1:<port>/RPC2``).

        Raises:
            RuntimeError: The server is not running.
        """
        if self._server is None:
            raise RuntimeError("the FakeServer is not running: start it with async with or with")
        return self._server.url

    @property
    def port(self) -> int | None:
        """The TCP port listened on; ``None`` on a unix socket or before starting."""
        return None if self._server is None else self._server.port

    def proxy(self, **options: Any) -> AsyncServerProxy:
        """Return an [AsyncServerProxy][aioxmlrpc.AsyncServerProxy] for this server."""
        if self._unix_socket is not None:
            options.setdefault("unix_socket", self._unix_socket)
        return AsyncServerProxy(self.url, **options)

    async def start(self) -> FakeServer:
        """Start listening in the running event loop; return self."""
        if self._server is None:
            server = XMLRPCServer(
                self._handle,
                host=self._host,
                port=self._port,
                unix_socket=self._unix_socket,
                sock=None,
                paths=DEFAULT_PATHS,
                shutdown_timeout=self._shutdown_timeout,
            )
            self._server = await server.start()
        return self

    async def aclose(self) -> None:
        """Stop listening; calls in flight get ``shutdown_timeout`` seconds, then are cancelled."""
        server, self._server = self._server, None
        if server is not None:
            await server.close()

    async def __aenter__(self) -> FakeServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- in a thread ---------------------------------------------------------------------

    def __enter__(self) -> FakeServer:
        if self._thread is not None or self._server is not None:
            raise RuntimeError("this FakeServer is already running")
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failed.append(exc)
            started.set()
            try:
                if not failed:
                    loop.run_forever()
                loop.run_until_complete(self.aclose())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

        thread = threading.Thread(target=run, name="aioxmlrpc FakeServer", daemon=True)
        self._thread, self._thread_loop = thread, loop
        thread.start()
        if not started.wait(self._start_timeout):
            self._stop_thread()
            raise TimeoutError(f"the FakeServer did not start within {self._start_timeout:g} s")
        if failed:
            self._stop_thread()
            raise failed[0]
        return self

    def _stop_thread(self) -> None:
        thread, loop = self._thread, self._thread_loop
        self._thread = self._thread_loop = None
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed itself after a failed start
            loop.call_soon_threadsafe(loop.stop)
        thread.join(self._shutdown_timeout + self._start_timeout)
        if thread.is_alive():
            raise TimeoutError(
                f"the FakeServer's thread did not stop within "
                f"{self._shutdown_timeout + self._start_timeout:g} s"
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop_thread()

    def __repr__(self) -> str:
        where = self._server.url if self._server is not None else "not running"
        return f"<FakeServer {where}, {len(self._calls)} calls>"


def _xml(body: bytes) -> web.Response:
    return web.Response(body=body, headers={"Content-Type": _XML})


async def _send(
    request: web.BaseRequest, reply: Reply, body: bytes, content_type: str
) -> web.StreamResponse:
    headers = {"Content-Type": content_type, **reply.headers}
    if reply.drip is None and reply.truncate is None:
        return web.Response(status=reply.status, reason=reply.reason, body=body, headers=headers)
    response = web.StreamResponse(status=reply.status, reason=reply.reason, headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    sent = body if reply.truncate is None else body[: reply.truncate]
    if reply.drip is None:
        await response.write(sent)
    else:
        size = reply.chunk_size
        for start in range(0, len(sent), size):
            if start:
                await asyncio.sleep(reply.drip)
            await response.write(sent[start : start + size])
    if reply.truncate is not None:
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response
