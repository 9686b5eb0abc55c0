"""aioxmlrpc: a fast, hardened asyncio XML-RPC client with a sans-IO codec.

The value types and the base errors are the :mod:`xmlrpc.client` classes themselves, so
``except xmlrpc.client.Fault`` keeps working and values move freely between the two.

The client (and with it asyncio and aiohttp) is imported on first use of one of its
names (PEP 562), so that ``import aioxmlrpc.codec`` stays free of any I/O machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    ConnectError,
    ConnectionRefused,
    DTDForbidden,
    EntitiesForbidden,
    Error,
    Fault,
    InvalidResponse,
    InvalidValue,
    MalformedXML,
    NameResolutionError,
    ProtocolError,
    ResponseError,
    ResponseTooDeep,
    ResponseTooLarge,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
    UnsafeXML,
)
from ._types import MAXINT, MININT, Binary, DateTime, Value
from ._version import __version__
from .codec import Limits, dumps, loads

if TYPE_CHECKING:
    from ._http import DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT, HTTPTransport, Transport
    from ._multicall import MultiCall, MultiCallIterator
    from ._proxy import AsyncServerProxy
    from ._retry import CircuitBreaker, CircuitOpenError, RetryPolicy
    from ._scgi import SCGITransport
    from .profiles import Profile

# The client's names, and the modules they come from: imported when first asked for.
_LAZY = {
    "DEFAULT_POOL_SIZE": "._http",
    "DEFAULT_TIMEOUT": "._http",
    "HTTPTransport": "._http",
    "Transport": "._http",
    "AsyncServerProxy": "._proxy",
    "MultiCall": "._multicall",
    "MultiCallIterator": "._multicall",
    "CircuitBreaker": "._retry",
    "CircuitOpenError": "._retry",
    "RetryPolicy": "._retry",
    "SCGITransport": "._scgi",
    "Profile": ".profiles",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aioxmlrpc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT",
    "MAXINT",
    "MININT",
    "AsyncServerProxy",
    "Binary",
    "CircuitBreaker",
    "CircuitOpenError",
    "ConnectError",
    "ConnectionRefused",
    "DTDForbidden",
    "DateTime",
    "EntitiesForbidden",
    "Error",
    "Fault",
    "HTTPTransport",
    "InvalidResponse",
    "InvalidValue",
    "Limits",
    "MalformedXML",
    "MultiCall",
    "MultiCallIterator",
    "NameResolutionError",
    "Profile",
    "ProtocolError",
    "ResponseError",
    "ResponseTooDeep",
    "ResponseTooLarge",
    "RetryPolicy",
    "SCGITransport",
    "Transport",
    "TransportError",
    "TransportTimeout",
    "TruncatedResponse",
    "UnsafeXML",
    "Value",
    "__version__",
    "dumps",
    "loads",
]
