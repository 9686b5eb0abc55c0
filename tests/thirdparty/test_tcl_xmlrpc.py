"""Tcl's xmlrpc package (Debian's tcl-xmlrpc 0.3) against ours, in both directions.

- ``tcl_server.tcl`` (next to this file) serves the package's server (``xmlrpc::serveOnce``
  on a socket of 127.0.0.1) against AsyncServerProxy: every answer is compared with what
  the standard library's ``ServerProxy`` reads from the same server.
- ``tcl_client.tcl`` (``xmlrpc::call``) against our example server, its answers compared
  with those of the standard library's ``SimpleXMLRPCServer``.

The package parses XML with regular expressions and writes it by string concatenation.
What it does, as these tests pin it:

- its reply heads end their lines in a bare LF (``HTTP/1.1 200 OK\\n``, ``Content-length``
  so spelled), have no ``Connection`` header, and it closes the connection after each
  reply: both clients read them, and ours opens a new connection for the next call;
- a fault's body is one byte shorter than its ``Content-length`` (the package trims the
  reply's last LF after counting it), then the connection closes: both clients read
  the fault, as http.client reads what came before the close. Every fault is
  ``100 "eval() failed"``: an error in a method, an unknown method, ``system.multicall``;
- it writes what a method returns as it is, unescaped: ``&`` or ``<`` in a returned
  string is not well-formed XML, refused by both clients (``MalformedXML``, an
  ``ExpatError``). It reads text without decoding entities, so what it echoes back,
  markup included, reads as what was sent;
- a request it cannot parse is never answered, and the connection is left open: a double
  in exponent notation (``1e-07``, ``1e+20``, as both clients write them), ``<nil/>``,
  ``<i8>``, a struct member whose name holds a space, a string holding a blank line
  (``\\n\\n``: taken for the end of the HTTP head). Set a ``timeout``;
- its sockets carry the system encoding, and ``Content-length`` counts characters: under
  the C locale (``LC_ALL=C``, as the fixtures run it) bytes pass through as they are, so
  UTF-8 comes back as it was sent. Under a UTF-8 locale a request beyond ASCII is never
  answered: the server spins, waiting for bytes that were counted as characters, until
  the client gives up; a reply beyond ASCII is longer than declared, cut short by a byte
  per extra byte (its last LF only, for one ``é``: both read it);
- it has no ``system.multicall``, and no ``<nil/>``; a ``<int>`` beyond 32 bits is
  written as given, and read by both.

Its client (``xmlrpc::call``) has no types: it returns every value as Tcl text (a fault's
struct too, as a result), with entities undecoded; it needs its caller to escape markup
and encode UTF-8; a fault it gets is not raised. Against our server it gets what it gets
from ``SimpleXMLRPCServer``, but for our documented fault codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from xml.parsers.expat import ExpatError

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Binary,
    DateTime,
    Fault,
    MalformedXML,
    MultiCall,
    TransportTimeout,
)
from aioxmlrpc._demo import ExampleServer

from peers import both, exact, read_port, run_client, stdlib_proxy, stop
from servers import StdlibExampleServer

SCRIPT = Path(__file__).with_name("tcl_server.tcl")
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's
UNANSWERED = 0.5  # seconds to wait for a reply that never comes
C_LOCALE = {"LC_ALL": "C"}  # bytes through as they are
UTF8_LOCALE = {"LC_ALL": "C.UTF-8"}

# What tcl_server.tcl's typed returns: keep the two in step.
TYPED: dict[str, Any] = {
    "int": 42,
    "i4": -7,
    "beyond_32_bits": 2**40,
    "double": 2.5,
    "huge": 1e100,
    "true": True,
    "false": False,
    "string": "plain text",
    "empty": "",
    "when": DateTime("20240229T12:34:56"),
    "blob": Binary(b"\x00\x01b\xfe\xff"),
    "list": [1, "two", [3, []]],
    "nested": {"b": []},
    "empty_struct": {},
}


class Server(NamedTuple):
    url: str
    port: int
    log: Path


def _tclsh() -> str:
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        pytest.fail("tclsh is not installed (Debian: tcl, tcl-xmlrpc)", pytrace=False)
    check = subprocess.run(
        [tclsh],
        input="exit [catch {package require xmlrpc 0.3}]\n",
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT,
        check=False,
    )
    if check.returncode != 0:
        pytest.fail(
            "Tcl's xmlrpc package is not installed: install the Debian package "
            f"'tcl-xmlrpc' (.ci/test does)\n{check.stdout}{check.stderr}",
            pytrace=False,
        )
    return tclsh


@contextlib.contextmanager
def _serving(log: Path, locale: dict[str, str]) -> Iterator[Server]:
    """tcl_server.tcl on a free port of 127.0.0.1, under ``locale``; stopped at the end."""
    tclsh = _tclsh()
    env = {**os.environ, **locale}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [tclsh, str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
    problems: list[str] = []
    try:
        try:
            port = read_port(proc, START_TIMEOUT)
        except (RuntimeError, ValueError) as exc:
            pytest.fail(f"the Tcl server did not start: {exc}\n{log.read_text()}", pytrace=False)
        yield Server(f"http://127.0.0.1:{port}/RPC2", port, log)
    finally:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()  # it exits when its stdin closes
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            problems = ["it did not exit when its stdin closed", *stop(proc, "tclsh", 1.0)]
        proc.stdout.close()
    assert not problems, f"{problems}\n{log.read_text()}"
    assert proc.returncode == 0, log.read_text()


@pytest.fixture(scope="module")
def tcl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Tcl server under the C locale, for the module; yields its URL."""
    log = tmp_path_factory.mktemp("tcl") / "server.err"
    with _serving(log, C_LOCALE) as server:
        yield server.url
    assert log.read_text() == ""  # nothing it could not parse


