"""Dave Winer's XML-RPC for node, the npm package ``davexmlrpc`` 0.4.26, in both directions.

By the author of the XML-RPC specification.

- ``node/davexmlrpc_server.js`` (``startServerOverHttp``, on his davehttp and node's http
  module) against AsyncServerProxy, with the standard library's ``ServerProxy`` as the
  oracle: every answer must be the one the standard library reads from the same server.
- ``node/davexmlrpc_client.js`` (``client``, on the ``request`` package) against our
  example server, its answers compared with those of the standard library's
  ``SimpleXMLRPCServer`` serving the same ``ExampleService``.

What the package does, as these tests pin it:

- every whole number is an ``<i4>``, whatever its size (2**40; 1e20 as
  ``<i4>100000000000000000000</i4>``; -0.0 as ``<i4>0</i4>``; 1e100 as ``<i4>1e+100</i4>``,
  which no reader takes); a double is as JavaScript prints it (``1e-7``);
- a boolean is ``<boolean>true</boolean>`` or ``false``, which neither client reads (the
  standard library raises ``TypeError``, we raise ``InvalidValue``, a ``ValueError``);
  its client sends them so too, and our server answers fault -32600 where
  ``SimpleXMLRPCServer`` answers fault 1;
- a string is escaped, never CDATA, and U+00A0 in it is written as a space; ``null`` is
  an empty ``<struct>`` (it has no ``<nil/>``), and a tag it does not know (``<nil/>``,
  ``<i8>``) it reads as a struct of it: None comes back as ``{"nil": ""}``;
- ``<base64>`` it reads as text, its bytes decoded as UTF-8: Binary comes back as a
  string, or, holding a NUL, as a reply no XML parser takes;
- a date is ``toISOString()``, ``2024-02-29T12:34:56.000Z`` (one it reads without a zone
  is local time: the server runs with ``TZ=UTC``), which the standard library cannot read
  as a ``datetime`` (ValueError) and we read as an aware one, in UTC (the forms
  ``parse_datetime`` accepts);
- a reply's ``Content-Length`` counts UTF-16 code units, not bytes: a reply holding
  characters beyond ASCII is cut short by the difference. One of two bytes costs only
  the final LF (read by both clients); more cut its closing tag (both refuse it as
  truncated); the proxy goes on either way;
- a fault is an HTTP 500 (code 1, its text the error's ``message``), which both clients
  raise as a ``ProtocolError``, unread;
- a call the handler does not answer is never answered (the README's ``return false``,
  "not handled", is ignored): an unknown method, ``system.multicall`` and
  ``system.listMethods`` time out; a request body that is not XML (gzipped, say) ends the
  server with an uncaught ``TypeError``;
- a struct member named ``__proto__`` is lost, and the members of a struct under it are
  merged into its parent;
- davehttp looks up every client's address with ``dns.reverse`` and listens on every
  interface (the script answers the lookup at once and binds 127.0.0.1); node closes idle
  keep-alive connections (here after 100 ms, plus the second its http server adds).

``.ci/test`` installs the package with ``npm ci`` into ``node/node_modules``. Without it
these tests fail, saying so; they are never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.client
import json
import os
import shutil
import subprocess
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from xml.parsers.expat import ExpatError

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Binary,
    ConnectError,
    DateTime,
    InvalidValue,
    MalformedXML,
    MultiCall,
    ProtocolError,
    TransportTimeout,
    TruncatedResponse,
    codec,
)
from aioxmlrpc._demo import ExampleServer

from peers import both, exact, read_port, run_client, stdlib_proxy, stop
from servers import StdlibExampleServer

NODE_DIR = Path(__file__).with_name("node")
SERVER_SCRIPT = NODE_DIR / "davexmlrpc_server.js"
CLIENT_SCRIPT = NODE_DIR / "davexmlrpc_client.js"
PACKAGE = NODE_DIR / "node_modules" / "davexmlrpc" / "package.json"
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's
UNANSWERED_TIMEOUT = 1.0  # seconds to wait for a call that is never answered
CLIENT_TIMEOUT = 60.0  # seconds for the client script to make all its calls
NODE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC"}

# What davexmlrpc_server.js returns: keep the two in step.
BLOB = b"\x00\x01b\xfe\xff"
WHEN = "2024-02-29T12:34:56.000Z"
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -7,
    "int_max": 2**31 - 1,
    "int_min": -(2**31),
    "big": 2**40,
    "huge": 10**20,
    "double": 2.5,
    "tenth": 0.1,
    "tiny": 1e-7,
    "markup": 'a<b & "c" >',
    "nbsp": "a b",  # U+00A0 written as a space
    "empty": "",
    "null": {},
    "when": DateTime(WHEN),
    "blob": Binary(BLOB),
    "bytes": {"0": 7, "1": 8},
    "list": [1, "two", [3, []]],
    "nested": {"a": {"b": {}}, "k&<>": "v"},
}


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
            "the npm package davexmlrpc is not installed: run "
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


@contextlib.contextmanager
def _server(log: Path) -> Iterator[tuple[subprocess.Popen[bytes], Server]]:
    """davexmlrpc_server.js on a free port of 127.0.0.1, its stderr in ``log``."""
    node = _node()
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
        yield proc, Server(f"http://127.0.0.1:{port}/RPC2", port, proc.pid, _sockets(proc.pid))
    finally:
        if proc.poll() is None:
            stop(proc, "davexmlrpc_server", STOP_TIMEOUT)
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()


@pytest.fixture(scope="module")
def dave(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server, for the whole module; it must still run at the end."""
    log = tmp_path_factory.mktemp("davexmlrpc") / "server.err"
    with _server(log) as (proc, server):
        yield server
        problems = stop(proc, "davexmlrpc_server", STOP_TIMEOUT)
    assert not problems, f"{problems}\n{log.read_text()}"
    assert proc.returncode == 0, log.read_text()  # it exits 0 on SIGTERM
    assert log.read_text() == ""


