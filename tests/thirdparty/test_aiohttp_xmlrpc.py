"""aiohttp-xmlrpc 1.5.0 (PyPI), an XML-RPC view and client on aiohttp and lxml, both ways.

The closest alternative to this package: asyncio, on aiohttp too.

- Its server, an ``XMLRPCView`` subclass in an ``aiohttp.web`` application, against
  AsyncServerProxy, with the standard library's ``ServerProxy`` as the oracle: every
  answer must be the one the standard library reads from the same server.
- Its client, ``aiohttp_xmlrpc.client.ServerProxy``, against our example server, its
  answers compared with those of the standard library's ``SimpleXMLRPCServer`` serving
  the same ``ExampleService``.

The server runs in this process, in each test's own event loop, on a free port of
127.0.0.1 (a fresh one per test, closed after it): it is Python on the same aiohttp, so a
child process would add nothing but start-up time, and in the loop a middleware sees
each request's connection. Its only process-wide state is its type and exception
registries, which these tests read and never change.

What its server does, as these tests pin it:

- a reply declares ``<?xml version='1.0' encoding='utf-8'?>`` (lxml's quotes), labelled
  ``text/xml; charset=utf-8``; a request is checked against its RelaxNG schema first,
  and one the schema refuses is an HTTP 400 (text), never a fault: a ``<double>`` that
  is ``inf`` or ``nan`` (which the schema's ``xsd:double`` spells ``INF``, ``NaN``), an
  ``<i8>``, a method name with a character beyond ``[a-zA-Z0-9_.:/]``;
- an integer is an ``<i4>`` only strictly inside the 32-bit range: 2**31 - 1, -2**31 and
  beyond are written as a ``<double>`` (read as a float); a double is ``str(float)``
  (``1e-07``, ``1e+20``, ``-0.0``, ``inf``, ``nan``), a date ``strftime`` without its
  microseconds, a year before 1000 without the leading zeros of a four-digit year
  (``9990102T03:04:05``: the standard library reads that as 9990-10-02 with
  ``use_datetime``, we refuse it); ``bytes`` are decoded and written as a ``<string>``,
  its own ``Binary`` as ``<base64>``; ``None`` is ``<nil/>`` whatever ``allow_none``;
- every string it reads is ``str.strip()``-ed (``" pad "``, tabs, line ends, U+00A0,
  U+2028 at either end are lost), CR LF and a lone CR arrive as LF (lxml), an empty
  member name becomes the key ``None`` (written back as ``"None"``); an empty
  ``<base64></base64>``, as we write ``Binary(b"")``, it reads as plain ``bytes`` and
  echoes as an empty ``<string>`` (the standard library's ``<base64>\\n</base64>`` comes
  back as base64); it reads only the basic date form (``2024-02-29T12:34:56``, or a
  trailing ``Z``, is a fault);
- a fault's code is its exception class's (``ApplicationError`` -32500,
  ``InvalidArguments`` -32602, any other exception -32000) and its text the exception's
  ``repr``; an unknown method is fault -32500, bad parameters a ``TypeError``'s -32000;
  there is no introspection and no ``system.multicall`` (``MultiCall(fallback=True)``
  sends the calls one by one);
- aiohttp inflates a gzipped request; no reply is compressed; connections are kept alive,
  closed when idle past the runner's ``keepalive_timeout``.

Its client writes requests in ASCII, each character beyond it a reference, under
``<?xml version='1.0' encoding='ASCII'?>``; sends 2**31 - 1 and beyond as a ``<double>``,
``bytes`` as a ``<string>``, keyword arguments as a last struct; strips every string it
reads and refuses a reply its schema refuses (``<double>nan</double>``: ``ValueError``);
a fault is an exception of the class its code names (``MethodNotFound`` for -32601),
``ServerError`` with that code otherwise. ``async with`` it yields its aiohttp session,
not the proxy; it hands aiohttp each request as ``bytes``, so one over 1 MiB raises
aiohttp's ``ResourceWarning`` (an error under this suite's filters). From our server it
gets what it gets from ``SimpleXMLRPCServer``.

The package is in the ``test`` extra; without it these tests fail, saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import importlib
import math
import time
import xmlrpc.client
from collections.abc import AsyncIterator, Callable
from typing import Any, NamedTuple

import aiohttp
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from aioxmlrpc import (
    AsyncServerProxy,
    Binary,
    DateTime,
    Fault,
    InvalidValue,
    MultiCall,
    ProtocolError,
    codec,
)
from aioxmlrpc._demo import ExampleServer

from peers import both, exact, stdlib_proxy
from servers import StdlibExampleServer

CALL_TIMEOUT = 10.0  # seconds for any one call, ours, the standard library's or its client's
IDLE_TIMEOUT = 0.2  # the keepalive_timeout of the server that closes idle connections

# What the view's typed() returns, as the standard library reads it: keep the two in step.
BLOB = b"\x00\x01b\xfe\xff"
STRING = "h\u00e9llo & <tag> ]]> \u2603 \U0001f600"
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -7,
    "above_min": -(2**31) + 1,
    "int_max": float(2**31 - 1),  # <double>2147483647</double>
    "int_min": float(-(2**31)),
    "big": float(2**40),
    "double": 2.5,
    "tenth": 0.1,
    "tiny": 1e-7,
    "huge": 1e20,
    "negative_zero": -0.0,
    "inf": math.inf,
    "minus_inf": -math.inf,
    "nan": math.nan,
    "true": True,
    "false": False,
    "string": STRING,
    "padded": " \tpad\n",  # written as it is: only what it reads is stripped
    "empty": "",
    "nil": None,
    "when": DateTime("20240229T12:34:56"),  # its microseconds dropped
    "blob": Binary(BLOB),
    "bytes": "text",  # bytes: decoded, a <string>
    "list": [1, "two", [3, []]],  # a tuple is an array
    "set": [1],
    "nested": {"a": {"b": {}}, "k&<>": "v", "1": "an int key"},
}


# What it answers for a date its strptime formats do not read (its spelling).
DATE_FAULT = (
    'ValueError("It\'s impossible to parse dataetime with formats %s", '
    "['%Y%m%dT%H:%M:%S', '%Y%m%dT%H%M%S'])"
)


def _big_text(size: int) -> str:
    """What big(size) returns."""
    return ("x<y&z " * (size // 6 + 1))[:size]


class Package(NamedTuple):
    """The parts of aiohttp_xmlrpc the tests use (it has no type hints: Any)."""

    handler: Any
    client: Any
    common: Any
    exceptions: Any


@functools.cache
def _package() -> Package:
    """The package, or the test's failure saying it is missing (never a skip)."""
    try:
        modules = [
            importlib.import_module(f"aiohttp_xmlrpc.{name}")
            for name in ("handler", "client", "common", "exceptions")
        ]
    except ImportError as exc:
        missing = str(exc)
    else:
        return Package(*modules)
    pytest.fail(
        f"aiohttp-xmlrpc is not installed ({missing}): it is in the test extra, "
        "pip install -e '.[test]' (.ci/test does)",
        pytrace=False,
    )


