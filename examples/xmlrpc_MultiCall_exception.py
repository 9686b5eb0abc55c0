"""A failed call inside a ``MultiCall``: its ``Fault`` is raised when its result is reached.

The results before the failed call are yielded; iterating stops at the fault, so the
results after it are not seen.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_MultiCall_exception.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aioxmlrpc import AsyncServerProxy, Fault, MultiCall

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    async with AsyncServerProxy(url) as server:
        multicall = MultiCall(server)
        multicall.ping()
        multicall.show_type(1)
        multicall.raises_exception("Next to last call stops execution")
        multicall.show_type("string")

        try:
            for i, result in enumerate(await multicall()):
                print(i, result)
        except Fault as err:
            print("ERROR:", err)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