@pytest.fixture
def fresh_tcl_server(tmp_path: Path) -> Iterator[Server]:
    """A Tcl server of the test's own (under the C locale), its stderr to be read."""
    with _serving(tmp_path / "server.err", C_LOCALE) as server:
        yield server


@pytest.fixture
def utf8_tcl_server(tmp_path: Path) -> Iterator[Server]:
    """A Tcl server under a UTF-8 locale."""
    with _serving(tmp_path / "server.err", UTF8_LOCALE) as server:
        yield server


def _raw(port: int, body: bytes) -> bytes:
    """POST ``body`` on a socket of its own; everything that comes back until the close."""
    head = (
        b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", port), timeout=CALL_TIMEOUT) as sock:
        sock.sendall(head + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


# -- the package's server, our client ----------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"use_datetime": True}, {"use_builtin_types": True}],
    ids=["defaults", "use_datetime", "use_builtin_types"],
)
async def test_every_type_tcl_writes(tcl_server: str, options: dict[str, Any]) -> None:
    ours, theirs = await both(tcl_server, CALL_TIMEOUT, "typed", **options)
    assert exact(ours) == exact(theirs)
    if not options:
        assert exact(ours) == exact(TYPED)
    else:
        assert ours["when"].year == 2024


@pytest.mark.parametrize(
    "text",
    [
        "a<b",
        "x & y",
        "]]>",
        "\u00e9\u20ac\u65e5\U0001f600",
        "tab\tnew\nline",
        "",
        " spaced ",
        "a \"quoted\" 'text'",
        "{unbalanced [brace $dollar",
    ],
)
async def test_text_comes_back_as_it_was_sent(tcl_server: str, text: str) -> None:
    # It never decodes the entities it reads, nor escapes what it writes: what it echoes
    # is the XML text that came. Under the C locale the bytes go through as they are.
    ours, theirs = await both(tcl_server, CALL_TIMEOUT, "echo", text)
    assert exact(ours) == exact(theirs) == exact(text)


async def test_crlf_reads_back_as_lf_on_both_sides(tcl_server: str) -> None:
    # Both write "\r\n" raw; the server sends it back raw; both XML parsers read LF.
    ours, theirs = await both(tcl_server, CALL_TIMEOUT, "echo", "cr\r\nlf\rend")
    assert exact(ours) == exact(theirs) == exact("cr\nlf\nend")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("int", 2**31 - 1),
        ("int", -(2**31)),
        ("i4", 0),
        ("double", 0.1),
        ("double", -0.0),
        ("double", -2.25),
        ("boolean", True),
        ("boolean", False),
        ("base64", Binary(b"\x00\x01b\xfe\xff")),
        ("dateTime.iso8601", DateTime("20240229T12:34:56")),
    ],
    ids=repr,
)
async def test_scalars_come_back_with_their_type(tcl_server: str, kind: str, value: Any) -> None:
    # retype(kind, value) returns the value it read, typed as kind.
    ours, theirs = await both(tcl_server, CALL_TIMEOUT, "retype", kind, value)
    assert exact(ours) == exact(theirs) == exact(value)


