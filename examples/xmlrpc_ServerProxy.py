"""Connect to a server and call a method that takes no arguments.

An ``AsyncServerProxy`` for the server's URL turns attribute access into remote calls;
``ping()`` takes no arguments and returns a single boolean.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_ServerProxy.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aioxmlrpc import AsyncServerProxy

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    async with AsyncServerProxy(url) as server:
        print("Ping:", await server.ping())


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