@functools.cache
def _view() -> type[web.View]:
    """The view the tests serve: its ``rpc_`` methods are the XML-RPC methods."""
    package = _package()
    exceptions = package.exceptions
    faults: dict[str, Callable[[], Exception]] = {
        "application": lambda: exceptions.ApplicationError("it failed: a<b & c"),
        "invalid_arguments": lambda: exceptions.InvalidArguments("no"),
        "exception": lambda: ValueError("not a fault"),
    }

    from aiohttp_xmlrpc import handler  # type: ignore[import-untyped]  # (or _package fails)

    class View(handler.XMLRPCView):  # type: ignore[misc]  # a class of an untyped package
        def rpc_echo(self, value: object) -> object:
            return value

        def rpc_add(self, a: Any, b: Any) -> Any:
            return a + b

        def rpc_typed(self) -> dict[str, Any]:
            return dict(
                TYPED,
                int_max=2**31 - 1,
                int_min=-(2**31),
                big=2**40,
                when=datetime.datetime(2024, 2, 29, 12, 34, 56, 789),
                blob=package.common.Binary(BLOB),
                bytes=b"text",
                list=[1, "two", (3, [])],
                set={1},
                nested={"a": {"b": {}}, "k&<>": "v", 1: "an int key"},
            )

        def rpc_big(self, size: int) -> str:
            return _big_text(size)

        def rpc_early(self, year: int) -> datetime.datetime:
            return datetime.datetime(year, 1, 2, 3, 4, 5)

        async def rpc_fail(self, kind: str) -> None:
            raise faults[kind]()

    return View


class Peer(NamedTuple):
    """The running server: its URL and port, and what each request it served came with."""

    url: str
    port: int
    requests: list[dict[str, Any]]
    runner: web.AppRunner

    def connections(self) -> list[Any]:
        """The client address of each request, in order: one per connection used."""
        return [request["peer"] for request in self.requests]

    def open_connections(self) -> int:
        """How many connections the server holds open now."""
        assert self.runner.server is not None
        return len(self.runner.server.connections)