async def test_containers_arrive_as_tcl_lists(tcl_server: str) -> None:
    # show(*params) returns the Tcl text of what its method received: an array is a
    # list, a struct a list of {name value} pairs, an empty one of either {}.
    sent: tuple[Any, ...] = (
        [1, [2, "a b"], [], {}],
        {"k": {"inner": [True]}},
        [[[{"deep": []}]]],
        "",
    )
    ours, theirs = await both(tcl_server, CALL_TIMEOUT, "show", *sent)
    assert exact(ours) == exact(theirs)
    assert ours == "{1 {2 {a b}} {} {}} {{k {{inner 1}}}} {{{{{deep {}}}}}} {}"


async def test_a_reply_over_1_mib(tcl_server: str) -> None:
    size = 3_000_000
    ours, theirs = await both(tcl_server, CALL_TIMEOUT, "big", size)
    assert ours == theirs
    assert len(ours) == size


async def test_markup_it_returns_is_not_escaped(tcl_server: str) -> None:
    with stdlib_proxy(tcl_server, CALL_TIMEOUT) as stdlib, pytest.raises(ExpatError):
        await asyncio.to_thread(stdlib.markup)
    async with AsyncServerProxy(tcl_server, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(MalformedXML, match="not well-formed"):
            await proxy.markup()
        assert await proxy.add(2, 3) == 5  # the proxy goes on


def test_a_fault_is_a_byte_short_of_its_content_length(tcl_server: str) -> None:
    # The package counts the reply, then trims its last LF: a byte short, then the close.
    port = urlsplit(tcl_server).port
    assert port is not None
    reply = _raw(port, xmlrpc.client.dumps((), "fail").encode())
    head, body = reply.split(b"\n\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\nContent-Type: text/xml\nContent-length: ")
    assert b"\r" not in head
    declared = int(head.rsplit(b": ", 1)[1])
    assert len(body) == declared - 1
    assert body.endswith(b"</methodResponse>")
    with pytest.raises(xmlrpc.client.Fault, match="eval\\(\\) failed"):
        xmlrpc.client.loads(body.decode())


@pytest.mark.parametrize("method", ["fail", "no_such_method"])
async def test_a_fault_as_the_stdlib_reads_it(tcl_server: str, method: str) -> None:
    # The standard library reads the fault whole, the body being a complete document
    # though a byte short of its Content-length (http.client reads what there is); ours
    # must read the same fault, and go on.
    with (
        stdlib_proxy(tcl_server, CALL_TIMEOUT) as stdlib,
        pytest.raises(xmlrpc.client.Fault) as theirs,
    ):
        await asyncio.to_thread(getattr(stdlib, method))
    assert (theirs.value.faultCode, theirs.value.faultString) == (100, "eval() failed")
    async with AsyncServerProxy(tcl_server, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(Fault) as ours:
            await getattr(proxy, method)()
        assert await proxy.add(2, 3) == 5  # the proxy goes on
    assert (ours.value.faultCode, ours.value.faultString) == (100, "eval() failed")


async def test_multicall_is_fault_100_on_both_sides(tcl_server: str) -> None:
    with stdlib_proxy(tcl_server, CALL_TIMEOUT) as stdlib:
        calls = xmlrpc.client.MultiCall(stdlib)
        calls.add(1, 2)
        with pytest.raises(xmlrpc.client.Fault) as theirs:
            await asyncio.to_thread(calls)
    assert theirs.value.faultCode == 100
    async with AsyncServerProxy(tcl_server, timeout=CALL_TIMEOUT) as proxy:
        multi = MultiCall(proxy)
        multi.add(1, 2)
        with pytest.raises(Fault) as ours:
            await multi()
    assert (ours.value.faultCode, ours.value.faultString) == (100, "eval() failed")


async def test_it_closes_every_connection_without_saying_so(tcl_server: str) -> None:
    port = urlsplit(tcl_server).port
    assert port is not None
    reply = _raw(port, xmlrpc.client.dumps((2, 3), "add").encode())  # read until closed
    head, body = reply.split(b"\n\n", 1)
    assert b"connection" not in head.lower()
    assert xmlrpc.client.loads(body.decode()) == ((5,), None)
    # Ours notices the closed connection and takes a new one, call after call.
    async with AsyncServerProxy(tcl_server, timeout=CALL_TIMEOUT) as proxy:
        for n in range(30):
            assert await proxy.add(n, 1) == n + 1
        sums = await asyncio.gather(*(proxy.add(n, n) for n in range(20)))
    assert sums == [2 * n for n in range(20)]


async def _unanswered(url: str, method: str, *params: Any, stdlib_too: bool = True) -> None:
    """``method(*params)`` times out from both clients at once; then a call is answered."""

    def stdlib_call() -> None:
        with stdlib_proxy(url, UNANSWERED, allow_none=True) as stdlib:
            getattr(stdlib, method)(*params)

    async with AsyncServerProxy(url, timeout=UNANSWERED, allow_none=True, allow_i8=True) as proxy:
        results = await asyncio.gather(
            getattr(proxy, method)(*params),
            asyncio.to_thread(stdlib_call) if stdlib_too else asyncio.sleep(0),
            return_exceptions=True,
        )
    assert isinstance(results[0], TransportTimeout), results
    if stdlib_too:
        assert isinstance(results[1], TimeoutError), results  # socket.timeout, 3.10 too
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.add(2, 3) == 5


@pytest.mark.parametrize(
    ("method", "params", "said"),
    [
        ("retype", ("double", 1e-07), "Invalid Double"),
        ("retype", ("double", 1e20), "Invalid Double"),
        ("echo", (None,), "Invalid close of value tag"),
        ("show", ({"a b": 1},), "Invalid Struct Member"),
        ("echo", ("a\n\nb",), "Unrecognized HTTP Header format: "),
    ],
    ids=["1e-07", "1e+20", "nil", "member-name-with-a-space", "blank-line"],
)
async def test_a_request_it_cannot_parse_is_never_answered(
    fresh_tcl_server: Server, method: str, params: tuple[Any, ...], said: str
) -> None:
    await _unanswered(fresh_tcl_server.url, method, *params)
    assert fresh_tcl_server.log.read_text().splitlines() == [said, said]


async def test_i8_is_never_answered(fresh_tcl_server: Server) -> None:
    # The standard library cannot send an int beyond 32 bits: ours only.
    await _unanswered(fresh_tcl_server.url, "echo", 2**40, stdlib_too=False)
    assert fresh_tcl_server.log.read_text() == "Invalid close of value tag\n"


async def test_the_c_locale_cannot_carry_its_own_text(tcl_server: str) -> None:
    # text() returns "h\u00e9llo": written in ISO-8859-1, a byte that is no UTF-8.
    with stdlib_proxy(tcl_server, CALL_TIMEOUT) as stdlib, pytest.raises(ExpatError):
        await asyncio.to_thread(stdlib.text)
    async with AsyncServerProxy(tcl_server, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(MalformedXML, match="not well-formed"):
            await proxy.text()
        assert await proxy.add(2, 3) == 5


async def test_under_a_utf8_locale_text_beyond_ascii(utf8_tcl_server: Server) -> None:
    # A reply one byte longer than declared loses its last LF: both read it.
    ours, theirs = await both(utf8_tcl_server.url, CALL_TIMEOUT, "text")
    assert exact(ours) == exact(theirs) == exact("h\u00e9llo")
    # A request is counted in bytes, read in characters: never answered. The server
    # spins until the client closes, then says so; one client after the other, as it
    # serves nothing else meanwhile.
    await _unanswered(utf8_tcl_server.url, "echo", "\u00e9", stdlib_too=False)
    with (
        stdlib_proxy(utf8_tcl_server.url, UNANSWERED) as stdlib,
        pytest.raises(TimeoutError),
    ):
        await asyncio.to_thread(stdlib.echo, "\u00e9")
    async with AsyncServerProxy(utf8_tcl_server.url, timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.echo("plain") == "plain"
    assert utf8_tcl_server.log.read_text() == "Premature eof\nPremature eof\n"


# -- the package's client, our server -----------------------------------------------------------

CLIENT_SCRIPT = Path(__file__).with_name("tcl_client.tcl")
CLIENT_TIMEOUT = 60.0  # seconds for tcl_client.tcl to make all its calls
# Where our server answers differently from the standard library's, on purpose: fault
# -32601, -32602 and -32700 (a request that is not well-formed) instead of fault 1.
DIFFERENT = {"unknown", "bad_params", "unescaped", "not_utf8"}
NOW = re.compile(r"\{\} \d{8}T\d\d:\d\d:\d\d")


def _run_client(url: str) -> dict[str, dict[str, Any]]:
    tclsh = _tclsh()
    base, path = url.rsplit("/", 1)
    env = {**os.environ, **C_LOCALE}
    command = [tclsh, str(CLIENT_SCRIPT), base, path]
    return run_client(command, CLIENT_TIMEOUT, env=env, encoding="utf-8")


def test_tcl_client_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    theirs = _run_client(stdlib_example_server.url)
    assert list(ours) == list(theirs)
    assert len(ours) == 18
    for name in ours.keys() - DIFFERENT - {"now"}:
        assert ours[name] == theirs[name], name
    assert all("result" in line for line in ours.values()), ours

    tricky = "h\u00e9llo &amp; &lt;tags&gt; ]]&gt; \u2603"  # entities as they came
    assert ours["ping"]["result"] == "{} 1"
    assert ours["int"]["result"] == "{} {42 {&lt;class 'int'&gt;} 42}"
    assert ours["string"]["result"] == (
        "{} {{" + tricky + "} {&lt;class 'str'&gt;} {" + tricky + "}}"
    )
    assert ours["base64"]["result"] == "{} {\nAAFiaW4=\n}"
    assert ours["struct"]["result"].endswith("{{a 1} {b x}}}")
    assert NOW.fullmatch(ours["now"]["result"]), ours["now"]
    assert NOW.fullmatch(theirs["now"]["result"]), theirs["now"]
    # A fault is a result like any other, its struct as {name value} pairs.
    assert ours["fault"]["result"] == (
        "{} {{faultCode 1} {faultString {&lt;class 'RuntimeError'&gt;:A message}}}"
    )
    assert ours["multicall"]["result"] == (
        "{} {1 {{x {&lt;class 'str'&gt;} x}} {{faultCode 1} {faultString "
        "{&lt;class 'RuntimeError'&gt;:Next to last call stops execution}}}}"
    )


def test_tcl_client_sees_our_deliberate_differences(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    theirs = _run_client(stdlib_example_server.url)
    assert ours["unknown"]["result"] == (
        '{} {{faultCode -32601} {faultString {method "no.such.method" is not supported}}}'
    )
    assert ours["bad_params"]["result"].startswith("{} {{faultCode -32602} {faultString {ping:")
    assert ours["unescaped"]["result"].startswith(
        "{} {{faultCode -32700} {faultString {parse error: not well-formed"
    )
    assert theirs["unescaped"]["result"].startswith("{} {{faultCode 1} {faultString {&lt;class")
    # A string it was given as characters goes out in the channel's ISO-8859-1: no UTF-8.
    assert ours["not_utf8"]["result"].startswith(
        "{} {{faultCode -32700} {faultString {parse error: not well-formed (invalid token)"
    )
    assert theirs["not_utf8"]["result"].startswith(
        "{} {{faultCode 1} {faultString {&lt;class 'xml.parsers.expat.ExpatError'&gt;:"
        "not well-formed (invalid token)"
    )
