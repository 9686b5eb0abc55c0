"""Send requests in another encoding than UTF-8.

With ``encoding="ISO-8859-1"`` the request document is encoded in Latin-1 and says so in
its XML declaration; the server detects the encoding by itself.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_ServerProxy_encoding.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aioxmlrpc import AsyncServerProxy

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    async with AsyncServerProxy(url, encoding="ISO-8859-1") as server:
        print("Ping:", await server.ping())


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
