"""The seed's programs, sync ``xmlrpc.client`` as the seed writes them, against our server.

Each program runs in a thread (``xmlrpc.client`` blocks) against our example server and
against the standard library's ``SimpleXMLRPCServer`` serving the same ``ExampleService``
(the oracle): both outputs must equal the seed's (the normalised ``EXPECTED`` text of
``tests/examples``), so a mistake made the same way on both sides of the comparison with
the examples cannot hide. The verbose program is compared record by record: the same
kinds of line, the same request, the same reply head names and the same reply body.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import decimal
import io
import re
import sys
import xmlrpc.client
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

import pytest

from aioxmlrpc._demo import ExampleServer

from seed_programs import PROGRAMS
from servers import StdlibExampleServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from test_examples import EXPECTED, INVARIANTS, normalise

TIMEOUT = 20.0
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def run_program(name: str, url: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        PROGRAMS[name](url)
    return out.getvalue()


async def run_in_thread(name: str, url: str) -> str:
    return await asyncio.wait_for(asyncio.to_thread(run_program, name, url), TIMEOUT)


def kinds(text: str) -> list[str]:
    return [line.split(":", 1)[0] for line in text.splitlines()]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
async def test_seed_program_prints_the_same_against_our_server_and_the_stdlibs(
    name: str, example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = await run_in_thread(name, example_server.url)
    theirs = await run_in_thread(name, stdlib_example_server.url)
    if name == "xmlrpc_ServerProxy_verbose":
        assert kinds(ours) == kinds(theirs)
        assert ours.splitlines()[-1] == "Ping: True"
        bodies = [line for line in ours.splitlines() if line.startswith("body:")]
        assert bodies == [line for line in theirs.splitlines() if line.startswith("body:")]
        heads = [line.split(":")[1] for line in ours.splitlines() if line.startswith("header:")]
        assert heads == [
            line.split(":")[1] for line in theirs.splitlines() if line.startswith("header:")
        ]
        assert "reply: 'HTTP/1.0 200 OK\\r\\n'" in ours
        return
    assert normalise(ours) == normalise(EXPECTED[name])
    assert normalise(theirs) == normalise(EXPECTED[name])
    if name in INVARIANTS:
        INVARIANTS[name](ours)


def test_stdlib_multicall_with_every_call_failing_against_our_server(
    example_server: ExampleServer,
) -> None:
    proxy: Any = xmlrpc.client.ServerProxy(example_server.url)
    multicall: Any = xmlrpc.client.MultiCall(proxy)
    multicall.raises_exception("one")
    multicall.no_such_method()
    results = multicall().results
    assert results[0] == {"faultCode": 1, "faultString": "<class 'RuntimeError'>:one"}
    assert results[1]["faultCode"] == -32601
    assert proxy.ping() is True


VALUES: list[Any] = [
    True,
    0,
    -(2**31),
    2**31 - 1,
    2.5,
    -0.0,
    1e300,
    "",
    "plain",
    "h\u00e9llo \u2603 & <tag> \"q\" 'a' \U0001f600",
    "line\r\nbreaks\tand tabs",
    b"\x00\x01\xff",
    xmlrpc.client.Binary(b"bin"),
    datetime.datetime(2024, 2, 29, 12, 34, 56),
    xmlrpc.client.DateTime("20240229T12:34:56"),
    None,
    [],
    {},
    [1, "two", [3.0, [None, {"k": [True]}]]],
    {"a": 1, "b": {"c": [1, 2], "d": {"e": "f"}}, "unicode \u00e9": ""},
    decimal.Decimal("1.5"),
    2**40,
    {1: "int key"},
    {1, 2},
    "nul \x00 inside",
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_any_value_comes_back_from_our_server_as_from_the_stdlibs(
    value: Any, example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    answers: list[tuple[str, Any]] = []
    for url in (example_server.url, stdlib_example_server.url):
        with xmlrpc.client.ServerProxy(url, allow_none=True) as proxy:
            try:
                answers.append(("value", proxy.show_type(value)))
            except xmlrpc.client.Fault as fault:
                answers.append(("fault", (fault.faultCode, fault.faultString)))
            except (TypeError, OverflowError, ValueError) as exc:  # refused before sending
                answers.append(("local", str(exc)))
            except ExpatError as exc:  # the reply does not parse: a NUL in a string
                answers.append(("expat", str(exc)))
    ours, theirs = answers
    expat = "<class 'xml.parsers.expat.ExpatError'>:"
    if theirs[0] == "fault" and str(theirs[1][1]).startswith(expat):
        # A request that does not parse: fault 1 from the stdlib, -32700 from ours.
        assert ours == ("fault", (-32700, "parse error: " + str(theirs[1][1])[len(expat) :]))
        return
    # Binary and DateTime values show their addresses in str(): compare without them.
    assert ADDRESS.sub("", repr(ours)) == ADDRESS.sub("", repr(theirs))


def _ping_with_header(url: str, size: int) -> str:
    """Ping with one header line of about ``size`` bytes: what happened, as text."""
    headers = [("X-Token", "t" * size)]  # a large cookie or bearer token
    with xmlrpc.client.ServerProxy(url, headers=headers) as proxy:
        try:
            return f"value {proxy.ping()!r}"
        except xmlrpc.client.ProtocolError as error:
            return "refused" if error.errcode in (400, 431) else f"status {error.errcode}"


@pytest.mark.parametrize(("size", "outcome"), [(60_000, "value True"), (70_000, "refused")])
def test_a_long_header_line_is_read_as_simplexmlrpcserver_reads_it(
    size: int,
    outcome: str,
    example_server: ExampleServer,
    stdlib_example_server: StdlibExampleServer,
) -> None:
    # http.server reads lines of up to 64 KiB (431 beyond); aiohttp's default is 8190.
    assert _ping_with_header(stdlib_example_server.url, size) == outcome
    assert _ping_with_header(example_server.url, size) == outcome
    assert _ping_with_header(example_server.url, 0) == "value True"  # still serving
