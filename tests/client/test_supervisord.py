"""AsyncServerProxy against a real supervisord: over its unix socket and on 127.0.0.1.

Each fixture writes a supervisord config into a pytest temporary directory, starts
``python -m supervisor.supervisord`` there (no shell) with two long-lived programs, waits
until a plain stdlib request answers ``supervisor.getState``, and stops it by its PID at
the end, checking that neither supervisord nor its programs are left running. A
supervisord that does not come up fails the fixture with its log (it is never skipped).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.metadata
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import aioxmlrpc
from aioxmlrpc import AsyncServerProxy, Fault, MultiCall

PROGRAMS = ("sleeper", "sleeper_once")  # the second has autorestart=false
STATE_RUNNING = {"statecode": 1, "statename": "RUNNING"}
USERNAME = "alice"
PASSWORD = "s3cr%t"  # noqa: S105 (a test secret) with a character that must be percent-encoded in a URL
WRONG_PASSWORD = "wr0ng%pw"  # noqa: S105
CALL_TIMEOUT = 10.0  # seconds for any one call of a test

START_TIMEOUT = 20.0  # seconds for supervisord to answer getState
POLL = 0.05
STOP_TIMEOUT = 10.0
RAW_TIMEOUT = 2.0  # seconds for one stdlib readiness request

Address = str | tuple[str, int]


# -- helpers (stdlib only: they check supervisord independently of aioxmlrpc) -----------


def _raw_call(
    address: Address,
    method: str,
    auth: tuple[str, str] | None = None,
    params: tuple[Any, ...] = (),
) -> Any:
    """Call ``method`` once over a plain socket (HTTP/1.0, no keep-alive)."""
    body = xmlrpc.client.dumps(params, method).encode("utf-8")
    head = [
        "POST /RPC2 HTTP/1.0",
        "Host: localhost",
        "Content-Type: text/xml",
        f"Content-Length: {len(body)}",
    ]
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        head.append(f"Authorization: Basic {token}")
    request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    deadline = time.monotonic() + RAW_TIMEOUT
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(RAW_TIMEOUT)
        sock.connect(address)
        sock.sendall(request)
        chunks: list[bytes] = []
        for _ in range(10_000):  # the server closes after an HTTP/1.0 reply
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} took more than {RAW_TIMEOUT} s")
    reply = b"".join(chunks)
    status, _, rest = reply.partition(b"\r\n")
    if b" 200 " not in status:
        raise ConnectionError(f"{method}: HTTP status {status!r}")
    _, _, payload = rest.partition(b"\r\n\r\n")
    # supervisord is trusted here: our own child process on a private socket.
    params, _ = xmlrpc.client.loads(payload.decode("utf-8"))
    return params[0]


def _child_pids(address: Address, auth: tuple[str, str] | None) -> list[int]:
    """The PIDs of supervisord's programs, once none is STARTING (best effort, bounded).

    A program SIGTERMed while supervisord has just forked it, before it exec'd, still has
    supervisord's handler for the signal, ignores it, and is only killed after its
    stopwaitsecs: waiting out STARTING keeps the teardown fast.
    """
    infos: list[dict[str, Any]] = []
    deadline = time.monotonic() + 5
    for _ in range(100):
        try:
            infos = _raw_call(address, "supervisor.getAllProcessInfo", auth)
        except (OSError, ValueError, xmlrpc.client.Error):
            break
        if all(info["statename"] != "STARTING" for info in infos):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(POLL)
    return [int(info["pid"]) for info in infos if info["pid"]]


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


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    """Wait (bounded) for ``pids`` to end; return those still running."""
    deadline = time.monotonic() + seconds
    left = [pid for pid in pids if _alive(pid)]
    for _ in range(int(seconds / POLL) + 1):
        if not left or time.monotonic() > deadline:
            break
        time.sleep(POLL)
        left = [pid for pid in left if _alive(pid)]
    return left


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _conf_value(text: str) -> str:
    return text.replace("%", "%%")  # supervisord expands %(name)s in its values


def _write_config(directory: Path, server_section: str) -> Path:
    sleep = shlex.join([sys.executable, "-c", "import time; time.sleep(3600)"])
    programs = []
    for name in PROGRAMS:
        programs.append(
            f"[program:{name}]\n"
            f"command={_conf_value(sleep)}\n"
            f"directory={_conf_value(str(directory))}\n"
            "autostart=true\n"
            f"autorestart={'false' if name == 'sleeper_once' else 'true'}\n"
            "startsecs=1\n"
            "stopwaitsecs=5\n"
            "stopsignal=TERM\n"
        )
    conf = directory / "supervisord.conf"
    conf.write_text(
        f"{server_section}\n"
        "[supervisord]\n"
        "nodaemon=true\n"
        f"logfile={_conf_value(str(directory / 'supervisord.log'))}\n"
        f"pidfile={_conf_value(str(directory / 'supervisord.pid'))}\n"
        f"childlogdir={_conf_value(str(directory))}\n"
        f"directory={_conf_value(str(directory))}\n"
        "loglevel=warn\n"
        "\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        "\n" + "\n".join(programs)
    )
    return conf


def _logs(directory: Path) -> str:
    parts = []
    for name in ("supervisord.out", "supervisord.log"):
        path = directory / name
        text = path.read_text(errors="replace") if path.exists() else "(missing)"
        parts.append(f"--- {name} ---\n{text}")
    return "\n".join(parts)


def _stop(proc: subprocess.Popen[bytes], children: list[int]) -> list[str]:
    """Stop supervisord by its PID (children too); return what had to be forced."""
    problems = []
    if proc.poll() is None:
        proc.terminate()  # supervisord stops its programs on SIGTERM, then exits
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            problems.append(f"supervisord {proc.pid} ignored SIGTERM; killed")
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
    left = _wait_gone(children, STOP_TIMEOUT)
    for pid in left:
        problems.append(f"program {pid} outlived supervisord; killed")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if _wait_gone(left, STOP_TIMEOUT):
        problems.append("programs still running after SIGKILL")
    return problems


@contextlib.contextmanager
def _supervisord(
    directory: Path, server_section: str, address: Address, auth: tuple[str, str] | None
) -> Iterator[None]:
    conf = _write_config(directory, server_section)
    with (directory / "supervisord.out").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
    children: list[int] = []
    try:
        error: BaseException | None = None
        deadline = time.monotonic() + START_TIMEOUT
        for _ in range(int(START_TIMEOUT / POLL) + 1):
            if proc.poll() is not None:
                error = RuntimeError(f"supervisord exited with status {proc.returncode}")
                break
            try:
                if _raw_call(address, "supervisor.getState", auth) == STATE_RUNNING:
                    error = None
                    break
                error = RuntimeError("supervisord is not RUNNING yet")
            except (OSError, ValueError, xmlrpc.client.Error) as exc:
                error = exc
            if time.monotonic() > deadline:
                break
            time.sleep(POLL)
        else:
            error = error or RuntimeError("supervisord did not answer")
        if error is not None:
            children = _child_pids(address, auth)
            _stop(proc, children)
            pytest.fail(
                f"supervisord did not start (waited at most {START_TIMEOUT:g} s): {error!r}\n"
                f"{_logs(directory)}",
                pytrace=False,
            )
        yield
        children = _child_pids(address, auth)
    finally:
        problems = _stop(proc, children)
    assert proc.returncode is not None
    assert not problems, f"{problems}\n{_logs(directory)}"
    assert not [pid for pid in [proc.pid, *children] if _alive(pid)]


@pytest.fixture(scope="module")
def supervisord_unix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A supervisord listening on a unix socket only; yields the socket's path."""
    directory = tmp_path_factory.mktemp("svd")
    sock = str(directory / "supervisor.sock")
    assert len(sock.encode()) < 100, f"unix socket path too long: {sock}"
    section = f"[unix_http_server]\nfile={_conf_value(sock)}\nchmod=0700\n"
    with _supervisord(directory, section, sock, None):
        yield sock


