"""Foxglove's XML-RPC, the npm package ``@foxglove/xmlrpc`` 1.3.0, in both directions.

The TypeScript package Foxglove Studio talks to ROS 1 with.

- ``node/foxglove_xmlrpc_server.js`` (``XmlRpcServer`` on its node backend,
  ``HttpServerNodejs``) against AsyncServerProxy, with the standard library's
  ``ServerProxy`` as the oracle: every answer must be the one the standard library reads
  from the same server.
- ``node/foxglove_xmlrpc_client.js`` (``XmlRpcClient``, on node-fetch) against our example
  server, its answers compared with those of the standard library's
  ``SimpleXMLRPCServer`` serving the same ``ExampleService``.

What the package does, as these tests pin it:

- a whole number is an ``<int>`` whatever its size (2**40; 1e20 as
  ``<int>100000000000000000000</int>``; -0.0 and 2.0 as ``<int>0</int>``, ``<int>2</int>``;
  1e100 as ``<int>1e+100</int>``, which no reader takes); a double is as JavaScript
  prints it (``1e-7``), infinities and NaN as ``inf``, ``-inf``, ``nan``;
- a string holding ``<`` or ``&`` is one CDATA section; one holding ``]]>`` it cannot
  write at all: the whole reply is an HTTP 500 whose reason phrase is xmlbuilder2's error
  (``The string contains invalid characters.``, with a trailing space), and the
  connection is closed;
- ``undefined`` is an empty ``<value/>`` (read as ``""``), ``null`` is ``<nil/>``, and
  ``<nil/>`` it reads as ``undefined``: None comes back as ``""``; ``<i8>`` it reads as a
  string;
- a date is written as ``2024-02-29T12:34:56.000Z``, which the standard library cannot
  read as a ``datetime`` (ValueError) and we read as an aware one, in UTC (the forms
  ``parse_datetime`` accepts); a ``Uint8Array`` that is not a ``Buffer`` is a struct of
  its bytes; a struct member named ``__proto__`` is lost;
- a method that throws is fault -32500 with the JavaScript stack as its text; an unknown
  method is fault -32601; ``system.multicall`` is built in (its calls run side by side),
  there is no introspection; a request body that is not XML (gzipped, say) is an HTTP 500;
- it answers on every path; node closes idle keep-alive connections (here after 100 ms,
  plus the second its http server adds).

Its client writes the same way (dates and whole doubles included), and gets from our
server what it gets from ``SimpleXMLRPCServer``.

``.ci/test`` installs the package with ``npm ci`` into ``node/node_modules``. Without it
these tests fail, saying so; they are never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import shutil
import subprocess
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

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

from peers import both, exact, read_port, run_client, stdlib_proxy, stop
from servers import StdlibExampleServer

NODE_DIR = Path(__file__).with_name("node")
SERVER_SCRIPT = NODE_DIR / "foxglove_xmlrpc_server.js"
CLIENT_SCRIPT = NODE_DIR / "foxglove_xmlrpc_client.js"
PACKAGE = NODE_DIR / "node_modules" / "@foxglove" / "xmlrpc" / "package.json"
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's
CLIENT_TIMEOUT = 60.0  # seconds for the client script to make all its calls
NODE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC"}

# What foxglove_xmlrpc_server.js returns: keep the two in step.
BLOB = b"\x00\x01b\xfe\xff"
WHEN = "2024-02-29T12:34:56.000Z"
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -7,
    "int_max": 2**31 - 1,
    "int_min": -(2**31),
    "big": 2**40,
    "double": 2.5,
    "tenth": 0.1,
    "tiny": 1e-7,
    "huge": 10**20,
    "inf": float("inf"),
    "nan": float("nan"),
    "true": True,
    "false": False,
    "string": "h\u00e9llo \u2603 \U0001f600",
    "markup": 'a<b & "c" >',
    "gt": "x > y",
    "empty": "",
    "nil": "",  # undefined: <value/>
    "null": None,
    "when": DateTime(WHEN),
    "blob": Binary(BLOB),
    "bytes": {"0": 7, "1": 8},
    "list": [1, "two", [3, []]],
    "nested": {"a": {"b": {}}, "k&<>": "v"},
}
INVALID_CHARACTERS = "The string contains invalid characters. "  # xmlbuilder2's, as sent


class Server(NamedTuple):
    """The running server: its URL, and its PID and socket, to see its connections."""

    url: str
    port: int
    pid: int
    listening: frozenset[str]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (Debian: nodejs; .ci/test installs it)", pytrace=False)
    if not PACKAGE.is_file():
        pytest.fail(
            "the npm package @foxglove/xmlrpc is not installed: run "
            "'npm ci --prefix tests/thirdparty/node' (.ci/test does)",
            pytrace=False,
        )
    return node


def _sockets(pid: int) -> frozenset[str]:
    """The sockets the process holds, as ``socket:[inode]``."""
    fds = Path(f"/proc/{pid}/fd")
    sockets = set()
    for fd in os.listdir(fds):
        with contextlib.suppress(FileNotFoundError):  # closed since listed
            link = os.readlink(fds / fd)
            if link.startswith("socket:"):
                sockets.add(link)
    return frozenset(sockets)


def _connections(server: Server) -> frozenset[str]:
    """The server's connections: its sockets, but the one it listens on."""
    return _sockets(server.pid) - server.listening