async def _both_refuse(
    url: str,
    method: str,
    *params: Any,
    ours: type[Exception],
    theirs: type[Exception],
    **options: Any,
) -> tuple[Exception, Exception]:
    """What our proxy and the stdlib's raise for ``method(*params)``; both go on after."""
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT, **options) as proxy:
        with pytest.raises(ours) as our_error:
            await getattr(proxy, method)(*params)
        assert await proxy.add(1, 1) == 2
    with stdlib_proxy(url, CALL_TIMEOUT, **options) as stdlib:
        with pytest.raises(theirs) as their_error:
            await asyncio.to_thread(getattr(stdlib, method), *params)
        assert await asyncio.to_thread(stdlib.add, 1, 1) == 2
    return our_error.value, their_error.value


async def _raw(port: int, body: bytes) -> tuple[list[str], bytes]:
    """POST ``body`` on a connection of its own; the reply's head lines, and every byte
    after them until the server closes (``Connection: close``)."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port), CALL_TIMEOUT
    )
    try:
        head = (
            "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        reply = await asyncio.wait_for(reader.read(), CALL_TIMEOUT)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(writer.wait_closed(), CALL_TIMEOUT)
    head_text, _, rest = reply.partition(b"\r\n\r\n")
    return head_text.decode("latin-1").split("\r\n"), rest


def _declared_length(head: list[str]) -> int:
    return int(next(line for line in head if line.lower().startswith("content-length:"))[15:])


# -- its server, our client ------------------------------------------------------------------


async def test_every_type_it_writes(dave: Server) -> None:
    ours, theirs = await both(dave.url, CALL_TIMEOUT, "typed")
    assert exact(ours) == exact(theirs) == exact(TYPED)


@pytest.mark.parametrize(
    "options", [{"use_datetime": True}, {"use_builtin_types": True}], ids=lambda o: next(iter(o))
)
async def test_its_dates_as_datetime(dave: Server, options: dict[str, Any]) -> None:
    # The standard library reads only the basic form (20240229T12:34:56); we also read
    # the extended one with its fraction and zone, as documented for parse_datetime.
    with (
        stdlib_proxy(dave.url, CALL_TIMEOUT, **options) as stdlib,
        pytest.raises(ValueError, match="does not match format"),
    ):
        await asyncio.to_thread(stdlib.typed)
    async with AsyncServerProxy(dave.url, timeout=CALL_TIMEOUT, **options) as proxy:
        ours = await proxy.typed()
    expected = dict(
        TYPED, when=datetime.datetime(2024, 2, 29, 12, 34, 56, tzinfo=datetime.timezone.utc)
    )
    if options.get("use_builtin_types"):
        expected["blob"] = BLOB
    assert exact(ours) == exact(expected)


async def test_how_it_writes_a_reply(dave: Server) -> None:
    head, body = await _raw(dave.port, xmlrpc.client.dumps((), "typed").encode())
    assert head[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: text/xml" in head
    assert _declared_length(head) == len(body)  # all ASCII: characters are bytes
    assert body.startswith(b'<?xml version="1.0"?>\n<methodResponse>\n\t<params>\n')
    for written in [
        b"<value><i4>1099511627776</i4></value>",
        b"<value><i4>100000000000000000000</i4></value>",
        b"<value><double>1e-7</double></value>",
        b"<value><string>a&lt;b &amp; &quot;c&quot; &gt;</string></value>",
        b"<value><string>a b</string></value>",
        b"<name>null</name>\n\t\t<value><struct>\n\t</struct>\n</value>",
        b"<value><dateTime.iso8601>2024-02-29T12:34:56.000Z</dateTime.iso8601></value>",
        b"<value><base64>AAFi/v8=</base64></value>",
    ]:
        assert written in body
    ((ours,), _) = codec.loads(body)
    ((theirs,), _) = xmlrpc.client.loads(body)
    assert exact(ours) == exact(theirs) == exact(TYPED)


async def test_what_we_send_comes_back(dave: Server) -> None:
    # Text beyond ASCII aside (its replies are cut short: below).
    sent = {
        "text": [
            "a<b",
            "x & y",
            "]]>",
            "\"q\" 'a'",
            "",
            " ",
            " padded ",
            "tab\tnew\nline",
            "&amp; as text",
            "<![CDATA[",
        ],
        "numbers": [0, -1, 2**31 - 1, -(2**31), 0.5, -2.25, 0.1, 1e-7, 5e-324, -1.5e-300],
        "deep": [[[{"k": [{}]}]]],
        "empty": [[], {}],
        "keys": {"a&b": 1, "<tag>": 2},
    }
    ours, theirs = await both(dave.url, CALL_TIMEOUT, "echo", sent)
    assert exact(ours) == exact(theirs) == exact(sent)


async def test_what_javascript_rewrites(dave: Server) -> None:
    # Numbers are JavaScript's: a whole double goes back as an <i4>; a date is read in
    # local time (UTC here) and written as toISOString(); base64 is read as UTF-8 text;
    # <nil/> is an unknown tag, read as a struct of it; __proto__ is no key.
    for sent, back in [
        ([1e20, -0.0, 2.0, 2**31 - 1.0], [10**20, 0, 2, 2**31 - 1]),
        ("a\u00a0b", "a b"),
        (DateTime("20240229T12:34:56"), DateTime(WHEN)),
        (Binary(b"bytes"), "bytes"),
        (Binary(b""), ""),
        (None, {"nil": ""}),
        ([1, None], [1, {"nil": ""}]),
        ({"__proto__": 1, "a": 2}, {"a": 2}),
        ({"__proto__": {"x": 1}, "a": 2}, {"a": 2, "x": 1}),
    ]:
        ours, theirs = await both(dave.url, CALL_TIMEOUT, "echo", sent, allow_none=True)
        assert exact(ours) == exact(theirs) == exact(back), sent


async def test_i8_is_read_as_a_struct(dave: Server) -> None:
    # The standard library cannot send these (OverflowError); allow_i8 sends <i8>.
    async with AsyncServerProxy(dave.url, timeout=CALL_TIMEOUT, allow_i8=True) as proxy:
        assert exact(await proxy.echo(2**40)) == exact({"i8": "1099511627776"})
        assert exact(await proxy.echo(2**31 - 1)) == exact(2**31 - 1)  # <int> while it fits


async def test_cr_and_crlf_come_back_as_lf(dave: Server) -> None:
    ours, theirs = await both(dave.url, CALL_TIMEOUT, "echo", "cr\rlf\r\nend <&>")
    assert ours == theirs == "cr\nlf\nend <&>"


async def test_its_booleans_are_refused_by_both(dave: Server) -> None:
    # <boolean>true</boolean>: the standard library's TypeError, our InvalidValue (a
    # ValueError), as docs/guide/codec.md says.
    for flag in (True, False):
        ours, theirs = await _both_refuse(
            dave.url, "echo", flag, ours=InvalidValue, theirs=TypeError
        )
        assert str(theirs) == "bad boolean value"
        assert str(ours).startswith(f"bad <boolean> value '{str(flag).lower()}'")


async def test_a_binary_holding_a_nul_comes_back_malformed(dave: Server) -> None:
    # Read as UTF-8 text and written back raw: a NUL in a <string>, and \xff as U+FFFD.
    ours, theirs = await _both_refuse(
        dave.url, "echo", Binary(b"\x00\xff"), ours=MalformedXML, theirs=ExpatError
    )
    assert isinstance(ours, ExpatError)
    assert str(ours) == str(theirs) == "not well-formed (invalid token): line 6, column 12"


async def test_a_whole_double_past_int_range(dave: Server) -> None:
    ours, _ = await _both_refuse(dave.url, "echo", 1e100, ours=InvalidValue, theirs=ValueError)
    assert str(ours).startswith("bad <int> value '1e+100'")


async def test_its_content_length_counts_utf16_units(dave: Server) -> None:
    # The body is the bytes of the text, its Content-Length the text's .length: a reply
    # holding "é€😀" (2 + 3 + 4 bytes, 1 + 1 + 2 units) says 5 bytes fewer than it sends.
    head, body = await _raw(dave.port, xmlrpc.client.dumps(("é€😀",), "echo").encode())
    text = body.decode()
    assert _declared_length(head) == len(text.encode("utf-16-le")) // 2 == len(body) - 5
    assert body.endswith(b"</methodResponse>\n")


async def test_a_reply_beyond_ascii_is_cut_short(dave: Server) -> None:
    # One character of two bytes: only the final LF is cut; both read the reply. That
    # LF comes before the next reply on the kept-alive connection, which goes on.
    ours, theirs = await both(dave.url, CALL_TIMEOUT, "echo", "\u00e9")
    assert ours == theirs == "\u00e9"
    assert await _settle(dave) == frozenset()
    async with AsyncServerProxy(dave.url, timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.echo("\u00e9") == "\u00e9"
        connection = _connections(dave)
        assert len(connection) == 1
        for n in range(3):
            assert await proxy.add(n, 1) == n + 1
            assert await proxy.echo("\u00e9") == "\u00e9"
        assert _connections(dave) == connection  # the same one throughout
    # More: the closing tag is cut, and both refuse the reply as truncated.
    for sent in ["\u00e9\u20ac", "\U0001f600", "ab\u20ac"]:
        ours_error, theirs_error = await _both_refuse(
            dave.url, "echo", sent, ours=TruncatedResponse, theirs=ExpatError
        )
        assert str(ours_error) == str(theirs_error) == "unclosed token: line 10, column 1"


async def test_a_reply_over_1_mib(dave: Server) -> None:
    size = 3_000_000
    ours, theirs = await both(dave.url, CALL_TIMEOUT, "big", size)
    assert ours == theirs
    assert len(ours) == size
    assert ours.startswith("x<y&z x<y&z ")


async def test_a_fault_is_an_http_500(dave: Server) -> None:
    # Both raise a ProtocolError and leave the fault's body unread. The standard library
    # then leaves the chunked body on the connection (it reads a body only when there is
    # a Content-Length), and its next call fails with ResponseNotReady; ours goes on.
    async with AsyncServerProxy(dave.url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(ProtocolError) as ours:
            await proxy.fail()
        assert await proxy.add(1, 1) == 2
    with stdlib_proxy(dave.url, CALL_TIMEOUT) as stdlib:
        with pytest.raises(xmlrpc.client.ProtocolError) as theirs:
            await asyncio.to_thread(stdlib.fail)
        with pytest.raises(http.client.ResponseNotReady):
            await asyncio.to_thread(stdlib.add, 1, 1)
        assert await asyncio.to_thread(stdlib.add, 1, 1) == 2  # on a new connection
    assert (ours.value.errcode, ours.value.errmsg) == (theirs.value.errcode, theirs.value.errmsg)
    assert (ours.value.errcode, ours.value.errmsg) == (500, "Internal Server Error")
    assert ours.value.headers["Transfer-Encoding"] == "chunked"


async def test_calls_it_does_not_answer_time_out(dave: Server) -> None:
    # An unknown method, system.multicall, system.listMethods: the handler leaves them
    # unanswered, and so does the package. Both clients give up at their timeout.
    async with AsyncServerProxy(dave.url, timeout=UNANSWERED_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        calls = [proxy.no.such.method(), proxy.system.listMethods(), multicall()]
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert [type(result) for result in results] == [TransportTimeout] * 3
        assert await proxy.add(1, 1) == 2

    def stdlib_calls() -> list[type[BaseException]]:
        raised: list[type[BaseException]] = []
        with stdlib_proxy(dave.url, UNANSWERED_TIMEOUT) as stdlib:
            batch = xmlrpc.client.MultiCall(stdlib)
            batch.add(1, 2)
            for call in (stdlib.no.such.method, stdlib.system.listMethods, batch):
                with pytest.raises(TimeoutError) as timed_out:
                    call()
                raised.append(type(timed_out.value))
            assert stdlib.add(1, 1) == 2
        return raised

    assert await asyncio.to_thread(stdlib_calls) == [TimeoutError] * 3


async def test_pooled_connections_it_closed_while_idle(dave: Server) -> None:
    # node closes a kept-alive connection after 100 ms of silence (plus its second): the
    # next call on the same proxy must open a fresh one, never fail on (or read from) the
    # closed one.
    assert await _settle(dave) == frozenset()
    async with AsyncServerProxy(dave.url, timeout=CALL_TIMEOUT) as proxy:
        for round_ in range(2):
            sums = await asyncio.gather(*(proxy.add(round_, n) for n in range(20)))
            assert sums == [round_ + n for n in range(20)]
            assert _connections(dave)  # kept alive, in our pool
            assert await _settle(dave) == frozenset()  # closed by node, under the pool
        assert await proxy.echo("after") == "after"


async def test_a_request_that_is_not_xml_ends_the_server(tmp_path: Path) -> None:
    # xml2js fails on the gzipped body, and davexmlrpc reads the result it did not get:
    # an uncaught TypeError ends the process. Leave gzip_threshold off for it.
    for client in ("ours", "stdlib"):
        log = tmp_path / f"{client}.err"
        with _server(log) as (proc, server):
            if client == "ours":
                async with AsyncServerProxy(
                    server.url, timeout=CALL_TIMEOUT, gzip_threshold=0
                ) as proxy:
                    with pytest.raises(ConnectError, match="closed the connection without"):
                        await proxy.echo("x")
            else:
                with stdlib_proxy(server.url, CALL_TIMEOUT) as stdlib:
                    stdlib("transport").encode_threshold = 0
                    # No reply (http.client's RemoteDisconnected, a ConnectionResetError):
                    # xmlrpc.client tries once more, and is refused, or reset.
                    with pytest.raises((ConnectionRefusedError, ConnectionResetError)):
                        await asyncio.to_thread(stdlib.echo, "x")
            assert await asyncio.to_thread(proc.wait, STOP_TIMEOUT) == 1
        assert "TypeError: Cannot read properties of undefined (reading 'methodCall')" in (
            log.read_text()
        )


# -- its client, our server --------------------------------------------------------------------

# Where our server answers differently from the standard library's, on purpose: fault
# codes, and -32600 for a value not of its type (its <boolean>true</boolean>).
DIFFERENT = {"unknown", "bad_params", "boolean"}


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
    assert len(ours) == 19
    for name in ours.keys() - DIFFERENT:
        assert ours[name] == theirs[name], name
    assert "error" not in json.dumps(ours)

    tricky = 'h\u00e9llo & <tags> ]]> "q" \u2603 end'  # its U+00A0 sent as a space
    assert ours["string"]["value"] == [tricky, "<class 'str'>", tricky]
    # 2**40 arrives as an <i4> and is read; it cannot go back: fault 1 from both.
    assert ours["big_int"]["fault"] == [1, "<class 'OverflowError'>:int exceeds XML-RPC limits"]
    assert ours["tiny"]["value"] == ["1e-07", "<class 'float'>", 1e-7]
    assert ours["crlf"]["value"][2] == "cr\nlf\nend"
    assert ours["null"]["value"] == ["{}", "<class 'dict'>", {}]
    assert ours["base64"]["value"] == "\u0000\u0001bin"  # its <base64> read as text
    assert ours["datetime"]["value"] == [WHEN, "<class 'xmlrpc.client.DateTime'>", WHEN]
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message"]
    assert ours["multicall"]["value"] == [
        [True],
        [[tricky, "<class 'str'>", tricky]],
        {"faultCode": 1, "faultString": "<class 'RuntimeError'>:Next to last call stops execution"},
    ]
    assert ours["ping_again"]["value"] is True


def test_its_client_sees_our_deliberate_differences(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    assert ours["unknown"]["fault"] == [-32601, 'method "no.such.method" is not supported']
    code, text = ours["bad_params"]["fault"]
    assert code == -32602
    assert "takes 1 positional argument but 3 were given" in text
    # <boolean>true</boolean>: a value not of its type, fault -32600 (the standard
    # library's server answers its TypeError as fault 1).
    assert ours["boolean"]["fault"] == [
        -32600,
        "invalid XML-RPC request: bad <boolean> value 'true': line 6, column 23",
    ]
    theirs = _run_client(stdlib_example_server.url)
    assert theirs["boolean"]["fault"] == [1, "<class 'TypeError'>:bad boolean value"]
