"""Pass instances of a Python class: they travel as structs of their attributes.

The server (and the client) receive a plain dictionary: nothing in the XML says which
class the values came from.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_types_object.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import pprint
import sys

from aioxmlrpc import AsyncServerProxy

DEFAULT_URL = "http://localhost:9000"


class MyObj:
    def __init__(self, a: object, b: object) -> None:
        self.a = a
        self.b = b

    def __repr__(self) -> str:
        return f"MyObj({self.a!r}, {self.b!r})"


async def main(url: str) -> None:
    async with AsyncServerProxy(url) as server:
        o = MyObj(1, "b goes here")
        print("o :", o)
        pprint.pprint(await server.show_type(o))

        o2 = MyObj(2, o)
        print("\no2 :", o2)
        pprint.pprint(await server.show_type(o2))


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
