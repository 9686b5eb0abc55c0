"""Servers for the tests, on 127.0.0.1 only: a correct one built on our codec, routes that
misbehave on purpose (in the test's own event loop, aiohttp.web), the standard library's
``SimpleXMLRPCServer`` serving the seed's ``ExampleService`` (the oracle beside our own
example server), and :class:`ServerThread`, one of our servers in a thread of its own."""

from __future__ import annotations

import asyncio
import gzip
import socketserver
import sys
import threading
import zlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from aiohttp import web

from aioxmlrpc import Fault
from aioxmlrpc._demo import ExampleService
from aioxmlrpc.codec import RequestParser, encode_fault, encode_response
from aioxmlrpc.server import XMLRPCDispatcher, XMLRPCServer, serve

XML = "text/xml"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<methodResponse><params><param><value><string>&lol3;</string></value></param></params>
</methodResponse>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<methodResponse><params><param><value><string>&xxe;</string></value></param></params>
</methodResponse>"""


async def _call(request: web.Request) -> tuple[str, tuple[Any, ...]]:
    parser = RequestParser()
    async for chunk in request.content.iter_chunked(65536):
        parser.feed(chunk)
    return parser.close()


def _reply(value: object) -> web.Response:
    return web.Response(body=encode_response(value, allow_none=True), content_type=XML)


class Methods:
    """What the correct server answers; ``calls`` counts requests by method."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.last_headers: dict[str, str] = {}

    async def dispatch(self, name: str, params: tuple[Any, ...]) -> object:
        self.calls[name] = self.calls.get(name, 0) + 1
        if name == "ping":
            return True
        if name == "echo":
            return params[0] if len(params) == 1 else list(params)
        if name == "sleep":
            await asyncio.sleep(float(params[0]))
            return True
        if name == "fault":
            raise Fault(int(params[0]), str(params[1]))
        if name == "big":
            return ["x" * 100] * int(params[0])
        if name == "headers":
            return self.last_headers
        raise Fault(-32601, f"method {name!r} not found")


def make_app(methods: Methods) -> web.Application:
    """The correct XML-RPC endpoint at /RPC2, plus the misbehaving routes."""

    async def rpc(request: web.Request) -> web.StreamResponse:
        methods.last_headers = dict(request.headers)
        name, params = await _call(request)
        if name == "crash":  # a call that fails as a whole request
            methods.calls[name] = methods.calls.get(name, 0) + 1
            return web.Response(status=500, text="crashed")
        try:
            value = await methods.dispatch(name, params)
        except Fault as fault:
            return web.Response(body=encode_fault(fault), content_type=XML)
        return _reply(value)

    async def multicall(request: web.Request) -> web.StreamResponse:
        # A standard system.multicall over Methods, with calls that misbehave on purpose:
        # "crash" fails the whole request with an HTTP 500, "whole_fault" with a fault for
        # the request, "malformed" answers a bare value where a one-element list belongs.
        name, params = await _call(request)
        methods.calls[name] = methods.calls.get(name, 0) + 1
        if name != "system.multicall":
            try:
                return _reply(await methods.dispatch(name, params))
            except Fault as fault:
                return web.Response(body=encode_fault(fault), content_type=XML)
        results: list[object] = []
        for call in params[0]:
            inner = call["methodName"]
            if inner in ("crash", "whole_fault", "malformed", "dropped"):
                methods.calls[inner] = methods.calls.get(inner, 0) + 1
            if inner == "crash":
                return web.Response(status=500, text="crashed")
            if inner == "whole_fault":
                return web.Response(
                    body=encode_fault(Fault(1, "object not found")), content_type=XML
                )
            if inner == "malformed":
                results.append("bare")
                continue
            if inner == "dropped":  # no result at all: one result short
                continue
            try:
                results.append([await methods.dispatch(inner, tuple(call.get("params", ())))])
            except Fault as fault:
                results.append({"faultCode": fault.faultCode, "faultString": fault.faultString})
        return _reply(results)

    async def status(request: web.Request) -> web.Response:
        methods.calls["status"] = methods.calls.get("status", 0) + 1
        code = int(request.match_info["code"])
        return web.Response(status=code, text="<html>nope</html>", content_type="text/html")

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>login</body></html>", content_type="text/html")

    async def mislabelled(request: web.Request) -> web.Response:
        # A real reply under the wrong label (PHP's default is text/html): read anyway.
        label = request.match_info["label"].replace("-", "/")
        if request.query.get("fault"):
            return web.Response(
                body=encode_fault(Fault(7, "labelled " + label)), content_type=label
            )
        return web.Response(body=encode_response("labelled " + label), content_type=label)

    async def html_doctype(request: web.Request) -> web.Response:
        page = "<!DOCTYPE html>\n<html><body>sign in</body></html>"
        return web.Response(text=page, content_type="text/html")

    async def no_content_type(request: web.Request) -> web.Response:
        response = web.Response(body=encode_response("untyped"))
        response.headers.popall("Content-Type", None)
        return response

    async def malformed(request: web.Request) -> web.Response:
        return web.Response(body=b"<methodResponse><params><param>", content_type=XML)

    async def dtd(request: web.Request) -> web.Response:
        return web.Response(body=BILLION_LAUGHS, content_type=XML)

    async def xxe(request: web.Request) -> web.Response:
        return web.Response(body=XXE, content_type=XML)

    async def truncated(request: web.Request) -> web.StreamResponse:
        body = encode_response("a" * 1000)
        response = web.StreamResponse(headers={"Content-Type": XML})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        assert request.transport is not None
        request.transport.close()
        return response

    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": XML})
        await response.prepare(request)
        for byte in encode_response("slow" * 100):
            await response.write(bytes([byte]))
            await asyncio.sleep(0.2)
        return response

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(60)
        return _reply(True)

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(encode_response(["compressed"] * 1000))
        return web.Response(body=body, content_type=XML, headers={"Content-Encoding": "gzip"})

    async def encoded(request: web.Request) -> web.Response:
        coding = request.match_info["coding"]
        body = encode_response(coding)
        return web.Response(body=body, content_type=XML, headers={"Content-Encoding": coding})

    async def deflated(request: web.Request) -> web.Response:
        body = zlib.compress(encode_response("deflated"))
        return web.Response(body=body, content_type=XML, headers={"Content-Encoding": "deflate"})

    async def gzip_members(request: web.Request) -> web.Response:
        # Two gzip members one after the other, and zero padding: what `cat a.gz b.gz`
        # makes, read whole by gzip.decompress.
        body = encode_response(["member"] * 1000)
        half = len(body) // 2
        data = gzip.compress(body[:half]) + gzip.compress(body[half:]) + b"\x00" * 8
        return web.Response(body=data, content_type=XML, headers={"Content-Encoding": "gzip"})

    async def deflate_members(request: web.Request) -> web.Response:
        body = encode_response(["member"] * 1000)
        half = len(body) // 2
        data = zlib.compress(body[:half]) + zlib.compress(body[half:])
        return web.Response(body=data, content_type=XML, headers={"Content-Encoding": "deflate"})

    async def bomb(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip_bomb(), content_type=XML, headers={"Content-Encoding": "gzip"}
        )

    async def huge(request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("mb", "200")) << 20
        response = web.StreamResponse(headers={"Content-Type": XML})
        if "declared" in request.query:
            response.content_length = size
        await response.prepare(request)
        await response.write(b"<methodResponse><params><param><value><string>")
        block = b"x" * (1 << 20)
        for _ in range(size >> 20):
            await response.write(block)
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/RPC2")

    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app = web.Application()
    for path, handler in [
        ("/RPC2", rpc),
        ("/", rpc),
        ("/multicall", multicall),
        ("/status/{code}", status),
        ("/html", html),
        ("/html-doctype", html_doctype),
        ("/labelled/{label}", mislabelled),
        ("/no-content-type", no_content_type),
        ("/malformed", malformed),
        ("/dtd", dtd),
        ("/xxe", xxe),
        ("/truncated", truncated),
        ("/drip", drip),
        ("/slow", slow),
        ("/gzip", gzipped),
        ("/deflate", deflated),
        ("/encoded/{coding}", encoded),
        ("/gzip-members", gzip_members),
        ("/deflate-members", deflate_members),
        ("/gzip-bomb", bomb),
        ("/huge", huge),
        ("/redirect", redirect),
        ("/drop", drop),
    ]:
        app.router.add_post(path, handler)
    return app


