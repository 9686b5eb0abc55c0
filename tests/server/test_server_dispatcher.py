"""The dispatcher without HTTP: registration, faults, options, introspection, multicall.

Requests are written with ``xmlrpc.client.dumps`` and responses read with
``xmlrpc.client.loads``: the standard library on both sides of our dispatcher.
"""

from __future__ import annotations

import asyncio
import collections.abc
import datetime
import decimal
import threading
import xmlrpc.client
from typing import Annotated, Any, Literal, Optional, Union

import pytest

from aioxmlrpc import Binary, DateTime, Fault
from aioxmlrpc.codec import Limits
from aioxmlrpc.server import (
    INTERNAL_ERROR,
    INVALID_METHOD_PARAMS,
    INVALID_XMLRPC,
    METHOD_NOT_FOUND,
    NOT_WELLFORMED_ERROR,
    XMLRPCDispatcher,
)
from aioxmlrpc.server._introspect import method_signature

from servers import BILLION_LAUGHS


def request(method: str, *params: Any, encoding: str | None = None) -> bytes:
    text = xmlrpc.client.dumps(params, method, encoding=encoding, allow_none=True)
    return text.encode(encoding or "utf-8", "xmlcharrefreplace")


async def call(dispatcher: XMLRPCDispatcher, method: str, *params: Any, **options: Any) -> Any:
    body = await dispatcher.dispatch_body(request(method, *params), **options)
    (value,), _ = xmlrpc.client.loads(body, use_builtin_types=False)
    return value


async def fault_of(dispatcher: XMLRPCDispatcher, body: bytes) -> tuple[int, str]:
    with pytest.raises(Fault) as info:
        xmlrpc.client.loads(await dispatcher.dispatch_body(body))
    return info.value.faultCode, info.value.faultString


