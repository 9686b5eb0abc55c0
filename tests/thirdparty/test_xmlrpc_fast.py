"""Perl's XML::RPC::Fast (Debian's libxml-rpc-fast-perl 0.8) against ours, in both directions.

- ``xmlrpc_fast_server.pl`` (next to this file) serves the package's ``receive`` (its
  server side, on its default XML::LibXML encoder) through HTTP::Daemon, on a free port
  of 127.0.0.1, against AsyncServerProxy: every answer is compared with what the
  standard library's ``ServerProxy`` reads from the same server.
- ``xmlrpc_fast_client.pl`` (the package's client, on LWP) against our example server,
  its answers compared with those of the standard library's ``SimpleXMLRPCServer``.

What the package does, as these tests pin it:

- it reads values into plain Perl scalars and guesses their types again when it writes
  them: ``"0042"`` and ``-0.0`` go out as ``<i4>``, ``1.0`` as the int 1, and a double
  Perl prints in exponent notation (``1e-07``, ``1e+20``) as a ``<string>``. A
  ``<boolean>`` or ``<nil/>``, which it has no Perl type for, is kept as an object of
  that name and written back as it came;
- a ``<base64>`` is decoded to bytes and written back as text, raw: UTF-8 comes back as
  a string, other bytes are not well-formed (``MalformedXML``, an ``ExpatError``, on
  both sides), and the text ends at the first NUL byte;
- with DateTime::Format::ISO8601 installed (Debian recommends it), it decodes dates with
  it, which refuses the spec's own ``20240229T12:34:56``: a request holding a date is
  fault 0 with a Perl stack trace, and its client answers a reply holding one with its
  own fault 499 ("Bad Response: Invalid date format");
- its empty elements are ``<string/>`` and ``<data/>``, ``undef`` an empty string; a
  handler returning several values answers with as many ``<param>``s, none with
  ``<params/>``: both read a tuple;
- a fault is what the handler returns with ``rpcfault(code, text)``, or what it dies
  with: code ``$XML::RPC::Fast::faultCode``, 0 until a handler sets it, as its
  documentation says to, and never reset: the last code set is that of every later
  exception. A message without a final newline gets Perl's `` at FILE line N.``;
- it has no ``system.multicall`` nor introspection: the handler dispatches every name.

HTTP::Daemon serves one connection at a time, for as long as the client keeps it:
``pool_size=1`` sends concurrent calls one after the other on one connection, as for
XMLRPC::Lite.

Its client types what it sends by the same guessing (``"42"`` goes out as ``<i4>``; a
boolean, ``<nil/>``, base64 or a date only through ``customtype``), and makes faults of
its own: 499 for a reply it cannot decode, with the URL and the whole reply in its text.
It reads what our server answers as what ``SimpleXMLRPCServer`` answers, but for our
documented fault codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from xml.parsers.expat import ExpatError

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Binary,
    DateTime,
    Fault,
    MalformedXML,
    TransportTimeout,
)
from aioxmlrpc._demo import ExampleServer

from peers import both, exact, read_port, run_client, stdlib_proxy, stop
from servers import StdlibExampleServer

SCRIPT = Path(__file__).with_name("xmlrpc_fast_server.pl")
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's
# One connection, so that the server (one connection at a time) serves every call.
ONE: dict[str, Any] = {"pool_size": 1}
MODULES = ["XML::RPC::Fast", "DateTime::Format::ISO8601", "HTTP::Daemon"]
PACKAGES = "libxml-rpc-fast-perl, libdatetime-format-iso8601-perl, libhttp-daemon-perl"

# What xmlrpc_fast_server.pl's typed returns, as both clients read it: keep them in step.
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -7,
    "double": 2.5,
    "whole_double": 2,
    "beyond_32_bits": 2**40,
    "string": "h\u00e9llo & <tag> ]]> \u2603 \U0001f600",
    "numeric_string": 123,
    "empty": "",
    "undefined": "",
    "list": [1, "two", [3, []]],
    "nested": {"a": {"b": []}},
    "true": True,
    "false": False,
    "when": DateTime("20240229T12:34:56"),
    "blob": Binary(b"\x00\x01b\xfe\xff"),
    "nil": None,
}


class Server(NamedTuple):
    url: str
    log: Path


def _perl() -> str:
    perl = shutil.which("perl")
    if perl is None:
        pytest.fail("perl is not installed (Debian: perl)", pytrace=False)
    check = subprocess.run(
        [perl, *(f"-M{module}" for module in MODULES), "-e", "1"],
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT,
        check=False,
    )
    if check.returncode != 0:
        pytest.fail(
            f"Perl's XML::RPC::Fast is not installed: install the Debian packages {PACKAGES} "
            f"(.ci/test does)\n{check.stderr}",
            pytrace=False,
        )
    return perl


@contextlib.contextmanager
def _serving(log: Path) -> Iterator[Server]:
    """xmlrpc_fast_server.pl on a free port of 127.0.0.1; stopped at the end."""
    perl = _perl()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [perl, str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err
        )
    problems: list[str] = []
    try:
        try:
            port = read_port(proc, START_TIMEOUT)
        except (RuntimeError, ValueError) as exc:
            pytest.fail(f"XML::RPC::Fast did not start: {exc}\n{log.read_text()}", pytrace=False)
        yield Server(f"http://127.0.0.1:{port}/RPC2", log)
    finally:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()  # it exits when its stdin closes
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            problems = ["it did not exit when its stdin closed", *stop(proc, "perl", 1.0)]
        proc.stdout.close()
    assert not problems, f"{problems}\n{log.read_text()}"
    assert proc.returncode == 0, log.read_text()
    assert log.read_text() == ""


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server for the module; yields its URL."""
    with _serving(tmp_path_factory.mktemp("xmlrpc_fast") / "server.err") as server:
        yield server.url


