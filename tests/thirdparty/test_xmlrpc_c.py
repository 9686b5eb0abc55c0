"""xmlrpc-c, the C library (Debian's libxmlrpc-core-c3-dev, 1.33), in both directions.

- ``xmlrpc_c_server.c`` (next to this file), on xmlrpc-c's Abyss HTTP server, compiled
  here with ``cc``, against AsyncServerProxy, with the standard library's ``ServerProxy``
  as the oracle: every answer must be the one the standard library reads from the same
  server. It runs twice: replies with a Content-Length, and chunked replies.
- The package's ``xmlrpc`` command, a C client, against our example server, its output
  compared with what it prints against the standard library's ``SimpleXMLRPCServer``.

What xmlrpc-c does, as these tests pin it:

- every line of a reply ends in CRLF, base64 included; ``<i8>`` and ``<nil/>`` are
  written as such; a string cannot hold a character beyond the Basic Multilingual Plane
  (a fault on either side);
- a kept-alive connection carries at most ``max`` requests (here 3) and is closed after
  ``timeout`` seconds of silence (here 1), both announced in ``Keep-Alive``;
- an unknown method is fault -506; a request nested deeper than its limit (64) is
  fault -503, the proxy going on after either.

``.ci/test`` installs libxmlrpc-core-c3-dev. Without it, or without a C compiler, these
tests fail, saying so; they are never skipped.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aioxmlrpc import AsyncServerProxy, Binary, DateTime, Fault, MultiCall
from aioxmlrpc._demo import ExampleServer

from peers import both, exact, read_port, stdlib_proxy, stop
from servers import StdlibExampleServer

SOURCE = Path(__file__).with_name("xmlrpc_c_server.c")
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's
BUILD_TIMEOUT = 120.0
KEEPALIVE_MAX = 3  # requests per connection, as xmlrpc_c_server.c sets it
KEEPALIVE_TIMEOUT = 1.0  # seconds, as xmlrpc_c_server.c sets it

# What xmlrpc_c_server.c returns: keep the two in step.
TEXT = "h\u00e9llo & <tag> ]]> \"q\" 'a' \u2603"
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -7,
    "i8": 2**40,
    "i8_min": -(2**63),
    "double": 2.5,
    "tiny": 1e-7,
    "true": True,
    "false": False,
    "string": TEXT,
    "empty": "",
    "nil": None,
    "when": DateTime("20240229T12:34:56"),
    "blob": Binary(b"\x00\x01b\xfe\xff"),
    "list": [1, "two", [3, []]],
    "nested": {"a": {"b": []}},
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed (Debian: libxmlrpc-core-c3-dev and a C compiler; "
            ".ci/test installs the first)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def server_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """xmlrpc_c_server.c, compiled."""
    config = subprocess.run(
        [_tool("xmlrpc-c-config"), "abyss-server", "--cflags", "--libs"],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=True,
    )
    binary = tmp_path_factory.mktemp("xmlrpc_c") / "xmlrpc_c_server"
    build = subprocess.run(
        [_tool("cc"), "-O1", "-o", str(binary), str(SOURCE), *shlex.split(config.stdout)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    return binary


def _serve(binary: Path, log: Path, *args: str) -> Iterator[str]:
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(binary), *args],
            stdin=subprocess.PIPE,  # it exits when this closes, should we die first
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        try:
            port = read_port(proc, START_TIMEOUT)
        except (RuntimeError, ValueError, AssertionError) as exc:
            pytest.fail(f"the xmlrpc-c server did not start: {exc}\n{log.read_text()}")
        yield f"http://127.0.0.1:{port}/RPC2"
    finally:
        problems = stop(proc, "xmlrpc_c_server", STOP_TIMEOUT)
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
    assert not problems, f"{problems}\n{log.read_text()}"
    assert log.read_text() == ""


@pytest.fixture(scope="module", params=["content-length", "chunked"])
def xmlrpc_c(
    request: pytest.FixtureRequest, server_binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The server, replying with a Content-Length or chunked; yields its URL."""
    log = tmp_path_factory.mktemp("xmlrpc_c_run") / "server.err"
    args = ["chunked"] if request.param == "chunked" else []
    yield from _serve(server_binary, log, *args)


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