def full() -> XMLRPCDispatcher:
    dispatcher = XMLRPCDispatcher(allow_none=True)
    dispatcher.register_introspection_functions()
    dispatcher.register_multicall_functions()

    @dispatcher.register_function
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @dispatcher.register_function(name="async.sleep")
    async def sleep(seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return True

    @dispatcher.register_function
    def fail(message: str) -> None:
        raise RuntimeError(message)

    @dispatcher.register_function
    def refuse(code: int, text: str) -> None:
        raise Fault(code, text)

    @dispatcher.register_function
    def wrong_inside() -> int:
        return len(1)  # type: ignore[arg-type]

    return dispatcher


# -- registration ---------------------------------------------------------------------------


def test_register_function_returns_the_function_bare_and_with_arguments() -> None:
    dispatcher = XMLRPCDispatcher()

    def f() -> int:
        return 1

    assert dispatcher.register_function(f) is f
    assert dispatcher.register_function(name="g")(f) is f
    assert dispatcher.register_function(f, "h") is f
    assert dispatcher.funcs == {"f": f, "g": f, "h": f}


async def test_coroutine_and_plain_functions_are_called_alike() -> None:
    dispatcher = full()
    assert await call(dispatcher, "add", 2, 3) == 5
    assert await call(dispatcher, "async.sleep", 0) is True


async def test_plain_functions_registered_in_thread_run_off_the_loop() -> None:
    dispatcher = XMLRPCDispatcher()
    threads: list[str] = []

    def where() -> str:
        threads.append(threading.current_thread().name)
        return "ok"

    dispatcher.register_function(where, in_thread=True)
    dispatcher.register_function(where, "inline")
    assert await call(dispatcher, "where") == "ok"
    assert await call(dispatcher, "inline") == "ok"
    assert threads[0] != threading.current_thread().name
    assert threads[1] == threading.current_thread().name
    code, text = await fault_of(dispatcher, request("where", 1))
    assert code == INVALID_METHOD_PARAMS, text


async def test_instance_methods_are_served_and_private_ones_never() -> None:
    class Service:
        def __init__(self) -> None:
            self.child = Child()

        def hello(self, name: str) -> str:
            return f"hello {name}"

        def _secret(self) -> str:
            return "no"

    class Child:
        def leaf(self) -> str:
            return "leaf"

    dispatcher = XMLRPCDispatcher()
    dispatcher.register_instance(Service())
    assert await call(dispatcher, "hello", "you") == "hello you"
    for name in ("_secret", "child.leaf", "__init__", "child"):
        code, _ = await fault_of(dispatcher, request(name))
        assert code == METHOD_NOT_FOUND, name
    dispatcher.register_instance(Service(), allow_dotted_names=True)
    assert await call(dispatcher, "child.leaf") == "leaf"
    code, _ = await fault_of(dispatcher, request("child._x"))
    assert code == METHOD_NOT_FOUND


async def test_the_instances_dispatch_hook_receives_every_unregistered_call() -> None:
    class Hooked:
        async def _dispatch(self, method: str, params: tuple[Any, ...]) -> Any:
            if method == "boom":
                raise ValueError("bad")
            return [method, list(params)]

    dispatcher = XMLRPCDispatcher()
    dispatcher.register_introspection_functions()
    dispatcher.register_instance(Hooked())
    assert await call(dispatcher, "any.name", 1, "x") == ["any.name", [1, "x"]]
    assert await fault_of(dispatcher, request("boom")) == (1, "<class 'ValueError'>:bad")
    # Registered functions come first, as in the standard library.
    assert "system.listMethods" in await call(dispatcher, "system.listMethods")


# -- faults ---------------------------------------------------------------------------------


async def test_fault_codes_name_what_went_wrong() -> None:
    dispatcher = full()
    assert (await fault_of(dispatcher, request("nope")))[0] == METHOD_NOT_FOUND
    code, text = await fault_of(dispatcher, request("add", 1))
    assert code == INVALID_METHOD_PARAMS
    assert "missing 1 required positional argument" in text
    assert (await fault_of(dispatcher, request("add", 1, 2, 3)))[0] == INVALID_METHOD_PARAMS
    assert (await fault_of(dispatcher, b"<methodCall><methodName>x"))[0] == NOT_WELLFORMED_ERROR
    assert (await fault_of(dispatcher, b"not xml at all"))[0] == NOT_WELLFORMED_ERROR
    response = xmlrpc.client.dumps((1,), methodresponse=True).encode()
    assert (await fault_of(dispatcher, response))[0] == INVALID_XMLRPC
    assert (await fault_of(dispatcher, b"<foo/>"))[0] == INVALID_XMLRPC
    bad_value = request("add", 1, 2).replace(b"<int>2</int>", b"<int>1e+100</int>")
    code, text = await fault_of(dispatcher, bad_value)
    assert code == INVALID_XMLRPC
    assert "bad <int> value '1e+100'" in text


async def test_a_typeerror_raised_inside_the_method_is_fault_1_not_invalid_params() -> None:
    code, text = await fault_of(full(), request("wrong_inside"))
    assert code == 1
    assert text.startswith("<class 'TypeError'>:")


async def test_a_method_exception_is_fault_1_as_the_standard_library_writes_it() -> None:
    code, text = await fault_of(full(), request("fail", "A message"))
    assert (code, text) == (1, "<class 'RuntimeError'>:A message")
    assert "Traceback" not in text


async def test_debug_adds_the_traceback() -> None:
    dispatcher = full()
    dispatcher.debug = True
    code, text = await fault_of(dispatcher, request("fail", "A message"))
    assert code == 1
    assert text.startswith("<class 'RuntimeError'>:A message\nTraceback")


async def test_a_users_fault_passes_through_unchanged() -> None:
    assert await fault_of(full(), request("refuse", 42, "nope")) == (42, "nope")


async def test_an_unmarshallable_result_is_fault_1() -> None:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_function(lambda: {1, 2}, "aset")
    dispatcher.register_function(lambda: None, "none")
    dispatcher.register_function(lambda: 2**40, "big")
    assert await fault_of(dispatcher, request("aset")) == (
        1,
        "<class 'TypeError'>:cannot marshal <class 'set'> objects",
    )
    assert (await fault_of(dispatcher, request("none")))[1].startswith("<class 'TypeError'>:")
    assert (await fault_of(dispatcher, request("big")))[1].startswith("<class 'OverflowError'>")


async def test_a_fault_that_cannot_be_marshalled_becomes_an_internal_error() -> None:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_function(lambda: (_ for _ in ()).throw(Fault(1, "a\x00b")), "bad")
    assert (await fault_of(dispatcher, request("bad")))[0] == INTERNAL_ERROR


@pytest.mark.parametrize("exc", [asyncio.CancelledError, KeyboardInterrupt, SystemExit])
async def test_base_exceptions_are_never_turned_into_faults(exc: type[BaseException]) -> None:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_multicall_functions()

    def raiser() -> None:
        raise exc

    dispatcher.register_function(raiser)
    with pytest.raises(exc):
        await dispatcher.dispatch_body(request("raiser"))
    with pytest.raises(exc):
        await dispatcher.dispatch_body(
            request("system.multicall", [{"methodName": "raiser", "params": []}])
        )


# -- options --------------------------------------------------------------------------------


async def test_allow_none_and_allow_i8() -> None:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_function(lambda: None, "none")
    dispatcher.register_function(lambda: 2**40, "big")
    assert (await fault_of(dispatcher, request("none")))[0] == 1
    dispatcher.allow_none = True
    dispatcher.allow_i8 = True
    assert await call(dispatcher, "none") is None
    body = await dispatcher.dispatch_body(request("big"))
    assert b"<i8>1099511627776</i8>" in body
    assert xmlrpc.client.loads(body)[0] == (2**40,)


async def test_use_builtin_types_and_use_datetime_shape_the_parameters() -> None:
    seen: list[object] = []
    stamp = datetime.datetime(2024, 2, 29, 12, 0, 0)

    def record(*values: object) -> bool:
        seen.extend(values)
        return True

    cases: list[tuple[dict[str, Any], tuple[type, ...]]] = [
        ({}, (Binary, DateTime)),
        ({"use_builtin_types": True}, (bytes, datetime.datetime)),
        ({"use_datetime": True}, (Binary, datetime.datetime)),
    ]
    for options, expected in cases:
        dispatcher = XMLRPCDispatcher(**options)
        dispatcher.register_function(record)
        seen.clear()
        await call(dispatcher, "record", Binary(b"\x00"), stamp)
        assert tuple(type(value) for value in seen) == expected, options


async def test_a_latin1_request_is_read_and_the_response_encoding_is_configurable() -> None:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_function(lambda text: text.upper(), "upper")
    body = request("upper", "café", encoding="ISO-8859-1")
    assert b"caf\xe9" in body
    reply = await dispatcher.dispatch_body(body)
    assert xmlrpc.client.loads(reply)[0] == ("CAFÉ",)
    dispatcher.encoding = "ISO-8859-1"
    reply = await dispatcher.dispatch_body(body)
    assert reply.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    assert b"CAF\xc9" in reply
    assert xmlrpc.client.loads(reply)[0] == ("CAFÉ",)


async def test_limits_given_to_dispatch_body_bound_size_and_depth() -> None:
    dispatcher = XMLRPCDispatcher()
    dispatcher.register_function(lambda value: True, "take")
    deep: Any = "x"
    for _ in range(20):
        deep = [deep]
    code, text = await fault_of_limits(dispatcher, request("take", deep), Limits(max_depth=10))
    assert code == INVALID_XMLRPC, text
    code, text = await fault_of_limits(
        dispatcher, request("take", "x" * 500), Limits(max_bytes=200)
    )
    assert code == INVALID_XMLRPC, text
    assert await call(dispatcher, "take", deep, limits=Limits(max_depth=30)) is True


async def fault_of_limits(
    dispatcher: XMLRPCDispatcher, body: bytes, limits: Limits
) -> tuple[int, str]:
    with pytest.raises(Fault) as info:
        xmlrpc.client.loads(await dispatcher.dispatch_body(body, limits))
    return info.value.faultCode, info.value.faultString


async def test_dtds_and_entities_are_parse_errors() -> None:
    request_bomb = BILLION_LAUGHS.replace(b"methodResponse", b"methodCall")
    code, text = await fault_of(full(), request_bomb)
    assert code == NOT_WELLFORMED_ERROR
    assert "DTD" in text


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="max_multicall_calls"):
        XMLRPCDispatcher(max_multicall_calls=0)
    with pytest.raises(ValueError, match="multicall_concurrency"):
        XMLRPCDispatcher(multicall_concurrency=0)