@dataclass(frozen=True)
class TCPServer:
    """Where the TCP supervisord listens, and the credentials it wants."""

    host: str
    port: int
    username: str
    password: str

    def url(self, password: str | None = None) -> str:
        secret = quote(self.password if password is None else password, safe="")
        return f"http://{self.username}:{secret}@{self.host}:{self.port}/RPC2"


@pytest.fixture(scope="module")
def supervisord_tcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TCPServer]:
    """A supervisord on 127.0.0.1 with basic auth; yields its address and credentials."""
    directory = tmp_path_factory.mktemp("svd_tcp")
    server = TCPServer("127.0.0.1", _free_port(), USERNAME, PASSWORD)
    section = (
        "[inet_http_server]\n"
        f"port={server.host}:{server.port}\n"
        f"username={_conf_value(server.username)}\n"
        f"password={_conf_value(server.password)}\n"
    )
    with _supervisord(
        directory, section, (server.host, server.port), (server.username, server.password)
    ):
        yield server


def _unix_proxy(sock: str, **options: Any) -> AsyncServerProxy:
    return AsyncServerProxy(
        "http://localhost/RPC2", unix_socket=sock, timeout=CALL_TIMEOUT, **options
    )


async def _wait_for_states(proxy: AsyncServerProxy, wanted: dict[str, str]) -> dict[str, Any]:
    """Poll getAllProcessInfo (at most ~10 s) until each program is in its wanted state."""
    infos: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    for _ in range(100):
        infos = {info["name"]: info for info in await proxy.supervisor.getAllProcessInfo()}
        if all(infos.get(name, {}).get("statename") == state for name, state in wanted.items()):
            break
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return infos


