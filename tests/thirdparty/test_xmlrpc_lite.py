"""AsyncServerProxy against Perl's XMLRPC::Lite (Debian's libxmlrpc-lite-perl, 0.717).

XMLRPC::Lite, on SOAP::Lite and HTTP::Daemon, is what Bugzilla's XML-RPC API runs on.
``xmlrpc_lite_server.pl`` (next to this file) serves it on a free port of 127.0.0.1;
every answer is compared with what the standard library's ``ServerProxy`` reads from the
same server. What XMLRPC::Lite does, as these tests pin it:

- it guesses the type of every value not typed explicitly: a string with a byte beyond
  ASCII goes out as ``<base64>``, ``"0123"`` as ``<int>``;
- it writes empty elements with a space (``<string />``, ``<data />``), and ``undef`` as
  an empty ``<value />``, which reads as ``""``;
- its own faults (an unknown method, a method it may not call) carry the string
  ``"Client"`` as their ``faultCode``, and a Perl file and line in their text;
- HTTP::Daemon serves one connection at a time, for as long as the client keeps it: calls
  on a second kept-alive connection wait until the first is closed. ``pool_size=1``
  sends them one after the other on one connection.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aioxmlrpc import AsyncServerProxy, Binary, DateTime, Fault, TransportTimeout

from peers import both, exact, read_port, stdlib_proxy, stop

SCRIPT = Path(__file__).with_name("xmlrpc_lite_server.pl")
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's
# One connection, so that the server (one connection at a time) serves every call.
ONE: dict[str, Any] = {"pool_size": 1}

# What xmlrpc_lite_server.pl returns, as both clients read it: keep the two in step.
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -7,
    "double": 2.5,
    "ascii": "plain & <tag> ]]>",
    "latin1": Binary(b"h\xe9llo"),
    "numeric_string": 123,
    "empty": "",
    "undefined": "",
    "list": [1, "two", [3, []]],
    "nested": {"a": {"b": []}},
    "typed_int": 7,
    "typed_boolean": True,
    "typed_string": "42",
    "when": DateTime("20240229T12:34:56"),
    "blob": Binary(b"\x00\x01b\xfe\xff"),
}


@pytest.fixture(scope="module")
def xmlrpc_lite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """xmlrpc_lite_server.pl on a free port of 127.0.0.1; yields its URL."""
    perl = shutil.which("perl")
    if perl is None:
        pytest.fail("perl is not installed (Debian: perl)", pytrace=False)
    check = subprocess.run(
        [perl, "-MXMLRPC::Transport::HTTP", "-e", "1"],
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT,
        check=False,
    )
    if check.returncode != 0:
        pytest.fail(
            "Perl's XMLRPC::Lite is not installed: install the Debian package "
            f"'libxmlrpc-lite-perl' (.ci/test does)\n{check.stderr}",
            pytrace=False,
        )
    log = tmp_path_factory.mktemp("xmlrpc_lite") / "server.err"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [perl, str(SCRIPT)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err
        )
    try:
        try:
            port = read_port(proc, START_TIMEOUT)
        except (RuntimeError, ValueError) as exc:
            pytest.fail(f"XMLRPC::Lite did not start: {exc}\n{log.read_text()}", pytrace=False)
        yield f"http://127.0.0.1:{port}/RPC2"
    finally:
        problems = stop(proc, "perl", STOP_TIMEOUT)
        assert proc.stdout is not None
        proc.stdout.close()
    assert not problems, f"{problems}\n{log.read_text()}"
    assert log.read_text() == ""


def _proxy(url: str) -> AsyncServerProxy:
    return AsyncServerProxy(url, timeout=CALL_TIMEOUT, pool_size=1)


@pytest.mark.parametrize(
    "options", [{}, {"use_builtin_types": True}], ids=["defaults", "use_builtin_types"]
)
async def test_every_type_xmlrpc_lite_writes(xmlrpc_lite: str, options: dict[str, Any]) -> None:
    ours, theirs = await both(xmlrpc_lite, CALL_TIMEOUT, "typed", ours_only=ONE, **options)
    assert exact(ours) == exact(theirs)
    if not options:
        assert exact(ours) == exact(TYPED)
    else:
        assert ours["latin1"] == b"h\xe9llo"


async def test_what_we_send_comes_back_as_it_guesses(xmlrpc_lite: str) -> None:
    # XMLRPC::Lite reads our values into Perl scalars, then guesses their types again.
    sent = {
        "text": ["a<b", "x & y", "]]>", "", " x "],
        "numbers": [0, -1, 2**31 - 1, 0.5, -2.25],
        "numeric_text": "0042",
        "flags": [True, False],
        "blob": Binary(b"\x00\xff" * 100),
        "deep": [[[{"k": [{}]}]]],
    }
    ours, theirs = await both(xmlrpc_lite, CALL_TIMEOUT, "echo", sent, ours_only=ONE)
    assert exact(ours) == exact(theirs)
    assert ours["numeric_text"] == 42  # guessed to be an int
    assert ours["text"][:3] == ["a<b", "x & y", "]]>"]


async def test_a_reply_over_1_mib(xmlrpc_lite: str) -> None:
    size = 3_000_000
    ours, theirs = await both(xmlrpc_lite, CALL_TIMEOUT, "big", size, ours_only=ONE)
    assert ours == theirs
    assert len(ours) == size


async def test_its_faults_and_their_string_codes(xmlrpc_lite: str) -> None:
    async with _proxy(xmlrpc_lite) as proxy:
        with pytest.raises(Fault) as ours:
            await proxy.fail()
        assert (ours.value.faultCode, ours.value.faultString) == (4, "Too many parameters.")
        with pytest.raises(Fault) as unknown:
            await proxy.no_such_method()
        assert await proxy.add(2, 3) == 5  # the proxy goes on
    code: object = unknown.value.faultCode  # typeshed says int; XML-RPC allows any value
    assert code == "Client"
    assert "Failed to locate method (no_such_method)" in unknown.value.faultString
    with (
        stdlib_proxy(xmlrpc_lite, CALL_TIMEOUT) as stdlib,
        pytest.raises(xmlrpc.client.Fault) as theirs,
    ):
        await asyncio.to_thread(stdlib.no_such_method)
    assert (unknown.value.faultCode, unknown.value.faultString) == (
        theirs.value.faultCode,
        theirs.value.faultString,
    )


async def test_concurrent_calls_on_one_connection(xmlrpc_lite: str) -> None:
    async with _proxy(xmlrpc_lite) as proxy:
        sums = await asyncio.gather(*(proxy.add(n, n) for n in range(20)))
    assert sums == [2 * n for n in range(20)]


async def test_a_second_connection_waits_and_the_timeout_says_why(xmlrpc_lite: str) -> None:
    # With the default pool, two calls at once take two connections: the server answers
    # the first and then waits on it for the next request, while the second waits to be
    # accepted. The second times out, naming the remedy; the proxy goes on.
    async with AsyncServerProxy(xmlrpc_lite, timeout=1.0) as proxy:
        assert await proxy.add(1, 1) == 2
        results = await asyncio.gather(proxy.add(1, 2), proxy.add(2, 3), return_exceptions=True)
        timeouts = [result for result in results if isinstance(result, TransportTimeout)]
        assert len(timeouts) == 1, results
        assert "if the server handles one connection at a time" in str(timeouts[0])
        assert "pass pool_size=1" in str(timeouts[0])
        assert [result for result in results if not isinstance(result, Exception)] in ([3], [5])
        assert await proxy.add(3, 3) == 6
