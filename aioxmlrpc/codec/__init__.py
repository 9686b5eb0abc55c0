"""The sans-IO XML-RPC codec: bytes in, values out, and back. No sockets, no asyncio.

Everything the client and the server do with XML goes through here, and so can a sync
client or another transport::

    from aioxmlrpc.codec import ResponseParser, encode_request

    body = encode_request("system.listMethods", ())
    parser = ResponseParser()
    for chunk in chunks_from_anywhere:   # any split of the body gives the same result
        parser.feed(chunk)
    result = parser.close()              # or raises xmlrpc.client.Fault

Requests and responses go both ways (:func:`encode_response`, :func:`encode_fault`,
:class:`RequestParser`) so a server needs nothing else. :func:`dumps` and :func:`loads`
are drop-in replacements for the :mod:`xmlrpc.client` functions of the same names.
Importing this package imports neither asyncio nor aiohttp.
"""

from ._api import (
    RequestParser,
    ResponseParser,
    dumps,
    encode_fault,
    encode_multicall,
    encode_request,
    encode_response,
    loads,
    parse_request,
    parse_response,
)
from ._cache import CacheStats, cache_stats, clear_caches
from ._limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_RESPONSE_BYTES, Limits
from ._scalars import parse_datetime

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "CacheStats",
    "Limits",
    "RequestParser",
    "ResponseParser",
    "cache_stats",
    "clear_caches",
    "dumps",
    "encode_fault",
    "encode_multicall",
    "encode_request",
    "encode_response",
    "loads",
    "parse_datetime",
    "parse_request",
    "parse_response",
]
