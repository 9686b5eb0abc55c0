"""Helpers shared by the tests that run third-party peers as child processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import xmlrpc.client
from typing import Any

from aioxmlrpc import Binary, DateTime


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
