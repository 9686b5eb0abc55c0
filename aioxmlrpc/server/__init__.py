"""aioxmlrpc.server: an asyncio XML-RPC server on aiohttp.web and the same hardened codec.

Register functions (coroutines or plain ones) on an
[XMLRPCDispatcher][aioxmlrpc.server.XMLRPCDispatcher], the standard library's
``SimpleXMLRPCDispatcher`` API, then serve it on its own socket with
[serve][aioxmlrpc.server.serve], or mount it in an existing aiohttp application with
[make_app][aioxmlrpc.server.make_app] or [xmlrpc_handler][aioxmlrpc.server.xmlrpc_handler]
(or run it on any ASGI server with [asgi_app][aioxmlrpc.server.asgi_app])::

    from aioxmlrpc.server import XMLRPCDispatcher, serve

    dispatcher = XMLRPCDispatcher(allow_none=True)
    dispatcher.register_introspection_functions()
    dispatcher.register_multicall_functions()

    @dispatcher.register_function
    async def add(a: int, b: int) -> int:
        return a + b

    async with serve(dispatcher, "127.0.0.1", 8000) as server:
        await server.serve_forever()

Fault codes are the constants of :mod:`xmlrpc.client`, re-exported here.
"""

from xmlrpc.client import (
    INTERNAL_ERROR,
    INVALID_METHOD_PARAMS,
    INVALID_XMLRPC,
    METHOD_NOT_FOUND,
    NOT_WELLFORMED_ERROR,
)

from ._aiohttp import (
    DEFAULT_KEEPALIVE_TIMEOUT,
    DEFAULT_PATHS,
    DEFAULT_READ_TIMEOUT,
    XMLRPCServer,
    make_app,
    serve,
    xmlrpc_handler,
)
from ._asgi import asgi_app
from ._dispatcher import DEFAULT_MAX_MULTICALL_CALLS, DEFAULT_MAX_REQUEST_BYTES, XMLRPCDispatcher

__all__ = [
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_MAX_MULTICALL_CALLS",
    "DEFAULT_MAX_REQUEST_BYTES",
    "DEFAULT_PATHS",
    "DEFAULT_READ_TIMEOUT",
    "INTERNAL_ERROR",
    "INVALID_METHOD_PARAMS",
    "INVALID_XMLRPC",
    "METHOD_NOT_FOUND",
    "NOT_WELLFORMED_ERROR",
    "XMLRPCDispatcher",
    "XMLRPCServer",
    "asgi_app",
    "make_app",
    "serve",
    "xmlrpc_handler",
]
