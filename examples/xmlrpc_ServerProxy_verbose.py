"""Show the HTTP exchange of a call with ``verbose=True``.

The proxy prints what it sends and what it receives, as the standard library's
``http.client`` debug output does: the request head and body (``send:``), the status line
(``reply:``), each response header (``header:``) and the body (``body:``). Credentials in
the URL are never shown.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_ServerProxy_verbose.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aioxmlrpc import AsyncServerProxy

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    async with AsyncServerProxy(url, verbose=True) as server:
        print("Ping:", await server.ping())


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
