"""AsyncServerProxy against a real rTorrent (Debian's rtorrent 0.9.8, xmlrpc-c inside), over SCGI.

Two module fixtures start ``rtorrent -n -o import=<rc>`` headless (``system.daemon.set =
true``), one listening on a TCP port of 127.0.0.1 (``network.scgi.open_port``), one on a
unix socket (``network.scgi.open_local``), with their session directory in a pytest
temporary directory, no DHT, no peer exchange, and no torrent ever loaded: nothing leaves
the machine. Each waits until a plain stdlib SCGI request answers
``system.client_version``, and is stopped by its PID at the end, checking that it is
gone. A missing or silent rtorrent fails the fixture with its log (never skipped).

What rTorrent does on the wire, as these tests pin it:

- one request per connection; the reply head is CGI's ``Status: 200 OK``,
  ``Content-Type: text/xml`` and ``Content-Length``, lines ending in CRLF;
- most commands take a *target* first (``""`` for none): ``cat("", 1, "x")``;
- it reads and writes 64-bit integers as ``<i8>`` (hence the profile's ``allow_i8``);
- faults: -506 for an unknown method, -503 for a wrong argument type;
- ``system.multicall`` answers in the standard shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aioxmlrpc import (
    AsyncServerProxy,
    Fault,
    MultiCall,
    ResponseTooLarge,
    SCGITransport,
)
from aioxmlrpc.profiles import RTORRENT

CALL_TIMEOUT = 10.0
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
POLL = 0.05
RAW_TIMEOUT = 2.0


@dataclass(frozen=True)
class RTorrent:
    """Where one rtorrent listens, and its directory."""

    url: str
    directory: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _raw_call(address: tuple[str, int] | str, method: str) -> Any:
    """One SCGI call with the stdlib only (checks rTorrent independently of aioxmlrpc)."""
    body = xmlrpc.client.dumps((), method).encode()
    headers = b"CONTENT_LENGTH\x00%d\x00SCGI\x001\x00" % len(body)
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(RAW_TIMEOUT)
        sock.connect(address)
        sock.sendall(b"%d:%s,%s" % (len(headers), headers, body))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    reply = b"".join(chunks)
    _, _, document = reply.partition(b"\r\n\r\n")
    # rtorrent is trusted here: our own child process.
    result, _ = xmlrpc.client.loads(document)
    return result[0]


def _stop(proc: subprocess.Popen[bytes]) -> list[str]:
    problems = []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            problems.append(f"rtorrent {proc.pid} ignored SIGTERM for {STOP_TIMEOUT:g} s; killed")
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
    return problems


@contextlib.contextmanager
def _rtorrent(directory: Path, listen: str, address: tuple[str, int] | str) -> Iterator[None]:
    binary = shutil.which("rtorrent")
    if binary is None:
        pytest.fail(
            "rtorrent is not installed: install the Debian package 'rtorrent' (.ci/test does)",
            pytrace=False,
        )
    session = directory / "session"
    session.mkdir()
    rc = directory / "rtorrent.rc"
    rc.write_text(
        "system.daemon.set = true\n"
        f"session.path.set = {session}\n"
        f"directory.default.set = {directory}\n"
        f"{listen}\n"
        "network.port_range.set = 49152-49160\n"
        "network.port_open.set = no\n"
        "dht.mode.set = disable\n"
        "protocol.pex.set = no\n"
        "trackers.use_udp.set = no\n"
    )
    log = directory / "rtorrent.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-n", "-o", f"import={rc}"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
    try:
        error: BaseException | None = RuntimeError("rtorrent did not answer")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                error = RuntimeError(f"rtorrent exited with status {proc.returncode}")
                break
            try:
                if _raw_call(address, "system.client_version") == "0.9.8":
                    error = None
                    break
            except (OSError, ValueError, xmlrpc.client.Error) as exc:
                error = exc
            time.sleep(POLL)
        if error is not None:
            _stop(proc)
            pytest.fail(
                f"rtorrent did not start: {error!r}\n{log.read_text(errors='replace')}",
                pytrace=False,
            )
        yield
    finally:
        problems = _stop(proc)
    assert not problems, problems
    assert proc.returncode is not None


@pytest.fixture(scope="module")
def rtorrent_tcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RTorrent]:
    directory = tmp_path_factory.mktemp("rtorrent_tcp")
    port = _free_port()
    listen = f"network.scgi.open_port = 127.0.0.1:{port}"
    with _rtorrent(directory, listen, ("127.0.0.1", port)):
        yield RTorrent(f"scgi://127.0.0.1:{port}/", directory)


@pytest.fixture(scope="module")
def rtorrent_unix() -> Iterator[RTorrent]:
    # Not tmp_path_factory: a unix socket path must stay under ~100 bytes.
    with tempfile.TemporaryDirectory(prefix="rt") as name:
        directory = Path(name)
        sock = directory / "rpc.sock"
        with _rtorrent(directory, f"network.scgi.open_local = {sock}", str(sock)):
            yield RTorrent(f"scgi+unix://{sock}", directory)


def _proxy(server: RTorrent, **options: Any) -> AsyncServerProxy:
    return AsyncServerProxy(server.url, profile="rtorrent", timeout=CALL_TIMEOUT, **options)


async def test_client_version_over_tcp(rtorrent_tcp: RTorrent) -> None:
    async with _proxy(rtorrent_tcp) as rt:
        assert isinstance(rt("transport"), SCGITransport)
        assert await rt.system.client_version() == "0.9.8"
        assert await rt.system.library_version() == "0.13.8"


async def test_client_version_over_a_unix_socket(rtorrent_unix: RTorrent) -> None:
    async with _proxy(rtorrent_unix) as rt:
        assert await rt.system.client_version() == "0.9.8"
        assert await rt.session.path() == f"{rtorrent_unix.directory}/session/"


async def test_introspection_and_an_empty_view(rtorrent_tcp: RTorrent) -> None:
    async with _proxy(rtorrent_tcp) as rt:
        methods = await rt.system.listMethods()
        assert {"d.multicall2", "system.multicall", "cat"} <= set(methods)
        assert await rt.d.multicall2("", "main", "d.hash=", "d.name=") == []
        assert await rt.directory.default() == str(rtorrent_tcp.directory)


async def test_the_profile_sends_64_bit_integers(rtorrent_tcp: RTorrent) -> None:
    async with _proxy(rtorrent_tcp) as rt:
        assert await rt.cat("", 2**40, "x") == "1099511627776x"
        now = await rt.system.time()
        assert isinstance(now, int)
        assert abs(now - time.time()) < 60
    async with AsyncServerProxy(rtorrent_tcp.url, timeout=CALL_TIMEOUT) as generic:
        with pytest.raises(OverflowError):
            await generic.cat("", 2**40)  # the standard proxy sends no <i8>
        assert await generic.cat("", 2**20) == "1048576"
    assert RTORRENT.allow_i8


async def test_faults_leave_the_proxy_usable(rtorrent_unix: RTorrent) -> None:
    async with _proxy(rtorrent_unix) as rt:
        with pytest.raises(Fault) as info:
            await rt.no.such.method()
        assert (info.value.faultCode, info.value.faultString) == (
            -506,
            "Method 'no.such.method' not defined",
        )
        with pytest.raises(Fault) as info:
            await rt.to_kb("", 2**40)
        assert info.value.faultCode == -503
        assert await rt.system.client_version() == "0.9.8"


async def test_multicall(rtorrent_tcp: RTorrent) -> None:
    async with _proxy(rtorrent_tcp) as rt:
        multicall = MultiCall(rt)
        multicall.system.client_version()
        multicall.cat("", "a", 1)
        multicall.nope()
        version, text, fault = await multicall(return_exceptions=True)
    assert (version, text) == ("0.9.8", "a1")
    assert isinstance(fault, Fault)
    assert fault.faultCode == -506


async def test_concurrent_calls_each_on_its_connection(rtorrent_unix: RTorrent) -> None:
    async with _proxy(rtorrent_unix, pool_size=4) as rt:
        results = await asyncio.gather(*(rt.cat("", i) for i in range(30)))
    assert results == [str(i) for i in range(30)]


async def test_a_reply_over_the_limit_is_refused(rtorrent_tcp: RTorrent) -> None:
    async with _proxy(rtorrent_tcp, max_response_size=4096) as rt:
        with pytest.raises(ResponseTooLarge, match="declares"):
            await rt.system.listMethods()  # about 30 KB
        assert await rt.system.client_version() == "0.9.8"


async def test_verbose_output(rtorrent_tcp: RTorrent, capsys: pytest.CaptureFixture[str]) -> None:
    async with _proxy(rtorrent_tcp, verbose=True) as rt:
        await rt.system.client_version()
    out = capsys.readouterr().out
    assert "send: b'" in out
    assert "SCGI\\x001\\x00" in out
    assert "reply: b'Status: 200 OK\\r\\nContent-Type: text/xml\\r\\nContent-Length:" in out
    assert "<string>0.9.8</string>" in out
