"""The pytest plugin of :mod:`aioxmlrpc.testing`: fixtures and the cassette marker.

Enable it (it is not loaded automatically) in the root ``conftest.py``::

    pytest_plugins = ["aioxmlrpc.testing.pytest_plugin"]

or with ``-p aioxmlrpc.testing.pytest_plugin`` (``addopts`` in the pytest settings).

Fixtures (all sync, so that they work in sync tests and with any async plugin):

- ``xmlrpc_memory``: a [MemoryTransport][aioxmlrpc.testing.MemoryTransport] with an
  empty dispatcher; ``xmlrpc_memory.proxy()`` gives a proxy on it.
- ``fake_xmlrpc_server``: a running [FakeServer][aioxmlrpc.testing.FakeServer] (in a
  thread of its own), stopped after the test.
- ``xmlrpc_cassette``: a [Cassette][aioxmlrpc.testing.Cassette], active for the whole
  test (every proxy created without ``transport=`` goes through it), written after the
  test when recording and the test passed.

The marker ``@pytest.mark.xmlrpc_cassette(path=None, *, mode=None, ordered=True,
match_on=("method", "params"), secrets=(), realtime=False)`` gives a test the cassette
without asking for the fixture. The default path is
``cassettes/<test module>/<test name>.json`` beside the test file; a relative path is
taken from the test file's directory. The record mode is, first found:
``--xmlrpc-record-mode``, the marker's ``mode``, the ``xmlrpc_record_mode`` ini setting,
``replay``. A call the cassette does not hold fails the test, even when the code under
test caught the exception.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._cassette import Cassette
    from ._fake import FakeServer
    from ._memory import MemoryTransport

__all__ = [
    "fake_xmlrpc_server",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_makereport",
    "xmlrpc_cassette",
    "xmlrpc_memory",
]

_MODES = ("replay", "record", "once")
_PASSED = pytest.StashKey[bool]()
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--xmlrpc-record-mode`` and the ``xmlrpc_record_mode`` ini setting."""
    group = parser.getgroup("aioxmlrpc", "aioxmlrpc cassettes")
    group.addoption(
        "--xmlrpc-record-mode",
        choices=_MODES,
        default=None,
        help="replay (default): never reach a server; record: re-record every cassette; "
        "once: record the cassettes that do not exist",
    )
    parser.addini(
        "xmlrpc_record_mode", "the default record mode of XML-RPC cassettes", default="replay"
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``xmlrpc_cassette`` marker."""
    config.addinivalue_line(
        "markers",
        "xmlrpc_cassette(path=None, *, mode=None, ordered=True, match_on=('method', 'params'), "
        "secrets=(), realtime=False): record or replay the test's XML-RPC calls "
        "(aioxmlrpc.testing)",
    )


@pytest.hookimpl(hookwrapper=True)  # the old style: pytest 7 has no wrapper=True
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Remember whether the test itself passed: a failed one writes no cassette."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_PASSED] = report.passed


@pytest.fixture
def xmlrpc_memory() -> MemoryTransport:
    """A MemoryTransport with an empty dispatcher (introspection and multicall on)."""
    from ._memory import MemoryTransport

    return MemoryTransport()


@pytest.fixture
def fake_xmlrpc_server() -> Iterator[FakeServer]:
    """A running FakeServer (in its own thread), stopped after the test."""
    from ._fake import FakeServer

    with FakeServer() as server:
        yield server


def _default_path(request: pytest.FixtureRequest) -> Path:
    test_file = Path(str(request.node.path))
    name = _UNSAFE.sub("_", request.node.name).strip("_") or "test"
    return test_file.parent / "cassettes" / test_file.stem / f"{name}.json"


def _mode(request: pytest.FixtureRequest, marked: Any) -> str:
    config = request.config
    mode = config.getoption("xmlrpc_record_mode")
    if mode is None:
        mode = marked or str(config.getini("xmlrpc_record_mode"))
    if mode not in _MODES:
        raise pytest.UsageError(f"xmlrpc record mode must be one of {_MODES}, not {mode!r}")
    return str(mode)


@pytest.fixture
def xmlrpc_cassette(request: pytest.FixtureRequest) -> Iterator[Cassette]:
    """The test's cassette, active for the whole test; see the module's docstring."""
    from ._cassette import Cassette

    marker = request.node.get_closest_marker("xmlrpc_cassette")
    args: tuple[Any, ...] = marker.args if marker else ()
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
    if "path" in kwargs:
        args = (kwargs.pop("path"), *args)
    if len(args) > 1:
        raise pytest.UsageError("xmlrpc_cassette takes one path at most")
    path = Path(args[0]) if args and args[0] is not None else _default_path(request)
    if not path.is_absolute():
        path = Path(str(request.node.path)).parent / path
    mode = _mode(request, kwargs.pop("mode", None))
    cassette = Cassette(path, mode=mode, **kwargs)
    with cassette.patch():
        yield cassette
    if request.node.stash.get(_PASSED, False):
        cassette.save()
        if cassette.errors:
            shown = "\n\n".join(str(error) for error in cassette.errors)
            pytest.fail(
                f"{len(cassette.errors)} XML-RPC calls were not in the cassette "
                f"(the code under test caught the error):\n{shown}",
                pytrace=False,
            )


@pytest.fixture(autouse=True)
def _xmlrpc_cassette_marker(request: pytest.FixtureRequest) -> None:
    """Give a test marked ``xmlrpc_cassette`` its cassette."""
    if request.node.get_closest_marker("xmlrpc_cassette") is not None:
        request.getfixturevalue("xmlrpc_cassette")
