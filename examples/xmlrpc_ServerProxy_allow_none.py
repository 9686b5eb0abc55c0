"""Send ``None``: refused locally unless ``allow_none`` is enabled.

Without ``allow_none`` the call raises ``TypeError`` before anything is sent; with it,
``None`` travels as ``<nil/>`` (the example server accepts it too).

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_ServerProxy_allow_none.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aioxmlrpc import AsyncServerProxy

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    async with AsyncServerProxy(url, allow_none=False) as server:
        try:
            await server.show_type(None)
        except TypeError as err:
            print("ERROR:", err)

    async with AsyncServerProxy(url, allow_none=True) as server:
        print("Allowed:", await server.show_type(None))


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