async def _settle(peer: Peer) -> int:
    """The server's open connections once none is left, or as many as after CALL_TIMEOUT."""
    deadline = time.monotonic() + CALL_TIMEOUT
    held = peer.open_connections()
    while held and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        held = peer.open_connections()
    return held


@contextlib.asynccontextmanager
async def _serving(**options: Any) -> AsyncIterator[Peer]:
    """The view at /RPC2 on a free port of 127.0.0.1, in this loop; ``options`` to the runner."""
    requests: list[dict[str, Any]] = []

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        assert request.transport is not None
        requests.append(
            {
                "peer": request.transport.get_extra_info("peername"),
                "encoding": request.headers.get("Content-Encoding"),
                "accept": request.headers.get("Accept-Encoding"),
            }
        )
        return await handler(request)

    app = web.Application(middlewares=[record])
    app.router.add_route("*", "/RPC2", _view())
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, **options)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        yield Peer(f"http://127.0.0.1:{port}/RPC2", port, requests, runner)
    finally:
        await runner.cleanup()


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    """Its server, with aiohttp's defaults."""
    async with _serving() as server:
        yield server


async def _both_fault(url: str, method: str, *params: Any) -> tuple[int, str]:
    """The fault ``method(*params)`` raises, the same in our proxy and in the stdlib's."""
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(Fault) as ours:
            await getattr(proxy, method)(*params)
        assert await proxy.add(1, 1) == 2  # the proxy goes on
    with stdlib_proxy(url, CALL_TIMEOUT) as stdlib:
        with pytest.raises(xmlrpc.client.Fault) as theirs:
            await asyncio.to_thread(getattr(stdlib, method), *params)
        assert await asyncio.to_thread(stdlib.add, 1, 1) == 2
    fault = (ours.value.faultCode, ours.value.faultString)
    assert fault == (theirs.value.faultCode, theirs.value.faultString)
    return fault


