"""The example server of the tour: the seed's ``ExampleService`` on :mod:`aioxmlrpc.server`.

Configured as the seed's ``xmlrpc_server.py`` configures ``SimpleXMLRPCServer``: ``None``
allowed, introspection and ``system.multicall`` registered, the instance registered, on
the paths ``/`` and ``/RPC2``. The examples, the demo tour and the tests talk to it.

It answers as the standard library's server does on the wire, so that the seed's
outputs stay what they are: an HTTP/1.0 reply with ``Server``, ``Date``, ``Content-type``
(``Content-Encoding: gzip`` for a reply over 1,400 bytes when the client accepts it) and
``Content-length``, the connection closed after each reply; and a returned string that
XML cannot carry (the NUL byte of ``xmlrpc_Binary.py``) written as the standard library
writes it, raw, so that the client's parser shows its error. A server of your own
should not copy these two: :func:`aioxmlrpc.server.serve` keeps connections alive, and
answers an unmarshallable value with a fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import gzip
import platform
import socket
import threading
import xmlrpc.client
from types import TracebackType
from typing import Any
from xmlrpc.client import Binary

from aiohttp import web
from aiohttp.http import HttpVersion10

from .._version import __version__
from ..server import DEFAULT_PATHS, XMLRPCDispatcher, xmlrpc_handler
from ..server._aiohttp import HEAD_LINE_LIMITS

__all__ = ["ExampleServer", "ExampleService"]

GZIP_THRESHOLD = 1400  # SimpleXMLRPCRequestHandler.encode_threshold
SERVER = f"aioxmlrpc/{__version__} Python/{platform.python_version()}"


class ExampleService:
    """The methods the seed's server offers."""

    def ping(self) -> bool:
        """Simple function to respond when called to demonstrate connectivity."""
        return True

    def now(self) -> datetime.datetime:
        """Returns the server current date and time."""
        return datetime.datetime.now()

    def show_type(self, arg: object) -> tuple[str, str, object]:
        """Illustrates how types are passed in and out of server methods.

        Accepts one argument of any type.

        Returns a tuple with string representation of the value, the name of the type,
        and the value itself.
        """
        return (str(arg), str(type(arg)), arg)

    def raises_exception(self, msg: str) -> None:
        """Always raises a RuntimeError with the message passed in."""
        raise RuntimeError(msg)

    def send_back_binary(self, bin: Binary) -> Binary:
        """Accepts single Binary argument, and unpacks and repacks it to return it."""
        return Binary(bin.data)


class _SeedDispatcher(XMLRPCDispatcher):
    """Writes what XML cannot carry as the standard library does (see the module's text)."""

    def _marshal(self, result: object) -> bytes:
        try:
            return super()._marshal(result)
        except ValueError:
            text = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)  # type: ignore[arg-type]
            return text.encode("utf-8", "xmlcharrefreplace")


def example_dispatcher() -> XMLRPCDispatcher:
    """The seed's server, as a dispatcher."""
    dispatcher = _SeedDispatcher(allow_none=True)
    dispatcher.register_introspection_functions()
    dispatcher.register_multicall_functions()
    dispatcher.register_instance(ExampleService())
    return dispatcher


def _http10_request(
    message: Any, payload: Any, protocol: Any, writer: Any, task: Any
) -> web.BaseRequest:
    # The reply's status line carries the request's version: read every request as
    # HTTP/1.0 without keep-alive, as http.server answers.
    message = message._replace(version=HttpVersion10, should_close=True)
    return web.BaseRequest(message, payload, protocol, writer, task, asyncio.get_running_loop())


def _stdlib_handler(dispatcher: XMLRPCDispatcher) -> Any:
    handle = xmlrpc_handler(dispatcher)
    paths = frozenset(DEFAULT_PATHS)

    async def stdlib_layout(request: web.BaseRequest) -> web.StreamResponse:
        if request.path not in paths:
            raise web.HTTPNotFound()
        response = await handle(request)
        if not isinstance(response, web.Response) or response.status != 200:
            return response
        body = response.body
        assert isinstance(body, bytes)  # noqa: S101 - the handler's XML
        headers = {
            "Server": SERVER,
            "Date": email.utils.formatdate(usegmt=True),
            "Content-type": "text/xml",
        }
        if len(body) > GZIP_THRESHOLD and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-length"] = str(len(body))
        return web.Response(body=body, headers=headers)

    return stdlib_layout


class ExampleServer:
    """The example server, in a background thread with its own event loop.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with ExampleServer() as server:
            print(server.url)   # http://127.0.0.1:<free port>/RPC2

    Args:
        host: The address to listen on (loopback by default).
        port: The port (0 picks a free one).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind the socket now (so the port is known); serve on :meth:`start`."""
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        self._sock = socket.create_server((host, port), family=family, backlog=1024)
        self._dispatcher = example_dispatcher()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """The server's URL."""
        host, port = self._sock.getsockname()[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host!s}:{port}/RPC2"

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = web.Server(
            _stdlib_handler(self._dispatcher),
            request_factory=_http10_request,
            handler_cancellation=True,
            access_log=None,
            **HEAD_LINE_LIMITS,
        )
        runner = web.ServerRunner(server, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.SockSite(runner, self._sock).start()
            self._started.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # pragma: no cover - reported by start()
            self._failure = exc
        finally:
            self._started.set()

    def start(self) -> ExampleServer:
        """Serve in a daemon thread; return self."""
        if self._thread is None:
            self._started.clear()
            self._thread = threading.Thread(
                target=self._run, name="aioxmlrpc-example-server", daemon=True
            )
            self._thread.start()
            if not self._started.wait(timeout=30) or self._failure is not None:
                raise RuntimeError(f"the example server did not start: {self._failure!r}")
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        asyncio.run(self._serve())

    def stop(self) -> None:
        """Stop serving and close the socket."""
        thread, self._thread = self._thread, None
        loop, stopping = self._loop, self._stopping
        if thread is not None and loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
            thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> ExampleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
