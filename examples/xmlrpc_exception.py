"""Catch an exception raised inside the server: it arrives as a ``Fault``.

Exception classes cannot cross XML-RPC; the server sends a fault code and a message
instead, raised here as ``aioxmlrpc.Fault`` (the ``xmlrpc.client.Fault`` class itself).

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_exception.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aioxmlrpc import AsyncServerProxy, Fault

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    async with AsyncServerProxy(url) as server:
        try:
            await server.raises_exception("A message")
        except Fault as err:
            print("Fault code:", err.faultCode)
            print("Message   :", err.faultString)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