# -- over the unix socket -------------------------------------------------------------------


async def test_get_state_over_the_unix_socket(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        assert await proxy.supervisor.getState() == STATE_RUNNING
        assert await proxy.supervisor.getIdentification() == "supervisor"


async def test_both_programs_come_up_running(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        infos = await _wait_for_states(proxy, dict.fromkeys(PROGRAMS, "RUNNING"))
        assert sorted(infos) == sorted(PROGRAMS)
        for name in PROGRAMS:
            info = infos[name]
            assert info["statename"] == "RUNNING", info
            assert info["state"] == 20
            assert info["group"] == name
            assert isinstance(info["pid"], int)
            assert info["pid"] > 0
            assert _alive(info["pid"])
        # supervisord's PID is the one we started it with, through the pidfile
        pid = await proxy.supervisor.getPID()
        assert isinstance(pid, int)
        assert _alive(pid)


async def test_introspection(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        methods = await proxy.system.listMethods()
        assert isinstance(methods, list)
        assert "supervisor.getState" in methods
        assert "system.multicall" in methods
        help_text = await proxy.system.methodHelp("supervisor.getState")
        assert isinstance(help_text, str)
        assert help_text.strip()
        signatures = await proxy.system.methodSignature("supervisor.getState")
        assert signatures == ["struct"]  # supervisor's form: [rtype, ptype, ...]


async def test_versions(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        version = await proxy.supervisor.getSupervisorVersion()
        # supervisor has no __version__; its distribution metadata is the same number
        assert version == importlib.metadata.version("supervisor")
        assert await proxy.supervisor.getAPIVersion() == "3.0"


async def test_stop_and_start_a_program(supervisord_unix: str) -> None:
    name = "sleeper_once"
    async with _unix_proxy(supervisord_unix) as proxy:
        await _wait_for_states(proxy, {name: "RUNNING"})
        before = await proxy.supervisor.getProcessInfo(name)
        assert before["statename"] == "RUNNING"
        old_pid = before["pid"]

        assert await proxy.supervisor.stopProcess(name) is True  # waits until stopped
        stopped = await proxy.supervisor.getProcessInfo(name)
        assert stopped["statename"] == "STOPPED"
        assert stopped["pid"] == 0
        assert _wait_gone([old_pid], 5) == []
        with pytest.raises(aioxmlrpc.Fault) as info:
            await proxy.supervisor.stopProcess(name)
        assert info.value.faultCode == 70  # NOT_RUNNING

        assert await proxy.supervisor.startProcess(name) is True  # waits past startsecs
        started = await proxy.supervisor.getProcessInfo(name)
        assert started["statename"] == "RUNNING"
        assert started["pid"] not in (0, old_pid)
        assert _alive(started["pid"])
        with pytest.raises(aioxmlrpc.Fault) as info:
            await proxy.supervisor.startProcess(name)
        assert info.value.faultCode == 60  # ALREADY_STARTED


async def test_a_supervisor_fault_leaves_the_proxy_usable(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        with pytest.raises(aioxmlrpc.Fault) as info:
            await proxy.supervisor.startProcess("no-such-program")
        assert isinstance(info.value, xmlrpc.client.Fault)
        assert info.value.faultCode == 10
        assert info.value.faultString.startswith("BAD_NAME")
        assert "no-such-program" in info.value.faultString
        assert await proxy.supervisor.getState() == STATE_RUNNING


async def test_an_unknown_method_is_a_fault(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        with pytest.raises(aioxmlrpc.Fault) as info:
            await proxy.supervisor.noSuchMethod()
        assert info.value.faultCode == 1  # UNKNOWN_METHOD
        assert info.value.faultString == "UNKNOWN_METHOD"
        assert await proxy.supervisor.getState() == STATE_RUNNING


async def test_multicall_as_a_plain_method(supervisord_unix: str) -> None:
    # supervisord's system.multicall answers each call with its bare value (or a fault
    # struct), not with the one-element list that its docstring and the XML-RPC multicall
    # convention promise; the stdlib, reading the same reply, sees the same thing.
    calls = [
        {"methodName": "supervisor.getState", "params": []},
        {"methodName": "supervisor.getPID", "params": []},
        {"methodName": "supervisor.startProcess", "params": ["no-such-program"]},
    ]
    async with _unix_proxy(supervisord_unix) as proxy:
        results = await proxy.system.multicall(calls)
        pid = await proxy.supervisor.getPID()
    assert isinstance(results, list)
    assert len(results) == 3
    assert results[:2] == [STATE_RUNNING, pid]
    assert results[2]["faultCode"] == 10
    assert results[2]["faultString"].startswith("BAD_NAME")
    stdlib = await asyncio.to_thread(
        _raw_call, supervisord_unix, "system.multicall", None, (calls,)
    )
    assert results == stdlib


async def test_read_log(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        log = await proxy.supervisor.readLog(0, 0)
    assert isinstance(log, str)


async def test_many_concurrent_calls(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        results = await asyncio.gather(*(proxy.supervisor.getState() for _ in range(200)))
    assert results == [STATE_RUNNING] * 200


async def test_verbose_prints_the_exchange(
    supervisord_unix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with _unix_proxy(supervisord_unix, verbose=True) as proxy:
        assert await proxy.supervisor.getState() == STATE_RUNNING
    out = capsys.readouterr().out
    assert "send: b'POST /RPC2 HTTP/1.1\\r\\nHost: localhost\\r\\n" in out
    assert "<methodName>supervisor.getState</methodName>" in out
    assert "reply: 'HTTP/1.1 200 OK\\r\\n'" in out
    assert "header: Content-Type: text/xml" in out
    assert "body: b" in out
    assert "<name>statename</name>" in out


# -- over TCP, with basic auth ----------------------------------------------------------------


async def test_credentials_in_the_url(supervisord_tcp: TCPServer) -> None:
    url = supervisord_tcp.url()
    assert "%25" in url  # the password's "%" travels percent-encoded
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.supervisor.getState() == STATE_RUNNING
        assert PASSWORD not in repr(proxy)
        assert quote(PASSWORD, safe="") not in repr(proxy)


async def test_no_credentials_is_a_401(supervisord_tcp: TCPServer) -> None:
    url = f"http://{supervisord_tcp.host}:{supervisord_tcp.port}/RPC2"
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(aioxmlrpc.ProtocolError) as info:
            await proxy.supervisor.getState()
    assert info.value.errcode == 401
    assert info.value.url == url


async def test_a_wrong_password_is_a_401_that_hides_it(supervisord_tcp: TCPServer) -> None:
    url = supervisord_tcp.url(WRONG_PASSWORD)
    secrets = [
        WRONG_PASSWORD,
        quote(WRONG_PASSWORD, safe=""),
        base64.b64encode(f"{USERNAME}:{WRONG_PASSWORD}".encode()).decode("ascii"),
    ]
    async with AsyncServerProxy(url, timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(xmlrpc.client.ProtocolError) as info:
            await proxy.supervisor.getState()
        exc = info.value
        assert isinstance(exc, aioxmlrpc.ProtocolError)
        assert exc.errcode == 401
        assert exc.errmsg == "Unauthorized"
        assert exc.url == (
            f"http://{USERNAME}:***@{supervisord_tcp.host}:{supervisord_tcp.port}/RPC2"
        )
        shown = [str(exc), repr(exc), exc.url, repr(proxy), str(proxy), repr(exc.headers)]
        for text in shown:
            for secret in secrets:
                assert secret not in text
        # the proxy keeps its wrong password: the next call is refused the same way
        with pytest.raises(aioxmlrpc.ProtocolError) as again:
            await proxy.supervisor.getState()
        assert again.value.errcode == 401
    # while a proxy with the right one works against the same server
    async with AsyncServerProxy(supervisord_tcp.url(), timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.supervisor.getState() == STATE_RUNNING


async def test_tcp_and_unix_servers_are_separate(
    supervisord_tcp: TCPServer, supervisord_unix: str
) -> None:
    async with (
        AsyncServerProxy(supervisord_tcp.url(), timeout=CALL_TIMEOUT) as tcp,
        _unix_proxy(supervisord_unix) as unix,
    ):
        tcp_pid, unix_pid = await asyncio.gather(tcp.supervisor.getPID(), unix.supervisor.getPID())
    assert tcp_pid != unix_pid


async def test_multicall_reads_supervisords_bare_results(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        pid = await proxy.supervisor.getPID()
        multicall = MultiCall(proxy, bare_results=True)
        multicall.supervisor.getState()
        multicall.supervisor.getPID()
        multicall.supervisor.getAllProcessInfo()
        multicall.supervisor.startProcess("no-such-program")
        multicall.system.methodHelp("supervisor.getState")
        results = await multicall(return_exceptions=True)
        state, got_pid, processes, fault, help_text = results
        assert state == STATE_RUNNING
        assert got_pid == pid
        assert isinstance(processes, list)
        assert len(processes) == 2
        assert isinstance(fault, Fault)
        assert fault.faultCode == 10
        assert isinstance(help_text, str)
        iterated = await multicall()
        assert iterated[0] == STATE_RUNNING
        with pytest.raises(Fault, match="BAD_NAME"):
            iterated[3]


async def test_multicall_chunks_against_supervisord(supervisord_unix: str) -> None:
    async with _unix_proxy(supervisord_unix) as proxy:
        multicall = MultiCall(proxy, bare_results=True)
        for _ in range(300):
            multicall.supervisor.getState()
        whole = await multicall(return_exceptions=True)
        chunked = await multicall(return_exceptions=True, chunk_size=40, max_concurrency=3)
    assert whole == chunked == [STATE_RUNNING] * 300
