"""A cassette recorded from a real supervisord replays offline with identical results.

supervisord (from PyPI, in the test extra) is started here as in
``tests/client/test_supervisord.py``: ``python -m supervisor.supervisord`` with a config in
a temporary directory, on 127.0.0.1 with basic auth, polled until it answers, and stopped
by its PID, with timeouts at every step. The session is recorded through the cassette,
supervisord is stopped, and the same session is replayed with nothing listening.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aioxmlrpc import AsyncServerProxy, ConnectionRefused, Fault, MultiCall, ProtocolError
from aioxmlrpc.testing import Cassette

USER = "alice"
PASSWORD = "s3cr%t"  # noqa: S105 - a test secret, with a character to percent-encode
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
POLL = 0.05


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _get_state(port: int) -> Any:
    """supervisor.getState over a plain socket (stdlib only, independent of aioxmlrpc)."""
    body = xmlrpc.client.dumps((), "supervisor.getState").encode()
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    head = (
        f"POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
        f"Authorization: Basic {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(head.encode() + body)
        reply = b""
        deadline = time.monotonic() + 2
        while chunk := sock.recv(65536):
            reply += chunk
            if time.monotonic() > deadline:
                raise TimeoutError("getState took more than 2 s")
    status, _, rest = reply.partition(b"\r\n")
    if b" 200 " not in status:
        raise ConnectionError(status.decode(errors="replace"))
    return xmlrpc.client.loads(rest.partition(b"\r\n\r\n")[2].decode())[0][0]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    left = [pid for pid in pids if _alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(POLL)
        left = [pid for pid in left if _alive(pid)]
    return left


@contextlib.contextmanager
def _supervisord(directory: Path) -> Iterator[int]:
    """Run supervisord on a free 127.0.0.1 port with basic auth; yield the port."""
    port = _free_port()
    sleep = shlex.join([sys.executable, "-c", "import time; time.sleep(3600)"])

    def value(text: str) -> str:
        return text.replace("%", "%%")  # supervisord expands %(name)s

    programs = "".join(
        f"[program:{name}]\ncommand={value(sleep)}\nautostart=true\n"
        f"autorestart={'false' if name == 'sleeper_once' else 'true'}\n"
        "startsecs=0\nstopwaitsecs=5\n"
        for name in ("sleeper", "sleeper_once")
    )
    conf = directory / "supervisord.conf"
    conf.write_text(
        f"[inet_http_server]\nport=127.0.0.1:{port}\nusername={USER}\n"
        f"password={value(PASSWORD)}\n"
        f"[supervisord]\nnodaemon=true\nlogfile={value(str(directory / 'svd.log'))}\n"
        f"pidfile={value(str(directory / 'svd.pid'))}\nchildlogdir={value(str(directory))}\n"
        "loglevel=warn\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        + programs
    )
    with (directory / "svd.out").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        error: BaseException | None = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if _get_state(port)["statename"] == "RUNNING":
                    break
            except (OSError, xmlrpc.client.Error) as exc:
                error = exc
            time.sleep(POLL)
        else:
            log = (directory / "svd.out").read_text(errors="replace")
            pytest.fail(f"supervisord did not start: {error!r}\n{log}", pytrace=False)
        yield port
    finally:
        children = [int(pid) for pid in _child_pids(directory)]
        if proc.poll() is None:
            proc.terminate()  # supervisord stops its programs on SIGTERM
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        for pid in _wait_gone(children, STOP_TIMEOUT):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert not _alive(proc.pid)
    assert _wait_gone(children, STOP_TIMEOUT) == []


def _child_pids(directory: Path) -> list[str]:
    """The PIDs of supervisord's programs, from /proc (whose parent is supervisord)."""
    pid_file = directory / "svd.pid"
    if not pid_file.exists():
        return []
    parent = pid_file.read_text().strip()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "stat").read_text().rpartition(")")[2].split()[1] == parent:
                    found.append(entry.name)
    return found


async def _session(url: str, wrong_url: str) -> list[Any]:
    """What a test of supervisord-driving code would do; every outcome, in order."""
    seen: list[Any] = []

    async def outcome(call: Any) -> None:
        try:
            seen.append(await call)
        except Fault as fault:
            seen.append(("fault", fault.faultCode, fault.faultString))
        except ProtocolError as error:
            seen.append(("http", error.errcode, error.errmsg))

    async with AsyncServerProxy(url, timeout=10) as proxy:
        await outcome(proxy.supervisor.getState())
        await outcome(proxy.supervisor.getIdentification())
        await outcome(proxy.supervisor.getAPIVersion())
        await outcome(proxy.system.listMethods())
        await outcome(proxy.system.methodHelp("supervisor.getState"))
        await outcome(proxy.supervisor.getAllProcessInfo())
        await outcome(proxy.supervisor.getProcessInfo("sleeper"))
        await outcome(proxy.supervisor.getProcessInfo("no_such_program"))
        await outcome(proxy.supervisor.stopProcess("sleeper_once", True))
        await outcome(proxy.supervisor.stopProcess("sleeper_once", True))
        multicall = MultiCall(proxy, bare_results=True)
        multicall.supervisor.getState()
        multicall.supervisor.getProcessInfo("no_such_program")
        multicall.supervisor.getProcessInfo("sleeper_once")
        seen.append(await multicall(return_exceptions=True))
    async with AsyncServerProxy(wrong_url, timeout=10) as wrong:
        await outcome(wrong.supervisor.getState())
    return seen


def _comparable(outcomes: list[Any]) -> str:
    # Faults inside a MultiCall's results are objects: compare them by code and string.
    def plain(item: Any) -> Any:
        if isinstance(item, Fault):
            return ["Fault", item.faultCode, item.faultString]
        if isinstance(item, (list, tuple)):
            return [plain(value) for value in item]
        return item

    return json.dumps(plain(outcomes), sort_keys=True)


async def test_a_supervisord_session_replays_offline_with_identical_results(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cassettes" / "supervisord.json"
    with _supervisord(tmp_path) as port:
        url = f"http://{USER}:s3cr%25t@127.0.0.1:{port}/RPC2"
        wrong_url = f"http://{USER}:wr0ng@127.0.0.1:{port}/RPC2"
        with Cassette(path, mode="record") as cassette:
            live = await _session(url, wrong_url)
        assert len(cassette.interactions) == 12
    # what the live session saw: enough to tell that the replay is not trivial
    assert live[0] == {"statecode": 1, "statename": "RUNNING"}
    assert live[7][:2] == ("fault", 10)  # BAD_NAME
    assert live[8] is True
    assert live[9][:2] == ("fault", 70)  # NOT_RUNNING
    assert live[11] == ("http", 401, "Unauthorized")
    text = path.read_text()
    assert "s3cr" not in text
    assert "wr0ng" not in text
    assert f"http://{USER}:***@127.0.0.1:{port}/RPC2" in text

    # supervisord is gone: nothing answers on its port
    async with AsyncServerProxy(url, timeout=5) as proxy:
        with pytest.raises(ConnectionRefused):
            await proxy.supervisor.getState()

    with Cassette(path, mode="replay") as replay:
        replayed = await _session(url, wrong_url)
    assert _comparable(replayed) == _comparable(live)
    assert replay.errors == []
    replay.assert_all_played()
    # "once" with the file present replays too, and writes nothing
    before = path.read_bytes()
    with Cassette(path, mode="once") as once:
        assert not once.recording
        assert _comparable(await _session(url, wrong_url)) == _comparable(live)
    assert path.read_bytes() == before
