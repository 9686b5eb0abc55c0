"""AsyncServerProxy against a real aria2c (Debian's aria2, 1.36), a C++ XML-RPC server.

The module's fixture starts ``aria2c --enable-rpc`` on a free port of 127.0.0.1 with a
random ``--rpc-secret`` (no shell, files in a pytest temporary directory), waits until a
plain stdlib request answers ``aria2.getVersion``, and stops it by its PID at the end,
checking that it is gone. An aria2c that is missing or does not come up fails the
fixture with its log (it is never skipped).

What aria2 does on the wire, as these tests pin it:

- the endpoint is ``/rpc`` (``/RPC2`` is a 404; ``/jsonrpc`` answers XML with a 500);
- replies are gzip-compressed whenever the client accepts gzip (aioxmlrpc does);
- every method but ``system.*`` takes the secret as its first parameter,
  ``"token:<secret>"``; parameter positions in its messages are counted after it;
- every fault has code 1: ``Unauthorized``, ``No such method: <name>``,
  ``GID <gid> is not found``, ``Invalid GID <gid>``...;
- numbers in structs are strings (``"numActive": "0"``), as are booleans (``"true"``);
- ``system.multicall`` answers in the standard shape: ``[value]`` per success, a
  ``{faultCode, faultString}`` struct per failure; it checks each call's token, not its own.

No download ever leaves the machine: the only URIs given to aria2 point at a closed port
of 127.0.0.1, and most downloads are added paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import aioxmlrpc
from aioxmlrpc import AsyncServerProxy, Fault, MultiCall

CALL_TIMEOUT = 10.0  # seconds for any one call of a test
START_TIMEOUT = 20.0  # seconds for aria2c to answer getVersion
STOP_TIMEOUT = 10.0
POLL = 0.05
RAW_TIMEOUT = 2.0  # seconds for one stdlib readiness request
RAW_MAX_BYTES = 1 << 20

GID = re.compile(r"[0-9a-f]{16}")


# -- helpers (stdlib only: they check aria2 independently of aioxmlrpc) ---------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens (checked: a connection is refused)."""
    for _ in range(20):
        port = _free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(RAW_TIMEOUT)
            try:
                sock.connect(("127.0.0.1", port))
            except ConnectionRefusedError:
                return port
    raise AssertionError("no closed port found on 127.0.0.1")


def _raw_call(port: int, method: str, params: tuple[Any, ...] = ()) -> Any:
    """Call ``method`` once with http.client (its own connection, closed after)."""
    body = xmlrpc.client.dumps(params, method).encode("utf-8")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=RAW_TIMEOUT)
    try:
        conn.request("POST", "/rpc", body, {"Content-Type": "text/xml", "Connection": "close"})
        response = conn.getresponse()
        data = response.read(RAW_MAX_BYTES)
        status = response.status
    finally:
        conn.close()
    if status != 200:
        raise ConnectionError(f"{method}: HTTP status {status}")
    # aria2 is trusted here: our own child process on 127.0.0.1.
    result, _ = xmlrpc.client.loads(data)
    return result[0]


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _logs(directory: Path) -> str:
    parts = []
    for name in ("aria2.out", "aria2.log"):
        path = directory / name
        text = path.read_text(errors="replace") if path.exists() else "(missing)"
        parts.append(f"--- {name} ---\n{text}")
    return "\n".join(parts)


def _stop(proc: subprocess.Popen[bytes]) -> list[str]:
    """Stop aria2c by its PID: SIGTERM, then SIGKILL; return what had to be forced."""
    problems = []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            problems.append(f"aria2c {proc.pid} ignored SIGTERM for {STOP_TIMEOUT:g} s; killed")
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
    return problems


@dataclass(frozen=True)
class Aria2:
    """Where the aria2c of the module listens, and its secret."""

    url: str
    secret: str
    directory: Path
    version_line: str  # the first line of ``aria2c --version``

    @property
    def token(self) -> str:
        """The first parameter of every ``aria2.*`` call."""
        return f"token:{self.secret}"