_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """About 300 KiB of gzip that inflates to 300 MiB, inside a valid-looking document."""
    if not _BOMB:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        parts = [compressor.compress(b"<methodResponse><params><param><value><string>")]
        block = b"x" * (1 << 20)
        parts += [compressor.compress(block) for _ in range(300)]
        parts.append(compressor.flush())
        _BOMB.append(b"".join(parts))
    return _BOMB[0]


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """Read one HTTP request (headers and Content-Length body); None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return await reader.readexactly(length)


def http_reply(body: bytes, keep_alive: bool = True) -> bytes:
    """A minimal HTTP/1.1 200 reply carrying ``body``."""
    connection = b"keep-alive" if keep_alive else b"close"
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: "
        + connection
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


# -- the standard library's example server: the oracle ---------------------------------------


class _StdlibHandler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/", "/RPC2")

    def log_message(self, format: str, *args: object) -> None:
        pass


class _ThreadedStdlibServer(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class StdlibExampleServer:
    """The seed's ``xmlrpc_server.py``: ``SimpleXMLRPCServer`` with ``ExampleService``."""

    def __init__(self) -> None:
        self._server = _ThreadedStdlibServer(
            ("127.0.0.1", 0), _StdlibHandler, logRequests=False, allow_none=True
        )
        self._server.register_introspection_functions()
        self._server.register_multicall_functions()
        self._server.register_instance(ExampleService())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/RPC2"

    def __enter__(self) -> StdlibExampleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


# -- one of our servers, in a thread with its own event loop ----------------------------------


class ServerThread:
    """``serve(dispatcher, **options)`` on 127.0.0.1 in a background thread."""

    def __init__(self, dispatcher: XMLRPCDispatcher, **options: Any) -> None:
        self._dispatcher = dispatcher
        self._options = options
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.server: XMLRPCServer | None = None

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._dispatcher, "127.0.0.1", 0, **self._options) as server:
            self.server = server
            self._ready.set()
            await self._stop.wait()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None
        return self._loop

    def __enter__(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout=20):
            raise RuntimeError("the server did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=20)
