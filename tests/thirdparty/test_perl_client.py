"""Perl's RPC::XML::Client (Debian's librpc-xml-perl) against our server: a non-Python client.

``perl_client.pl`` (next to this file) makes a fixed list of calls (every XML-RPC type,
a method's exception, an unknown method, bad parameters, introspection, a multicall) and
prints one JSON line per call. It runs against our example server and against the
standard library's ``SimpleXMLRPCServer`` serving the same ``ExampleService``: the answers
must be the same, except where our server departs from the standard library on purpose
(the fault codes of the interoperability spec, signatures from type hints,
``system.getCapabilities``), which are checked for what they are.

RPC::XML reads integers, doubles and strings as plain Perl scalars, so what comes back is
compared as JSON text; a base64 result comes back as its bytes.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path
from typing import Any

from aioxmlrpc._demo import ExampleServer

from peers import run_client
from servers import StdlibExampleServer

SCRIPT = Path(__file__).with_name("perl_client.pl")
TIMEOUT = 60

# Where our server answers differently from the standard library's, on purpose.
DIFFERENT = {"unknown", "bad_params", "listMethods", "methodSignature"}


def _run_client(url: str) -> dict[str, dict[str, Any]]:
    perl = shutil.which("perl")
    assert perl is not None, "perl is missing (.ci/test installs librpc-xml-perl)"
    return run_client([perl, str(SCRIPT), url], TIMEOUT)


def test_perl_client_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    theirs = _run_client(stdlib_example_server.url)
    assert ours.keys() == theirs.keys()
    for name in ours.keys() - DIFFERENT:
        if name == "struct":  # Perl's hash order changes from run to run: str() too
            (mine, *rest), (other, *others) = ours[name]["value"], theirs[name]["value"]
            assert (ast.literal_eval(mine), rest) == (ast.literal_eval(other), others)
            continue
        assert ours[name] == theirs[name], name
    assert "error" not in json.dumps(ours)

    assert ours["ping"]["value"] == 1
    assert ours["string"]["value"][2] == "h\u00e9llo & <tags>"
    assert ours["struct"]["value"][2] == {"a": "1", "b": "x"}
    assert ours["base64"]["value"] == "\x00\x01bin"
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message"]
    assert ours["multicall"]["value"][2] == {
        "faultCode": "1",
        "faultString": "<class 'RuntimeError'>:Next to last call stops execution",
    }
    assert ours["ping_again"]["value"] == 1


def test_perl_client_sees_our_deliberate_differences(example_server: ExampleServer) -> None:
    ours = _run_client(example_server.url)
    assert ours["unknown"]["fault"] == [-32601, 'method "no.such.method" is not supported']
    code, text = ours["bad_params"]["fault"]
    assert code == -32602
    assert "takes 1 positional argument but 3 were given" in text
    assert ours["methodSignature"]["value"] == [["boolean"]]
    assert "system.getCapabilities" in ours["listMethods"]["value"]
