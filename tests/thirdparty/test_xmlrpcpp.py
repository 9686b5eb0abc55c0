"""ROS's XmlRpc++ (Debian's libxmlrpcpp-dev, 1.15: "XMLRPC++ 0.7"), in both directions.

- ``xmlrpcpp_server.cpp`` (next to this file), an ``XmlRpcServer`` compiled here with
  ``g++``, against AsyncServerProxy, with the standard library's ``ServerProxy`` as the
  oracle: every answer must be the one the standard library reads from the same server.
- ``xmlrpcpp_client.cpp``, an ``XmlRpcClient``, against our example server, its output
  compared with what it prints against the standard library's ``SimpleXMLRPCServer``.

What XmlRpc++ does, as these tests pin it. It parses no XML: it looks for tags by their
text, so

- a reply is ``<?xml version="1.0"?>`` and CRLF line ends around the value, in an
  ``HTTP/1.1`` reply with ``Server: XMLRPC++ 0.7``, ``Content-Type`` and
  ``Content-length`` (so spelled), and no ``Date`` or ``Connection``; a string is a bare
  ``<value>`` (no ``<string>``), an int is ``<i4>``, a double has 17 significant digits
  (``0.10000000000000001``, ``9.9999999999999995e-08``), base64 breaks its lines at 72
  characters with a bare LF and ends in one, and struct members come sorted by name;
- it decodes the five named entities and nothing else: a character reference (``&#13;``)
  reaches the method as its five characters, and a struct member's name is not decoded
  at all (``a&b`` comes back as ``a&amp;b``); ``\\r`` it carries as is, raw;
- a value it does not know (``<nil/>``, ``<i8>``) is read as nothing: the method gets an
  empty value (echoed as ``""``), an array is cut short before it;
- a ``dateTime`` is written from the fields of a ``struct tm`` as they are: filled by
  ``gmtime()``, 2024-02-29 goes out as `` 1240129T12:34:56`` (year 124, month 1), which
  a client reads as text and cannot read as a ``datetime``;
- a request body holding a NUL byte, as a gzipped one does, is never answered (it copies
  what it reads as a C string, so waits for bytes it dropped);
- one thread serves every connection in turn, and keeps each open for as long as the
  client does (HTTP/1.1, or HTTP/1.0 with ``Connection: keep-alive``), with no time limit;
- a method that throws ``XmlRpcException(text, code)`` is fault ``code``; an unknown
  method is fault -1 ``"<name>: unknown method name"``, a wrong type fault -1 ``"type
  error"``; ``system.multicall`` is built in, listed last by ``system.listMethods``.

``.ci/test`` installs libxmlrpcpp-dev (and g++). Without them these tests fail, saying
so; they are never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import re
import shutil
import subprocess
import time
import xmlrpc.client
from collections.abc import AsyncIterator, Iterator
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
    TransportTimeout,
    codec,
)
from aioxmlrpc._demo import ExampleServer

from peers import both, exact, read_port, run_client, stdlib_proxy, stop
from servers import StdlibExampleServer

SERVER_SOURCE = Path(__file__).with_name("xmlrpcpp_server.cpp")
CLIENT_SOURCE = Path(__file__).with_name("xmlrpcpp_client.cpp")
HEADER = Path("/usr/include/xmlrpcpp/XmlRpc.h")
# What `pkg-config --libs xmlrpcpp` says, spelled out: pkg-config need not be installed.
LIBRARIES = ["-lxmlrpcpp", "-lrostime", "-lcpp_common"]
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's
BUILD_TIMEOUT = 120.0
CLIENT_TIMEOUT = 60.0  # seconds for xmlrpcpp_client to make all its calls

# What xmlrpcpp_server.cpp returns: keep the two in step.
TEXT = "h\u00e9llo <&> \"q\" 'a' \u2603"
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -7,
    "int_max": 2**31 - 1,
    "int_min": -(2**31),
    "true": True,
    "false": False,
    "double": 2.5,
    "tenth": 0.1,
    "tiny": 1e-7,
    "huge": 1e20,
    "string": TEXT,
    "empty": "",
    "blob": Binary(b"\x00\x01\x02\xff"),
    "when": DateTime("20240229T12:34:56"),
    "list": [1, "two", [3.5]],
    "empty_list": [],
    "nested": {"a": {"b": "c"}},
}


class Server(NamedTuple):
    """The running server: its URL, and its PID, to count the connections it holds."""

    url: str
    port: int
    pid: int


def _compile(source: Path, binary: Path) -> Path:
    if not HEADER.exists():
        pytest.fail(
            f"{HEADER} is missing (Debian: libxmlrpcpp-dev; .ci/test installs it)",
            pytrace=False,
        )
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.fail("g++ is not installed (Debian: g++; .ci/test installs it)", pytrace=False)
    build = subprocess.run(
        [compiler, "-O1", "-Wall", "-o", str(binary), str(source), *LIBRARIES],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    return binary


@pytest.fixture(scope="module")
def server_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """xmlrpcpp_server.cpp, compiled."""
    return _compile(SERVER_SOURCE, tmp_path_factory.mktemp("xmlrpcpp") / "xmlrpcpp_server")


@pytest.fixture(scope="module")
def xmlrpcpp(server_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server on a free port of 127.0.0.1."""
    log = tmp_path_factory.mktemp("xmlrpcpp_run") / "server.err"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(server_binary)],
            stdin=subprocess.PIPE,  # it exits when this closes, should we die first
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        try:
            port = read_port(proc, START_TIMEOUT)
        except (RuntimeError, ValueError) as exc:
            pytest.fail(f"the XmlRpc++ server did not start: {exc}\n{log.read_text()}")
        yield Server(f"http://127.0.0.1:{port}/RPC2", port, proc.pid)
    finally:
        problems = stop(proc, "xmlrpcpp_server", STOP_TIMEOUT)
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
    assert not problems, f"{problems}\n{log.read_text()}"
    assert log.read_text() == ""