async def _settle(server: Server) -> frozenset[str]:
    """Its connections once none is left, or as they are after CALL_TIMEOUT."""
    deadline = time.monotonic() + CALL_TIMEOUT
    held = _connections(server)
    while held and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        held = _connections(server)
    return held


@pytest.fixture(scope="module")
def foxglove(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """foxglove_xmlrpc_server.js on a free port of 127.0.0.1."""
    node = _node()
    log = tmp_path_factory.mktemp("foxglove") / "server.err"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [node, str(SERVER_SCRIPT)],
            stdin=subprocess.PIPE,  # it exits when this closes, should we die first
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=NODE_DIR,
            env=NODE_ENV,
        )
    try:
        try:
            port = read_port(proc, START_TIMEOUT)
        except (RuntimeError, ValueError) as exc:
            pytest.fail(f"the server did not start: {exc}\n{log.read_text()}", pytrace=False)
        yield Server(f"http://127.0.0.1:{port}/RPC2", port, proc.pid, _sockets(proc.pid))
    finally:
        problems = stop(proc, "foxglove_xmlrpc_server", STOP_TIMEOUT)
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
    assert not problems, f"{problems}\n{log.read_text()}"
    assert proc.returncode == 0, log.read_text()  # it exits 0 on SIGTERM
    assert log.read_text() == ""


async def _both_fault(url: str, method: str, *params: Any) -> tuple[int, str]:
    """The fault ``method(*params)`` raises, the same in our proxy and in the stdlib's."""
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(Fault) as ours:
            await getattr(proxy, method)(*params)
        assert await proxy.add(1, 1) == 2  # the proxy goes on
    with stdlib_proxy(url, CALL_TIMEOUT) as stdlib, pytest.raises(xmlrpc.client.Fault) as theirs:
        await asyncio.to_thread(getattr(stdlib, method), *params)
    fault = (ours.value.faultCode, ours.value.faultString)
    assert fault == (theirs.value.faultCode, theirs.value.faultString)
    return fault


async def _both_protocol_error(
    url: str, method: str, *params: Any, **ours_only: Any
) -> tuple[ProtocolError, xmlrpc.client.ProtocolError]:
    """The ProtocolErrors of our proxy and of the stdlib's; both go on after theirs."""
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT, **ours_only) as proxy:
        with pytest.raises(ProtocolError) as ours:
            await getattr(proxy, method)(*params)
        assert await proxy.add(1, 1) == 2
    with stdlib_proxy(url, CALL_TIMEOUT) as stdlib:
        if ours_only.get("gzip_threshold") is not None:
            stdlib("transport").encode_threshold = ours_only["gzip_threshold"]
        with pytest.raises(xmlrpc.client.ProtocolError) as theirs:
            await asyncio.to_thread(getattr(stdlib, method), *params)
        assert await asyncio.to_thread(stdlib.add, 1, 1) == 2
    return ours.value, theirs.value