# -- multicall ------------------------------------------------------------------------------


def calls(*pairs: tuple[str, list[Any]]) -> list[dict[str, Any]]:
    return [{"methodName": name, "params": params} for name, params in pairs]


async def test_multicall_answers_each_call_with_its_result_or_its_fault() -> None:
    results = await call(
        full(),
        "system.multicall",
        calls(("add", [1, 2]), ("fail", ["x"]), ("nope", []), ("refuse", [7, "no"]), ("add", [1])),
    )
    assert results[0] == [3]
    assert results[1] == {"faultCode": 1, "faultString": "<class 'RuntimeError'>:x"}
    assert results[2]["faultCode"] == METHOD_NOT_FOUND
    assert results[3] == {"faultCode": 7, "faultString": "no"}
    assert results[4]["faultCode"] == INVALID_METHOD_PARAMS


async def test_multicall_refuses_nesting_and_malformed_entries_per_item() -> None:
    results = await call(
        full(),
        "system.multicall",
        [
            {"methodName": "system.multicall", "params": [[]]},
            ["not", "a", "struct"],
            {"params": []},
            {"methodName": "add", "params": "12"},
            {"methodName": "add", "params": [2, 2]},
        ],
    )
    assert [item["faultCode"] for item in results[:4]] == [INVALID_XMLRPC] * 4
    assert "nested" in results[0]["faultString"]
    assert results[4] == [4]


