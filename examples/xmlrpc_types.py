"""Pass each XML-RPC data type to the server and see what comes back.

``show_type`` returns the value's ``str()`` and type name as the server sees them, and
the value itself. Tuples arrive as lists and ``datetime`` values as ``DateTime``.

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_types.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys

from aioxmlrpc import AsyncServerProxy

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    data: list[tuple[str, object]] = [
        ("boolean", True),
        ("integer", 1),
        ("float", 2.5),
        ("string", "some text"),
        ("datetime", datetime.datetime.now()),
        ("array", ["a", "list"]),
        ("array", ("a", "tuple")),
        ("structure", {"a": "dictionary"}),
    ]
    async with AsyncServerProxy(url) as server:
        for kind, value in data:
            as_string, type_name, returned = await server.show_type(value)
            print(f"{kind:<12}: {as_string}")
            print(f"{'':12} {type_name}")
            print(f"{'':12} {returned}")


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