async def _raw(port: int, body: bytes) -> tuple[list[str], bytes]:
    """POST ``body`` on a connection of its own; the reply's head lines and body."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port), CALL_TIMEOUT
    )
    try:
        head = (
            "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        reply = await asyncio.wait_for(reader.read(), CALL_TIMEOUT)  # to the close
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(writer.wait_closed(), CALL_TIMEOUT)
    head_text, _, rest = reply.partition(b"\r\n\r\n")
    return head_text.decode("latin-1").split("\r\n"), rest


# -- its server, our client ------------------------------------------------------------------


async def test_every_type_it_writes(foxglove: Server) -> None:
    ours, theirs = await both(foxglove.url, CALL_TIMEOUT, "typed")
    assert exact(ours) == exact(theirs) == exact(TYPED)


@pytest.mark.parametrize(
    "options", [{"use_datetime": True}, {"use_builtin_types": True}], ids=lambda o: next(iter(o))
)
async def test_its_dates_as_datetime(foxglove: Server, options: dict[str, Any]) -> None:
    # The standard library reads only the basic form (20240229T12:34:56); we also read
    # the extended one with its fraction and zone, as documented for parse_datetime.
    with (
        stdlib_proxy(foxglove.url, CALL_TIMEOUT, **options) as stdlib,
        pytest.raises(ValueError, match="does not match format"),
    ):
        await asyncio.to_thread(stdlib.typed)
    async with AsyncServerProxy(foxglove.url, timeout=CALL_TIMEOUT, **options) as proxy:
        ours = await proxy.typed()
    expected = dict(
        TYPED, when=datetime.datetime(2024, 2, 29, 12, 34, 56, tzinfo=datetime.timezone.utc)
    )
    if options.get("use_builtin_types"):
        expected["blob"] = BLOB
    assert exact(ours) == exact(expected)


async def test_how_it_writes_a_reply(foxglove: Server) -> None:
    head, body = await _raw(foxglove.port, xmlrpc.client.dumps((), "typed").encode())
    assert head[0] == "HTTP/1.1 200 OK"
    assert f"Content-Length: {len(body)}" in head  # bytes, as they should be
    assert body.startswith(b'<?xml version="1.0"?><methodResponse><params><param><value>')
    for written in [
        b"<name>big</name><value><int>1099511627776</int></value>",
        b"<name>tiny</name><value><double>1e-7</double></value>",
        b"<name>huge</name><value><int>100000000000000000000</int></value>",
        b"<value><double>inf</double></value>",
        b"<value><double>nan</double></value>",
        b"<value><boolean>1</boolean></value>",
        b'<value><string><![CDATA[a<b & "c" >]]></string></value>',
        b"<value><string>x &gt; y</string></value>",
        b"<name>nil</name><value/>",
        b"<name>null</name><value><nil/></value>",
        b"<dateTime.iso8601>2024-02-29T12:34:56.000Z</dateTime.iso8601>",
        b"<base64>AAFi/v8=</base64>",
        b"<value><array><data/></array></value>",
        b"<value><struct/></value>",
    ]:
        assert written in body
    ((ours,), _) = codec.loads(body)
    ((theirs,), _) = xmlrpc.client.loads(body)
    assert exact(ours) == exact(theirs) == exact(TYPED)


async def test_what_we_send_comes_back(foxglove: Server) -> None:
    sent = {
        "text": [
            "a<b",
            "x & y",
            "x > y",
            "\"q\" 'a'",
            "\u00e9\u20ac\u65e5\U0001f600 \u00a0",
            "",
            " ",
            " padded ",
            "tab\tnew\nline",
            "&amp; as text",
            "<![CDATA[",
        ],
        "numbers": [0, -1, 2**31 - 1, -(2**31), 0.5, -2.25, 0.1, 1e-7, 5e-324, -1.5e-300],
        "flags": [True, False],
        "blob": Binary(bytes(range(256))),
        "empty_blob": Binary(b""),
        "deep": [[[{"k": [{}]}]]],
        "empty": [[], {}],
        "keys": {"a&b": 1, "<tag>": 2, "": 3},
    }
    ours, theirs = await both(foxglove.url, CALL_TIMEOUT, "echo", sent)
    assert exact(ours) == exact(theirs) == exact(sent)


async def test_what_javascript_rewrites(foxglove: Server) -> None:
    # Numbers are JavaScript's: a whole double goes back as an <int>; dates its Date's
    # ISO text; <nil/> is undefined, written back as <value/>; __proto__ is no key.
    for sent, back in [
        ([1e20, -0.0, 2.0, 2**31 - 1.0], [10**20, 0, 2, 2**31 - 1]),
        (DateTime("20240229T12:34:56"), DateTime(WHEN)),
        (DateTime("2024-02-29T13:34:56+01:00"), DateTime(WHEN)),
        (None, ""),
        ([1, None, 2], [1, "", 2]),
        ({"__proto__": 1, "a": 2}, {"a": 2}),
        ({"__proto__": {"x": 1}, "a": 2}, {"a": 2}),
    ]:
        ours, theirs = await both(foxglove.url, CALL_TIMEOUT, "echo", sent, allow_none=True)
        assert exact(ours) == exact(theirs) == exact(back), sent


async def test_cr_and_crlf_come_back_as_lf(foxglove: Server) -> None:
    # We write \r as it is, as the standard library does; sax keeps it, xmlbuilder2
    # writes it back raw (as text, or in CDATA), and both clients read a line end.
    for sent in ["cr\rlf\r\nend", "<cr\rlf\r\nend"]:
        ours, theirs = await both(foxglove.url, CALL_TIMEOUT, "echo", sent)
        assert ours == theirs == sent.replace("\r\n", "\n").replace("\r", "\n")


async def test_a_whole_double_past_int_range(foxglove: Server) -> None:
    # 1e100 % 1 == 0: written <int>1e+100</int>. Both refuse it with a ValueError; ours
    # is also an InvalidValue that says where.
    with (
        stdlib_proxy(foxglove.url, CALL_TIMEOUT) as stdlib,
        pytest.raises(ValueError, match="1e\\+100"),
    ):
        await asyncio.to_thread(stdlib.echo, 1e100)
    async with AsyncServerProxy(foxglove.url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(InvalidValue, match="bad <int> value '1e\\+100'"):
            await proxy.echo(1e100)
        assert await proxy.echo(1e15) == 10**15


async def test_i8_is_read_as_a_string(foxglove: Server) -> None:
    # The standard library cannot send these (OverflowError); allow_i8 sends <i8>.
    async with AsyncServerProxy(foxglove.url, timeout=CALL_TIMEOUT, allow_i8=True) as proxy:
        assert exact(await proxy.echo([2**40, -(2**63)])) == exact(["1099511627776", str(-(2**63))])
        assert exact(await proxy.echo(2**31 - 1)) == exact(2**31 - 1)  # <int> while it fits


async def test_a_reply_over_1_mib(foxglove: Server) -> None:
    size = 3_000_000
    ours, theirs = await both(foxglove.url, CALL_TIMEOUT, "big", size)
    assert ours == theirs
    assert len(ours) == size
    assert ours.startswith("x<y&z x<y&z ")


async def test_faults_and_no_introspection(foxglove: Server) -> None:
    assert await _both_fault(foxglove.url, "fail") == (7, "it failed")
    code, text = await _both_fault(foxglove.url, "crash")
    assert code == -32500  # an exception that is no XmlRpcFault: its stack as the text
    assert text.startswith("TypeError: not a fault\n    at ")
    assert await _both_fault(foxglove.url, "no.such.method") == (
        -32601,
        'Method "no.such.method" not found',
    )
    assert await _both_fault(foxglove.url, "system.listMethods") == (
        -32601,
        'Method "system.listMethods" not found',
    )
    assert await _both_fault(foxglove.url, "system.multicall", "x") == (
        -32602,
        "Invalid system.multicall",
    )


async def test_a_string_holding_the_cdata_end_is_an_http_500(foxglove: Server) -> None:
    # xmlbuilder2 refuses "]]>" in a CDATA section, and the reply with it; the backend
    # closes the connection after this 500, and both proxies go on over a new one.
    ours, theirs = await _both_protocol_error(foxglove.url, "echo", "a ]]> b")
    assert ours.errcode == theirs.errcode == 500
    assert ours.headers["Connection"] == "close"
    assert theirs.errmsg == INVALID_CHARACTERS.strip()  # http.client strips the phrase


async def test_the_reason_phrase_is_read_as_the_stdlib_reads_it(foxglove: Server) -> None:
    # The 500 above: 'HTTP/1.1 500 The string contains invalid characters. \r\n'. The
    # standard library strips the reason phrase (http.client: reason.strip()), so its
    # errmsg has no trailing space; ours should be the same text.
    ours, theirs = await _both_protocol_error(foxglove.url, "echo", "]]>")
    assert ours.errmsg == theirs.errmsg


async def test_a_gzipped_request_is_an_http_500(foxglove: Server) -> None:
    # The backend decodes the body as UTF-8 text, whatever its Content-Encoding. (The
    # threshold spares the small calls that check each proxy goes on.)
    ours, theirs = await _both_protocol_error(foxglove.url, "echo", "x" * 1000, gzip_threshold=300)
    assert ours.errcode == theirs.errcode == 500
    assert ours.errmsg == theirs.errmsg
    assert ours.errmsg == "deserializeMethodCall failed: Error: Invalid XML-RPC message"


async def test_multicall_with_faults_inside(foxglove: Server) -> None:
    with stdlib_proxy(foxglove.url, CALL_TIMEOUT) as stdlib:
        batch = xmlrpc.client.MultiCall(stdlib)
        batch.add(1, 2)
        batch.fail()
        batch.no.such.method()
        batch.echo("a<b")
        theirs = await asyncio.to_thread(batch)
        expected = [theirs[0], theirs[3]]
        stdlib_faults = []
        for index in (1, 2):
            with pytest.raises(xmlrpc.client.Fault) as stdlib_fault:
                theirs[index]
            stdlib_faults.append((stdlib_fault.value.faultCode, stdlib_fault.value.faultString))
    async with AsyncServerProxy(foxglove.url, timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        multicall.fail()
        multicall.no.such.method()
        multicall.echo("a<b")
        results = await multicall()
        assert [results[0], results[3]] == expected == [3, "a<b"]
        faults = []
        for index in (1, 2):
            with pytest.raises(Fault) as fault:
                results[index]
            faults.append((fault.value.faultCode, fault.value.faultString))
        assert await proxy.add(2, 2) == 4
    assert faults == stdlib_faults
    assert faults == [(7, "it failed"), (-32601, 'Method "no.such.method" not found')]


async def test_pooled_connections_it_closed_while_idle(foxglove: Server) -> None:
    # node closes a kept-alive connection after 100 ms of silence (plus its second): the
    # next call on the same proxy must open a fresh one, never fail on (or read from) the
    # closed one.
    assert await _settle(foxglove) == frozenset()
    async with AsyncServerProxy(foxglove.url, timeout=CALL_TIMEOUT) as proxy:
        for round_ in range(2):
            sums = await asyncio.gather(*(proxy.add(round_, n) for n in range(20)))
            assert sums == [round_ + n for n in range(20)]
            assert _connections(foxglove)  # kept alive, in our pool
            assert await _settle(foxglove) == frozenset()  # closed by node, under the pool
        assert await proxy.echo("after") == "after"


# -- its client, our server --------------------------------------------------------------------

# Where our server answers differently from the standard library's, on purpose.
DIFFERENT = {"unknown", "bad_params"}


def _run_client(url: str) -> dict[str, dict[str, Any]]:
    return run_client(
        [_node(), str(CLIENT_SCRIPT), url], CLIENT_TIMEOUT, cwd=NODE_DIR, env=NODE_ENV
    )


def test_its_client_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    theirs = _run_client(stdlib_example_server.url)
    assert list(ours) == list(theirs)
    assert len(ours) == 20
    for name in ours.keys() - DIFFERENT:
        assert ours[name] == theirs[name], name
    assert "error" not in json.dumps(ours)

    tricky = 'h\u00e9llo & <tags> "q" \u2603 \U0001f600'  # sent as CDATA
    assert ours["string"]["value"] == [tricky, "<class 'str'>", tricky]
    assert ours["big_int"]["fault"] == [1, "<class 'OverflowError'>:int exceeds XML-RPC limits"]
    assert ours["whole_double"]["value"] == ["2", "<class 'int'>", 2]  # sent as <int>2</int>
    assert ours["tiny"]["value"] == ["1e-07", "<class 'float'>", 1e-7]
    assert ours["crlf"]["value"][2] == "cr\nlf\nend"
    assert ours["nil"]["value"] == ["None", "<class 'NoneType'>", {"undefined": True}]
    assert ours["base64"]["value"] == {"base64": "AAFiaW4="}
    # Its Date goes out as ISO text with milliseconds: a DateTime that keeps it.
    assert ours["datetime"]["value"] == [
        WHEN,
        "<class 'xmlrpc.client.DateTime'>",
        WHEN,
    ]
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message"]
    assert ours["multicall"]["value"] == [
        True,
        [tricky, "<class 'str'>", tricky],
        {"fault": [1, "<class 'RuntimeError'>:Next to last call stops execution"]},
    ]
    assert ours["ping_again"]["value"] is True


def test_its_client_sees_our_deliberate_differences(example_server: ExampleServer) -> None:
    ours = _run_client(example_server.url)
    assert ours["unknown"]["fault"] == [-32601, 'method "no.such.method" is not supported']
    code, text = ours["bad_params"]["fault"]
    assert code == -32602
    assert "takes 1 positional argument but 3 were given" in text