async def test_multicall_refuses_more_calls_than_its_cap_as_a_whole() -> None:
    dispatcher = full()
    dispatcher.max_multicall_calls = 3
    body = request("system.multicall", calls(*[("add", [1, 1])] * 4))
    code, text = await fault_of(dispatcher, body)
    assert code == INVALID_XMLRPC
    assert "4 calls exceeds 3 (max_multicall_calls)" in text
    assert (await fault_of(dispatcher, request("system.multicall", "x")))[0] == (
        INVALID_METHOD_PARAMS
    )
    assert await call(dispatcher, "system.multicall", calls(*[("add", [1, 1])] * 3)) == [[2]] * 3


async def test_multicall_runs_in_order_one_at_a_time_by_default_else_bounded() -> None:
    running = 0
    peak = 0
    order: list[int] = []

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (5 - n % 5))
        order.append(n)
        running -= 1
        return n

    for concurrency, expected_peak in [(1, 1), (3, 3)]:
        dispatcher = XMLRPCDispatcher(multicall_concurrency=concurrency)
        dispatcher.register_multicall_functions()
        dispatcher.register_function(work)
        peak = 0
        order.clear()
        results = await call(
            dispatcher, "system.multicall", calls(*[("work", [n]) for n in range(9)])
        )
        assert results == [[n] for n in range(9)]  # results in call order either way
        assert peak == expected_peak
        if concurrency == 1:
            assert order == list(range(9))
        else:
            assert order != list(range(9))


# -- introspection --------------------------------------------------------------------------


async def test_list_methods_lists_functions_and_public_instance_methods() -> None:
    class Service:
        def visible(self) -> None:
            pass

        def _hidden(self) -> None:
            pass

    dispatcher = full()
    dispatcher.register_instance(Service())
    names = await call(dispatcher, "system.listMethods")
    assert names == sorted(names)
    assert {"add", "async.sleep", "visible", "system.multicall", "system.getCapabilities"} <= set(
        names
    )
    assert "_hidden" not in names


