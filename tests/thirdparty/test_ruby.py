"""Ruby's XML-RPC (Debian's ruby-xmlrpc 0.3, on WEBrick) against ours, in both directions.

- ``ruby_server.rb`` (next to this file) serves the package's servlet on a free port of
  127.0.0.1, against AsyncServerProxy: every answer is compared with what the standard
  library's ``ServerProxy`` reads from the same server.
- ``ruby_client.rb`` (``XMLRPC::Client``) against our example server, its answers
  compared with those of the standard library's ``SimpleXMLRPCServer``.

What the package's server does, as these tests pin it:

- its replies declare ``<?xml version="1.0" ?>`` (a space before ``?>``), and break
  base64 text with a newline;
- it has no ``<nil/>`` and no integer beyond 32 bits: a request holding either, or a
  reply that would, is an HTTP 500 with an HTML page, a ``ProtocolError`` on both sides;
- an exception in a method that is not an ``XMLRPC::FaultException`` is fault 2;
- a double is written in exponent notation (``1.0e+100``), which both read;
- base64 it receives is echoed back as a ``<string>`` of the raw bytes.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

import pytest

from aioxmlrpc import AsyncServerProxy, Binary, DateTime, Fault, MalformedXML, ProtocolError
from aioxmlrpc._demo import ExampleServer

from peers import both, exact, read_port, run_client, stdlib_proxy, stop
from servers import StdlibExampleServer

SCRIPT = Path(__file__).with_name("ruby_server.rb")
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's

# What ruby_server.rb returns: keep the two in step.
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -7,
    "double": 2.5,
    "huge": 1e100,
    "true": True,
    "false": False,
    "string": "h\u00e9llo & <tag> ]]> \u2603 \U0001f600",
    "empty": "",
    "when": DateTime("20240229T12:34:56"),
    "blob": Binary(b"\x00\x01b\xfe\xff"),
    "list": [1, "two", [3, []]],
    "nested": {"a": {"b": []}},
}


@pytest.fixture(scope="module")
def ruby_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """ruby_server.rb on a free port of 127.0.0.1; yields its URL."""
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.fail("ruby is not installed (Debian: ruby; .ci/test installs it)", pytrace=False)
    log = tmp_path_factory.mktemp("ruby") / "server.err"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [ruby, str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err
        )
    try:
        try:
            port = read_port(proc, START_TIMEOUT)
        except (RuntimeError, ValueError) as exc:
            pytest.fail(
                f"the Ruby server did not start (Debian: ruby-xmlrpc, ruby-webrick): {exc}\n"
                f"{log.read_text()}",
                pytrace=False,
            )
        yield f"http://127.0.0.1:{port}/RPC2"
    finally:
        problems = stop(proc, "ruby", STOP_TIMEOUT)
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
    assert not problems, f"{problems}\n{log.read_text()}"
    assert proc.returncode == 0, log.read_text()  # it exits 0 on SIGTERM
    assert log.read_text() == ""


@pytest.mark.parametrize(
    "options",
    [{}, {"use_datetime": True}, {"use_builtin_types": True}],
    ids=["defaults", "use_datetime", "use_builtin_types"],
)
async def test_every_type_ruby_writes(ruby_server: str, options: dict[str, Any]) -> None:
    ours, theirs = await both(ruby_server, CALL_TIMEOUT, "typed", **options)
    assert exact(ours) == exact(theirs)
    if not options:
        assert exact(ours) == exact(TYPED)


async def test_what_we_send_comes_back(ruby_server: str) -> None:
    sent = {
        "text": ["a<b", "x & y", "]]>", "\u00e9\u20ac\u65e5\U0001f600", "", " ", "tab\tnew\nline"],
        "numbers": [0, -1, 2**31 - 1, -(2**31), 0.5, -2.25, 1e100],
        "flags": [True, False],
        "when": DateTime("20240229T12:34:56"),
        "deep": [[[{"k": [{}]}]]],
    }
    ours, theirs = await both(ruby_server, CALL_TIMEOUT, "echo", sent)
    assert exact(ours) == exact(theirs) == exact(sent)


async def test_base64_it_echoes_as_a_string_of_raw_bytes(ruby_server: str) -> None:
    # It decodes the base64 to a byte string, then writes that back as <string>, NUL and
    # 0xff raw: not well-formed. Both refuse it as expat does; the proxy goes on.
    blob = Binary(b"\x00\xff")
    with stdlib_proxy(ruby_server, CALL_TIMEOUT) as stdlib, pytest.raises(ExpatError):
        await asyncio.to_thread(stdlib.echo, blob)
    async with AsyncServerProxy(ruby_server, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(MalformedXML, match="not well-formed") as ours:
            await proxy.echo(blob)
        assert isinstance(ours.value, ExpatError)
        assert await proxy.echo(Binary(b"text")) == "text"  # ASCII bytes: a fine <string>


async def test_a_reply_over_1_mib(ruby_server: str) -> None:
    size = 3_000_000
    ours, theirs = await both(ruby_server, CALL_TIMEOUT, "big", size)
    assert ours == theirs
    assert len(ours) == size


async def test_an_exception_is_fault_2(ruby_server: str) -> None:
    ours, _ = await _faults(ruby_server, "crash")
    assert (ours.faultCode, ours.faultString) == (
        2,
        "Uncaught exception a Ruby exception in method crash",
    )


async def _faults(url: str, method: str) -> tuple[Fault, Fault]:
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(Fault) as ours:
            await getattr(proxy, method)()
        assert await proxy.add(2, 3) == 5
    with stdlib_proxy(url, CALL_TIMEOUT) as stdlib, pytest.raises(xmlrpc.client.Fault) as theirs:
        await asyncio.to_thread(getattr(stdlib, method))
    assert (ours.value.faultCode, ours.value.faultString) == (
        theirs.value.faultCode,
        theirs.value.faultString,
    )
    return ours.value, theirs.value


async def test_a_fault_then_a_call(ruby_server: str) -> None:
    async with AsyncServerProxy(ruby_server, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(Fault) as ours:
            await proxy.fail()
        assert await proxy.add(2, 3) == 5
    with (
        stdlib_proxy(ruby_server, CALL_TIMEOUT) as stdlib,
        pytest.raises(xmlrpc.client.Fault) as theirs,
    ):
        await asyncio.to_thread(stdlib.fail)
    assert (ours.value.faultCode, ours.value.faultString) == (4, "Too many parameters.")
    assert (theirs.value.faultCode, theirs.value.faultString) == (4, "Too many parameters.")


@pytest.mark.parametrize(
    ("method", "params"),
    [("echo", (None,)), ("echo", (2**40,))],
    ids=["nil-sent", "i8-sent"],
)
async def test_what_ruby_cannot_take_is_a_500_page(
    ruby_server: str, method: str, params: tuple[Any, ...]
) -> None:
    async with AsyncServerProxy(
        ruby_server, timeout=CALL_TIMEOUT, allow_none=True, allow_i8=True
    ) as proxy:
        with pytest.raises(ProtocolError) as ours:
            await getattr(proxy, method)(*params)
        assert await proxy.add(2, 3) == 5  # the proxy goes on
    assert ours.value.errcode == 500
    assert ours.value.headers["Content-Type"].startswith("text/html")
    if params != (2**40,):  # the standard library cannot send an int beyond 32 bits
        with (
            stdlib_proxy(ruby_server, CALL_TIMEOUT, allow_none=True) as stdlib,
            pytest.raises(xmlrpc.client.ProtocolError) as theirs,
        ):
            await asyncio.to_thread(getattr(stdlib, method), *params)
        assert theirs.value.errcode == 500


# -- Ruby's client, our server ----------------------------------------------------------------

CLIENT_SCRIPT = Path(__file__).with_name("ruby_client.rb")
CLIENT_TIMEOUT = 60.0  # seconds for ruby_client.rb to make all its calls
# Where our server answers differently from the standard library's, on purpose.
DIFFERENT = {"unknown", "bad_params"}


def _run_client(url: str) -> dict[str, dict[str, Any]]:
    ruby = shutil.which("ruby")
    assert ruby is not None, "ruby is missing (.ci/test installs ruby and ruby-xmlrpc)"
    return run_client([ruby, str(CLIENT_SCRIPT), url], CLIENT_TIMEOUT)


def test_ruby_client_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    theirs = _run_client(stdlib_example_server.url)
    assert list(ours) == list(theirs)
    assert len(ours) == 15
    for name in ours.keys() - DIFFERENT:
        assert ours[name] == theirs[name], name
    assert "error" not in json.dumps(ours)

    tricky = "h\u00e9llo & <tags> ]]> \u2603"
    assert ours["string"]["value"] == [tricky, "<class 'str'>", tricky]
    assert ours["base64"]["value"] == "\x00\x01bin"
    assert ours["datetime"]["value"][0] == "20240229T12:34:56"
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message"]
    assert ours["multicall"]["value"] == [
        True,
        [tricky, "<class 'str'>", tricky],
        {"fault": [1, "<class 'RuntimeError'>:Next to last call stops execution"]},
    ]


def test_ruby_client_sees_our_deliberate_differences(example_server: ExampleServer) -> None:
    ours = _run_client(example_server.url)
    assert ours["unknown"]["fault"] == [-32601, 'method "no.such.method" is not supported']
    code, text = ours["bad_params"]["fault"]
    assert code == -32602
    assert "takes 1 positional argument but 3 were given" in text
