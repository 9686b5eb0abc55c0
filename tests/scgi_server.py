"""A small SCGI server on the standard library, for what rTorrent cannot be made to do.

It checks the request's framing (a netstring of NUL-terminated pairs, ``CONTENT_LENGTH``
first, ``SCGI`` = ``1``, a body of exactly that length) and answers with the stdlib's
XML-RPC dispatcher. Methods named ``mode.*`` misbehave on purpose, one way each: a bad
head, a 500, HTML, an oversized or dripping body, a connection closed mid-reply...

It runs in threads of the test process, on 127.0.0.1 (port 0) or a unix socket, and is
stopped by :meth:`SCGIServer.stop`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
import time
import xmlrpc.client
from typing import Any
from xmlrpc.server import SimpleXMLRPCDispatcher

MAX_REQUEST = 1 << 20
DRIP_PAUSE = 0.2  # seconds between two bytes of a dripping reply


def _reply(body: bytes, head: str = "Status: 200 OK\r\nContent-Type: text/xml\r\n") -> bytes:
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body


def _xml(value: Any) -> bytes:
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode("utf-8")


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _read_request(self) -> tuple[list[tuple[str, str]], bytes]:
        digits = b""
        while (char := self.rfile.read(1)) != b":":
            if not char.isdigit() or len(digits) > 8:
                raise ValueError(f"bad netstring length {digits + char!r}")
            digits += char
        size = int(digits)
        raw = self.rfile.read(size)
        if self.rfile.read(1) != b",":
            raise ValueError("netstring not closed by ','")
        if not raw.endswith(b"\x00"):
            raise ValueError("headers not NUL-terminated")
        items = raw[:-1].split(b"\x00")
        if len(items) % 2:
            raise ValueError("odd number of header strings")
        pairs = [
            (items[i].decode("latin-1"), items[i + 1].decode("latin-1"))
            for i in range(0, len(items), 2)
        ]
        if not pairs or pairs[0][0] != "CONTENT_LENGTH":
            raise ValueError("CONTENT_LENGTH is not the first header")
        if ("SCGI", "1") not in pairs:
            raise ValueError("no SCGI=1 header")
        length = int(pairs[0][1])
        if length > MAX_REQUEST:
            raise ValueError("request too large")
        body = self.rfile.read(length)
        if len(body) != length:
            raise ValueError("body shorter than CONTENT_LENGTH")
        return pairs, body

    def handle(self) -> None:
        self.server.connections += 1
        try:
            pairs, body = self._read_request()
        except ValueError as exc:
            self.server.framing_errors.append(str(exc))
            self.wfile.write(_reply(b"bad request", "Status: 400 Bad Request\r\n"))
            return
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        self.server.requests.append((pairs, method, params))
        if method and method.startswith("mode."):
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._misbehave(method[5:], params)  # the client may hang up: on purpose
            return
        if method == "scgi.headers":
            self.wfile.write(_reply(_xml([list(pair) for pair in pairs])))
            return
        answer: bytes | str = self.server.dispatcher._marshaled_dispatch(body)
        self.wfile.write(_reply(answer.encode() if isinstance(answer, str) else answer))

    def _misbehave(self, mode: str, params: tuple[Any, ...]) -> None:
        out = self.wfile
        ok = _xml("ok")
        if mode == "status500":
            out.write(_reply(b"oops", "Status: 500 Internal Server Error\r\nX-Why: testing\r\n"))
        elif mode == "bad_line":
            out.write(b"this is not a header\r\n\r\n" + ok)
        elif mode == "bad_status":
            out.write(b"Status: abc\r\n\r\n" + ok)
        elif mode == "bad_length":
            out.write(b"Content-Length: ten\r\n\r\n" + ok)
        elif mode == "html":
            out.write(
                _reply(b"<html>login</html>", "Status: 200 OK\r\nContent-Type: text/html\r\n")
            )
        elif mode == "labelled_html":  # a real reply under the wrong label: read anyway
            out.write(_reply(ok, "Status: 200 OK\r\nContent-Type: text/html\r\n"))
        elif mode == "lf_only":
            out.write(b"Status: 200 OK\nContent-Type: text/xml\n\n" + ok)
        elif mode == "no_status_no_length":
            out.write(b"Content-Type: text/xml\r\n\r\n" + ok)
        elif mode == "declared_large":
            out.write(b"Status: 200 OK\r\nContent-Length: %d\r\n\r\n" % params[0])
        elif mode == "streamed_large":
            out.write(b"Status: 200 OK\r\n\r\n")
            out.write(_xml("x" * params[0]))
        elif mode == "huge_head":
            out.write(b"X-Big: " + b"a" * (100 * 1024) + b"\r\n\r\n" + ok)
        elif mode == "many_headers":
            out.write(b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60) for i in range(2000)) + b"\r\n")
        elif mode == "drip":
            reply = _reply(ok)
            for index in range(len(reply)):
                out.write(reply[index : index + 1])
                out.flush()
                time.sleep(DRIP_PAUSE)
        elif mode == "close_mid_body":
            reply = _reply(_xml("y" * 1000))
            out.write(reply[: len(reply) // 2])
        elif mode == "close_mid_head":
            out.write(b"Status: 200 OK\r\nContent-Ty")
        elif mode == "close_at_once":
            pass
        elif mode == "long_body":
            body = _xml("z" * params[0])
            out.write(_reply(body))
        elif mode == "fault":
            out.write(_reply(xmlrpc.client.dumps(xmlrpc.client.Fault(7, "seven")).encode()))
        else:
            out.write(_reply(b"", "Status: 404 Not Found\r\n"))


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    dispatcher: SimpleXMLRPCDispatcher
    connections: int
    framing_errors: list[str]
    requests: list[tuple[list[tuple[str, str]], str | None, tuple[Any, ...]]]


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    dispatcher: SimpleXMLRPCDispatcher
    connections: int
    framing_errors: list[str]
    requests: list[tuple[list[tuple[str, str]], str | None, tuple[Any, ...]]]


class SCGIServer:
    """The server, on 127.0.0.1 or on ``unix_path``, serving in a background thread."""

    def __init__(self, unix_path: str | None = None) -> None:
        """Bind (port 0 for TCP) and start serving."""
        dispatcher = SimpleXMLRPCDispatcher(allow_none=True, use_builtin_types=True)
        dispatcher.register_introspection_functions()
        dispatcher.register_multicall_functions()
        dispatcher.register_function(lambda value: value, "echo")
        dispatcher.register_function(lambda a, b: a + b, "add")
        server: _Server | _UnixServer
        self.port = 0
        if unix_path is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            self.port = server.socket.getsockname()[1]
            self.url = f"scgi://127.0.0.1:{self.port}/"
        else:
            server = _UnixServer(unix_path, _Handler)
            self.url = f"scgi+unix://{unix_path}"
        self._unix_path = unix_path
        server.dispatcher = dispatcher
        server.connections = 0
        server.framing_errors = []
        server.requests = []
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    @property
    def connections(self) -> int:
        """How many connections were accepted so far."""
        return self._server.connections

    @property
    def framing_errors(self) -> list[str]:
        """What was wrong with requests whose framing was refused."""
        return self._server.framing_errors

    @property
    def requests(self) -> list[tuple[list[tuple[str, str]], str | None, tuple[Any, ...]]]:
        """Each request's headers, method name and parameters."""
        return self._server.requests

    def send_raw(self, data: bytes) -> bytes:
        """Send ``data`` on a new connection; return everything the server answers."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._unix_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._unix_path)
