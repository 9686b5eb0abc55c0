"""Combine several calls into one request with ``MultiCall`` (``system.multicall``).

Record the calls on a ``MultiCall``, then ``await`` it: one round trip sends them all and
the results come back in order.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_MultiCall.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aioxmlrpc import AsyncServerProxy, MultiCall

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    async with AsyncServerProxy(url) as server:
        multicall = MultiCall(server)
        multicall.ping()
        multicall.show_type(1)
        multicall.show_type("string")

        for i, result in enumerate(await multicall()):
            print(i, result)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