async def test_method_signature_comes_from_type_hints() -> None:
    dispatcher = full()

    @dispatcher.register_function
    def typed(
        a: int,
        b: float,
        c: str,
        d: bool,
        e: bytes,
        f: datetime.datetime,
        g: list[int],
        h: dict[str, Any],
    ) -> None:
        pass

    @dispatcher.register_function
    def optional(a: int, b: str | None = None) -> str:
        return ""

    @dispatcher.register_function
    def untyped(a, b):  # type: ignore[no-untyped-def]
        return a

    @dispatcher.register_function
    def varargs(*values: int) -> int:
        return 0

    signature = "system.methodSignature"
    assert await call(dispatcher, signature, "add") == [["int", "int", "int"]]
    assert await call(dispatcher, signature, "typed") == [
        [
            "nil",
            "int",
            "double",
            "string",
            "boolean",
            "base64",
            "dateTime.iso8601",
            "array",
            "struct",
        ]
    ]
    assert await call(dispatcher, signature, "optional") == [
        ["string", "int"],
        ["string", "int", "string"],
        ["string", "int", "nil"],
    ]
    assert await call(dispatcher, signature, "async.sleep") == [["boolean", "double"]]
    assert await call(dispatcher, signature, "untyped") == "signatures not supported"
    assert await call(dispatcher, signature, "varargs") == "signatures not supported"
    assert await call(dispatcher, signature, "system.listMethods") == [["array"]]
    code, _ = await fault_of(dispatcher, request(signature, "nope"))
    assert code == METHOD_NOT_FOUND


async def test_method_help_comes_from_docstrings() -> None:
    dispatcher = full()
    assert await call(dispatcher, "system.methodHelp", "add") == "Add two integers."
    assert await call(dispatcher, "system.methodHelp", "fail") == ""
    assert "several calls" in await call(dispatcher, "system.methodHelp", "system.multicall")


async def test_instance_hooks_answer_list_methods_help_and_signatures() -> None:
    class Hooked:
        def _listMethods(self) -> list[str]:
            return ["virtual"]

        def _methodHelp(self, name: str) -> str:
            return f"help for {name}"

        def _methodSignature(self, name: str) -> list[list[str]]:
            return [["string"]]

        def _dispatch(self, method: str, params: tuple[Any, ...]) -> str:
            return method

    dispatcher = full()
    dispatcher.register_instance(Hooked())
    assert "virtual" in await call(dispatcher, "system.listMethods")
    assert await call(dispatcher, "system.methodHelp", "virtual") == "help for virtual"
    assert await call(dispatcher, "system.methodSignature", "virtual") == [["string"]]
    assert await call(dispatcher, "virtual") == "virtual"


async def test_get_capabilities_names_the_specifications() -> None:
    capabilities = await call(full(), "system.getCapabilities")
    assert {"xmlrpc", "faults_interop", "introspection", "system.multicall", "nil"} <= set(
        capabilities
    )
    assert capabilities["faults_interop"]["specVersion"] == 20010516
    plain = XMLRPCDispatcher()
    plain.register_introspection_functions()
    assert set(await call(plain, "system.getCapabilities")) == {
        "xmlrpc",
        "faults_interop",
        "introspection",
    }


class MyDict(dict[str, int]):
    pass


class Unknown:
    pass


def _annotated(a: Annotated[int, "meta"]) -> Literal["x", 1]:
    return "x"


def _old_union(a: Union[int, str], b: Optional[bool]) -> decimal.Decimal:  # noqa: UP007, UP045
    return decimal.Decimal(1)


def _abstract(a: collections.abc.Mapping[str, int], b: collections.abc.Sequence[int]) -> MyDict:
    return MyDict()


def _unknown(a: Unknown) -> int:
    return 0


def _keyword_only(*, a: int) -> int:
    return a


def _no_return(a: int):  # type: ignore[no-untyped-def]
    return a


def _forward(a: NotDefinedAnywhere) -> int:  # type: ignore[name-defined]  # noqa: F821
    return 0


def _many(a: int | str | bool, b: int | str | bool, c: int | str | bool, d: int | str) -> int:
    return 0


def test_signatures_of_unusual_hints() -> None:
    assert method_signature(_annotated) == [["string", "int"], ["int", "int"]]
    assert method_signature(_old_union) == [
        ["double", "int", "boolean"],
        ["double", "int", "nil"],
        ["double", "string", "boolean"],
        ["double", "string", "nil"],
    ]
    assert method_signature(_abstract) == [["struct", "struct", "array"]]
    for function in (_unknown, _keyword_only, _no_return, _forward, len):
        assert method_signature(function) == "signatures not supported", function
    assert len(method_signature(_many)) == 32  # capped
