"""aXMLRPC, a Java client (Debian's libaxmlrpc-java, 1.13), against our server.

``java/AxmlrpcClient.java`` (run by ``java`` as a single source file, on the JDK's
``java``) makes a fixed list of calls; its output against our example server is
compared with its output against the standard library's ``SimpleXMLRPCServer`` serving
the same ``ExampleService``. aXMLRPC is the XML-RPC library of Android apps (WordPress's
among them).

What aXMLRPC sends, as these tests pin it:

- ``<?xml version="1.0" encoding="UTF-8"?>``, then every element on a line of its own,
  with blank lines between some, over ``HttpURLConnection`` (``Content-Type: text/xml;
  charset=utf-8``, a ``Content-Length``, ``Connection: keep-alive``);
- strings escaped, but struct member names as they are: a name holding ``&`` or ``<``
  makes the request not well-formed, and both servers answer fault -32700 (ours names
  the line and column, as the parse error; the standard library's a bare ``ExpatError``);
- with ``FLAGS_NIL``, ``None`` as ``<nil/>``; with ``FLAGS_8BYTE_INT``, a ``long`` as
  ``<i8>``, which both servers read and cannot answer with (an ``OverflowError``
  fault 1, as the example server does not ``allow_i8``);
- a ``Date`` as ``dateTime.iso8601`` in the local time of the JVM (UTC here), without
  a fraction;
- a fault as an ``XMLRPCServerException`` whose message ends in `` [code]``.

``.ci/test`` installs libaxmlrpc-java; the JDK comes with the machine (``java`` 17).
Without them these tests fail, saying so; they are never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from aioxmlrpc._demo import ExampleServer

from peers import run_client
from servers import StdlibExampleServer

CLIENT_SOURCE = Path(__file__).parent / "java" / "AxmlrpcClient.java"
JAR = Path("/usr/share/java/axmlrpc.jar")
CLIENT_TIMEOUT = 120.0  # seconds for the JVM to compile the client and make its calls

# Where our server answers differently from the standard library's, on purpose.
DIFFERENT = {"unknown", "bad_params", "listMethods", "struct"}


def _run_client(url: str) -> dict[str, dict[str, Any]]:
    java = shutil.which("java")
    assert java is not None, "no java on PATH: the JDK is needed (java 11 or later)"
    assert JAR.exists(), f"{JAR} is missing: install libaxmlrpc-java (.ci/test does)"
    port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
    # JAVA_TOOL_OPTIONS makes the JVM print a line on stderr, which run_client refuses.
    env = {name: value for name, value in os.environ.items() if name != "JAVA_TOOL_OPTIONS"}
    return run_client(
        [java, "-Duser.timezone=UTC", "-cp", str(JAR), str(CLIENT_SOURCE), port],
        CLIENT_TIMEOUT,
        env=env,
    )


@pytest.fixture(scope="module")
def outputs(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """What the client printed against our server, and against the standard library's."""
    return _run_client(example_server.url), _run_client(stdlib_example_server.url)


def test_axmlrpc_gets_what_the_stdlib_server_answers(
    outputs: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]],
) -> None:
    ours, theirs = outputs
    assert list(ours) == list(theirs)
    assert len(ours) == 21
    for name in ours.keys() - DIFFERENT - {"now"}:
        assert ours[name] == theirs[name], name
    assert not any("error" in line for line in ours.values()), ours

    tricky = "h\u00e9llo & <tags> ]]> \u2603 \U0001f600"
    assert ours["string"]["value"] == [tricky, "<class 'str'>", tricky]
    assert ours["cr"]["value"][2] == "cr\nlf\nend"
    assert ours["nil"]["value"] == ["None", "<class 'NoneType'>", None]
    assert ours["base64"]["value"] == {"base64": [0, 1, 98, 105, 110, 255]}
    assert ours["datetime"]["value"][2] == "20240229T12:34:56"
    assert ours["big"]["value"][2] == "x&<" * 200_000
    assert re.fullmatch(r"\d{8}T\d\d:\d\d:\d\d", ours["now"]["value"])
    assert ours["i8"]["fault"][0] == 1
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message [1]"]
    assert ours["multicall"]["value"] == [
        [True],
        [[tricky, "<class 'str'>", tricky]],
        {"faultCode": 1, "faultString": "<class 'RuntimeError'>:Next to last call stops execution"},
    ]
    assert ours["ping_again"]["value"] is True


def test_axmlrpc_sees_our_deliberate_differences(
    outputs: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]],
) -> None:
    ours, theirs = outputs
    assert ours["unknown"]["fault"][0] == -32601
    assert ours["bad_params"]["fault"][0] == -32602
    assert "system.getCapabilities" in ours["listMethods"]["value"]
    # A member name holding "&" and "<", sent unescaped: not XML, refused by both at the
    # same line and column; ours as fault -32700, the standard library's as fault 1.
    (code, text), (their_code, their_text) = ours["struct"]["fault"], theirs["struct"]["fault"]
    assert (code, their_code) == (-32700, 1)
    where = re.search(r"not well-formed \(invalid token\): line \d+, column \d+", text)
    assert where is not None, text
    assert f"ExpatError'>:{where.group()}" in their_text
