"""Shared fixtures and Hypothesis profiles.

Profiles: ``ci`` (the default: quick, deterministic) and ``long`` (set
``HYPOTHESIS_PROFILE=long`` for a long fuzzing run on demand).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

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
    "long",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
