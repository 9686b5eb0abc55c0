"""aioxmlrpc.testing: test your own XML-RPC code without a live server.

- [MemoryTransport][aioxmlrpc.testing.MemoryTransport]: a proxy's calls answered in
  memory by a dispatcher or plain functions, through the real codec both ways;
- [FakeServer][aioxmlrpc.testing.FakeServer]: a real loopback server whose answers a test
  scripts (results, faults, HTTP statuses, latency, drips, truncation), with a call log;
- [Cassette][aioxmlrpc.testing.Cassette]: a session recorded at the RPC level from a
  real server, secrets redacted, replayed offline;
- a pytest plugin, enabled with ``pytest_plugins = ["aioxmlrpc.testing.pytest_plugin"]``
  in the root ``conftest.py``, with the fixtures ``xmlrpc_memory``,
  ``fake_xmlrpc_server`` and ``xmlrpc_cassette``, and the ``xmlrpc_cassette`` marker.

Names are imported on first use (PEP 562), so that the pytest plugin imports neither
aiohttp nor the client until a test asks for them.
``import aioxmlrpc`` never imports this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._calls import Call
    from ._cassette import CASSETTE_VERSION, Cassette, CassetteTransport, Interaction, RecordMode
    from ._errors import (
        CassetteError,
        CassetteFormatError,
        CassetteNotFound,
        NoMatchingInteraction,
    )
    from ._fake import FakeServer, Reply
    from ._memory import MemoryTransport

_LAZY = {
    "CASSETTE_VERSION": "._cassette",
    "Call": "._calls",
    "Cassette": "._cassette",
    "CassetteError": "._errors",
    "CassetteFormatError": "._errors",
    "CassetteNotFound": "._errors",
    "CassetteTransport": "._cassette",
    "FakeServer": "._fake",
    "Interaction": "._cassette",
    "MemoryTransport": "._memory",
    "NoMatchingInteraction": "._errors",
    "RecordMode": "._cassette",
    "Reply": "._fake",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aioxmlrpc.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "CASSETTE_VERSION",
    "Call",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteNotFound",
    "CassetteTransport",
    "FakeServer",
    "Interaction",
    "MemoryTransport",
    "NoMatchingInteraction",
    "RecordMode",
    "Reply",
]
