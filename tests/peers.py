"""Helpers shared by the tests that run third-party peers as child processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import signal
import subprocess
import time
import xmlrpc.client
from collections.abc import Mapping
from typing import Any

from aioxmlrpc import AsyncServerProxy, Binary, DateTime


def stop(proc: subprocess.Popen[bytes], name: str, timeout: float) -> list[str]:
    """Stop ``proc`` by its PID: SIGTERM, then SIGKILL; return what went wrong."""
    problems = []
    if proc.poll() is not None:
        problems.append(f"the server had already exited with status {proc.returncode}")
    else:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            problems.append(f"{name} {proc.pid} ignored SIGTERM for {timeout:g} s; killed")
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
    return problems


def exact(value: Any) -> Any:
    """``value`` with each scalar paired with its type: 1, True and 1.0 stay apart."""
    if type(value) is list:
        return [exact(item) for item in value]
    if type(value) is dict:
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, xmlrpc.client.DateTime):
        return (DateTime, value.value)
    if isinstance(value, xmlrpc.client.Binary):
        return (Binary, value.data)
    if isinstance(value, float):
        return (float, repr(value))  # tells -0.0 from 0.0
    return (type(value), value)


def read_port(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """The port from a server's first line on stdout, ``PORT <n>``, within ``timeout``."""
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while b"\n" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise RuntimeError(f"no port printed in {timeout:g} s: {seen!r}")
            chunk = os.read(proc.stdout.fileno(), 1024)
            if not chunk:
                raise RuntimeError(f"the server exited ({proc.wait(timeout)}): {seen!r}")
            seen += chunk
    word, port = seen.split(b"\n", 1)[0].split()
    if word != b"PORT":
        raise RuntimeError(f"expected PORT <n>, got {seen!r}")
    return int(port)


class _Timed(xmlrpc.client.Transport):
    """The standard library's transport, with a timeout on its socket."""

    def __init__(self, timeout: float, **options: Any) -> None:
        super().__init__(**options)
        self.timeout = timeout

    def make_connection(self, host: Any) -> Any:
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


def stdlib_proxy(url: str, timeout: float, **options: Any) -> xmlrpc.client.ServerProxy:
    """The standard library's ``ServerProxy`` for ``url``, every wait within ``timeout``."""
    transport_options = {k: v for k, v in options.items() if k.startswith("use_")}
    transport = _Timed(timeout, **transport_options)
    return xmlrpc.client.ServerProxy(url, transport=transport, **options)


async def both(
    url: str,
    timeout: float,
    method: str,
    *params: Any,
    ours_only: Mapping[str, Any] | None = None,
    **options: Any,
) -> tuple[Any, Any]:
    """``method(*params)`` from our proxy, then from the standard library's: the oracle.

    ``options`` go to both proxies, ``ours_only`` (such as ``pool_size``) to ours.
    """
    async with AsyncServerProxy(url, timeout=timeout, **options, **(ours_only or {})) as proxy:
        ours = await getattr(proxy, method)(*params)
    with stdlib_proxy(url, timeout, **options) as stdlib:
        theirs = await asyncio.to_thread(getattr(stdlib, method), *params)
    return ours, theirs


def run_client(command: list[str], timeout: float, **options: Any) -> dict[str, dict[str, Any]]:
    """Run a client script that prints one JSON line per call; return them by call name."""
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, **options
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return {line["call"]: line for line in lines}
