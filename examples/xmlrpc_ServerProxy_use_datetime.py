"""Receive dates as ``datetime.datetime`` (``use_datetime=True``) or as ``DateTime``.

By default a ``dateTime.iso8601`` value arrives as an ``xmlrpc.client.DateTime``;
``use_datetime=True`` turns it into a standard ``datetime.datetime``.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_ServerProxy_use_datetime.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aioxmlrpc import AsyncServerProxy

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    async with AsyncServerProxy(url, use_datetime=True) as server:
        now = await server.now()
        print("With:", now, type(now), type(now).__name__)

    async with AsyncServerProxy(url, use_datetime=False) as server:
        now = await server.now()
        print("Without:", now, type(now), type(now).__name__)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