@pytest.fixture
def fresh_fast_server(tmp_path: Path) -> Iterator[str]:
    """A server of the test's own (its fault code is global state); yields its URL."""
    with _serving(tmp_path / "server.err") as server:
        yield server.url


def _proxy(url: str, **options: Any) -> AsyncServerProxy:
    return AsyncServerProxy(url, timeout=CALL_TIMEOUT, pool_size=1, **options)


# -- the package's server, our client ----------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"use_datetime": True}, {"use_builtin_types": True}],
    ids=["defaults", "use_datetime", "use_builtin_types"],
)
async def test_every_type_it_writes(fast_server: str, options: dict[str, Any]) -> None:
    ours, theirs = await both(fast_server, CALL_TIMEOUT, "typed", ours_only=ONE, **options)
    assert exact(ours) == exact(theirs)
    if not options:
        assert exact(ours) == exact(TYPED)
    else:
        assert ours["when"].year == 2024


async def test_what_we_send_comes_back_as_it_guesses(fast_server: str) -> None:
    sent: dict[str, Any] = {
        "text": [
            "a<b",
            "x & y",
            "]]>",
            "\u00e9\u20ac\u65e5\U0001f600",
            "tab\tnew\nline",
            "cr\r\nlf",
            "",
            " spaced ",
        ],
        "ints": [0, -1, 2**31 - 1, -(2**31)],
        "doubles": [0.1, 0.5, -2.25, 1e-07, 1e20, -0.0, 1.0],
        "numeric_text": ["0042", "1.50", "+5", "-0", "1e3", " 1"],
        "flags": [True, False],
        "nothing": None,
        "empty": [[], {}],
        "names": {"a&b": 1, "": 2, "\u00e9": [3]},
        "deep": [[[{"k": [{}]}]]],
    }
    ours, theirs = await both(
        fast_server, CALL_TIMEOUT, "echo", sent, ours_only=ONE, allow_none=True
    )
    assert exact(ours) == exact(theirs)
    expected = {
        **sent,
        "text": [*sent["text"][:5], "cr\nlf", *sent["text"][6:]],  # CRLF read as LF
        "doubles": [0.1, 0.5, -2.25, "1e-07", "1e+20", 0, 1],
        "numeric_text": [42, 1.5, 5, 0, "1e3", " 1"],
    }
    assert exact(ours) == exact(expected)