# -- xmlrpc-c's server, our client -------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"use_datetime": True}, {"use_builtin_types": True}],
    ids=["defaults", "use_datetime", "use_builtin_types"],
)
async def test_every_type_xmlrpc_c_writes(xmlrpc_c: str, options: dict[str, Any]) -> None:
    ours, theirs = await both(xmlrpc_c, CALL_TIMEOUT, "typed", **options)
    assert exact(ours) == exact(theirs)
    if not options:
        assert exact(ours) == exact(TYPED)  # CRLF line ends, in base64 too
    assert ours["i8_min"] == -(2**63)


async def test_strings_with_crlf_and_markup(xmlrpc_c: str) -> None:
    ours, theirs = await both(xmlrpc_c, CALL_TIMEOUT, "strings")
    assert ours == theirs
    assert ours[0] == "a ]]> b"
    assert ours[4] == "&amp; as written"
    assert ours[5] == "\u65e5\u672c"


async def test_what_we_send_comes_back(xmlrpc_c: str) -> None:
    sent = {
        "text": ["a<b", "x & y", "]]>", "\u00e9\u20ac\u65e5", "", " ", "tab\tnew\nline"],
        "numbers": [0, -1, 2**31 - 1, -(2**31), 0.5, -2.25, 1e100],
        "flags": [True, False],
        "none": None,
        "blob": Binary(b"\x00\xff" * 100),
        "when": DateTime("20240229T12:34:56"),
        "deep": [[[{"k": [{}]}]]],
    }
    ours, theirs = await both(xmlrpc_c, CALL_TIMEOUT, "echo", sent, allow_none=True)
    assert exact(ours) == exact(theirs) == exact(sent)


