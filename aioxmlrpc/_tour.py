"""The demo tour: every example of the seed, async, against the example server, narrated.

``python -m aioxmlrpc demo`` starts :class:`~._example_server.ExampleServer` on a free
loopback port and runs each step below in order, printing what it does and what comes
back, so a newcomer sees every feature work in one run.
"""

from __future__ import annotations

import datetime
import pickle
import pprint
import xml.parsers.expat
from collections.abc import Awaitable, Callable
from typing import TextIO

from ._exceptions import Fault
from ._multicall import MultiCall
from ._proxy import AsyncServerProxy
from ._types import Binary

__all__ = ["run_tour"]

Step = Callable[[str, TextIO], Awaitable[None]]


class MyObj:
    """An ordinary object: it travels as a struct of its attributes."""

    def __init__(self, a: object, b: object) -> None:
        self.a = a
        self.b = b

    def __repr__(self) -> str:
        return f"MyObj({self.a!r}, {self.b!r})"


async def connecting(url: str, out: TextIO) -> None:
    """The simplest call: ping() takes nothing and returns a boolean."""
    async with AsyncServerProxy(url) as server:
        print("Ping:", await server.ping(), file=out)


async def verbose(url: str, out: TextIO) -> None:
    """verbose=True prints the HTTP exchange, as xmlrpc.client does."""
    async with AsyncServerProxy(url, verbose=True) as server:
        print("Ping:", await server.ping(), file=out)


async def encoding(url: str, out: TextIO) -> None:
    """The request can be sent in another encoding; the server detects it."""
    async with AsyncServerProxy(url, encoding="ISO-8859-1") as server:
        print("Ping:", await server.ping(), file=out)


async def allow_none(url: str, out: TextIO) -> None:
    """None is refused locally unless allow_none, then sent as <nil/>."""
    async with AsyncServerProxy(url, allow_none=False) as server:
        try:
            await server.show_type(None)
        except TypeError as err:
            print("ERROR:", err, file=out)
    async with AsyncServerProxy(url, allow_none=True) as server:
        print("Allowed:", await server.show_type(None), file=out)


async def data_types(url: str, out: TextIO) -> None:
    """Each XML-RPC type, sent to show_type() and back."""
    data = [
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
        for name, value in data:
            as_string, type_name, back = await server.show_type(value)
            print(f"{name:<12}: {as_string}", file=out)
            print(f"{'':12} {type_name}", file=out)
            print(f"{'':12} {back}", file=out)


async def nested_types(url: str, out: TextIO) -> None:
    """Types nest: a list of structs of every type makes the round trip."""
    data = {
        "boolean": True,
        "integer": 1,
        "floating-point number": 2.5,
        "string": "some text",
        "datetime": datetime.datetime.now(),
        "array1": ["a", "list"],
        "array2": ("a", "tuple"),
        "structure": {"a": "dictionary"},
    }
    arg = [{**data, "integer": i} for i in range(3)]
    print("Before:", file=out)
    pprint.pprint(arg, width=40, stream=out)
    async with AsyncServerProxy(url) as server:
        result = await server.show_type(arg)
    print("\nAfter:", file=out)
    pprint.pprint(result[-1], width=40, stream=out)


async def use_datetime(url: str, out: TextIO) -> None:
    """use_datetime returns datetime objects instead of DateTime wrappers."""
    async with AsyncServerProxy(url, use_datetime=True) as server:
        now = await server.now()
        print("With:", now, type(now), type(now).__name__, file=out)
    async with AsyncServerProxy(url, use_datetime=False) as server:
        now = await server.now()
        print("Without:", now, type(now), type(now).__name__, file=out)


async def passing_objects(url: str, out: TextIO) -> None:
    """Objects travel as structs of their attributes and come back as dicts."""
    async with AsyncServerProxy(url) as server:
        o = MyObj(1, "b goes here")
        print("o  :", o, file=out)
        pprint.pprint(await server.show_type(o), stream=out)
        o2 = MyObj(2, o)
        print("\no2 :", o2, file=out)
        pprint.pprint(await server.show_type(o2), stream=out)


async def binary(url: str, out: TextIO) -> None:
    """Bytes travel as base64; a control character in a plain string cannot travel."""
    s = b"This is a string with control characters\x00"
    print("Local string:", s, file=out)
    async with AsyncServerProxy(url) as server:
        response = await server.send_back_binary(Binary(s))
        print("As binary:", response.data, file=out)
        try:
            print("As string:", await server.show_type(s), file=out)
        except xml.parsers.expat.ExpatError as err:
            print("\nERROR:", err, file=out)


async def binary_pickle(url: str, out: TextIO) -> None:
    """Pickled objects can ride in a Binary (only between parties that trust each other)."""
    async with AsyncServerProxy(url) as server:
        o = MyObj(1, "b goes here")
        print("Local:", id(o), file=out)
        print(o, file=out)
        print("\nAs object:", file=out)
        pprint.pprint(await server.show_type(o), stream=out)
        echoed = await server.send_back_binary(Binary(pickle.dumps(o)))
        o2 = pickle.loads(echoed.data)  # noqa: S301 - our own object, from our own server
        print("\nFrom pickle:", id(o2), file=out)
        pprint.pprint(o2, stream=out)


async def exceptions(url: str, out: TextIO) -> None:
    """A server-side exception arrives as a Fault with a code and a message."""
    async with AsyncServerProxy(url) as server:
        try:
            await server.raises_exception("A message")
        except Fault as err:
            print("Fault code:", err.faultCode, file=out)
            print("Message   :", err.faultString, file=out)


async def multicall(url: str, out: TextIO) -> None:
    """MultiCall sends several calls in one request."""
    async with AsyncServerProxy(url) as server:
        batch = MultiCall(server)
        batch.ping()
        batch.show_type(1)
        batch.show_type("string")
        for i, result in enumerate(await batch()):
            print(i, result, file=out)


async def multicall_fault(url: str, out: TextIO) -> None:
    """A failed call in a MultiCall raises its Fault when its result is reached."""
    async with AsyncServerProxy(url) as server:
        batch = MultiCall(server)
        batch.ping()
        batch.show_type(1)
        batch.raises_exception("Next to last call stops execution")
        batch.show_type("string")
        try:
            for i, result in enumerate(await batch()):
                print(i, result, file=out)
        except Fault as err:
            print("ERROR:", err, file=out)


STEPS: list[tuple[str, Step]] = [
    ("Connecting to a server", connecting),
    ("Verbose output", verbose),
    ("Another encoding", encoding),
    ("None and allow_none", allow_none),
    ("Data types", data_types),
    ("Nested types", nested_types),
    ("datetime or DateTime", use_datetime),
    ("Passing objects", passing_objects),
    ("Binary data", binary),
    ("Objects in pickles", binary_pickle),
    ("Exception handling", exceptions),
    ("Combining calls into one message", multicall),
    ("A fault inside a MultiCall", multicall_fault),
]


async def run_tour(url: str, out: TextIO) -> None:
    """Run every step against the server at ``url``, printing to ``out``."""
    for number, (title, step) in enumerate(STEPS, 1):
        print(f"\n== {number}. {title} ==", file=out)
        print(f"   {(step.__doc__ or '').strip()}\n", file=out)
        await step(url, out)