@pytest.fixture(scope="module")
def aria2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aria2]:
    """An aria2c with XML-RPC on 127.0.0.1 only, a random secret and no config file."""
    binary = shutil.which("aria2c")
    if binary is None:
        pytest.fail(
            "aria2c is not installed: install the Debian package 'aria2' (.ci/test does)",
            pytrace=False,
        )
    version = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=STOP_TIMEOUT, check=True
    )
    directory = tmp_path_factory.mktemp("aria2")
    port = _free_port()
    secret = secrets.token_hex(16)
    command = [
        binary,
        "--enable-rpc",
        "--rpc-listen-all=false",
        f"--rpc-listen-port={port}",
        f"--rpc-secret={secret}",
        f"--dir={directory}",
        "--no-conf",
        "--quiet=true",
        f"--log={directory / 'aria2.log'}",
        "--log-level=warn",
    ]
    with (directory / "aria2.out").open("wb") as out:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=directory
        )
    try:
        error: BaseException | None = RuntimeError("aria2c did not answer")
        deadline = time.monotonic() + START_TIMEOUT
        for _ in range(int(START_TIMEOUT / POLL) + 1):
            if proc.poll() is not None:
                error = RuntimeError(f"aria2c exited with status {proc.returncode}")
                break
            try:
                answer = _raw_call(port, "aria2.getVersion", (f"token:{secret}",))
                if isinstance(answer, dict) and "version" in answer:
                    error = None
                    break
                error = RuntimeError(f"unexpected getVersion answer {answer!r}")
            except (OSError, ValueError, xmlrpc.client.Error) as exc:
                error = exc
            if time.monotonic() > deadline:
                break
            time.sleep(POLL)
        if error is not None:
            _stop(proc)
            pytest.fail(
                f"aria2c did not start (waited at most {START_TIMEOUT:g} s): {error!r}\n"
                f"{_logs(directory)}",
                pytrace=False,
            )
        yield Aria2(
            f"http://127.0.0.1:{port}/rpc",
            secret,
            directory,
            version.stdout.splitlines()[0],
        )
    finally:
        problems = _stop(proc)
    assert proc.returncode is not None
    assert not problems, f"{problems}\n{_logs(directory)}"
    assert not _alive(proc.pid)


def _proxy(server: Aria2, **options: Any) -> AsyncServerProxy:
    return AsyncServerProxy(server.url, timeout=CALL_TIMEOUT, use_builtin_types=True, **options)


async def _wait_status(
    proxy: AsyncServerProxy, token: str, gid: str, done: set[str]
) -> dict[str, Any] | Fault:
    """Poll tellStatus (at most ~10 s) until its status is in ``done`` or it faults."""
    status: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    for _ in range(200):
        try:
            status = await proxy.aria2.tellStatus(token, gid, ["gid", "status", "errorCode"])
        except Fault as fault:
            return fault
        if status["status"] in done or time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL)
    return status


# -- plain calls ------------------------------------------------------------------------------


