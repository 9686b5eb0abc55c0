"""The ASGI application, driven directly with ASGI messages (no ASGI server needed)."""

from __future__ import annotations

import asyncio
import gzip
import xmlrpc.client
import zlib
from typing import Any

import pytest

from aioxmlrpc.server import XMLRPCDispatcher, asgi_app

from servers import BILLION_LAUGHS, gzip_bomb

PING = xmlrpc.client.dumps((), "ping").encode()
LIMIT = 64 * 1024


class Hanging:
    def __init__(self) -> None:
        self.cancelled = asyncio.Event()


def dispatcher(hanging: Hanging | None = None) -> XMLRPCDispatcher:
    d = XMLRPCDispatcher()
    d.register_function(lambda: True, "ping")
    d.register_function(lambda value: value, "echo")

    @d.register_function
    async def hang() -> bool:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if hanging is not None:
                hanging.cancelled.set()
            raise
        return True

    return d


async def run(
    app: Any,
    body_parts: list[bytes],
    *,
    method: str = "POST",
    path: str = "/RPC2",
    root_path: str | None = None,
    headers: dict[str, str] | None = None,
    disconnect: bool = False,
    cut: bool = False,
) -> tuple[int, dict[str, str], bytes]:
    headers = {"content-type": "text/xml", **(headers or {})}
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    if root_path is not None:
        scope["root_path"] = root_path
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for index, part in enumerate(body_parts):
        more = cut or index < len(body_parts) - 1
        messages.put_nowait({"type": "http.request", "body": part, "more_body": more})
    if disconnect:
        messages.put_nowait({"type": "http.disconnect"})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return await messages.get()

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await asyncio.wait_for(app(scope, receive, send), 10)
    if not sent:
        return 0, {}, b""
    start, body = sent
    names = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], names, body["body"]


async def test_a_call_is_answered() -> None:
    status, headers, body = await run(asgi_app(dispatcher()), [PING])
    assert (status, headers["content-type"]) == (200, "text/xml")
    assert xmlrpc.client.loads(body)[0] == (True,)
    status, _, body = await run(asgi_app(dispatcher()), [PING[:10], PING[10:]])
    assert xmlrpc.client.loads(body)[0] == (True,)


async def test_http_errors_as_the_aiohttp_handler_gives_them() -> None:
    app = asgi_app(dispatcher(), paths=["/RPC2"], max_request_size=LIMIT)
    status, headers, body = await run(app, [b""], method="GET")
    assert (status, headers["allow"]) == (405, "POST")
    assert await run(app, [PING], path="/x") == (
        404,
        {"content-type": "text/plain; charset=utf-8", "content-length": "41"},
        b"404 Not Found: no XML-RPC endpoint at /x\n",
    )
    status, _, body = await run(app, [PING], headers={"content-type": "application/json"})
    assert status == 415
    status, _, _ = await run(app, [PING], headers={"content-encoding": "br"})
    assert status == 415
    status, _, _ = await run(app, [b""], headers={"content-length": str(LIMIT + 1)})
    assert status == 413
    big = xmlrpc.client.dumps(("x" * LIMIT,), "echo").encode()
    status, _, _ = await run(app, [big[:1000], big[1000:]])
    assert status == 413
    paged = asgi_app(dispatcher(), page="<p>hi</p>")
    status, headers, body = await run(paged, [b""], method="GET")
    assert (status, body) == (200, b"<p>hi</p>")
    status, _, body = await run(paged, [b""], method="HEAD")
    assert (status, body) == (200, b"")
    assert (await run(paged, [b""], method="PUT"))[1]["allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize(
    ("root_path", "path", "status"),
    [
        ("/xmlrpc", "/xmlrpc/RPC2", 200),  # the mount point in both (Starlette 0.33+)
        ("/xmlrpc", "/RPC2", 200),  # stripped from path (older servers)
        ("/xmlrpc/", "/xmlrpc/RPC2", 200),
        ("/xmlrpc", "/xmlrpc/other", 404),
        ("/xmlrpc", "/xmlrpcRPC2", 404),  # not below the mount point
        ("/RPC", "/RPC2", 200),  # a path that only starts like the root is not cut
        ("", "/RPC2", 200),
    ],
)
async def test_paths_are_below_the_mount_point(root_path: str, path: str, status: int) -> None:
    app = asgi_app(dispatcher(), paths=["/RPC2"])
    answered, _, body = await run(app, [PING], path=path, root_path=root_path)
    assert answered == status, body
    if status == 404:
        assert body == f"404 Not Found: no XML-RPC endpoint at {path}\n".encode()


async def test_parse_errors_are_faults() -> None:
    app = asgi_app(dispatcher())
    for body, code in [
        (b"<methodCall>", -32700),
        (BILLION_LAUGHS.replace(b"methodResponse", b"methodCall"), -32700),
        (xmlrpc.client.dumps((1,), methodresponse=True).encode(), -32600),
    ]:
        status, _, reply = await run(app, [body])
        assert status == 200
        with pytest.raises(xmlrpc.client.Fault) as info:
            xmlrpc.client.loads(reply)
        assert info.value.faultCode == code


async def test_gzip_and_deflate_bodies_are_inflated_and_bounded() -> None:
    app = asgi_app(dispatcher(), max_request_size=LIMIT)
    body = xmlrpc.client.dumps(("x" * 1000,), "echo").encode()
    for encoding, data in [("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))]:
        status, _, reply = await run(
            app, [data[:7], data[7:]], headers={"content-encoding": encoding}
        )
        assert status == 200, encoding
        assert xmlrpc.client.loads(reply)[0] == ("x" * 1000,)
    status, _, _ = await run(app, [gzip_bomb()], headers={"content-encoding": "gzip"})
    assert status == 413
    status, _, reply = await run(app, [b"not gzip"], headers={"content-encoding": "gzip"})
    assert status == 400
    status, _, _ = await run(app, [gzip.compress(body)[:-8]], headers={"content-encoding": "gzip"})
    assert status == 400


async def test_a_disconnect_cancels_the_call_and_lifespan_is_answered() -> None:
    hanging = Hanging()
    app = asgi_app(dispatcher(hanging))
    hang = xmlrpc.client.dumps((), "hang").encode()
    assert await run(app, [hang], disconnect=True) == (0, {}, b"")
    assert hanging.cancelled.is_set()
    assert await run(app, [hang[:5]], disconnect=True, cut=True) == (0, {}, b"")

    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Any] = []

    async def receive() -> Any:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    with pytest.raises(ValueError, match="websocket"):
        await app({"type": "websocket"}, receive, send)
