"""The seed's thirteen client programs, as the seed writes them: sync ``xmlrpc.client``.

Each takes the server's URL and prints what the seed's program prints; the tests run them
against our example server and against the standard library's, and compare.
"""

from __future__ import annotations

import datetime
import pickle
import pprint
import xml.parsers.expat
import xmlrpc.client
from collections.abc import Callable
from typing import Any


def ServerProxy(url: str, **options: Any) -> Any:
    """``xmlrpc.client.ServerProxy``, untyped: the seed's code, as written."""
    return xmlrpc.client.ServerProxy(url, **options)


def MultiCall(server: Any) -> Any:
    return xmlrpc.client.MultiCall(server)


class MyObj:
    def __init__(self, a: object, b: object) -> None:
        self.a = a
        self.b = b

    def __repr__(self) -> str:
        return f"MyObj({self.a!r}, {self.b!r})"


def xmlrpc_ServerProxy(url: str) -> None:
    server = ServerProxy(url)
    print("Ping:", server.ping())


def xmlrpc_ServerProxy_verbose(url: str) -> None:
    server = ServerProxy(url, verbose=True)
    print("Ping:", server.ping())


def xmlrpc_ServerProxy_encoding(url: str) -> None:
    server = ServerProxy(url, encoding="ISO-8859-1")
    print("Ping:", server.ping())


def xmlrpc_ServerProxy_allow_none(url: str) -> None:
    server = ServerProxy(url, allow_none=False)
    try:
        server.show_type(None)
    except TypeError as err:
        print("ERROR:", err)
    server = ServerProxy(url, allow_none=True)
    print("Allowed:", server.show_type(None))


def xmlrpc_types(url: str) -> None:
    server = ServerProxy(url)
    data: list[tuple[str, Any]] = [
        ("boolean", True),
        ("integer", 1),
        ("float", 2.5),
        ("string", "some text"),
        ("datetime", datetime.datetime.now()),
        ("array", ["a", "list"]),
        ("array", ("a", "tuple")),
        ("structure", {"a": "dictionary"}),
    ]
    for t, v in data:
        as_string, type_name, value = server.show_type(v)
        print(f"{t:<12}: {as_string}")
        print("{:12} {}".format("", type_name))
        print("{:12} {}".format("", value))


def xmlrpc_types_nested(url: str) -> None:
    server = ServerProxy(url)
    # The seed's output has one 'array' key (its program repeated the key).
    data = {
        "boolean": True,
        "integer": 1,
        "floating-point number": 2.5,
        "string": "some text",
        "datetime": datetime.datetime.now(),
        "array": ("a", "tuple"),
        "structure": {"a": "dictionary"},
    }
    arg = []
    for i in range(3):
        d: dict[str, object] = {}
        d.update(data)
        d["integer"] = i
        arg.append(d)
    print("Before:")
    pprint.pprint(arg, width=40)
    print("\nAfter:")
    pprint.pprint(server.show_type(arg)[-1], width=40)


def xmlrpc_ServerProxy_use_datetime(url: str) -> None:
    server = ServerProxy(url, use_datetime=True)
    now = server.now()
    print("With:", now, type(now), now.__class__.__name__)
    server = ServerProxy(url, use_datetime=False)
    now = server.now()
    print("Without:", now, type(now), now.__class__.__name__)


def xmlrpc_types_object(url: str) -> None:
    server = ServerProxy(url)
    o = MyObj(1, "b goes here")
    print("o :", o)
    pprint.pprint(server.show_type(o))
    o2 = MyObj(2, o)
    print("\no2 :", o2)
    pprint.pprint(server.show_type(o2))


def xmlrpc_Binary(url: str) -> None:
    server = ServerProxy(url)
    s = b"This is a string with control characters\x00"
    print("Local string:", s)
    data = xmlrpc.client.Binary(s)
    response = server.send_back_binary(data)
    print("As binary:", response.data)
    try:
        print("As string:", server.show_type(s))
    except xml.parsers.expat.ExpatError as err:
        print("\nERROR:", err)


def xmlrpc_Binary_pickle(url: str) -> None:
    server = ServerProxy(url)
    o = MyObj(1, "b goes here")
    print("Local:", id(o))
    print(o)
    print("\nAs object:")
    pprint.pprint(server.show_type(o))
    p = pickle.dumps(o)
    b = xmlrpc.client.Binary(p)
    r = server.send_back_binary(b)
    o2 = pickle.loads(r.data)  # noqa: S301 - our own object, from our own server
    print("\nFrom pickle:", id(o2))
    pprint.pprint(o2)


def xmlrpc_exception(url: str) -> None:
    server = ServerProxy(url)
    try:
        server.raises_exception("A message")
    except Exception as err:
        fault: Any = err
        print("Fault code:", fault.faultCode)
        print("Message   :", fault.faultString)


def xmlrpc_MultiCall(url: str) -> None:
    server = ServerProxy(url)
    multicall = MultiCall(server)
    multicall.ping()
    multicall.show_type(1)
    multicall.show_type("string")
    for i, r in enumerate(multicall()):
        print(i, r)


def xmlrpc_MultiCall_exception(url: str) -> None:
    server = ServerProxy(url)
    multicall = MultiCall(server)
    multicall.ping()
    multicall.show_type(1)
    multicall.raises_exception("Next to last call stops execution")
    multicall.show_type("string")
    try:
        for i, r in enumerate(multicall()):
            print(i, r)
    except xmlrpc.client.Fault as err:
        print("ERROR:", err)


PROGRAMS: dict[str, Callable[[str], None]] = {
    function.__name__: function
    for function in (
        xmlrpc_ServerProxy,
        xmlrpc_ServerProxy_verbose,
        xmlrpc_ServerProxy_encoding,
        xmlrpc_ServerProxy_allow_none,
        xmlrpc_types,
        xmlrpc_types_nested,
        xmlrpc_ServerProxy_use_datetime,
        xmlrpc_types_object,
        xmlrpc_Binary,
        xmlrpc_Binary_pickle,
        xmlrpc_exception,
        xmlrpc_MultiCall,
        xmlrpc_MultiCall_exception,
    )
}
