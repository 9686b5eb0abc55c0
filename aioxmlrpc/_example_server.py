"""The example server of the tour: the seed's ``ExampleService``, on loopback by default.

It is the standard library's :class:`~xmlrpc.server.SimpleXMLRPCServer` (threaded, so
concurrent calls do not queue behind one another), with ``None`` allowed, introspection
and ``system.multicall`` registered, exactly as the seed's ``xmlrpc_server.py``. The
examples, the demo tour and the tests all talk to it.
"""

from __future__ import annotations

import datetime
import socketserver
import sys
import threading
from types import TracebackType
from typing import Any
from xmlrpc.client import Binary
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

__all__ = ["ExampleServer", "ExampleService"]


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


class _Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/", "/RPC2")

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the tour prints what matters


class _ThreadedServer(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # socketserver's 5 refuses bursts of concurrent clients

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (timed out, cancelled) is routine, not a traceback.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class ExampleServer:
    """The example server, started in a background thread.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with ExampleServer() as server:
            print(server.url)   # http://127.0.0.1:<free port>/RPC2

    Args:
        host: The address to listen on (loopback by default).
        port: The port (0 picks a free one).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind the socket now (so the port is known); serve on :meth:`start`."""
        self._server = _ThreadedServer((host, port), _Handler, logRequests=False, allow_none=True)
        self._server.register_introspection_functions()
        self._server.register_multicall_functions()
        self._server.register_instance(ExampleService())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/RPC2"

    def start(self) -> ExampleServer:
        """Serve in a daemon thread; return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="aioxmlrpc-example-server", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ExampleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
