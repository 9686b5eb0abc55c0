"""Send a Python object as a pickle inside ``Binary``, and rebuild it from the reply.

Passed directly, an object arrives as a plain dictionary; pickled into a ``Binary`` it
comes back as bytes that unpickle to a new ``MyObj`` (with a new id). Only unpickle data
from a server you trust, over a channel you trust: a pickle can run any code.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_Binary_pickle.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import pprint
import sys

from aioxmlrpc import AsyncServerProxy, Binary

DEFAULT_URL = "http://localhost:9000"


class MyObj:
    def __init__(self, a: object, b: object) -> None:
        self.a = a
        self.b = b

    def __repr__(self) -> str:
        return f"MyObj({self.a!r}, {self.b!r})"


async def main(url: str) -> None:
    o = MyObj(1, "b goes here")
    print("Local:", id(o))
    print(o)

    async with AsyncServerProxy(url) as server:
        print("\nAs object:")
        pprint.pprint(await server.show_type(o))

        reply = await server.send_back_binary(Binary(pickle.dumps(o)))

    o2 = pickle.loads(reply.data)
    print("\nFrom pickle:", id(o2))
    pprint.pprint(o2)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
