"""A plain ASGI application: the same server for uvicorn, hypercorn or any ASGI host.

ASGI is a calling convention, not a package: this needs nothing beyond the standard
library and the dispatcher. It answers as the aiohttp handler does (see
:mod:`._aiohttp`): 405, 415, 413 and 400 with a one-line text body; a 200 carrying the
result or a fault otherwise. Here the application inflates gzip and deflate bodies itself,
a bounded piece at a time, and stops at ``max_request_size`` of inflated bytes. A
client's disconnect (``http.disconnect``) cancels its call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from .._exceptions import ResponseError, ResponseTooLarge
from ..codec import DEFAULT_MAX_DEPTH, Limits
from ._aiohttp import _is_xml
from ._dispatcher import DEFAULT_MAX_REQUEST_BYTES, XMLRPCDispatcher, parse_error_fault
from ._inflate import BadBody as _BadBody
from ._inflate import inflate as _inflate
from ._inflate import inflater as _inflater

__all__ = ["asgi_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def asgi_app(
    dispatcher: XMLRPCDispatcher,
    *,
    paths: Iterable[str] | None = None,
    max_request_size: int | None = DEFAULT_MAX_REQUEST_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    page: str | None = None,
) -> ASGIApp:
    """Return an ASGI application answering XML-RPC requests with ``dispatcher``.

    Args:
        dispatcher: What answers the calls.
        paths: The paths that answer XML-RPC (others are 404), below the mount point when
            the application is mounted (``root_path``); ``None`` answers on any.
        max_request_size: The largest request body in bytes, after decompression.
        max_depth: The deepest nesting of arrays and structs accepted.
        page: An HTML page served on GET and HEAD (otherwise 405).
    """
    limits = Limits(max_bytes=max_request_size, max_depth=max_depth)
    allowed = None if paths is None else frozenset(paths)
    allow = "POST" if page is None else "GET, HEAD, POST"
    too_large = f"413 Request Entity Too Large: the body exceeds {max_request_size} bytes"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"aioxmlrpc's ASGI app serves http, not {scope['type']!r}")
        if allowed is not None and _app_path(scope) not in allowed:
            await _reply(send, 404, f"404 Not Found: no XML-RPC endpoint at {scope['path']}")
            return
        method = scope["method"]
        if method != "POST":
            if page is not None and method in ("GET", "HEAD"):
                body = page.encode("utf-8")
                await _reply(send, 200, body, "text/html; charset=utf-8", head=method == "HEAD")
                return
            text = f"405 Method Not Allowed: XML-RPC takes POST requests, not {method}"
            await _reply(send, 405, text, extra=[(b"allow", allow.encode())])
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        content_type = headers.get("content-type")
        if content_type is not None and not _is_xml(content_type):
            text = f"415 Unsupported Media Type: XML-RPC requests are text/xml, not {content_type}"
            await _reply(send, 415, text)
            return
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", "deflate"):
            await _reply(send, 415, f"415 Unsupported Media Type: Content-Encoding {encoding}")
            return
        length = headers.get("content-length")
        if (
            encoding == "identity"
            and max_request_size is not None
            and length is not None
            and length.isdigit()
            and int(length) > max_request_size
        ):
            await _reply(send, 413, too_large)
            return
        inflater = None if encoding == "identity" else _inflater(encoding)
        parser = dispatcher.request_parser(limits)
        try:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # nobody to answer
                data = message.get("body", b"")
                more = bool(message.get("more_body", False))
                if inflater is None:
                    parser.feed(data)
                else:
                    for piece in _inflate(inflater, data, max_request_size):
                        parser.feed(piece)
            if inflater is not None and not inflater.eof:
                raise _BadBody("the compressed body ends early")
            name, params = parser.close()
        except ResponseTooLarge:
            await _reply(send, 413, too_large)
            return
        except ResponseError as exc:
            await _reply(send, 200, dispatcher.fault_response(parse_error_fault(exc)), "text/xml")
            return
        except _BadBody as exc:
            await _reply(send, 400, f"400 Bad Request: cannot inflate the body: {exc}")
            return
        await _call(dispatcher, name, params, receive, send)

    return app


def _app_path(scope: Scope) -> str:
    """The request's path below where the application is mounted.

    ASGI servers and frameworks now put the mount point in ``root_path`` and leave it at
    the start of ``path`` too (Starlette 0.33 and later, uvicorn's ``--root-path``);
    older ones strip it from ``path``. Either way, ``paths`` name paths below the mount.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and (path == root or path.startswith(root.rstrip("/") + "/")):
        return path[len(root.rstrip("/")) :] or "/"
    return path


async def _call(
    dispatcher: XMLRPCDispatcher, name: str, params: tuple[Any, ...], receive: Receive, send: Send
) -> None:
    call = asyncio.ensure_future(dispatcher.call(name, params))
    watch = asyncio.ensure_future(receive())  # after the body, only a disconnect comes
    try:
        await asyncio.wait({call, watch}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        call.cancel()
        watch.cancel()
        raise
    if not call.done():
        call.cancel()  # the client has gone: cancel its call, as the aiohttp handler does
        with contextlib.suppress(asyncio.CancelledError):
            await call
        return
    watch.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await watch
    await _reply(send, 200, call.result(), "text/xml")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _reply(
    send: Send,
    status: int,
    body: bytes | str,
    content_type: str = "text/plain; charset=utf-8",
    *,
    extra: list[tuple[bytes, bytes]] | None = None,
    head: bool = False,
) -> None:
    data = body if isinstance(body, bytes) else (body + "\n").encode("utf-8")
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(data)).encode("ascii")),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else data})