@pytest.mark.parametrize(
    ("blob", "back"),
    [(b"h\xc3\xa9llo", "h\u00e9llo"), (b"123", 123), (b"a\x00b", "a"), (b"\x00\xff", "")],
    ids=["utf-8", "numeric", "nul", "nul-first"],
)
async def test_base64_comes_back_as_text(fast_server: str, blob: bytes, back: Any) -> None:
    ours, theirs = await both(fast_server, CALL_TIMEOUT, "echo", Binary(blob), ours_only=ONE)
    assert exact(ours) == exact(theirs) == exact(back)


async def test_base64_that_is_no_utf8_comes_back_malformed(fast_server: str) -> None:
    blob = Binary(b"h\xe9llo")
    with stdlib_proxy(fast_server, CALL_TIMEOUT) as stdlib, pytest.raises(ExpatError):
        await asyncio.to_thread(stdlib.echo, blob)
    async with _proxy(fast_server) as proxy:
        with pytest.raises(MalformedXML, match="not well-formed"):
            await proxy.echo(blob)
        assert await proxy.add(2, 3) == 5  # the proxy goes on


async def test_a_date_in_the_specs_format_is_refused(fast_server: str) -> None:
    when = DateTime("20240229T12:34:56")
    async with _proxy(fast_server) as proxy:
        with pytest.raises(Fault) as ours:
            await proxy.echo(when)
        assert await proxy.add(2, 3) == 5
    with (
        stdlib_proxy(fast_server, CALL_TIMEOUT) as stdlib,
        pytest.raises(xmlrpc.client.Fault) as theirs,
    ):
        await asyncio.to_thread(stdlib.echo, when)
    first_line = "Invalid date format: 20240229T12:34:56 at "
    assert ours.value.faultCode == theirs.value.faultCode == 0
    assert ours.value.faultString.startswith(first_line)
    # Its stack trace names Perl objects by address: compare its first line.
    assert ours.value.faultString.split("\n")[0] == theirs.value.faultString.split("\n")[0]
    assert "XML::RPC::Enc::LibXML::_parse_param" in ours.value.faultString


@pytest.mark.parametrize(
    ("method", "result"), [("nothing", ()), ("two", (1, "two"))], ids=["no-param", "two-params"]
)
async def test_a_reply_of_other_than_one_param(fast_server: str, method: str, result: Any) -> None:
    ours, theirs = await both(fast_server, CALL_TIMEOUT, method, ours_only=ONE)
    assert exact(ours) == exact(theirs)
    assert ours == result


async def test_a_reply_over_1_mib(fast_server: str) -> None:
    size = 3_000_000
    ours, theirs = await both(fast_server, CALL_TIMEOUT, "big", size, ours_only=ONE)
    assert ours == theirs
    assert len(ours) == size


async def _faults(url: str, method: str) -> tuple[Fault, xmlrpc.client.Fault]:
    async with _proxy(url) as proxy:
        with pytest.raises(Fault) as ours:
            await getattr(proxy, method)()
        assert await proxy.add(2, 3) == 5  # the proxy goes on
    with stdlib_proxy(url, CALL_TIMEOUT) as stdlib, pytest.raises(xmlrpc.client.Fault) as theirs:
        await asyncio.to_thread(getattr(stdlib, method))
    assert (ours.value.faultCode, ours.value.faultString) == (
        theirs.value.faultCode,
        theirs.value.faultString,
    )
    return ours.value, theirs.value


@pytest.mark.parametrize(
    ("method", "code", "text"),
    [
        ("fail", 4, "Too many parameters."),
        ("crash", 0, "a Perl exception"),
        ("no_such_method", 0, "Unknown method no_such_method"),
    ],
)
async def test_its_faults(fast_server: str, method: str, code: int, text: str) -> None:
    fault, _ = await _faults(fast_server, method)
    assert (fault.faultCode, fault.faultString) == (code, text)


async def test_an_exception_says_where_it_was_raised(fast_server: str) -> None:
    fault, _ = await _faults(fast_server, "crash_where")
    assert fault.faultCode == 0
    assert re.fullmatch(
        r"a Perl exception at \S+xmlrpc_fast_server\.pl line \d+\.", fault.faultString
    )


async def test_a_fault_code_once_set_stays(fresh_fast_server: str) -> None:
    before, _ = await _faults(fresh_fast_server, "crash")
    coded, _ = await _faults(fresh_fast_server, "coded")
    after, _ = await _faults(fresh_fast_server, "crash")
    assert [before.faultCode, coded.faultCode, after.faultCode] == [0, 7, 7]
    assert coded.faultString == "a coded exception"


