"""Node's XML-RPC, the npm package ``xmlrpc`` 1.3.2, against ours, in both directions.

- ``node/node_server.js`` (``createServer``, on node's http module) against
  AsyncServerProxy, with the standard library's ``ServerProxy`` as the oracle: every
  answer must be the one the standard library reads from the same server.
- ``node/node_client.js`` (``createClient``) against our example server, its answers
  compared with those of the standard library's ``SimpleXMLRPCServer`` serving the same
  ``ExampleService`` (as ``test_perl_client.py`` does for Perl).

What the package does, as these tests pin it:

- a string holding ``<``, ``&`` or ``]]>`` goes out as one CDATA section, its first
  ``]]>`` split across two sections (``]]]]><![CDATA[>``): node's split CDATA;
- a whole number is written as ``<int>`` whatever its size (2**40 included), a date in
  the process's local time (the server runs with ``TZ=UTC``);
- an unknown method is an HTTP 404 with an empty body, not a fault; there is no
  ``system.multicall``;
- node's http server closes idle keep-alive connections (here after 300 ms), under a
  client's pool.

``.ci/test`` installs the package with ``npm ci`` into ``node/node_modules`` (and
Debian's nodejs and npm when node is missing). Without them these tests fail, saying so;
they are never skipped.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import shutil
import subprocess
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Binary,
    DateTime,
    Fault,
    InvalidResponse,
    MultiCall,
    ProtocolError,
)
from aioxmlrpc._demo import ExampleServer

from peers import both, exact, read_port, run_client, stdlib_proxy, stop
from servers import StdlibExampleServer

NODE_DIR = Path(__file__).with_name("node")
SERVER_SCRIPT = NODE_DIR / "node_server.js"
CLIENT_SCRIPT = NODE_DIR / "node_client.js"
START_TIMEOUT = 20.0  # seconds for the server to print its port
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0  # seconds for any one call, ours or the standard library's
CLIENT_TIMEOUT = 60.0  # seconds for node_client.js to make all its calls
NODE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC"}

# What node_server.js returns: keep the two in step.
STRINGS = [
    "a ]]> b",
    "<tag> & ]]",
    "]]>",
    "x]]>",
    "&amp; stays as written",
    "é€日😀 <",
    "",
    "plain",
    "a]]b",
    "<![CDATA[",
    "line\nbreak & tab\t<",
    " padded < ",
]
WHEN = datetime.datetime(2024, 2, 29, 12, 34, 56)
BLOB = b"\x00\x01b\xfe\xff"
TYPED: dict[str, Any] = {
    "int": 42,
    "big": 2**40,
    "negative": -7,
    "double": 2.5,
    "tiny": 1e-7,
    "true": True,
    "false": False,
    "string": "txt",
    "nil": None,
    "when": WHEN,
    "blob": BLOB,
    "list": [1, "two", [3, []]],
    "nested": {"a": {"b": []}, "k&<>": "v"},
}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (Debian: nodejs; .ci/test installs it)", pytrace=False)
    if not (NODE_DIR / "node_modules" / "xmlrpc" / "package.json").is_file():
        pytest.fail(
            "the npm package xmlrpc is not installed: run "
            "'npm ci --prefix tests/thirdparty/node' (.ci/test does)",
            pytrace=False,
        )
    return node


@pytest.fixture(scope="module")
def node_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """node_server.js on a free port of 127.0.0.1; yields its URL."""
    node = _node()
    log = tmp_path_factory.mktemp("node") / "node.err"
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
        except (RuntimeError, ValueError, AssertionError) as exc:
            pytest.fail(f"the node server did not start: {exc}\n{log.read_text()}", pytrace=False)
        yield f"http://127.0.0.1:{port}/"
    finally:
        problems = stop(proc, "node", STOP_TIMEOUT)
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
    assert not problems, f"{problems}\n{log.read_text()}"
    assert proc.returncode == 0, log.read_text()  # it exits 0 on SIGTERM
    assert log.read_text() == ""


# -- node's server, our client ---------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"use_datetime": True}, {"use_builtin_types": True}],
    ids=["defaults", "use_datetime", "use_builtin_types"],
)
async def test_every_type_node_writes(node_server: str, options: dict[str, Any]) -> None:
    ours, theirs = await both(node_server, CALL_TIMEOUT, "typed", **options)
    assert exact(ours) == exact(theirs)
    if options.get("use_builtin_types"):
        assert exact(ours) == exact(TYPED)
    else:
        assert exact(ours["blob"]) == exact(Binary(BLOB))
        when = WHEN if options.get("use_datetime") else DateTime("20240229T12:34:56")
        assert exact(ours["when"]) == exact(when)
    assert ours["big"] == 2**40  # in <int>, past 32 bits: read as the stdlib reads it


async def test_node_split_cdata(node_server: str) -> None:
    ours, theirs = await both(node_server, CALL_TIMEOUT, "strings")
    assert ours == theirs == STRINGS


async def test_what_we_send_comes_back(node_server: str) -> None:
    sent = {
        "text": ["a<b", "x & y", "]]>", "é€日😀", "", " ", "tab\tnew\nline"],
        "numbers": [0, -1, 2**31 - 1, -(2**31), 0.5, -2.25, 1.25e-300],
        "flags": [True, False],
        "none": None,
        "blob": Binary(b"\x00\xff" * 100),
        "when": DateTime("20240229T12:34:56"),
        "deep": [[[{"k": [{}]}]]],
    }
    ours, theirs = await both(node_server, CALL_TIMEOUT, "echo", sent, allow_none=True)
    assert exact(ours) == exact(theirs) == exact(sent)


async def test_a_reply_over_1_mib_in_one_cdata_section(node_server: str) -> None:
    size = 3_000_000
    ours, theirs = await both(node_server, CALL_TIMEOUT, "big", size)
    assert ours == theirs
    assert len(ours) == size
    assert ours.startswith("x<y&z x<y&z ")


async def test_a_fault_and_a_404_then_a_call(node_server: str) -> None:
    with stdlib_proxy(node_server, CALL_TIMEOUT) as stdlib:
        with pytest.raises(xmlrpc.client.Fault) as theirs:
            await asyncio.to_thread(stdlib.fail)
        with pytest.raises(xmlrpc.client.ProtocolError) as stdlib_missing:
            await asyncio.to_thread(lambda: stdlib.no.such.method())
    async with AsyncServerProxy(node_server, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(Fault) as ours:
            await proxy.fail()
        assert (ours.value.faultCode, ours.value.faultString) == (4, "Too many parameters.")
        assert (ours.value.faultCode, ours.value.faultString) == (
            theirs.value.faultCode,
            theirs.value.faultString,
        )
        with pytest.raises(ProtocolError) as missing:
            await proxy.no.such.method()
        assert missing.value.errcode == stdlib_missing.value.errcode == 404
        assert isinstance(missing.value, xmlrpc.client.ProtocolError)
        assert await proxy.add(2, 3) == 5  # the proxy goes on after both


async def test_a_whole_double_node_writes_as_int(node_server: str) -> None:
    # 1e100 % 1 == 0 in JavaScript, so the package writes <int>1e+100</int>, which no
    # XML-RPC reader takes. Both refuse the reply with a ValueError; ours is also an
    # InvalidResponse that says where, and the proxy goes on.
    with (
        stdlib_proxy(node_server, CALL_TIMEOUT) as stdlib,
        pytest.raises(ValueError, match="1e\\+100"),
    ):
        await asyncio.to_thread(stdlib.echo, 1e100)
    async with AsyncServerProxy(node_server, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(ValueError, match="bad <int> value '1e\\+100'") as ours:
            await proxy.echo(1e100)
        assert isinstance(ours.value, InvalidResponse)
        assert await proxy.echo(1e15) == 10**15  # written as <int> too: an int back


async def test_a_multicall_is_a_404_as_in_the_stdlib(node_server: str) -> None:
    # The package has no system.multicall: node answers 404, which is no reason to fall
    # back to one call per item (only -32601, or a fault naming the method, is).
    with stdlib_proxy(node_server, CALL_TIMEOUT) as server:
        stdlib = xmlrpc.client.MultiCall(server)
        stdlib.add(1, 2)
        with pytest.raises(xmlrpc.client.ProtocolError) as theirs:
            await asyncio.to_thread(stdlib)
    async with AsyncServerProxy(node_server, timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        with pytest.raises(ProtocolError) as ours:
            await multicall()
    assert ours.value.errcode == theirs.value.errcode == 404


async def test_pooled_connections_node_closed_while_idle(node_server: str) -> None:
    # node closes a kept-alive connection after 300 ms of silence, plus the 1 s that node
    # 20 adds to keepAliveTimeout (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER): the next call
    # on the same proxy must open a fresh one, never fail on (or read from) the closed one.
    async with AsyncServerProxy(node_server, timeout=CALL_TIMEOUT) as proxy:
        for round_ in range(3):
            sums = await asyncio.gather(*(proxy.add(round_, n) for n in range(20)))
            assert sums == [round_ + n for n in range(20)]
            await asyncio.sleep(1.8)  # node has closed them all by now
        assert await proxy.echo("after") == "after"


# -- node's client, our server -----------------------------------------------------------------

# Where our server answers differently from the standard library's, on purpose.
DIFFERENT = {"unknown", "bad_params"}


def _run_client(url: str) -> dict[str, dict[str, Any]]:
    return run_client(
        [_node(), str(CLIENT_SCRIPT), url], CLIENT_TIMEOUT, cwd=NODE_DIR, env=NODE_ENV
    )


def test_node_client_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    theirs = _run_client(stdlib_example_server.url)
    assert list(ours) == list(theirs)
    assert len(ours) == 15
    for name in ours.keys() - DIFFERENT:
        assert ours[name] == theirs[name], name
    assert "error" not in json.dumps(ours)

    tricky = "h\u00e9llo & <tags> ]]> done"  # sent as CDATA, its "]]>" split
    assert ours["string"]["value"] == [tricky, "<class 'str'>", tricky]
    assert ours["base64"]["value"] == {"base64": "AAFiaW4="}
    assert ours["datetime"]["value"][0] == "20240229T12:34:56"
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message"]
    assert ours["multicall"]["value"][1] == [[tricky, "<class 'str'>", tricky]]
    assert ours["multicall"]["value"][2] == {
        "faultCode": 1,
        "faultString": "<class 'RuntimeError'>:Next to last call stops execution",
    }
    assert ours["ping_again"]["value"] is True


def test_node_client_sees_our_deliberate_differences(example_server: ExampleServer) -> None:
    ours = _run_client(example_server.url)
    assert ours["unknown"]["fault"] == [-32601, 'method "no.such.method" is not supported']
    code, text = ours["bad_params"]["fault"]
    assert code == -32602
    assert "takes 1 positional argument but 3 were given" in text