async def test_i8_both_ways(xmlrpc_c: str) -> None:
    # The standard library cannot send these (OverflowError); allow_i8 sends <i8>.
    sent = [2**40, -(2**63), 2**63 - 1, 2**31]
    async with AsyncServerProxy(xmlrpc_c, timeout=CALL_TIMEOUT, allow_i8=True) as proxy:
        assert exact(await proxy.echo(sent)) == exact(sent)
    async with AsyncServerProxy(xmlrpc_c, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(OverflowError, match="int exceeds XML-RPC limits"):
            await proxy.echo(2**40)


async def test_a_character_beyond_the_bmp_is_refused_by_xmlrpc_c(xmlrpc_c: str) -> None:
    ours, _ = await _both_fail(xmlrpc_c, "echo", "\U0001f600")
    assert ours.faultCode == -503  # "Call XML not a proper XML-RPC call"
    assert "not in the Basic Multilingual Plane" in ours.faultString


async def test_a_reply_over_1_mib(xmlrpc_c: str) -> None:
    size = 3_000_000
    ours, theirs = await both(xmlrpc_c, CALL_TIMEOUT, "big", size)
    assert ours == theirs
    assert len(ours) == size
    assert ours.startswith("x<y&z x<y&z ")


async def test_faults_unknown_methods_and_xmlrpc_c_limits(xmlrpc_c: str) -> None:
    fault, _ = await _both_fail(xmlrpc_c, "fail")
    assert (fault.faultCode, fault.faultString) == (4, "Too many parameters.")
    fault, _ = await _both_fail(xmlrpc_c, "no.such.method")
    assert fault.faultCode == -506
    nested: Any = []
    for _ in range(100):
        nested = [nested]
    fault, _ = await _both_fail(xmlrpc_c, "echo", nested)
    assert fault.faultCode == -503  # deeper than xmlrpc-c's nesting limit
    assert "Nested data structure too deep" in fault.faultString


async def test_multicall_with_a_fault_inside(xmlrpc_c: str) -> None:
    with stdlib_proxy(xmlrpc_c, CALL_TIMEOUT) as stdlib:
        batch = xmlrpc.client.MultiCall(stdlib)
        batch.add(1, 2)
        batch.fail()
        batch.echo("x")
        theirs = await asyncio.to_thread(batch)
        expected = [theirs[0], theirs[2]]
        with pytest.raises(xmlrpc.client.Fault) as stdlib_fault:
            theirs[1]
    async with AsyncServerProxy(xmlrpc_c, timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        multicall.fail()
        multicall.echo("x")
        results = await multicall()
        assert [results[0], results[2]] == expected == [3, "x"]
        with pytest.raises(Fault) as fault:
            results[1]
    assert (fault.value.faultCode, fault.value.faultString) == (
        stdlib_fault.value.faultCode,
        stdlib_fault.value.faultString,
    )


async def test_connections_xmlrpc_c_closes(xmlrpc_c: str) -> None:
    # Abyss closes a connection after KEEPALIVE_MAX requests, and after KEEPALIVE_TIMEOUT
    # seconds of silence: the pool must open new ones, never fail on a closed one.
    async with AsyncServerProxy(xmlrpc_c, timeout=CALL_TIMEOUT) as proxy:
        for n in range(4 * KEEPALIVE_MAX):  # one after the other, on one connection
            assert await proxy.add(n, 1) == n + 1
        for round_ in range(2):
            sums = await asyncio.gather(*(proxy.add(round_, n) for n in range(12)))
            assert sums == [round_ + n for n in range(12)]
            await asyncio.sleep(KEEPALIVE_TIMEOUT + 0.5)
        assert await proxy.echo("after") == "after"


# -- xmlrpc-c's command-line client, our server -------------------------------------------------

# (arguments, as the xmlrpc command takes them); every call's output is compared.
CLI_CALLS = [
    ["ping"],
    ["show_type", "i/42"],
    ["show_type", "s/h\u00e9llo & <tags> ]]>"],
    ["show_type", "b/true"],
    ["show_type", "d/2.5"],
    ["show_type", "n/"],
    ["raises_exception", "s/A message"],
    ["system.methodHelp", "s/ping"],
    ["no.such.method"],
    ["ping", "i/1", "i/2"],
]
# Where our server answers differently from the standard library's, on purpose.
CLI_DIFFERENT = {"no.such.method", "ping i/1 i/2"}


def _run_cli(url: str) -> dict[str, tuple[int, str, str]]:
    xmlrpc_command = _tool("xmlrpc")
    outputs = {}
    for arguments in CLI_CALLS:
        done = subprocess.run(
            [xmlrpc_command, url, *arguments],
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT,
            check=False,
        )
        outputs[" ".join(arguments)] = (done.returncode, done.stdout, done.stderr)
    return outputs


def test_the_xmlrpc_command_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_cli(example_server.url)
    theirs = _run_cli(stdlib_example_server.url)
    for name in ours.keys() - CLI_DIFFERENT:
        assert ours[name] == theirs[name], name
    assert ours["ping"] == (0, "Result:\n\nBoolean: TRUE\n", "")
    code, out, _ = ours["show_type i/42"]
    assert code == 0
    assert "Index  2 Integer: 42" in out
    code, _, err = ours["raises_exception s/A message"]
    assert code == 1
    assert "<class 'RuntimeError'>:A message.  (XML-RPC fault code 1)" in err

    code, _, err = ours["no.such.method"]
    assert code == 1
    assert 'method "no.such.method" is not supported.  (XML-RPC fault code -32601)' in err
    code, _, err = ours["ping i/1 i/2"]
    assert code == 1
    assert "(XML-RPC fault code -32602)" in err