async def test_get_version(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        info = await proxy.aria2.getVersion(aria2.token)
    assert isinstance(info, dict)
    assert sorted(info) == ["enabledFeatures", "version"]
    assert re.fullmatch(r"1\.\d+\.\d+", info["version"]), info
    assert aria2.version_line == f"aria2 version {info['version']}"
    features = info["enabledFeatures"]
    assert isinstance(features, list)
    assert all(isinstance(feature, str) for feature in features)
    assert "XML-RPC" in features  # what we are talking to it with


async def test_a_wrong_token_is_a_fault_and_the_proxy_stays_usable(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        for bad in ("token:wrong", aria2.secret, ""):  # wrong, without "token:", empty
            with pytest.raises(aioxmlrpc.Fault) as info:
                await proxy.aria2.getVersion(bad)
            assert isinstance(info.value, xmlrpc.client.Fault)
            assert info.value.faultCode == 1
            assert info.value.faultString == "Unauthorized"
        with pytest.raises(Fault, match="Unauthorized"):
            await proxy.aria2.getVersion()  # no token at all
        info_ok = await proxy.aria2.getVersion(aria2.token)
        assert "version" in info_ok


async def test_an_unknown_method_is_a_fault(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        with pytest.raises(Fault) as info:
            await proxy.aria2.noSuchMethod(aria2.token)
        assert info.value.faultCode == 1  # aria2 has one fault code for everything
        assert info.value.faultString == "No such method: aria2.noSuchMethod"
        with pytest.raises(Fault) as info:
            await proxy.aria2.tellStatus(aria2.token, "not-a-gid")
        assert (info.value.faultCode, info.value.faultString) == (1, "Invalid GID not-a-gid")
        with pytest.raises(Fault) as info:
            await proxy.aria2.addUri(aria2.token, "not a list")
        # positions are counted after the token
        assert info.value.faultString == "The parameter at 0 has wrong type."


async def test_wrong_paths_are_http_errors(aria2: Aria2) -> None:
    base = aria2.url.removesuffix("/rpc")
    async with AsyncServerProxy(f"{base}/RPC2", timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(aioxmlrpc.ProtocolError) as info:
            await proxy.aria2.getVersion(aria2.token)
    assert info.value.errcode == 404
    assert info.value.url == f"{base}/RPC2"
    async with AsyncServerProxy(f"{base}/jsonrpc", timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(aioxmlrpc.ProtocolError) as info:
            await proxy.aria2.getVersion(aria2.token)
    assert info.value.errcode == 500  # the JSON-RPC endpoint cannot read XML


async def test_introspection_needs_no_token(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        methods = await proxy.system.listMethods()
        notifications = await proxy.system.listNotifications()
    assert isinstance(methods, list)
    assert "aria2.addUri" in methods
    assert "system.multicall" in methods
    assert all(isinstance(name, str) for name in methods)
    assert "aria2.onDownloadComplete" in notifications


async def test_global_stat(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        stat = await proxy.aria2.getGlobalStat(aria2.token)
    assert isinstance(stat, dict)
    assert {"downloadSpeed", "uploadSpeed", "numActive", "numWaiting", "numStopped"} <= set(stat)
    # aria2 sends its numbers as strings
    assert all(isinstance(value, str) and value.isdigit() for value in stat.values()), stat


async def test_tell_active_is_a_list(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        active = await proxy.aria2.tellActive(aria2.token)
        waiting = await proxy.aria2.tellWaiting(aria2.token, 0, 100)
    assert active == []  # every test removes what it adds, and adds nothing that runs
    assert isinstance(waiting, list)


async def test_global_option_and_session(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        options = await proxy.aria2.getGlobalOption(aria2.token)
        session = await proxy.aria2.getSessionInfo(aria2.token)
    assert options["dir"] == str(aria2.directory)
    assert options["rpc-listen-all"] == "false"
    assert all(isinstance(value, str) for value in options.values())
    assert re.fullmatch(r"[0-9a-f]{40}", session["sessionId"]), session


async def test_base64_parameters(aria2: Aria2) -> None:
    # addTorrent/addMetalink take <base64>: bytes (and Binary) are sent as such. Invalid
    # contents, so nothing is started (a real torrent would open listening ports).
    async with _proxy(aria2) as proxy:
        with pytest.raises(Fault) as info:
            await proxy.aria2.addTorrent(aria2.token, b"not a torrent")
        assert (info.value.faultCode, info.value.faultString) == (1, "Bencode decoding failed")
        with pytest.raises(Fault) as info:
            await proxy.aria2.addTorrent(aria2.token, xmlrpc.client.Binary(b"d4:infod4:name1:xee"))
        assert info.value.faultString == "Missing pieces in torrent metainfo."
        with pytest.raises(Fault) as info:
            await proxy.aria2.addMetalink(aria2.token, b"<not metalink")
        assert info.value.faultString == "Could not parse Metalink XML document."


# -- downloads (loopback only) -----------------------------------------------------------------


async def test_add_uri_then_remove(aria2: Aria2, tmp_path: Path) -> None:
    uri = f"http://127.0.0.1:{_closed_port()}/never"
    async with _proxy(aria2) as proxy:
        gid = await proxy.aria2.addUri(
            aria2.token, [uri], {"dir": str(tmp_path), "pause": "true", "max-tries": "2"}
        )
        assert isinstance(gid, str)
        assert GID.fullmatch(gid), gid
        status = await proxy.aria2.tellStatus(aria2.token, gid)
        assert status["gid"] == gid
        assert status["status"] == "paused"
        assert status["dir"] == str(tmp_path)
        assert status["files"][0]["uris"] == [{"status": "waiting", "uri": uri}]
        options = await proxy.aria2.getOption(aria2.token, gid)
        assert options["dir"] == str(tmp_path)
        assert options["max-tries"] == "2"
        assert all(isinstance(value, str) for value in options.values())
        waiting = await proxy.aria2.tellWaiting(aria2.token, 0, 100, ["gid", "status"])
        assert {"gid": gid, "status": "paused"} in waiting

        assert await proxy.aria2.remove(aria2.token, gid) == gid
        # a paused download that never started leaves no result behind
        gone = await _wait_status(proxy, aria2.token, gid, {"removed"})
        if isinstance(gone, Fault):
            assert (gone.faultCode, gone.faultString) == (1, f"GID {gid} is not found")
        else:
            assert gone["status"] == "removed"
        with pytest.raises(Fault) as info:
            await proxy.aria2.remove(aria2.token, gid)
        assert info.value.faultCode == 1
    assert await asyncio.to_thread(os.listdir, tmp_path) == []  # nothing was written


async def test_add_uri_then_force_remove(aria2: Aria2, tmp_path: Path) -> None:
    uri = f"http://127.0.0.1:{_closed_port()}/never"
    async with _proxy(aria2) as proxy:
        gid = await proxy.aria2.addUri(aria2.token, [uri], {"dir": str(tmp_path), "pause": "true"})
        assert GID.fullmatch(gid), gid
        assert (await proxy.aria2.getOption(aria2.token, gid))["dir"] == str(tmp_path)
        assert await proxy.aria2.forceRemove(aria2.token, gid) == gid
        gone = await _wait_status(proxy, aria2.token, gid, {"removed"})
        if isinstance(gone, Fault):
            assert gone.faultString == f"GID {gid} is not found"
        else:
            assert gone["status"] == "removed"
    assert await asyncio.to_thread(os.listdir, tmp_path) == []  # nothing was written


async def test_a_download_from_a_closed_port_fails(aria2: Aria2, tmp_path: Path) -> None:
    # aria2 really connects here: to a port of 127.0.0.1 where nothing listens.
    uri = f"http://127.0.0.1:{_closed_port()}/never"
    async with _proxy(aria2) as proxy:
        gid = await proxy.aria2.addUri(
            aria2.token, [uri], {"dir": str(tmp_path), "max-tries": "1", "retry-wait": "0"}
        )
        status = await _wait_status(proxy, aria2.token, gid, {"error", "complete", "removed"})
        assert isinstance(status, dict), status
        assert status["status"] == "error"
        assert status["errorCode"] == "1"  # aria2's "unknown error": connection refused
        full = await proxy.aria2.tellStatus(aria2.token, gid, ["errorMessage"])
        assert "Connection refused" in full["errorMessage"]
        with pytest.raises(Fault) as info:
            await proxy.aria2.remove(aria2.token, gid)  # no longer active
        assert info.value.faultString == f"Active Download not found for GID#{gid}"
        assert await proxy.aria2.removeDownloadResult(aria2.token, gid) == "OK"
        with pytest.raises(Fault, match="is not found"):
            await proxy.aria2.tellStatus(aria2.token, gid)


# -- multicall --------------------------------------------------------------------------------


async def test_multicall_with_return_exceptions(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        multicall = MultiCall(proxy)
        multicall.aria2.getVersion(aria2.token)
        multicall.aria2.getGlobalStat(aria2.token)
        multicall.aria2.getVersion("token:wrong")
        version, stat, fault = await multicall(return_exceptions=True)
    assert re.fullmatch(r"1\.\d+\.\d+", version["version"])
    assert "numActive" in stat
    assert isinstance(fault, aioxmlrpc.Fault)
    assert (fault.faultCode, fault.faultString) == (1, "Unauthorized")


async def test_multicall_iteration_raises_at_the_fault(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        multicall = MultiCall(proxy)
        multicall.aria2.getVersion(aria2.token)
        multicall.aria2.getGlobalStat(aria2.token)
        multicall.aria2.getVersion("token:wrong")
        results = await multicall()
    assert len(results) == 3
    iterator = iter(results)
    version, stat = next(iterator), next(iterator)  # the results before the fault
    assert "version" in version
    assert "numActive" in stat
    with pytest.raises(Fault) as info:
        next(iterator)
    assert (info.value.faultCode, info.value.faultString) == (1, "Unauthorized")
    assert results[0] == version
    with pytest.raises(Fault, match="Unauthorized"):
        results[2]
    with pytest.raises(Fault, match="Unauthorized"):
        list(results)


async def test_system_multicall_directly(aria2: Aria2) -> None:
    # aria2 wraps each result in a one-element list, as the multicall convention says, and
    # checks the token of each call (system.multicall itself takes none).
    calls = [
        {"methodName": "aria2.getVersion", "params": [aria2.token]},
        {"methodName": "aria2.getVersion", "params": ["token:wrong"]},
        {"methodName": "system.multicall", "params": [[]]},
        {"methodName": "aria2.getGlobalStat"},
    ]
    async with _proxy(aria2) as proxy:
        results = await proxy.system.multicall(calls)
        version = await proxy.aria2.getVersion(aria2.token)
        assert await proxy.system.multicall([]) == []
        with pytest.raises(Fault) as info:
            await proxy.system.multicall("not a list")
        assert info.value.faultString == "The parameter at 0 has wrong type."
    assert results == [
        [version],
        {"faultCode": 1, "faultString": "Unauthorized"},
        {"faultCode": 1, "faultString": "Recursive system.multicall forbidden."},
        {"faultCode": 1, "faultString": "Unauthorized"},
    ]
    # the stdlib reads the same reply the same way
    port = int(aria2.url.rsplit(":", 1)[1].split("/")[0])
    stdlib = await asyncio.to_thread(_raw_call, port, "system.multicall", (calls,))
    assert results == stdlib


async def test_multicall_chunked(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        multicall = MultiCall(proxy)
        for index in range(25):
            multicall.aria2.getVersion(aria2.token if index % 5 else "token:wrong")
        whole = await multicall(return_exceptions=True)
        chunked = await multicall(return_exceptions=True, chunk_size=4, max_concurrency=3)
    assert len(whole) == len(chunked) == 25
    for index, (one, other) in enumerate(zip(whole, chunked, strict=True)):
        if index % 5:
            assert one == other
            assert "version" in one
        else:
            assert isinstance(one, Fault)
            assert isinstance(other, Fault)
            assert one.faultString == other.faultString == "Unauthorized"


# -- concurrency and verbose output ---------------------------------------------------------


async def test_many_concurrent_calls(aria2: Aria2) -> None:
    async with _proxy(aria2) as proxy:
        results = await asyncio.gather(*(proxy.aria2.getVersion(aria2.token) for _ in range(100)))
    assert len(results) == 100
    assert all(result == results[0] for result in results)
    assert "version" in results[0]


async def test_verbose_shows_the_exchange_and_the_token(
    aria2: Aria2, capsys: pytest.CaptureFixture[str]
) -> None:
    async with _proxy(aria2, verbose=True) as proxy:
        await proxy.aria2.getVersion(aria2.token)
    out = capsys.readouterr().out
    assert "send: b'POST /rpc HTTP/1.1\\r\\n" in out
    assert "<methodName>aria2.getVersion</methodName>" in out
    assert "reply: 'HTTP/1.1 200 OK\\r\\n'" in out
    assert "header: Content-Encoding: gzip" in out  # aria2 compresses for us
    assert "<name>enabledFeatures</name>" in out  # the body is shown decompressed
    # A secret passed as a call parameter, as aria2's token is, is printed like any value
    # unless it is registered with secrets= (the next test).
    assert f"<string>{aria2.token}</string>" in out


async def test_a_registered_token_never_shows(
    aria2: Aria2, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioxmlrpc")
    async with _proxy(aria2, verbose=True, secrets=[aria2.token]) as proxy:
        info = await proxy.aria2.getVersion(aria2.token)
        with pytest.raises(Fault, match="Unauthorized"):
            await proxy.aria2.getVersion("token:wrong")
        multicall = MultiCall(proxy)
        multicall.aria2.getVersion(aria2.token)
        assert list(await multicall()) == [info]
    out = capsys.readouterr().out
    assert "<string>***</string>" in out
    assert "<methodName>aria2.getVersion</methodName>" in out
    assert aria2.secret not in out
    assert aria2.secret not in caplog.text
    assert "<string>***</string>" in caplog.text
