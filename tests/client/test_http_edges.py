"""The HTTP side's less travelled paths: decompression rules, option checks, rare errors."""

from __future__ import annotations

import asyncio
import datetime
import errno
import gzip
import pickle
import socket
import zlib
from decimal import Decimal

import aiohttp
import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Binary,
    ConnectionRefused,
    DateTime,
    HTTPTransport,
    InvalidResponse,
    MultiCall,
    NameResolutionError,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
    UnsafeXML,
)
from aioxmlrpc._http import parse_uri
from aioxmlrpc._http._inflate import Inflater
from aioxmlrpc._http._pool import FairGate, GateClosed
from aioxmlrpc._redact import redact_url


def _inflate(encoding: str, data: bytes, step: int = 7) -> bytes:
    inflater = Inflater(encoding)
    out = [piece for i in range(0, len(data), step) for piece in inflater.feed(data[i : i + step])]
    inflater.finish()
    return b"".join(out)


def test_raw_deflate_without_its_zlib_header_is_read() -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = raw.compress(b"<xml/>" * 100) + raw.flush()
    assert _inflate("deflate", data) == b"<xml/>" * 100


def test_junk_after_a_gzip_member_is_refused_as_gzip_decompress_refuses_it() -> None:
    data = gzip.compress(b"abc") + b"junk"
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(data)
    with pytest.raises(InvalidResponse, match="junk after member 1"):
        _inflate("gzip", data)


def test_bytes_after_a_deflate_stream_are_ignored_as_zlib_ignores_them() -> None:
    data = zlib.compress(b"abc") + b"junk that is no zlib stream"
    assert zlib.decompress(data) == b"abc"
    assert _inflate("deflate", data) == b"abc"
    assert _inflate("deflate", zlib.compress(b"abc") + b"j", step=1000) == b"abc"


def test_a_cut_or_corrupt_compressed_body_is_refused() -> None:
    with pytest.raises(TruncatedResponse, match="ended early"):
        _inflate("gzip", gzip.compress(b"abc" * 100)[:-6])
    with pytest.raises(TruncatedResponse, match="ended early"):
        _inflate("gzip", gzip.compress(b"abc") + b"\x1f")  # a second member barely begun
    with pytest.raises(InvalidResponse, match="not valid gzip"):
        _inflate("gzip", b"\x1f\x8b\x08\x00" + b"\xff" * 40)


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate"])
@pytest.mark.parametrize("step", [1, 7, 100_000])
def test_a_plain_body_labelled_compressed_is_read_as_it_is(encoding: str, step: int) -> None:
    # A proxy inflated it and kept the header: it does not inflate, and begins as XML does.
    for body in (b"<?xml version='1.0'?><methodResponse/>", b"\n <a/>", b"\xef\xbb\xbf<a/>"):
        assert _inflate(encoding, body, step) == body


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_body_that_neither_inflates_nor_looks_like_xml_is_refused(encoding: str) -> None:
    with pytest.raises(InvalidResponse, match=f"not valid {encoding}"):
        _inflate(encoding, b"plain text, not XML " * 10, step=1000)
    # Once something inflated, an error later is an error: no second guess.
    with pytest.raises(InvalidResponse, match="junk after member 1"):
        _inflate("gzip", gzip.compress(b"<a/>") + b"<b/>")


@pytest.mark.parametrize(
    ("coding", "ok"),
    [("identity", True), ("br", False), ("gzip", True), ("x-gzip", True), ("deflate", True)],
)
async def test_content_encodings(raw_server: str, coding: str, ok: bool) -> None:
    # The server labels a plain body with ``coding``: read as it is where it can be.
    async with AsyncServerProxy(f"{raw_server}/encoded/{coding}") as proxy:
        if ok:
            assert await proxy.ping() == coding
        else:
            with pytest.raises(InvalidResponse, match="unsupported Content-Encoding 'br'"):
                await proxy.ping()


async def test_a_silent_server_names_the_sock_read_timeout(raw_server: str) -> None:
    timeout = aiohttp.ClientTimeout(total=10, sock_read=0.3)
    async with AsyncServerProxy(f"{raw_server}/slow", timeout=timeout) as proxy:
        with pytest.raises(TransportTimeout) as info:
            await proxy.ping()
    assert str(info.value) == f"{raw_server}/slow sent nothing for 0.3 s (sock_read timeout)"


def test_bad_options_are_refused_at_construction() -> None:
    with pytest.raises(TypeError, match="timeout must be a number of seconds or None"):
        AsyncServerProxy("http://127.0.0.1:1/RPC2", timeout="5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pool_size must be at least 1"):
        HTTPTransport(pool_size=0)
    with pytest.raises(OSError, match="no host"):
        parse_uri("http:///RPC2")
    transport = HTTPTransport()
    assert not transport.closed


async def test_a_closed_gate_refuses_newcomers() -> None:
    gate = FairGate(1, None)
    assert gate.try_enter()
    assert gate.busy == 1
    waiter = asyncio.ensure_future(gate.enter())
    await asyncio.sleep(0)
    gate.close()
    with pytest.raises(GateClosed):
        await waiter
    with pytest.raises(GateClosed):
        await gate.enter()
    gate.leave()  # a holder leaving a closed gate: nothing to hand over


async def test_multicall_refuses_bad_options_and_short_replies(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/multicall") as proxy:
        multicall = MultiCall(proxy)
        multicall.ping()
        multicall.dropped()
        with pytest.raises(ValueError, match="chunk_size must be at least 1"):
            await multicall(chunk_size=0)
        with pytest.raises(ValueError, match="max_concurrency must be at least 1"):
            await multicall(max_concurrency=0)
        with pytest.raises(InvalidResponse, match="returned 1 results for 2 calls"):
            await multicall()
        with pytest.raises(AttributeError):
            multicall.__wrapped__  # noqa: B018 - dunders are never remote methods
        results = await MultiCall(proxy)()
        assert repr(results) == "<MultiCallIterator of 0 results>"


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefused("cannot connect: Connection refused", errno.ECONNREFUSED),
        NameResolutionError("cannot resolve", socket.EAI_NONAME),
        TransportError("plain"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_transport_errors_pickle_with_their_message_and_errno(error: TransportError) -> None:
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert (str(copy), copy.errno) == (str(error), error.errno)


def test_the_cli_shows_xmlrpc_values_as_json() -> None:
    from aioxmlrpc._cli import _jsonable

    assert _jsonable(Binary(b"\x00x")) == _jsonable(b"\x00x") == "AHg="
    assert _jsonable(DateTime("20240229T12:34:56")) == "20240229T12:34:56"
    assert _jsonable(datetime.datetime(2024, 2, 29, 12, 34, 56)) == "2024-02-29T12:34:56"
    assert _jsonable(Decimal("1.5")) == "1.5"
    with pytest.raises(TypeError, match="cannot show set as JSON"):
        _jsonable({1})


def test_names_for_introspection_are_never_remote_methods() -> None:
    proxy = AsyncServerProxy("http://127.0.0.1:1/RPC2")
    method = proxy.system.listMethods
    assert repr(method) == "<remote method 'system.listMethods'>"
    with pytest.raises(AttributeError):
        proxy.__wrapped__  # noqa: B018
    with pytest.raises(AttributeError):
        method.__wrapped__  # noqa: B018
    assert repr(UnsafeXML("no")) == "UnsafeXML('no')"
    assert redact_url("http://u:secret@[::1/RPC2") == "***"  # unparseable: nothing shown
