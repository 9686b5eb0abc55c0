"""The aiohttp shell: a request handler, an application factory, and ``serve()``.

What the HTTP side refuses, and how (each a clear status with a one-line text body):

- a method other than POST: 405 with ``Allow: POST`` (GET and HEAD serve ``page``
  instead, when one is configured);
- a Content-Type that is not XML (``text/xml``, ``application/xml`` or ``+xml``): 415.
  A request without a Content-Type is read, as the standard library reads it;
- a body over ``max_request_size`` bytes, counted after decompression (gzip and deflate
  requests are inflated here, a bounded piece at a time, unless the application's
  runner already inflated them; ``serve()`` turns aiohttp's own inflation off, since
  aiohttp 3.10 inflates a whole received piece at once): 413, as soon as the
  declared length or the bytes read say so, and the connection is not kept alive;
- a compressed body that does not inflate: 400;
- a body still arriving ``read_timeout`` seconds (60) after the head: 408, so that a
  client sending a byte now and then holds nothing for long.

A client that asks with ``Expect: 100-continue`` is told to go on once the head passed
those checks (by aiohttp's router in an application, by the handler in ``serve()``).

Everything else is answered with XML-RPC: a 200 carrying the result or a fault. The body
is parsed as it streams in (never read whole first), so a refusal comes at the byte that
causes it: a DTD, an entity, nesting over ``max_depth``, or the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from collections.abc import Awaitable, Callable, Generator, Iterable
from types import TracebackType
from typing import Any

from aiohttp import HttpVersion11, StreamReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from .._exceptions import ResponseError, ResponseTooLarge
from ..codec import DEFAULT_MAX_DEPTH, Limits, RequestParser
from ._dispatcher import DEFAULT_MAX_REQUEST_BYTES, XMLRPCDispatcher, parse_error_fault
from ._inflate import BadBody, inflate, inflater, looks_compressed

__all__ = [
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_PATHS",
    "DEFAULT_READ_TIMEOUT",
    "XMLRPCServer",
    "make_app",
    "serve",
    "xmlrpc_handler",
]

#: The paths the standard library's ``SimpleXMLRPCRequestHandler`` answers on.
DEFAULT_PATHS = ("/", "/RPC2")
#: The most seconds a request's body may take to arrive, by default.
DEFAULT_READ_TIMEOUT = 60.0
#: The most seconds a connection of ``serve()`` may sit without a whole request head,
#: by default: idle between requests, or sending its head.
DEFAULT_KEEPALIVE_TIMEOUT = 60.0
# The longest request and header lines our servers read: http.server's 64 KiB, which
# SimpleXMLRPCServer's clients may rely on (aiohttp's own 8190 bytes refuse a large
# cookie or bearer token). aiohttp reads 128 header lines at most: a head is 8 MiB at most.
HEAD_LINE_LIMITS: dict[str, Any] = {"max_line_size": 65536, "max_field_size": 65536}

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]

_XML = "text/xml"


def _is_xml(content_type: str) -> bool:
    if content_type == _XML:  # what nearly every client sends
        return True
    mimetype = content_type.partition(";")[0].strip().lower()
    return mimetype in ("text/xml", "application/xml") or mimetype.endswith("+xml")


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=headers)


def xmlrpc_handler(
    dispatcher: XMLRPCDispatcher,
    *,
    max_request_size: int | None = DEFAULT_MAX_REQUEST_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    page: str | None = None,
    read_timeout: float | None = DEFAULT_READ_TIMEOUT,
) -> Handler:
    """Return an aiohttp handler answering XML-RPC requests with ``dispatcher``.

    Add it to any route of an existing application, for every method so that it can
    answer 405 itself: ``app.router.add_route("*", "/RPC2", xmlrpc_handler(d))``.

    Args:
        dispatcher: What answers the calls.
        max_request_size: The largest request body in bytes, after decompression
            (``None`` removes the bound: for trusted peers only).
        max_depth: The deepest nesting of arrays and structs accepted.
        page: An HTML page served on GET and HEAD (otherwise 405).
        read_timeout: The most seconds the body may take to arrive once the request's
            head is in (408 after it); ``None`` waits for ever.
    """
    return _make_handler(dispatcher, max_request_size, max_depth, page, read_timeout, False)


def _make_handler(
    dispatcher: XMLRPCDispatcher,
    max_request_size: int | None,
    max_depth: int,
    page: str | None,
    read_timeout: float | None,
    answers_expect: bool,
) -> Handler:
    """The handler; ``answers_expect``: send "100 Continue" where a client waits for it.

    aiohttp's application router answers ``Expect: 100-continue`` before it calls any
    handler; ``serve()`` has no such router, so its handler answers it, once the checks
    on the head have passed.
    """
    limits = Limits(max_bytes=max_request_size, max_depth=max_depth)
    allow = "POST" if page is None else "GET, HEAD, POST"
    too_large = f"413 Request Entity Too Large: the body exceeds {max_request_size} bytes"

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        if request.method != "POST":
            if page is not None and request.method in ("GET", "HEAD"):
                return web.Response(text=page, content_type="text/html")
            return _plain(
                405,
                f"405 Method Not Allowed: XML-RPC takes POST requests, not {request.method}",
                {"Allow": allow},
            )
        headers = request.headers
        content_type = headers.get(hdrs.CONTENT_TYPE)
        if content_type is not None and not _is_xml(content_type):
            return _plain(
                415,
                f"415 Unsupported Media Type: XML-RPC requests are text/xml, not {content_type}",
            )
        length = request.content_length
        if (
            max_request_size is not None
            and length is not None
            and length > max_request_size
            and hdrs.CONTENT_ENCODING not in headers
        ):
            return _refused(_plain(413, too_large))
        content = request.content
        if answers_expect and hdrs.EXPECT in headers and not content.is_eof():
            await _continue(request)
        encoding = headers.get(hdrs.CONTENT_ENCODING, "").strip().lower()
        try:
            chunk = b""
            if content.is_eof():  # all of it is here already: no wait, no timer
                chunk = content.read_nowait()
                if not chunk and request.body_exists:
                    # A middleware read the body first: aiohttp keeps it for read().
                    chunk = await request.read()
            elif encoding:  # its first bytes say whether it is still compressed
                first = content.readany()
                chunk = await (
                    first if read_timeout is None else asyncio.wait_for(first, read_timeout)
                )
            decompressor = None
            if encoding in ("gzip", "x-gzip", "deflate") and looks_compressed(chunk):
                # Not inflated by aiohttp (serve() tells it not to: older releases inflate
                # a whole chunk at once, a bomb's 300 MiB): inflated here, bounded.
                decompressor = inflater(encoding)
            if content.at_eof() and decompressor is None:  # the whole body at once
                method, params = dispatcher.parse_body(chunk, limits)
            else:  # parsed as it streams in, refused at the first byte that must be
                parser = dispatcher.request_parser(limits)
                receiving = _receive(content, parser, chunk, decompressor, max_request_size)
                if read_timeout is None:
                    await receiving
                else:
                    await asyncio.wait_for(receiving, read_timeout)
                method, params = parser.close()
        except asyncio.TimeoutError:
            text = f"408 Request Timeout: the body took more than {read_timeout:g} s"
            return await _refused_early(request, _plain(408, text))
        except ResponseTooLarge:
            return await _refused_early(request, _plain(413, too_large))
        except ResponseError as exc:
            response = _xml(dispatcher.fault_response(parse_error_fault(exc)))
            return response if content.at_eof() else await _refused_early(request, response)
        except (web.RequestPayloadError, HttpProcessingError, BadBody) as exc:
            # A gzip or deflate body that does not inflate, a broken chunked encoding.
            reason = " ".join(str(exc).split())
            return await _refused_early(request, _plain(400, f"400 Bad Request: {reason}"))
        return _xml(await dispatcher.call(method, params))

    return handle


async def _continue(request: web.BaseRequest) -> None:
    """Tell a client waiting with ``Expect: 100-continue`` to send its body now."""
    if request.version == HttpVersion11 and request.headers[hdrs.EXPECT].lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the reply proper has not started


async def _receive(
    content: StreamReader,
    parser: RequestParser,
    chunk: bytes,
    decompressor: Any,
    budget: int | None,
) -> None:
    while True:
        if chunk:
            if decompressor is None:
                parser.feed(chunk)
            else:
                for piece in inflate(decompressor, chunk, budget):
                    parser.feed(piece)
        chunk = await content.readany()
        if not chunk:
            return


def _xml(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=_XML)


def _refused(response: web.Response) -> web.Response:
    # The rest of the body is not read: the connection cannot carry another request.
    response.force_close()
    return response


async def _refused_early(request: web.BaseRequest, response: web.Response) -> web.Response:
    """Refuse a body before its end: answer, then close without reading the rest."""
    response.force_close()
    if hdrs.CONTENT_ENCODING not in request.headers:
        return response  # aiohttp reads and drops the rest for a while, then closes
    # Inflating the rest only to drop it is the work a gzip bomb asks for: send the
    # answer now and close the connection at once.
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


def make_app(
    dispatcher: XMLRPCDispatcher,
    *,
    paths: Iterable[str] = DEFAULT_PATHS,
    max_request_size: int | None = DEFAULT_MAX_REQUEST_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    page: str | None = None,
    read_timeout: float | None = DEFAULT_READ_TIMEOUT,
) -> web.Application:
    """Return an aiohttp application serving ``dispatcher`` at ``paths``.

    Mount it in an existing application with ``app.add_subapp("/xmlrpc/", make_app(d,
    paths=["/"]))``, or run it with :func:`aiohttp.web.run_app` (pass
    ``handler_cancellation=True`` there, so that a client's disconnect cancels its call).
    Options are those of [xmlrpc_handler][aioxmlrpc.server.xmlrpc_handler].
    """
    handler = xmlrpc_handler(
        dispatcher,
        max_request_size=max_request_size,
        max_depth=max_depth,
        page=page,
        read_timeout=read_timeout,
    )
    app = web.Application()
    for path in paths:
        app.router.add_route("*", path, handler)
    return app


class XMLRPCServer:
    """A running XML-RPC server, as [serve][aioxmlrpc.server.serve] returns it.

    Await it to start it (``server = await serve(...)``), or use it as an async context
    manager, which also closes it.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        host: str | None,
        port: int,
        unix_socket: str | None,
        sock: socket.socket | None,
        paths: tuple[str, ...],
        shutdown_timeout: float,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
    ) -> None:
        """Prepare the server; nothing listens before it is awaited."""
        self._handler = handler
        self._host = host
        self._port = port
        self._unix_socket = unix_socket
        self._sock = sock
        self._paths = frozenset(paths)
        self._url_path = "/RPC2" if "/RPC2" in paths else paths[0]
        self._shutdown_timeout = shutdown_timeout
        self._keepalive_timeout = keepalive_timeout
        self._runner: web.BaseRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        # For _sweep: connections with a call running, and those waiting for a request
        # head since a time (each head that comes takes its connection out).
        self._busy: set[object] = set()
        self._waiting: dict[object, float] = {}

    async def _route(self, request: web.BaseRequest) -> web.StreamResponse:
        connection = request.protocol
        self._waiting.pop(connection, None)
        if request.path not in self._paths:
            return _plain(404, f"404 Not Found: no XML-RPC endpoint at {request.path}")
        self._busy.add(connection)
        try:
            return await self._handler(request)
        finally:
            self._busy.discard(connection)

    async def start(self) -> XMLRPCServer:
        """Start listening (done by awaiting the server); return self."""
        if self._runner is not None:
            return self
        # auto_decompress=False: the handler inflates, a bounded piece at a time.
        server = web.Server(
            self._route,
            handler_cancellation=True,
            access_log=None,
            auto_decompress=False,
            keepalive_timeout=self._keepalive_timeout,
            **HEAD_LINE_LIMITS,
        )
        runner = web.ServerRunner(server, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        site: web.BaseSite
        try:
            if self._sock is not None:
                site = web.SockSite(runner, self._sock)
            elif self._unix_socket is not None:
                site = web.UnixSite(runner, self._unix_socket)
            else:
                site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._sweeper = asyncio.create_task(self._sweep(server))
        return self

    async def _sweep(self, server: web.Server) -> None:
        """Close connections that sent no whole request head within ``keepalive_timeout``.

        aiohttp's keep-alive timer bounds a connection once it has been answered (and,
        from 3.14, from the start); aiohttp 3.13 leaves a connection that never sends a
        request open for ever. A look every quarter of the timeout closes those.
        """
        timeout = self._keepalive_timeout
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(timeout / 4)
            now = loop.time()
            waiting: dict[object, float] = {}  # rebuilt: closed connections drop out
            for connection in server.connections:
                if connection in self._busy:
                    continue
                since = self._waiting.get(connection, now)
                if now - since >= timeout:
                    connection.force_close()
                else:
                    waiting[connection] = since
            self._waiting = waiting

    @property
    def port(self) -> int | None:
        """The TCP port listened on (the one picked, for port 0); ``None`` on a unix socket."""
        if self._unix_socket is not None:
            return None
        runner = self._runner
        if runner is None or not runner.addresses:
            return None
        address: Any = runner.addresses[0]
        return int(address[1])

    @property
    def url(self) -> str:
        """The URL to give clients (for a unix socket, with ``unix_socket=`` beside it)."""
        if self._unix_socket is not None:
            return f"http://localhost{self._url_path}"
        runner = self._runner
        host = self._host or "127.0.0.1"
        if runner is not None and runner.addresses:
            host = str(runner.addresses[0][0])
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{self._url_path}"

    async def close(self) -> None:
        """Stop listening, finish the calls in flight (up to ``shutdown_timeout``), close."""
        runner, self._runner = self._runner, None
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        if runner is not None:
            await runner.cleanup()
        self._closed.set()

    async def serve_forever(self) -> None:
        """Wait until the server is closed (by :meth:`close` or a cancellation)."""
        started = await self.start()
        try:
            await started._closed.wait()
        finally:
            await self.close()

    def __await__(self) -> Generator[Any, None, XMLRPCServer]:
        return self.start().__await__()

    async def __aenter__(self) -> XMLRPCServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def serve(
    dispatcher: XMLRPCDispatcher,
    host: str | None = "127.0.0.1",
    port: int = 0,
    *,
    unix_socket: str | None = None,
    sock: socket.socket | None = None,
    paths: Iterable[str] = DEFAULT_PATHS,
    max_request_size: int | None = DEFAULT_MAX_REQUEST_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    page: str | None = None,
    read_timeout: float | None = DEFAULT_READ_TIMEOUT,
    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
    shutdown_timeout: float = 5.0,
) -> XMLRPCServer:
    """Serve ``dispatcher`` on its own listening socket: the callback server beside a client.

    ::

        async with serve(dispatcher, "127.0.0.1", 0) as server:
            print(server.url)        # http://127.0.0.1:<port>/RPC2
            await server.serve_forever()

    A client's disconnect cancels its call (aiohttp's ``handler_cancellation``).

    Args:
        dispatcher: What answers the calls.
        host: The address to listen on (loopback by default; ``None`` for all).
        port: The TCP port (0 picks a free one: see ``server.port``).
        unix_socket: Listen on this unix socket path instead of TCP.
        sock: Listen on this bound socket instead.
        paths: The paths that answer XML-RPC; others are 404.
        max_request_size: See [xmlrpc_handler][aioxmlrpc.server.xmlrpc_handler].
        max_depth: See [xmlrpc_handler][aioxmlrpc.server.xmlrpc_handler].
        page: See [xmlrpc_handler][aioxmlrpc.server.xmlrpc_handler].
        read_timeout: See [xmlrpc_handler][aioxmlrpc.server.xmlrpc_handler].
        keepalive_timeout: The most seconds a connection may go without sending a whole
            request head, idle between requests or sending one; then it is closed. A
            finite number: a connection left open for ever is what it bounds.
        shutdown_timeout: How long closing waits for calls in flight, in seconds.
    """
    chosen = tuple(paths)
    if not chosen:
        raise ValueError("paths must name at least one path")
    if not 0 < keepalive_timeout < math.inf:  # NaN included
        raise ValueError(
            f"keepalive_timeout must be a positive number of seconds, not {keepalive_timeout!r}"
        )
    handler = _make_handler(dispatcher, max_request_size, max_depth, page, read_timeout, True)
    return XMLRPCServer(
        handler,
        host=host,
        port=port,
        unix_socket=unix_socket,
        sock=sock,
        paths=chosen,
        shutdown_timeout=shutdown_timeout,
        keepalive_timeout=keepalive_timeout,
    )