async def test_concurrent_calls_on_one_connection(fast_server: str) -> None:
    async with _proxy(fast_server) as proxy:
        sums = await asyncio.gather(*(proxy.add(n, n) for n in range(20)))
    assert sums == [2 * n for n in range(20)]


async def test_a_second_connection_waits_and_the_timeout_says_why(fast_server: str) -> None:
    # With the default pool, two calls at once take two connections: the server answers
    # the first and then waits on it for the next request, while the second waits to be
    # accepted. The second times out, naming the remedy; the proxy goes on.
    async with AsyncServerProxy(fast_server, timeout=1.0) as proxy:
        assert await proxy.add(1, 1) == 2
        results = await asyncio.gather(proxy.add(1, 2), proxy.add(2, 3), return_exceptions=True)
        timeouts = [result for result in results if isinstance(result, TransportTimeout)]
        assert len(timeouts) == 1, results
        assert "if the server handles one connection at a time" in str(timeouts[0])
        assert "pass pool_size=1" in str(timeouts[0])
        assert [result for result in results if not isinstance(result, Exception)] in ([3], [5])
        assert await proxy.add(3, 3) == 6


# -- the package's client, our server -----------------------------------------------------------

CLIENT_SCRIPT = Path(__file__).with_name("xmlrpc_fast_client.pl")
CLIENT_TIMEOUT = 60.0  # seconds for xmlrpc_fast_client.pl to make all its calls
# Where our server answers differently from the standard library's, on purpose.
DIFFERENT = {"unknown", "bad_params"}
BAD_DATE = "Call to URL#{method} failed: Bad Response: Invalid date format: {when} at "


def _run_client(url: str) -> dict[str, dict[str, Any]]:
    perl = _perl()
    # Its LWP reads the proxy variables (env_proxy): none, so that it calls 127.0.0.1.
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    env.update(PERL_HASH_SEED="0", PERL_PERTURB_KEYS="0")
    return run_client([perl, str(CLIENT_SCRIPT), url], CLIENT_TIMEOUT, env=env)


def test_its_client_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    theirs = _run_client(stdlib_example_server.url)
    assert list(ours) == list(theirs)
    assert len(ours) == 19
    for name in ours.keys() - DIFFERENT - {"now"}:  # now: the time of the call
        assert ours[name] == theirs[name], name
    assert "error" not in json.dumps(ours)

    tricky = "h\u00e9llo & <tags> ]]> \u2603"
    true = {"type": "boolean", "value": "1"}
    assert ours["ping"]["value"] == true
    assert ours["numeric_string"]["value"] == ["42", "<class 'int'>", 42]  # guessed
    assert ours["string"]["value"] == [tricky, "<class 'str'>", tricky]
    assert ours["boolean"]["value"] == ["True", "<class 'bool'>", true]
    assert ours["base64"]["value"] == "\x00\x01bin"
    assert ours["nil"]["value"] == ["None", "<class 'NoneType'>", {"type": "nil", "value": None}]
    assert ours["undefined"]["value"] == ["", "<class 'str'>", ""]
    code, text = ours["datetime"]["fault"]
    assert code == 499
    assert text.startswith(BAD_DATE.format(method="show_type", when="20240229T12:34:56"))
    code, text = ours["now"]["fault"]
    assert code == 499
    pattern = re.escape(BAD_DATE.format(method="now", when="WHEN"))
    assert re.match(pattern.replace("WHEN", r"\d{8}T\d\d:\d\d:\d\d"), text), text
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message"]
    assert ours["multicall"]["value"] == [
        [true],
        [[tricky, "<class 'str'>", tricky]],
        {"faultCode": 1, "faultString": "<class 'RuntimeError'>:Next to last call stops execution"},
    ]


def test_its_client_sees_our_deliberate_differences(example_server: ExampleServer) -> None:
    ours = _run_client(example_server.url)
    assert ours["unknown"]["fault"] == [-32601, 'method "no.such.method" is not supported']
    code, text = ours["bad_params"]["fault"]
    assert code == -32602
    assert "takes 1 positional argument but 3 were given" in text
