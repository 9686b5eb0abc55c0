"""Send bytes that XML cannot carry as text, wrapped in ``Binary`` (base64).

Wrapped in ``Binary`` the bytes make the round trip intact. Sent as they are, the NUL
byte reaches the server, whose reply is then not well-formed XML: the parser's error is
an ``xml.parsers.expat.ExpatError`` (``aioxmlrpc.MalformedXML`` is one).

Run it against the example server (``python -m aioxmlrpc serve-example``)::

    python examples/xmlrpc_Binary.py [URL]

The URL is the first argument, else ``$AIOXMLRPC_URL``, else http://localhost:9000.
"""

from __future__ import annotations

import asyncio
import os
import sys
from xml.parsers.expat import ExpatError

from aioxmlrpc import AsyncServerProxy, Binary

DEFAULT_URL = "http://localhost:9000"


async def main(url: str) -> None:
    s = b"This is a string with control characters\x00"
    print("Local string:", s)

    async with AsyncServerProxy(url) as server:
        response = await server.send_back_binary(Binary(s))
        print("As binary:", response.data)

        try:
            print("As string:", await server.show_type(s))
        except ExpatError as err:
            print("\nERROR:", err)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AIOXMLRPC_URL", DEFAULT_URL)
    asyncio.run(main(url))