async def _raw(port: int, body: bytes, *headers: str) -> tuple[list[str], bytes]:
    """POST ``body`` on a connection of its own; the reply's head lines and body."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port), CALL_TIMEOUT
    )
    try:
        head = "".join(
            line + "\r\n"
            for line in [
                "POST /RPC2 HTTP/1.1",
                "Host: 127.0.0.1",
                "Content-Type: text/xml",
                "Connection: close",
                f"Content-Length: {len(body)}",
                *headers,
            ]
        )
        writer.write(head.encode() + b"\r\n" + body)
        reply = await asyncio.wait_for(reader.read(), CALL_TIMEOUT)  # to the close
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(writer.wait_closed(), CALL_TIMEOUT)
    head_text, _, rest = reply.partition(b"\r\n\r\n")
    return head_text.decode("latin-1").split("\r\n"), rest


# -- its server, our client ------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"use_datetime": True}, {"use_builtin_types": True}],
    ids=["defaults", "use_datetime", "use_builtin_types"],
)
async def test_every_type_it_writes(peer: Peer, options: dict[str, Any]) -> None:
    ours, theirs = await both(peer.url, CALL_TIMEOUT, "typed", **options)
    assert exact(ours) == exact(theirs)
    expected = dict(TYPED)
    if options:
        expected["when"] = datetime.datetime(2024, 2, 29, 12, 34, 56)
    if "use_builtin_types" in options:
        expected["blob"] = BLOB
    assert exact(ours) == exact(expected)


async def test_how_it_writes_a_reply(peer: Peer) -> None:
    head, body = await _raw(peer.port, xmlrpc.client.dumps((), "typed").encode())
    assert head[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: text/xml; charset=utf-8" in head
    assert f"Content-Length: {len(body)}" in head
    assert body.startswith(
        b"<?xml version='1.0' encoding='utf-8'?>\n<methodResponse><params><param><value>"
    )
    for written in [
        b"<name>int</name><value><i4>42</i4></value>",
        b"<name>above_min</name><value><i4>-2147483647</i4></value>",
        b"<name>int_max</name><value><double>2147483647</double></value>",
        b"<name>int_min</name><value><double>-2147483648</double></value>",
        b"<name>big</name><value><double>1099511627776</double></value>",
        b"<value><double>1e-07</double></value>",
        b"<value><double>1e+20</double></value>",
        b"<value><double>-0.0</double></value>",
        b"<value><double>inf</double></value>",
        b"<value><double>nan</double></value>",
        b"<value><boolean>1</boolean></value>",
        "<value><string>h\u00e9llo &amp; &lt;tag&gt; ]]&gt; \u2603".encode(),
        b"<value><string> \tpad\n</string></value>",
        b"<name>empty</name><value><string></string></value>",
        b"<value><nil/></value>",
        b"<dateTime.iso8601>20240229T12:34:56</dateTime.iso8601>",
        b"<base64>AAFi/v8=</base64>",
        b"<name>bytes</name><value><string>text</string></value>",
        b"<value><array><data/></array></value>",
        b"<value><struct/></value>",
        b"<name>k&amp;&lt;&gt;</name>",
    ]:
        assert written in body
    ((ours,), _) = codec.loads(body)
    ((theirs,), _) = xmlrpc.client.loads(body)
    assert exact(ours) == exact(theirs) == exact(TYPED)


async def test_what_we_send_comes_back(peer: Peer) -> None:
    sent = {
        "text": [
            "a<b",
            "x & y",
            "]]>",
            "\"q\" 'a'",
            "\u00e9\u20ac\u65e5\U0001f600",
            "",
            "tab\tin\nside",
            "&amp; as text",
            "<![CDATA[",
        ],
        "numbers": [0, -1, 2**31 - 2, -(2**31) + 1, 0.5, -2.25, 0.1, 1e-7, 1e20, -0.0, 5e-324],
        "flags": [True, False],
        "none": None,
        "blob": Binary(bytes(range(256))),
        "when": DateTime("20240229T12:34:56"),
        "deep": [[[{"k": [{}]}]]],
        "empty": [[], {}],
        "keys": {"a&b": 1, "<tag>": 2, "\u00e9": 3},
    }
    ours, theirs = await both(peer.url, CALL_TIMEOUT, "echo", sent, allow_none=True)
    assert exact(ours) == exact(theirs) == exact(sent)


async def test_what_it_rewrites(peer: Peer) -> None:
    # It strips every string it reads; lxml reads CR LF and CR as LF; it writes 2**31 - 1
    # and -2**31 as doubles; it reads an empty member name as None.
    for sent, back in [
        (" pad ", "pad"),
        ("\t\n x \r\n", "x"),
        ("\u00a0x\u2028", "x"),
        ([" ", "\n"], ["", ""]),
        ("cr\r\nlf", "cr\nlf"),
        ("cr\rlf", "cr\nlf"),
        (2**31 - 1, float(2**31 - 1)),
        (-(2**31), float(-(2**31))),
        ({"": 1}, {"None": 1}),
    ]:
        ours, theirs = await both(peer.url, CALL_TIMEOUT, "echo", sent)
        assert exact(ours) == exact(theirs) == exact(back), sent


async def test_an_empty_base64_comes_back_as_it_went(peer: Peer) -> None:
    # It reads an element with no text as plain bytes, not its Binary, and writes bytes
    # as a <string>: an empty <base64> must hold the standard library's LF to come back
    # as a Binary (aioxmlrpc once wrote <base64></base64>, and got "" back).
    ours, theirs = await both(peer.url, CALL_TIMEOUT, "echo", Binary(b""))
    assert exact(ours) == exact(theirs) == exact(Binary(b""))
    assert codec.dumps((Binary(b""),), "echo") == xmlrpc.client.dumps((Binary(b""),), "echo")
    _, body = await _raw(
        peer.port,
        b"".join(
            [
                b"<?xml version='1.0'?><methodCall><methodName>echo</methodName><params><param>",
                b"<value><base64></base64></value></param></params></methodCall>",
            ]
        ),
    )
    assert b"<value><string></string></value>" in body  # with no text at all


async def test_a_year_before_1000(peer: Peer) -> None:
    # strftime("%Y") writes 999 as "999": 9990102T03:04:05 for 0999-01-02. Kept as it is
    # in a DateTime by both; with use_datetime the standard library's strptime reads it as
    # 9990-10-02, and we refuse it (InvalidValue, a ValueError) rather than guess.
    ours, theirs = await both(peer.url, CALL_TIMEOUT, "early", 999)
    assert exact(ours) == exact(theirs) == exact(DateTime("9990102T03:04:05"))
    with stdlib_proxy(peer.url, CALL_TIMEOUT, use_datetime=True) as stdlib:
        misread = await asyncio.to_thread(stdlib.early, 999)
    assert misread == datetime.datetime(9990, 10, 2, 3, 4, 5)
    async with AsyncServerProxy(peer.url, timeout=CALL_TIMEOUT, use_datetime=True) as proxy:
        with pytest.raises(InvalidValue, match=r"bad <dateTime\.iso8601> value '9990102T03:04:05'"):
            await proxy.early(999)
        assert await proxy.early(2024) == datetime.datetime(2024, 1, 2, 3, 4, 5)


async def test_a_reply_over_1_mib(peer: Peer) -> None:
    size = 3_000_000
    ours, theirs = await both(peer.url, CALL_TIMEOUT, "big", size)
    assert ours == theirs
    assert len(ours) == size
    assert ours.startswith("x<y&z x<y&z ")


@pytest.mark.parametrize(
    ("method", "params", "fault"),
    [
        ("fail", ("application",), (-32500, "<[-32500] ApplicationError(it failed: a<b & c)>")),
        ("fail", ("invalid_arguments",), (-32602, "<[-32602] InvalidArguments(no)>")),
        ("fail", ("exception",), (-32000, "ValueError('not a fault')")),
        (
            "no.such.method",
            (),
            (-32500, "<[-32500] ApplicationError(Method 'no.such.method' not found)>"),
        ),
        (
            "system.listMethods",
            (),
            (-32500, "<[-32500] ApplicationError(Method 'system.listMethods' not found)>"),
        ),
        ("echo", (DateTime("2024-02-29T12:34:56"),), (-32000, DATE_FAULT)),
        ("echo", (DateTime("20240229T12:34:56Z"),), (-32000, DATE_FAULT)),
    ],
    ids=[
        "application",
        "invalid_arguments",
        "exception",
        "unknown",
        "listMethods",
        "extended_date",
        "utc_date",
    ],
)
async def test_faults(
    peer: Peer, method: str, params: tuple[Any, ...], fault: tuple[int, str]
) -> None:
    assert await _both_fault(peer.url, method, *params) == fault


async def test_bad_parameters_are_a_type_error(peer: Peer) -> None:
    code, text = await _both_fault(peer.url, "add", 1)
    assert code == -32000
    assert text.startswith('TypeError("')
    assert text.endswith("View.rpc_add() missing 1 required positional argument: 'b'\")")


@pytest.mark.parametrize(
    ("method", "params"),
    [("echo", (math.inf,)), ("echo", ([-math.inf],)), ("echo", (math.nan,)), ("no-such", ())],
    ids=["inf", "minus_inf", "nan", "method_name"],
)
async def test_what_its_schema_refuses_is_an_http_400(
    peer: Peer, method: str, params: tuple[Any, ...]
) -> None:
    async with AsyncServerProxy(peer.url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(ProtocolError) as ours:
            await getattr(proxy, method)(*params)
        assert await proxy.add(2, 3) == 5  # the proxy goes on
    with stdlib_proxy(peer.url, CALL_TIMEOUT) as stdlib:
        with pytest.raises(xmlrpc.client.ProtocolError) as theirs:
            await asyncio.to_thread(getattr(stdlib, method), *params)
        assert await asyncio.to_thread(stdlib.add, 2, 3) == 5
    assert ours.value.errcode == theirs.value.errcode == 400
    assert ours.value.errmsg == theirs.value.errmsg == "Bad Request"
    assert ours.value.headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_i8_is_an_http_400(peer: Peer) -> None:
    # The standard library cannot send these (OverflowError); allow_i8 sends <i8>.
    async with AsyncServerProxy(peer.url, timeout=CALL_TIMEOUT, allow_i8=True) as proxy:
        with pytest.raises(ProtocolError) as ours:
            await proxy.echo(2**40)
        assert ours.value.errcode == 400
        assert exact(await proxy.echo(2**31 - 2)) == exact(2**31 - 2)  # <int> while it fits


async def test_multicall_is_not_there(peer: Peer) -> None:
    not_found = (-32500, "<[-32500] ApplicationError(Method 'system.multicall' not found)>")
    with stdlib_proxy(peer.url, CALL_TIMEOUT) as server:
        stdlib = xmlrpc.client.MultiCall(server)
        stdlib.add(1, 2)
        with pytest.raises(xmlrpc.client.Fault) as theirs:
            await asyncio.to_thread(stdlib)
    async with AsyncServerProxy(peer.url, timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        with pytest.raises(Fault) as ours:
            await multicall()
        # Its fault names system.multicall as not found: reason enough to fall back.
        multicall.fail("application")
        multicall.echo("a<b")
        results = await multicall(fallback=True)
        assert [results[0], results[2]] == [3, "a<b"]
        with pytest.raises(Fault) as inside:
            results[1]
        assert inside.value.faultCode == -32500
    assert (ours.value.faultCode, ours.value.faultString) == not_found
    assert (theirs.value.faultCode, theirs.value.faultString) == not_found


async def test_gzip_requests_are_inflated_and_replies_never_compressed(peer: Peer) -> None:
    text = "x" * 1000
    async with AsyncServerProxy(peer.url, timeout=CALL_TIMEOUT, gzip_threshold=300) as proxy:
        assert await proxy.echo(text) == text
    with stdlib_proxy(peer.url, CALL_TIMEOUT) as stdlib:
        stdlib("transport").encode_threshold = 300
        assert await asyncio.to_thread(stdlib.echo, text) == text
    assert [request["encoding"] for request in peer.requests] == ["gzip", "gzip"]
    assert all("gzip" in request["accept"] for request in peer.requests)
    head, body = await _raw(
        peer.port, xmlrpc.client.dumps((100_000,), "big").encode(), "Accept-Encoding: gzip"
    )
    assert head[0] == "HTTP/1.1 200 OK"
    assert not [line for line in head if line.lower().startswith("content-encoding")]
    assert xmlrpc.client.loads(body)[0][0] == _big_text(100_000)


async def test_connections_are_kept_alive(peer: Peer) -> None:
    async with AsyncServerProxy(peer.url, timeout=CALL_TIMEOUT) as proxy:
        for n in range(5):
            assert await proxy.add(n, 1) == n + 1
        with pytest.raises(Fault):
            await proxy.fail("application")
        with pytest.raises(ProtocolError):
            await proxy.echo(math.inf)
        assert await proxy.add(0, 0) == 0
        assert peer.open_connections() == 1  # idle, in our pool
    assert await _settle(peer) == 0  # closed with the proxy
    ours = peer.connections()
    del peer.requests[:]
    with stdlib_proxy(peer.url, CALL_TIMEOUT) as stdlib:
        for n in range(5):
            assert await asyncio.to_thread(stdlib.add, n, 1) == n + 1
        with pytest.raises(xmlrpc.client.Fault):
            await asyncio.to_thread(stdlib.fail, "application")
        with pytest.raises(xmlrpc.client.ProtocolError):
            await asyncio.to_thread(stdlib.echo, math.inf)
        assert await asyncio.to_thread(stdlib.add, 0, 0) == 0
        assert peer.open_connections() == 1
    theirs = peer.connections()
    # One connection each, for every call, after a fault and an HTTP 400 alike.
    assert len(ours) == len(theirs) == 8
    assert len(set(ours)) == len(set(theirs)) == 1


async def test_concurrent_calls_share_the_pool(peer: Peer) -> None:
    async with AsyncServerProxy(peer.url, timeout=CALL_TIMEOUT, pool_size=4) as proxy:
        for round_ in range(3):
            sums = await asyncio.gather(*(proxy.add(round_, n) for n in range(20)))
            assert sums == [round_ + n for n in range(20)]
    assert len(peer.requests) == 60
    assert 1 <= len(set(peer.connections())) <= 4


async def test_pooled_connections_it_closed_while_idle() -> None:
    # aiohttp's server closes a kept-alive connection after keepalive_timeout of silence:
    # the next call on the same proxy must open a fresh one, never fail on the closed one.
    async with _serving(keepalive_timeout=IDLE_TIMEOUT) as server:
        async with AsyncServerProxy(server.url, timeout=CALL_TIMEOUT) as proxy:
            for round_ in range(3):
                assert await proxy.add(round_, 1) == round_ + 1
                assert server.open_connections() == 1  # kept alive, in our pool
                assert await _settle(server) == 0  # closed by the server, under the pool
        ours = server.connections()
        del server.requests[:]
        with stdlib_proxy(server.url, CALL_TIMEOUT) as stdlib:
            for round_ in range(3):
                assert await asyncio.to_thread(stdlib.add, round_, 1) == round_ + 1
                assert await _settle(server) == 0
        theirs = server.connections()
    assert len(set(ours)) == len(set(theirs)) == 3


# -- its client, our server --------------------------------------------------------------------

TRICKY = "h\u00e9llo & <tags> ]]> \u2603 \U0001f600"
# 360 KB: 780 KB escaped in the request (its client warns past 1 MiB, see below), and
# twice that in the reply, which holds it twice.
BIG = "a<b&c." * 60_000
# (name, method, params): what its client calls; "base64" sends its Binary of the bytes,
# "kwargs" the struct as keyword arguments.
CLIENT_CALLS: list[tuple[str, str, tuple[Any, ...]]] = [
    ("ping", "ping", ()),
    ("now", "now", ()),
    ("int", "show_type", (42,)),
    ("int_max", "show_type", (2**31 - 1,)),
    ("big_int", "show_type", (2**40,)),
    ("double", "show_type", (2.5,)),
    ("tiny", "show_type", (1e-7,)),
    ("huge", "show_type", (1e20,)),
    ("negative_zero", "show_type", (-0.0,)),
    ("nan", "show_type", (math.nan,)),
    ("inf", "show_type", (math.inf,)),
    ("string", "show_type", (TRICKY,)),
    ("empty", "show_type", ("",)),
    ("padded", "show_type", (" pad ",)),
    ("crlf", "show_type", ("cr\r\nlf\rend",)),
    ("boolean", "show_type", (True,)),
    ("nil", "show_type", (None,)),
    ("array", "show_type", ([1, "two", 3.5],)),
    ("struct", "show_type", ({"a": 1, "b": "x"},)),
    ("keys", "show_type", ({"": 1, "k&<>": 2, "\u00e9": 3},)),
    ("containers", "show_type", ([[], {}],)),
    ("bytes", "show_type", (b"raw",)),
    ("base64", "send_back_binary", (b"\x00\x01bin",)),
    ("datetime", "show_type", (datetime.datetime(2024, 2, 29, 12, 34, 56),)),
    ("kwargs", "show_type", ({"x": 1},)),
    ("big", "show_type", (BIG,)),
    ("fault", "raises_exception", ("A message",)),
    ("unknown", "no.such.method", ()),
    ("bad_params", "ping", (1, 2)),
    ("methodHelp", "system.methodHelp", ("ping",)),
    ("methodSignature", "system.methodSignature", ("ping",)),
    ("listMethods", "system.listMethods", ()),
    ("getCapabilities", "system.getCapabilities", ()),
    (
        "multicall",
        "system.multicall",
        (
            [
                {"methodName": "ping", "params": []},
                {"methodName": "show_type", "params": [TRICKY]},
                {"methodName": "raises_exception", "params": ["Next to last call stops"]},
            ],
        ),
    ),
    ("ping_again", "ping", ()),
]
# Where our server answers differently from the standard library's, on purpose: fault
# codes -32601 and -32602, system.getCapabilities (listed too), signatures from type hints.
DIFFERENT = {"unknown", "bad_params", "listMethods", "getCapabilities", "methodSignature"}


async def _run_client(url: str) -> dict[str, tuple[Any, ...]]:
    """Make CLIENT_CALLS with its client; each outcome by call name."""
    package = _package()
    proxy = package.client.ServerProxy(url, timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT))
    outcomes: dict[str, tuple[Any, ...]] = {}
    async with proxy:  # this yields its aiohttp session, not the proxy
        for name, method, params in CLIENT_CALLS:
            remote = proxy
            for part in method.split("."):
                remote = getattr(remote, part)
            if name == "kwargs":
                call = remote(**params[0])
            elif name == "base64":
                call = remote(package.common.Binary(*params))
            else:
                call = remote(*params)
            try:
                value = await asyncio.wait_for(call, CALL_TIMEOUT)
            except package.exceptions.XMLRPCError as exc:
                outcomes[name] = ("fault", type(exc).__name__, exc.code, str(exc))
            except Exception as exc:  # compared between the two servers
                outcomes[name] = ("error", type(exc).__name__, str(exc))
            else:
                if name == "now":
                    value = type(value)  # the time differs: its type does not
                outcomes[name] = ("value", exact(value))
    return outcomes


def _value(outcome: tuple[Any, ...]) -> Any:
    """The plain value of a ``("value", exact(value))`` outcome."""
    assert outcome[0] == "value", outcome
    return _plain(outcome[1])


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    kind, item = value
    return float(item) if kind is float else item


async def test_its_client_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = await _run_client(example_server.url)
    theirs = await _run_client(stdlib_example_server.url)
    assert list(ours) == list(theirs) == [name for name, _, _ in CLIENT_CALLS]
    for name in ours.keys() - DIFFERENT:
        assert ours[name] == theirs[name], name

    binary = _package().common.Binary
    assert _value(ours["ping"]) is True
    assert ours["now"] == ("value", (type, datetime.datetime))
    assert _value(ours["int"]) == ["42", "<class 'int'>", 42]
    # 2**31 - 1 and beyond go out as <double>: our server gets a float, as the stdlib's does.
    assert ours["int_max"][1][2] == (float, "2147483647.0")
    assert ours["big_int"][1][2] == (float, "1099511627776.0")
    assert _value(ours["tiny"]) == ["1e-07", "<class 'float'>", 1e-7]
    assert ours["negative_zero"][1][2] == (float, "-0.0")
    # <double>nan</double> and inf, in the reply, are refused by its schema.
    assert ours["nan"] == ours["inf"] == ("error", "ValueError", "Invalid body")
    assert _value(ours["string"]) == [TRICKY, "<class 'str'>", TRICKY]
    assert _value(ours["empty"]) == ["", "<class 'str'>", ""]
    assert _value(ours["padded"]) == ["pad", "<class 'str'>", "pad"]  # it strips what it reads
    assert _value(ours["crlf"]) == ["cr\nlf\nend", "<class 'str'>", "cr\nlf\nend"]
    assert _value(ours["nil"]) == ["None", "<class 'NoneType'>", None]
    assert _value(ours["keys"])[2] == {None: 1, "k&<>": 2, "\u00e9": 3}  # <name/>: None
    assert _value(ours["containers"])[2] == [[], {}]
    assert _value(ours["bytes"]) == ["raw", "<class 'str'>", "raw"]  # sent as a <string>
    assert ours["base64"] == ("value", (binary, b"\x00\x01bin"))
    assert ours["datetime"][1][:2] == [
        (str, "20240229T12:34:56"),
        (str, "<class 'xmlrpc.client.DateTime'>"),
    ]
    assert ours["datetime"][1][2] == (datetime.datetime, datetime.datetime(2024, 2, 29, 12, 34, 56))
    assert _value(ours["kwargs"]) == ["{'x': 1}", "<class 'dict'>", {"x": 1}]
    assert _value(ours["big"])[2] == BIG
    assert ours["fault"] == ("fault", "ServerError", 1, "<class 'RuntimeError'>:A message")
    assert _value(ours["methodHelp"]).startswith("Simple function to respond")
    assert _value(ours["multicall"]) == [
        [True],
        [[TRICKY, "<class 'str'>", TRICKY]],
        {"faultCode": 1, "faultString": "<class 'RuntimeError'>:Next to last call stops"},
    ]
    assert _value(ours["ping_again"]) is True


async def test_its_client_sees_our_deliberate_differences(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = await _run_client(example_server.url)
    theirs = await _run_client(stdlib_example_server.url)
    unknown = 'method "no.such.method" is not supported'
    assert ours["unknown"] == ("fault", "MethodNotFound", -32601, unknown)
    assert theirs["unknown"] == ("fault", "ServerError", 1, f"<class 'Exception'>:{unknown}")
    _, kind, code, text = ours["bad_params"]
    assert (kind, code) == ("InvalidArguments", -32602)
    assert "takes 1 positional argument but 3 were given" in text
    assert theirs["bad_params"][:3] == ("fault", "ServerError", 1)
    assert set(_value(ours["listMethods"])) - set(_value(theirs["listMethods"])) == {
        "system.getCapabilities"
    }
    assert "faults_interop" in _value(ours["getCapabilities"])
    assert theirs["getCapabilities"][:3] == ("fault", "ServerError", 1)
    assert _value(ours["methodSignature"]) == [["boolean"]]  # from ping's type hints
    assert _value(theirs["methodSignature"]) == "signatures not supported"


async def test_its_client_warns_of_a_request_over_1_mib(example_server: ExampleServer) -> None:
    # It hands aiohttp the request as bytes: past 1 MiB, aiohttp's ResourceWarning (an
    # error under this suite's filters); the call itself goes through.
    client = _package().client.ServerProxy(
        example_server.url, timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    )
    text = "x" * 1_100_000
    async with client:
        with pytest.warns(ResourceWarning, match="Sending a large body directly with raw bytes"):
            answer = await asyncio.wait_for(client.show_type(text), CALL_TIMEOUT)
    assert answer == [text, "<class 'str'>", text]


async def test_how_its_client_writes_a_request() -> None:
    # In ASCII, each character beyond it a reference; 2**31 - 1 as a <double>, bytes as a
    # <string>, keyword arguments as a last struct. We read it as the stdlib reads it.
    bodies: list[bytes] = []

    async def capture(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response(body=codec.encode_response(True), content_type="text/xml")

    app = web.Application()
    app.router.add_post("/RPC2", capture)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/RPC2"
        client = _package().client.ServerProxy(
            url, timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT)
        )
        async with client:
            assert await client.show_type(TRICKY, 2**31 - 1, b"raw", None, key=1) is True
    finally:
        await runner.cleanup()
    (body,) = bodies
    assert body == (
        b"<?xml version='1.0' encoding='ASCII'?>\n<methodCall><methodName>show_type"
        b"</methodName><params><param><value><string>h&#233;llo &amp; &lt;tags&gt; ]]&gt; "
        b"&#9731; &#128512;</string></value></param><param><value><double>2147483647"
        b"</double></value></param><param><value><string>raw</string></value></param>"
        b"<param><value><nil/></value></param><param><value><struct><member><name>key"
        b"</name><value><i4>1</i4></value></member></struct></value></param></params>"
        b"</methodCall>"
    )
    ours = codec.loads(body, use_builtin_types=True)
    theirs = xmlrpc.client.loads(body, use_builtin_types=True)
    assert exact(ours) == exact(theirs)
    assert ours == ((TRICKY, 2147483647.0, "raw", None, {"key": 1}), "show_type")
