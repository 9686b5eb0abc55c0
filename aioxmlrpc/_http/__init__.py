"""The aiohttp shell: the transport, the one place aiohttp's exceptions are mapped, the pool.

``_transport.py`` (one attempt = one function), ``_timeouts.py`` (ours checked, then
aiohttp's), ``_errors.py`` (aiohttp's exceptions to ours), ``_pool.py`` (the fair queue,
the connectors, the protocol), ``_inflate.py`` (bounded gzip and deflate), ``_dump.py``
(verbose output, secrets hidden).
"""

from __future__ import annotations

from ._transport import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_POOL_SIZE,
    DEFAULT_TIMEOUT,
    HTTPTransport,
    Transport,
    parse_uri,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT",
    "HTTPTransport",
    "Transport",
    "parse_uri",
]
