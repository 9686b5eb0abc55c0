"""aioxmlrpc: a fast, hardened asyncio XML-RPC client with a sans-IO codec.

The value types and the base errors are the :mod:`xmlrpc.client` classes themselves, so
``except xmlrpc.client.Fault`` keeps working and values move freely between the two.
"""

from ._exceptions import (
    ConnectError,
    DTDForbidden,
    EntitiesForbidden,
    Error,
    Fault,
    InvalidResponse,
    MalformedXML,
    ProtocolError,
    ResponseError,
    ResponseTooDeep,
    ResponseTooLarge,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
    UnsafeXML,
)
from ._multicall import MultiCall, MultiCallError, MultiCallIterator
from ._proxy import AsyncServerProxy
from ._transport import DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT, HTTPTransport, Transport
from ._types import MAXINT, MININT, Binary, DateTime, Value
from ._version import __version__
from .codec import Limits, dumps, loads

__all__ = [
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT",
    "MAXINT",
    "MININT",
    "AsyncServerProxy",
    "Binary",
    "ConnectError",
    "DTDForbidden",
    "DateTime",
    "EntitiesForbidden",
    "Error",
    "Fault",
    "HTTPTransport",
    "InvalidResponse",
    "Limits",
    "MalformedXML",
    "MultiCall",
    "MultiCallError",
    "MultiCallIterator",
    "ProtocolError",
    "ResponseError",
    "ResponseTooDeep",
    "ResponseTooLarge",
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