async def _both_fail(url: str, method: str, *params: Any) -> tuple[Fault, Fault]:
    """The faults that ``method(*params)`` raises in our proxy and in the stdlib's."""
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(Fault) as ours:
            await getattr(proxy, method)(*params)
        assert await proxy.add(1, 1) == 2  # the proxy goes on
    with stdlib_proxy(url, CALL_TIMEOUT) as stdlib, pytest.raises(xmlrpc.client.Fault) as theirs:
        await asyncio.to_thread(getattr(stdlib, method), *params)
    assert (ours.value.faultCode, ours.value.faultString) == (
        theirs.value.faultCode,
        theirs.value.faultString,
    )
    return ours.value, theirs.value


# -- raw HTTP, to see what XmlRpc++ writes --------------------------------------------------


class Reply(NamedTuple):
    status: bytes
    headers: list[tuple[str, str]]  # as spelled, in order
    body: bytes


@contextlib.asynccontextmanager
async def _connection(
    port: int,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port), CALL_TIMEOUT
    )
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(writer.wait_closed(), CALL_TIMEOUT)


def _request(body: bytes, version: str = "HTTP/1.1", *extra: str) -> bytes:
    head = [f"POST /RPC2 {version}", "Host: 127.0.0.1", "Content-Type: text/xml", *extra]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> Reply:
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CALL_TIMEOUT)
    status, *lines = head.decode("latin-1").split("\r\n")[:-2]
    headers = [(name, value) for name, _, value in (line.partition(": ") for line in lines)]
    length = int(dict((name.lower(), value) for name, value in headers)["content-length"])
    body = await asyncio.wait_for(reader.readexactly(length), CALL_TIMEOUT)
    return Reply(status.encode(), headers, body)


