"""Shared fixtures and Hypothesis profiles.

Profiles: ``ci`` (the default: quick, deterministic) and ``long`` (set
``HYPOTHESIS_PROFILE=long`` for a long fuzzing run on demand).

No test may look up a name outside this machine: ``socket.getaddrinfo`` is guarded for
the whole session. ``localhost`` and address literals go through; a name under
``.invalid`` (RFC 6761: never resolves) fails at once with the resolver's own
``socket.gaierror(EAI_NONAME)``, without asking any DNS server; any other name fails the
test that looked it up.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, settings

from aioxmlrpc._demo import ExampleServer

from servers import Methods, StdlibExampleServer, make_app

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "quick",  # .ci/run's runs on the other Pythons: the same tests, fewer examples
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- no name lookups off this machine ------------------------------------------------------

_LOCAL_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})
_real_getaddrinfo = socket.getaddrinfo
_foreign_lookups: list[str] = []


def _is_local(host: object) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() in _LOCAL_NAMES:
        return True
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_local(host):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.lower().rstrip(".").endswith(".invalid"):
            _foreign_lookups.append(name)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(autouse=True)
def _no_foreign_lookups() -> Iterator[None]:
    """Fail a test that tried to resolve a name outside localhost."""
    del _foreign_lookups[:]
    yield
    assert not _foreign_lookups, f"looked up names off this machine: {_foreign_lookups}"


# -- servers (127.0.0.1 only) ---------------------------------------------------------------


@pytest.fixture(scope="session")
def example_server() -> Iterator[ExampleServer]:
    """The tour's example server (ours, on aioxmlrpc.server), in a thread."""
    with ExampleServer() as server:
        yield server


@pytest.fixture(scope="session")
def stdlib_example_server() -> Iterator[StdlibExampleServer]:
    """The seed's own server, the standard library's SimpleXMLRPCServer: the oracle."""
    with StdlibExampleServer() as server:
        yield server


@pytest.fixture
def methods() -> Methods:
    """What the correct test server answers, and what it was asked."""
    return Methods()


@pytest.fixture
async def raw_server(methods: Methods) -> AsyncIterator[str]:
    """An aiohttp server in the test's loop: a correct /RPC2 and routes that misbehave."""
    runner = web.AppRunner(make_app(methods), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
