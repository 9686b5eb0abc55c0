"""The ``php-xmlrpc-epi`` profile against PHP's xmlrpc extension (Debian's php8.2-xmlrpc).

The module's fixture serves ``php_server.php`` (next to this file) with PHP's built-in
web server, ``php -S 127.0.0.1:<port>``, from a pytest temporary directory, waits until a
plain stdlib request answers ``version``, and stops it by its PID at the end. A PHP
without the xmlrpc extension fails the fixture (never skipped).

What xmlrpc-epi does, as these tests pin it:

- its multicall is ``system.multiCall`` (capital C); ``system.multicall`` is fault -32601;
- in ``system.multiCall`` results, a failed call's fault struct is wrapped in a
  one-element list like a value (``[[3], [{faultCode...}]]``): the profile's
  ``"all-lists"`` shape reads it as the fault it is;
- an unknown method is fault -32601, ``"server error. method not found.\\n\\n<name>"``;
- ``system.methodSignature`` and ``system.methodHelp`` of a method registered without a
  description answer a response with no ``<param>`` at all: ``()``, as the standard
  library's proxy returns it;
- ``php -S`` serves one request at a time: the tests use ``pool_size=1``.

``php_client.php`` (next to this file) is the extension's client side, against our
example server: its answers are compared with those of the standard library's
``SimpleXMLRPCServer``. By default its requests declare ISO-8859-1 and write each byte of
a UTF-8 string as a character reference, so that ``"\u00e9"`` arrives as ``"\u00c3\u00a9"``
on any server; with ``["encoding" => "utf-8"]`` the text arrives as sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aioxmlrpc import AsyncServerProxy, Fault, MultiCall
from aioxmlrpc._demo import ExampleServer

from peers import run_client
from servers import StdlibExampleServer

SCRIPT = Path(__file__).with_name("php_server.php")
CALL_TIMEOUT = 10.0
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
POLL = 0.05


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _raw_version(url: str) -> Any:
    body = xmlrpc.client.dumps((), "version").encode()
    request = urllib.request.Request(url, body, {"Content-Type": "text/xml"})  # noqa: S310 - http://127.0.0.1 only
    with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
        result, _ = xmlrpc.client.loads(response.read(1 << 20))
    return result[0]


@pytest.fixture(scope="module")
def php(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("php")
    if binary is None:
        pytest.fail("php is not installed (Debian: php8.2-cli, php8.2-xmlrpc)", pytrace=False)
    check = subprocess.run(
        [binary, "-r", 'exit(function_exists("xmlrpc_server_create") ? 0 : 1);'],
        capture_output=True,
        timeout=STOP_TIMEOUT,
        check=False,
    )
    if check.returncode != 0:
        pytest.fail("PHP's xmlrpc extension is missing (Debian: php8.2-xmlrpc)", pytrace=False)
    directory = tmp_path_factory.mktemp("php")
    shutil.copy(SCRIPT, directory / SCRIPT.name)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = directory / "php.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-S", f"127.0.0.1:{port}", SCRIPT.name],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
    try:
        error: BaseException | None = RuntimeError("php did not answer")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                error = RuntimeError(f"php exited with status {proc.returncode}")
                break
            try:
                if _raw_version(url):
                    error = None
                    break
            except (OSError, xmlrpc.client.Error) as exc:
                error = exc
            time.sleep(POLL)
        if error is not None:
            pytest.fail(f"php did not start: {error!r}\n{log.read_text()}", pytrace=False)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
    assert proc.returncode is not None


def _proxy(url: str, **options: Any) -> AsyncServerProxy:
    return AsyncServerProxy(url, timeout=CALL_TIMEOUT, pool_size=1, **options)


async def test_plain_calls(php: str) -> None:
    async with _proxy(php, profile="php-xmlrpc-epi") as proxy:
        assert await proxy.version() == "1.0.0RC3"
        assert await proxy.echo("h\u00e9 <&> \u2603") == "h\u00e9 <&> \u2603"
        assert await proxy.add(1, 2.5) == 3.5
        with pytest.raises(Fault) as info:
            await proxy.fail()
        assert (info.value.faultCode, info.value.faultString) == (42, "failed on purpose")
        with pytest.raises(Fault) as info:
            await proxy.nope()
        assert info.value.faultCode == -32601


async def test_the_profile_multicall_reads_faults_wrapped_in_lists(php: str) -> None:
    async with _proxy(php, profile="php-xmlrpc-epi") as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        multicall.fail()
        multicall.nope()
        multicall.echo([1, {"a": "b"}])
        three, failed, missing, echoed = await multicall(return_exceptions=True)
        assert three == 3
        assert isinstance(failed, Fault)
        assert (failed.faultCode, failed.faultString) == (42, "failed on purpose")
        assert isinstance(missing, Fault)
        assert missing.faultCode == -32601
        assert echoed == [1, {"a": "b"}]
        results = await multicall()
        assert results[0] == 3
        with pytest.raises(Fault, match="failed on purpose"):
            results[1]


async def test_the_raw_shape_the_profile_reads(php: str) -> None:
    async with _proxy(php) as proxy:
        raw = await proxy.system.multiCall(
            [{"methodName": "add", "params": [1, 2]}, {"methodName": "fail", "params": []}]
        )
    assert raw == [[3], [{"faultCode": 42, "faultString": "failed on purpose"}]]


async def test_the_standard_proxy_finds_no_system_multicall(php: str) -> None:
    async with _proxy(php) as proxy:
        multicall = MultiCall(proxy)
        multicall.add(1, 2)
        multicall.fail()
        with pytest.raises(Fault) as info:
            await multicall()
        assert info.value.faultCode == -32601
        assert "system.multicall" in info.value.faultString
        # without the profile, the fault arrives as a value: the standard reading
        raw = await proxy.system.multiCall([{"methodName": "fail", "params": []}])
        assert raw == [[{"faultCode": 42, "faultString": "failed on purpose"}]]
        three, failed = await multicall(fallback=True, return_exceptions=True)
        assert three == 3
        assert isinstance(failed, Fault)


async def test_introspection_without_descriptions(php: str) -> None:
    async with _proxy(php, profile="php-xmlrpc-epi") as proxy:
        methods = await proxy.system.listMethods()
        assert {"system.multiCall", "echo", "add", "fail"} <= set(methods)
        # A response holding no <param>: the empty tuple, as the standard library's proxy
        # returns it.
        assert await proxy.system.methodSignature("add") == ()
        assert await proxy.system.methodHelp("add") == ()
        assert await proxy.add(1, 1) == 2
    with xmlrpc.client.ServerProxy(php) as stdlib:
        assert await asyncio.to_thread(stdlib.system.methodSignature, "add") == ()


# -- PHP's client, our server ------------------------------------------------------------------

CLIENT_SCRIPT = Path(__file__).with_name("php_client.php")
CLIENT_TIMEOUT = 60.0  # seconds for php_client.php to make all its calls
# Where our server answers differently from the standard library's, on purpose.
DIFFERENT = {"unknown", "bad_params"}


def _run_client(url: str) -> dict[str, dict[str, Any]]:
    binary = shutil.which("php")
    assert binary is not None, "php is missing (.ci/test installs php8.2-cli, php8.2-xmlrpc)"
    return run_client([binary, str(CLIENT_SCRIPT), url], CLIENT_TIMEOUT)


def test_php_client_gets_what_the_stdlib_server_answers(
    example_server: ExampleServer, stdlib_example_server: StdlibExampleServer
) -> None:
    ours = _run_client(example_server.url)
    theirs = _run_client(stdlib_example_server.url)
    assert list(ours) == list(theirs)
    assert len(ours) == 16
    for name in ours.keys() - DIFFERENT:
        assert ours[name] == theirs[name], name
    assert "error" not in json.dumps(ours)

    tricky = "h\u00e9llo & <tags> ]]> \u2603"
    assert ours["string_utf8"]["value"] == [tricky, "<class 'str'>", tricky]
    as_latin1 = tricky.encode().decode("latin-1")  # each UTF-8 byte a character reference
    assert ours["string"]["value"][2] == as_latin1
    assert ours["base64"]["value"] == {"base64": "AAFiaW4="}
    assert ours["datetime"]["value"][:2] == [
        "20240229T12:34:56",
        "<class 'xmlrpc.client.DateTime'>",
    ]
    assert ours["fault"]["fault"] == [1, "<class 'RuntimeError'>:A message"]
    assert ours["multicall"]["value"][2] == {
        "faultCode": 1,
        "faultString": "<class 'RuntimeError'>:Next to last call stops execution",
    }


def test_php_client_sees_our_deliberate_differences(example_server: ExampleServer) -> None:
    ours = _run_client(example_server.url)
    assert ours["unknown"]["fault"] == [-32601, 'method "no.such.method" is not supported']
    code, text = ours["bad_params"]["fault"]
    assert code == -32602
    assert "takes 1 positional argument but 3 were given" in text