async def _closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server closes the connection (within CALL_TIMEOUT) without a byte."""
    return await asyncio.wait_for(reader.read(1), CALL_TIMEOUT) == b""


def _call(method: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps(params, method).encode()


# -- XmlRpc++'s server, our client ----------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"use_datetime": True}, {"use_builtin_types": True}],
    ids=["defaults", "use_datetime", "use_builtin_types"],
)
async def test_every_type_xmlrpcpp_writes(xmlrpcpp: Server, options: dict[str, Any]) -> None:
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "typed", **options)
    assert exact(ours) == exact(theirs)
    if not options:
        assert exact(ours) == exact(TYPED)
    assert list(ours) == sorted(TYPED)  # a std::map: members sorted by name


async def test_how_xmlrpcpp_writes_a_reply(xmlrpcpp: Server) -> None:
    async with _connection(xmlrpcpp.port) as (reader, writer):
        reply = await _exchange(reader, writer, _request(_call("typed")))
    assert reply.status == b"HTTP/1.1 200 OK"
    assert reply.headers == [
        ("Server", "XMLRPC++ 0.7"),
        ("Content-Type", "text/xml"),
        ("Content-length", str(len(reply.body))),
    ]
    assert reply.body.startswith(
        b'<?xml version="1.0"?>\r\n<methodResponse><params><param>\r\n\t<value><struct>'
    )
    assert reply.body.endswith(b"</struct></value>\r\n</param></params></methodResponse>\r\n")
    for written in [
        b"<name>int</name><value><i4>42</i4></value>",
        b"<name>tenth</name><value><double>0.10000000000000001</double></value>",
        b"<name>tiny</name><value><double>9.9999999999999995e-08</double></value>",
        b"<name>huge</name><value><double>1e+20</double></value>",
        b"<name>true</name><value><boolean>1</boolean></value>",
        b"<name>empty</name><value></value>",
        b"<value>two</value>",  # no <string>
        "<value>h\u00e9llo &lt;&amp;&gt; &quot;q&quot; &apos;a&apos; \u2603</value>".encode(),
        b"<base64>AAEC/w==\n</base64>",
        b"<dateTime.iso8601>20240229T12:34:56</dateTime.iso8601>",
        b"<value><array><data></data></array></value>",
    ]:
        assert written in reply.body
    # What both clients read from these bytes is what they read through their proxies.
    assert exact(codec.loads(reply.body)) == exact(xmlrpc.client.loads(reply.body))


async def test_base64_lines_end_in_a_bare_lf(xmlrpcpp: Server) -> None:
    blob = bytes(range(256)) * 4
    async with _connection(xmlrpcpp.port) as (reader, writer):
        reply = await _exchange(reader, writer, _request(_call("echo", Binary(blob))))
    text = reply.body.split(b"<base64>")[1].split(b"</base64>")[0]
    assert text.endswith(b"\n")
    assert {len(line) for line in text.split(b"\n")[:-2]} == {72}
    assert b"\r" not in text
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "echo", Binary(blob))
    assert exact(ours) == exact(theirs) == exact(Binary(blob))


async def test_what_we_send_comes_back(xmlrpcpp: Server) -> None:
    sent = {
        "text": [
            "a<b",
            "x & y",
            "]]>",
            "\"q\" 'a'",
            "\u00e9\u20ac\u65e5\U0001f600",  # XmlRpc++ carries UTF-8 as bytes, any of it
            "",
            " ",
            " padded ",
            "tab\tnew\nline",
            "&amp; as text",
        ],
        "numbers": [0, -1, 2**31 - 1, -(2**31), 0.5, -2.25, 0.1, 1e100, 5e-324, -0.0],
        "flags": [True, False],
        "blob": Binary(b"\x00\x01\x02\xff" * 100),
        "empty_blob": Binary(b""),
        "when": DateTime("20240229T12:34:56"),
        "deep": [[[{"k": [{}]}]]],
        "empty": [[], {}],
    }
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "echo", sent)
    assert exact(ours) == exact(theirs) == exact(sent)


async def test_cr_and_crlf_come_back_as_lf(xmlrpcpp: Server) -> None:
    # We write \r as it is, as the standard library does. XmlRpc++ keeps it raw, and
    # writes it back raw; both clients' XML parsers then read \r and \r\n as \n.
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "echo", "cr\rlf\r\nend")
    assert ours == theirs == "cr\nlf\nend"


async def test_a_character_reference_reaches_the_method_as_text(xmlrpcpp: Server) -> None:
    # XmlRpc++ decodes no numeric character reference: had we written \r as &#13; (as
    # aioxmlrpc once did), the method would have got those five characters, written
    # them back as &amp;#13;, and both clients would read "&#13;".
    request = (
        _call("echo", "a\rb\u00e9").replace(b"\r", b"&#13;").replace("\u00e9".encode(), b"&#233;")
    )
    async with _connection(xmlrpcpp.port) as (reader, writer):
        reply = await _exchange(reader, writer, _request(request))
    assert b"<value>a&amp;#13;b&amp;#233;</value>" in reply.body
    ((ours,), _) = codec.loads(reply.body)
    ((theirs,), _) = xmlrpc.client.loads(reply.body)
    assert ours == theirs == "a&#13;b&#233;"


async def test_struct_member_names_are_not_decoded(xmlrpcpp: Server) -> None:
    # The names arrive escaped, are kept so, and are escaped again on the way back.
    sent = {"a&b": 1, "<tag>": 2, "plain": 3}
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "echo", sent)
    assert exact(ours) == exact(theirs) == exact({"a&amp;b": 1, "&lt;tag&gt;": 2, "plain": 3})


async def test_a_value_xmlrpcpp_does_not_know_is_read_as_nothing(xmlrpcpp: Server) -> None:
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "echo", None, allow_none=True)
    assert exact(ours) == exact(theirs) == exact("")
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "echo", [1, None, 2, 3], allow_none=True)
    assert exact(ours) == exact(theirs) == exact([1])  # cut short before the <nil/>
    # The standard library cannot send these (OverflowError); allow_i8 sends <i8>.
    async with AsyncServerProxy(xmlrpcpp.url, timeout=CALL_TIMEOUT, allow_i8=True) as proxy:
        assert await proxy.echo(2**40) == ""
        assert await proxy.echo([1, 2**40, 3]) == [1]
        assert await proxy.echo(2**31 - 1) == 2**31 - 1  # <int> as long as it fits


async def test_a_date_from_gmtime_reads_as_text(xmlrpcpp: Server) -> None:
    # gmtime()'s struct tm holds year - 1900 and a month from 0, written as they are:
    # " 1240129T12:34:56", its space stripped by both.
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "gmtime")
    assert exact(ours) == exact(theirs) == exact(DateTime("1240129T12:34:56"))


@pytest.mark.parametrize(
    "options", [{"use_datetime": True}, {"use_builtin_types": True}], ids=lambda o: next(iter(o))
)
async def test_a_date_from_gmtime_is_no_datetime(xmlrpcpp: Server, options: dict[str, Any]) -> None:
    with (
        stdlib_proxy(xmlrpcpp.url, CALL_TIMEOUT, **options) as stdlib,
        pytest.raises(ValueError, match="does not match format"),
    ):
        await asyncio.to_thread(stdlib.gmtime)
    async with AsyncServerProxy(xmlrpcpp.url, timeout=CALL_TIMEOUT, **options) as proxy:
        # InvalidValue is a ValueError, as the standard library raises.
        with pytest.raises(InvalidValue, match=r"bad <dateTime\.iso8601> value ' 1240129T"):
            await proxy.gmtime()
        assert await proxy.add(1, 1) == 2  # the proxy goes on


async def test_a_reply_over_1_mib(xmlrpcpp: Server) -> None:
    size = 3_000_000
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "big", size)
    assert ours == theirs
    assert ours == "x" * size


async def test_faults_unknown_methods_and_wrong_types(xmlrpcpp: Server) -> None:
    fault, _ = await _both_fail(xmlrpcpp.url, "fail")
    assert (fault.faultCode, fault.faultString) == (7, "it failed")
    fault, _ = await _both_fail(xmlrpcpp.url, "no.such.method")
    assert (fault.faultCode, fault.faultString) == (-1, "no.such.method: unknown method name")
    fault, _ = await _both_fail(xmlrpcpp.url, "add", "1", 2)
    assert (fault.faultCode, fault.faultString) == (-1, "type error")


async def test_introspection(xmlrpcpp: Server) -> None:
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "system.listMethods")
    assert ours == theirs
    assert ours == [
        "add",
        "big",
        "echo",
        "fail",
        "gmtime",
        "system.listMethods",
        "system.methodHelp",
        "typed",
        "system.multicall",  # built in, listed last
    ]
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "system.methodHelp", "echo")
    assert ours == theirs == "Returns its argument."
    ours, theirs = await both(xmlrpcpp.url, CALL_TIMEOUT, "system.methodHelp", "add")
    assert ours == theirs == ""  # no help() of its own


async def test_multicall_with_faults_inside(xmlrpcpp: Server) -> None:
    with stdlib_proxy(xmlrpcpp.url, CALL_TIMEOUT) as stdlib:
        batch = xmlrpc.client.MultiCall(stdlib)
        batch.add(1, 2)
        batch.fail()
        batch.no.such.method()
        batch.echo(TEXT)
        theirs = await asyncio.to_thread(batch)
        expected = [theirs[0], theirs[3]]
        stdlib_faults = []
        for index in (1, 2):
            with pytest.raises(xmlrpc.client.Fault) as stdlib_fault:
                theirs[index]
            stdlib_faults.append((stdlib_fault.value.faultCode, stdlib_fault.value.faultString))
    async with AsyncServerProxy(xmlrpcpp.url, timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        multicall.fail()
        multicall.no.such.method()
        multicall.echo(TEXT)
        results = await multicall()
        assert [results[0], results[3]] == expected == [3, TEXT]
        faults = []
        for index in (1, 2):
            with pytest.raises(Fault) as fault:
                results[index]
            faults.append((fault.value.faultCode, fault.value.faultString))
        assert await proxy.add(2, 2) == 4
    assert (
        faults == stdlib_faults == [(7, "it failed"), (-1, "no.such.method: unknown method name")]
    )


async def test_a_gzipped_request_is_never_answered(xmlrpcpp: Server) -> None:
    # gzip's header holds NUL bytes, where XmlRpc++ stops copying what it read: it waits
    # for the rest of the body for good. Leave gzip_threshold off for it.
    async with AsyncServerProxy(xmlrpcpp.url, timeout=1.0, gzip_threshold=0) as proxy:
        with pytest.raises(TransportTimeout):
            await proxy.echo("x")
    async with _connection(xmlrpcpp.port) as (reader, writer):
        body = gzip.compress(_call("echo", "x"))
        writer.write(_request(body, "HTTP/1.1", "Content-Encoding: gzip"))
        await writer.drain()
        with pytest.raises(asyncio.TimeoutError):  # not TimeoutError before 3.11
            await asyncio.wait_for(reader.read(1), 1.0)
    async with AsyncServerProxy(xmlrpcpp.url, timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.echo("x") == "x"


async def test_keep_alive_as_http_says(xmlrpcpp: Server) -> None:
    # HTTP/1.1: the connection stays open, across any number of requests.
    async with _connection(xmlrpcpp.port) as (reader, writer):
        for n in range(5):
            reply = await _exchange(reader, writer, _request(_call("add", n, 1)))
            assert xmlrpc.client.loads(reply.body)[0] == (n + 1,)
        await asyncio.sleep(1.0)  # no idle timeout either
        reply = await _exchange(reader, writer, _request(_call("add", 1, 1)))
        assert xmlrpc.client.loads(reply.body)[0] == (2,)
    # HTTP/1.1 with Connection: close, and HTTP/1.0: closed after the reply, which still
    # says HTTP/1.1 and has no Connection header.
    for version, extra in [("HTTP/1.1", ("Connection: close",)), ("HTTP/1.0", ())]:
        async with _connection(xmlrpcpp.port) as (reader, writer):
            reply = await _exchange(reader, writer, _request(_call("add", 2, 2), version, *extra))
            assert reply.status == b"HTTP/1.1 200 OK"
            assert "Connection" not in dict(reply.headers)
            assert await _closed(reader)
    # HTTP/1.0 asking for keep-alive: kept.
    async with _connection(xmlrpcpp.port) as (reader, writer):
        for _ in range(2):
            request = _request(_call("add", 3, 3), "HTTP/1.0", "Connection: keep-alive")
            reply = await _exchange(reader, writer, request)
            assert xmlrpc.client.loads(reply.body)[0] == (6,)


async def test_connections_are_served_side_by_side(xmlrpcpp: Server) -> None:
    # One thread, but not one connection at a time: a request half sent on one
    # connection does not hold up another.
    request = _request(_call("echo", "late"))
    async with _connection(xmlrpcpp.port) as (reader, writer):
        writer.write(request[: len(request) // 2])
        await writer.drain()
        async with AsyncServerProxy(xmlrpcpp.url, timeout=CALL_TIMEOUT) as proxy:
            sums = await asyncio.gather(*(proxy.add(n, 1) for n in range(12)))
            assert sums == [n + 1 for n in range(12)]
        reply = await _exchange(reader, writer, request[len(request) // 2 :])
        assert xmlrpc.client.loads(reply.body)[0] == ("late",)


def _connections_held(pid: int) -> int:
    """The sockets the server holds, but its listening one."""
    fds = Path(f"/proc/{pid}/fd")
    return sum(os.readlink(fds / fd).startswith("socket:") for fd in os.listdir(fds)) - 1


async def _settle(pid: int, expected: int) -> int:
    # The server closes its end once it reads the client's EOF: give it a moment.
    deadline = time.monotonic() + CALL_TIMEOUT
    held = _connections_held(pid)
    while held != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        held = _connections_held(pid)
    return held


async def test_our_pool_keeps_its_connections(xmlrpcpp: Server) -> None:
    # XmlRpc++ never closes a kept-alive connection: calls one after the other go over
    # one, concurrent ones over at most as many as run at once; all go when we close.
    assert await _settle(xmlrpcpp.pid, 0) == 0
    async with AsyncServerProxy(xmlrpcpp.url, timeout=CALL_TIMEOUT) as proxy:
        for n in range(10):
            assert await proxy.add(n, 1) == n + 1
        assert _connections_held(xmlrpcpp.pid) == 1
        sums = await asyncio.gather(*(proxy.add(n, 2) for n in range(8)))
        assert sums == [n + 2 for n in range(8)]
        assert 1 <= _connections_held(xmlrpcpp.pid) <= 8
    assert await _settle(xmlrpcpp.pid, 0) == 0


# -- XmlRpc++'s client, our server ----------------------------------------------------------

# Where our server answers differently from the standard library's, on purpose.
DIFFERENT = {"unknown", "bad_params", "listMethods"}


@pytest.fixture(scope="module")
def client_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """xmlrpcpp_client.cpp, compiled."""
    return _compile(CLIENT_SOURCE, tmp_path_factory.mktemp("xmlrpcpp") / "xmlrpcpp_client")


def _run_client(binary: Path, url: str) -> dict[str, dict[str, Any]]:
    port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
    return run_client([str(binary), port], CLIENT_TIMEOUT)


def test_xmlrpcpp_client_gets_what_the_stdlib_server_answers(
    client_binary: Path,
    example_server: ExampleServer,
    stdlib_example_server: StdlibExampleServer,
) -> None:
    ours = _run_client(client_binary, example_server.url)
    theirs = _run_client(client_binary, stdlib_example_server.url)
    assert list(ours) == list(theirs)
    assert len(ours) == 18
    for name in ours.keys() - DIFFERENT - {"now"}:
        assert ours[name] == theirs[name], name
    assert "error" not in json.dumps(ours)

    # XmlRpc++ writes strings as bare <value>s, &apos; and &quot; included: read as text.
    tricky = "h\u00e9llo & <tags> ]]> \u2603"
    assert ours["string"]["value"] == [tricky, "<class 'str'>", tricky]
    # It sends \r raw; our server's XML parser reads it as a line end, as expat does.
    assert ours["cr"]["value"][2] == "cr\nlf\nend"
    assert ours["base64"]["value"] == {"base64": [0, 1, 98, 105, 110, 255]}
    assert ours["datetime"]["value"][2] == "20240229T12:34:56"
    assert re.fullmatch(r"\d{8}T\d\d:\d\d:\d\d", ours["now"]["value"])
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message"]
    assert ours["multicall"]["value"] == [
        True,
        [tricky, "<class 'str'>", tricky],
        {"fault": [1, "<class 'RuntimeError'>:Next to last call stops execution"]},
    ]
    assert ours["ping_again"]["value"] is True


def test_xmlrpcpp_client_sees_our_deliberate_differences(
    client_binary: Path, example_server: ExampleServer
) -> None:
    ours = _run_client(client_binary, example_server.url)
    assert ours["unknown"]["fault"] == [-32601, 'method "no.such.method" is not supported']
    code, text = ours["bad_params"]["fault"]
    assert code == -32602
    assert "takes 1 positional argument but 3 were given" in text
    assert "system.getCapabilities" in ours["listMethods"]["value"]
