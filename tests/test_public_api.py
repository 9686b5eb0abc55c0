"""The public surface: exact exports, docstrings, stdlib identity, and a codec free of I/O."""

from __future__ import annotations

import ast
import inspect
import pathlib
import socket
import subprocess
import sys
import xmlrpc.client

import pytest

import aioxmlrpc
import aioxmlrpc.codec
import aioxmlrpc.profiles
import aioxmlrpc.server
import aioxmlrpc.testing

PACKAGE = pathlib.Path(aioxmlrpc.__file__).parent


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then everything else.
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


PUBLIC_MODULES = (
    aioxmlrpc,
    aioxmlrpc.codec,
    aioxmlrpc.profiles,
    aioxmlrpc.server,
    aioxmlrpc.testing,
)


def test_all_is_sorted_and_complete() -> None:
    for module in PUBLIC_MODULES:
        assert list(module.__all__) == sorted(module.__all__, key=_isort_key)
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and getattr(value, "__module__", "").startswith("aioxmlrpc")
        }
        assert public <= set(module.__all__), public - set(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), name


def test_every_public_name_has_a_docstring() -> None:
    for module in PUBLIC_MODULES:
        assert module.__doc__
        for name in module.__all__:
            value = getattr(module, name)
            ours = getattr(value, "__module__", "").startswith("aioxmlrpc")
            if ours and (inspect.isclass(value) or inspect.isfunction(value)):
                assert inspect.getdoc(value), f"{module.__name__}.{name} has no docstring"
                for attr, member in vars(value).items():
                    if inspect.isfunction(member) and not attr.startswith("_"):
                        assert inspect.getdoc(member), f"{name}.{attr} has no docstring"


def test_stdlib_classes_are_reused_not_copied() -> None:
    assert aioxmlrpc.Fault is xmlrpc.client.Fault
    assert aioxmlrpc.Error is xmlrpc.client.Error
    assert aioxmlrpc.ProtocolError is xmlrpc.client.ProtocolError
    assert aioxmlrpc.ResponseError is xmlrpc.client.ResponseError
    assert aioxmlrpc.Binary is xmlrpc.client.Binary
    assert aioxmlrpc.DateTime is xmlrpc.client.DateTime


def test_new_errors_are_caught_by_the_stdlib_and_builtin_classes() -> None:
    import xml.parsers.expat

    import defusedxml

    assert issubclass(aioxmlrpc.MalformedXML, xml.parsers.expat.ExpatError)
    assert issubclass(aioxmlrpc.TruncatedResponse, xmlrpc.client.ResponseError)
    assert issubclass(aioxmlrpc.InvalidValue, ValueError)
    assert issubclass(aioxmlrpc.InvalidValue, aioxmlrpc.InvalidResponse)
    assert issubclass(aioxmlrpc.DTDForbidden, defusedxml.DTDForbidden)
    assert issubclass(aioxmlrpc.EntitiesForbidden, defusedxml.EntitiesForbidden)
    assert issubclass(aioxmlrpc.UnsafeXML, defusedxml.DefusedXmlException)
    assert issubclass(aioxmlrpc.TransportError, OSError)
    assert issubclass(aioxmlrpc.ConnectError, ConnectionError)
    assert issubclass(aioxmlrpc.TransportTimeout, TimeoutError)
    assert issubclass(aioxmlrpc.ConnectionRefused, ConnectionRefusedError)
    assert issubclass(aioxmlrpc.ConnectionRefused, aioxmlrpc.ConnectError)
    assert issubclass(aioxmlrpc.NameResolutionError, socket.gaierror)
    assert issubclass(aioxmlrpc.NameResolutionError, aioxmlrpc.ConnectError)
    for name in aioxmlrpc.__all__:
        value = getattr(aioxmlrpc, name)
        if inspect.isclass(value) and issubclass(value, Exception):
            assert issubclass(value, xmlrpc.client.Error), name


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level
            names.add(prefix + (node.module or ""))
    return names


def test_codec_imports_nothing_that_does_io() -> None:
    forbidden = {"asyncio", "aiohttp", "socket", "ssl", "http", "urllib", "time", "selectors"}
    modules = sorted((PACKAGE / "codec").glob("*.py"))
    assert modules
    for path in modules:
        for name in _imports(path):
            root = name.lstrip(".").split(".")[0]
            assert root not in forbidden, f"{path.name} imports {name}"
            # Relative imports may only reach the codec itself or the leaf modules.
            if name.startswith(".."):
                assert name in ("..", ".._exceptions", ".._types"), f"{path.name}: {name}"


def test_py_typed_is_shipped() -> None:
    assert (PACKAGE / "py.typed").exists()


def test_importing_the_codec_loads_no_asyncio_and_no_aiohttp() -> None:
    # At run time, not only in the source: a fresh interpreter, then sys.modules.
    code = (
        "import sys, aioxmlrpc.codec, aioxmlrpc;"
        "aioxmlrpc.codec.loads(aioxmlrpc.codec.encode_response([1, {'a': 'b'}]));"
        "print(sorted(m for m in ('asyncio', 'aiohttp') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_the_client_is_loaded_on_first_use() -> None:
    code = (
        "import sys, aioxmlrpc; before = 'aiohttp' in sys.modules;"
        "proxy = aioxmlrpc.AsyncServerProxy; print(before, 'aiohttp' in sys.modules,"
        " proxy.__module__, 'AsyncServerProxy' in dir(aioxmlrpc))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False", "True", "aioxmlrpc._proxy", "True"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        aioxmlrpc.no_such_name  # noqa: B018


def test_the_server_loads_no_part_of_the_client() -> None:
    code = (
        "import sys, aioxmlrpc.server;"
        "client = ('aioxmlrpc._proxy', 'aioxmlrpc._transport', 'aioxmlrpc._multicall');"
        "print(sorted(m for m in client if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_profiles_load_no_asyncio_and_no_aiohttp() -> None:
    # Profiles are data: reading them (a CLI listing, a config check) needs no I/O stack.
    code = (
        "import sys, aioxmlrpc.profiles as p; p.get_profile('aria2');"
        "print(sorted(m for m in ('asyncio', 'aiohttp') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_scgi_and_profiles_are_loaded_lazily() -> None:
    code = (
        "import sys, aioxmlrpc; before = 'aioxmlrpc._scgi' in sys.modules;"
        "t = aioxmlrpc.SCGITransport; p = aioxmlrpc.Profile;"
        "print(before, t.__module__, p.__module__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False", "aioxmlrpc._scgi", "aioxmlrpc.profiles"]
