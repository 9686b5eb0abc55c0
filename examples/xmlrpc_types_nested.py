"""Nest the XML-RPC types: a list of structs holding every type, there and back.

The data comes back unchanged, except that tuples become lists and ``datetime`` values
become ``DateTime`` objects.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_types_nested.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import pprint
import sys

from aioxmlrpc import AsyncServerProxy

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    data: dict[str, object] = {
        "boolean": True,
        "integer": 1,
        "floating-point number": 2.5,
        "string": "some text",
        "datetime": datetime.datetime.now(),
        "array": ("a", "tuple"),
        "structure": {"a": "dictionary"},
    }
    arg = [{**data, "integer": i} for i in range(3)]

    print("Before:")
    pprint.pprint(arg, width=40)

    async with AsyncServerProxy(url) as server:
        *_, returned = await server.show_type(arg)
    print("\nAfter:")
    pprint.pprint(returned, width=40)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
