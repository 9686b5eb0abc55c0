"""A fast XML-RPC server for ``bench_client.py``: prebuilt replies, on 127.0.0.1 only.

It answers ``ping()`` (True) and ``echo(PAYLOAD)`` (PAYLOAD) over HTTP/1.1 keep-alive
from an :class:`asyncio.Protocol` that parses no more than it must: the header block up
to the blank line, its Content-Length, the body. The reply is looked up by the whole
request body in a dict of prebuilt responses (hashing a 1 KB body costs well under a
microsecond), so every request is checked byte for byte at no real cost; any other body
gets a prebuilt fault. Only the standard library is imported: the process stays small.

Run by the benchmark as ``python benchmarks/_fast_server.py [--max-seconds N]``; it binds
a free port, prints ``PORT <n>`` on stdout and serves until SIGTERM, until its stdin
closes (the benchmark died), or for ``--max-seconds`` at most.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import xmlrpc.client
from typing import Any

HOST = "127.0.0.1"
MAX_HEADER = 16 * 1024
MAX_BODY = 1024 * 1024

# The struct echoed: ints, strings, floats and nested lists; its methodCall is ~1 KB.
# Plain values only, so that the standard library and aioxmlrpc marshal it identically.
PAYLOAD: dict[str, Any] = {
    "id": 4242,
    "user": "alice",
    "score": 98.625,
    "ratio": 0.3333333333333333,
    "tags": ["alpha", "beta", 7, -1.5],
    "matrix": [[1, 2], [4.5, "x"]],
    "note": "the quick brown fox",
}


def request_body(method: str, params: tuple[Any, ...]) -> bytes:
    """The body ``xmlrpc.client.ServerProxy`` sends (aioxmlrpc sends the same bytes)."""
    return xmlrpc.client.dumps(params, method, encoding="utf-8").encode("utf-8")


def response_body(value: Any) -> bytes:
    """The ``methodResponse`` document carrying ``value``."""
    return xmlrpc.client.dumps((value,), methodresponse=True).encode("utf-8")


def http_response(body: bytes) -> bytes:
    """A complete HTTP/1.1 200 reply carrying ``body`` (keep-alive is HTTP/1.1's default)."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


def replies() -> dict[bytes, bytes]:
    """Request body -> complete HTTP reply, for every request the benchmark makes."""
    return {
        request_body("ping", ()): http_response(response_body(True)),
        request_body("echo", (PAYLOAD,)): http_response(response_body(PAYLOAD)),
    }


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)
_UNEXPECTED = http_response(
    xmlrpc.client.dumps(xmlrpc.client.Fault(1, "unexpected request body")).encode("utf-8")
)
_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class _HTTPProtocol(asyncio.Protocol):
    """One connection: requests parsed from a buffer, prebuilt replies written back."""

    def __init__(self, table: dict[bytes, bytes]) -> None:
        self._table = table
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        if transport is None:
            return
        buffer = self._buffer
        buffer += data
        out: list[bytes] = []
        while True:  # bounded: every pass consumes a request from the buffer, or stops
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEADER:
                    self._refuse(out)
                break
            match = _CONTENT_LENGTH.search(buffer, 0, end + 2)
            length = int(match.group(1)) if match else -1
            if not 0 <= length <= MAX_BODY:
                self._refuse(out)
                break
            start = end + 4
            stop = start + length
            if len(buffer) < stop:
                break
            body = bytes(buffer[start:stop])
            del buffer[:stop]
            out.append(self._table.get(body, _UNEXPECTED))
        if out:
            transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _refuse(self, out: list[bytes]) -> None:
        out.append(_BAD_REQUEST)
        self._buffer.clear()
        if self._transport is not None:
            self._transport.write(b"".join(out))
            out.clear()
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


async def serve(max_seconds: float) -> None:
    """Serve until stdin closes or ``max_seconds`` pass; print the port first."""
    loop = asyncio.get_running_loop()
    table = replies()
    server = await loop.create_server(
        lambda: _HTTPProtocol(table), HOST, 0, backlog=4096, reuse_address=True
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    stdin_closed = asyncio.Event()

    class _StdinWatch(asyncio.Protocol):
        def connection_lost(self, exc: Exception | None) -> None:
            stdin_closed.set()

    await loop.connect_read_pipe(_StdinWatch, sys.stdin)
    try:
        await asyncio.wait_for(stdin_closed.wait(), timeout=max_seconds)
    except asyncio.TimeoutError:
        print("fast server: --max-seconds reached, exiting", file=sys.stderr)
    finally:
        server.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="prebuilt-reply XML-RPC server (benchmarks)")
    ap.add_argument("--max-seconds", type=float, default=3600.0, help="lifetime bound")
    args = ap.parse_args(argv)
    asyncio.run(serve(args.max_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
