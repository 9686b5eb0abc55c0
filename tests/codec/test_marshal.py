"""Marshalling: the standard library is the oracle, byte for byte where we promise it."""

from __future__ import annotations

import datetime
import enum
import xmlrpc.client
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioxmlrpc import Binary, DateTime, Fault
from aioxmlrpc.codec import (
    dumps,
    encode_fault,
    encode_multicall,
    encode_request,
    encode_response,
    loads,
    parse_request,
    parse_response,
)

from strategies import as_read, values, xml_text


def _any(value: object) -> Any:
    """Pass values to the stdlib, whose stubs type them narrower than it accepts."""
    return value


def _has_base64(value: object) -> bool:
    """Whether ``value`` writes differently from the stdlib by design (see _marshal.py):
    base64 that the standard library wraps, of more than 57 bytes."""
    if isinstance(value, Binary):
        return len(value.data) > 57
    if isinstance(value, (bytes, bytearray)):
        return len(value) > 57
    if isinstance(value, dict):
        return any(_has_base64(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_base64(v) for v in value)
    return False


@pytest.mark.timeout(300)  # property tests run slower under coverage
@given(values(allow_none=True))
def test_output_is_the_stdlibs_byte_for_byte(value: object) -> None:
    ours = dumps((value,), methodresponse=True, allow_none=True)
    theirs = xmlrpc.client.dumps(_any((value,)), methodresponse=True, allow_none=True)
    if _has_base64(value):
        # One-line base64 differs by design past 57 bytes; the stdlib reads it exactly.
        assert xmlrpc.client.loads(ours)[0][0] == as_read(value)
    else:
        assert ours == theirs


@pytest.mark.timeout(300)  # property tests run slower under coverage
@given(values(allow_none=True))
def test_values_round_trip_exactly_through_both_parsers(value: object) -> None:
    # Exactly, but for "\r", which both read back as a line end, as they write it as is.
    body = encode_request("echo", (value,), allow_none=True)
    assert parse_request(body) == ("echo", (as_read(value),))
    assert xmlrpc.client.loads(body) == ((as_read(value),), "echo")


@pytest.mark.parametrize(
    "value",
    [
        "  padded  ",
        "\t\n",
        "",
        "a&b<c>d]]>e",
        "\U0001f600 𝄞 é",
    ],
)
def test_strings_keep_every_character(value: str) -> None:
    assert parse_response(encode_response(value)) == value
    assert xmlrpc.client.loads(encode_response(value))[0][0] == value


@pytest.mark.parametrize(
    ("value", "read"),
    [("carriage\rreturn", "carriage\nreturn"), ("windows\r\nline", "windows\nline")],
)
def test_a_carriage_return_is_written_as_is_and_read_as_a_line_end(value: str, read: str) -> None:
    # As the standard library writes it: "&#13;" would keep it, but a server whose parser
    # decodes no character reference (ROS's XmlRpc++) would get those five characters.
    assert dumps((value,)) == xmlrpc.client.dumps((value,))
    assert dumps(({value: value},)) == xmlrpc.client.dumps(({value: value},))
    assert parse_response(encode_response(value)) == read
    assert xmlrpc.client.loads(encode_response(value))[0][0] == read


def test_none_needs_allow_none_with_the_stdlibs_message() -> None:
    with pytest.raises(TypeError, match="cannot marshal None unless allow_none is enabled"):
        dumps((None,))
    assert "<nil/>" in dumps((None,), allow_none=True)


class Color(enum.IntEnum):
    RED = 1


class Text(str):
    pass


class Point:
    def __init__(self) -> None:
        self.x = 1
        self.y = [2, "three"]


class Slotted:
    __slots__ = ("x",)


@pytest.mark.parametrize(
    "value",
    [
        {1, 2},
        frozenset(),
        Color.RED,
        Text("x"),
        OrderedDict(a=1),
        1j,
        Slotted(),
        datetime.date.today(),
    ],
    ids=["set", "frozenset", "IntEnum", "str-subclass", "OrderedDict", "complex", "slots", "date"],
)
def test_unmarshallable_values_raise_the_stdlibs_type_error(value: object) -> None:
    with pytest.raises(TypeError) as ours:
        dumps((value,))
    with pytest.raises(TypeError) as theirs:
        xmlrpc.client.dumps(_any((value,)))
    assert str(ours.value) == str(theirs.value)
    assert str(ours.value) == f"cannot marshal {type(value)} objects"


def test_objects_with_a_dict_marshal_as_structs_like_the_stdlib() -> None:
    assert dumps((Point(),)) == xmlrpc.client.dumps(_any((Point(),)))
    assert loads(dumps((Point(),)))[0][0] == {"x": 1, "y": [2, "three"]}


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**63])
def test_ints_beyond_32_bits_overflow_like_the_stdlib(value: int) -> None:
    with pytest.raises(OverflowError, match="int exceeds XML-RPC limits"):
        dumps((value,))


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**63 - 1, -(2**63)])
def test_allow_i8_sends_64_bit_ints_as_i8(value: int) -> None:
    body = encode_request("f", (value,), allow_i8=True)
    assert b"<i8>" in body
    assert parse_request(body) == ("f", (value,))
    assert xmlrpc.client.loads(body)[0] == (value,)


def test_allow_i8_still_overflows_beyond_64_bits() -> None:
    with pytest.raises(OverflowError):
        encode_request("f", (2**63,), allow_i8=True)


def test_32_bit_ints_stay_int_with_allow_i8() -> None:
    assert b"<int>5</int>" in encode_request("f", (5,), allow_i8=True)


def test_recursive_containers_are_refused() -> None:
    items: list[Any] = [1]
    items.append(items)
    mapping: dict[str, Any] = {}
    mapping["self"] = mapping
    with pytest.raises(TypeError, match="cannot marshal recursive sequences"):
        dumps((items,))
    with pytest.raises(TypeError, match="cannot marshal recursive dictionaries"):
        dumps((mapping,))


def test_cycles_are_found_at_any_depth_and_through_any_path() -> None:
    # Containers are tracked only past a small depth: a cycle that starts deep, or runs
    # through a long path of structs and arrays, must still be refused.
    inner: dict[str, Any] = {"x": 1}
    deep: Any = inner
    for level in range(20):
        deep = [deep, level] if level % 2 else {"down": deep, "n": level}
    inner["back"] = deep
    with pytest.raises(TypeError, match="cannot marshal recursive"):
        dumps((deep,))
    # A wide list holding itself last: refused after writing a few levels, not thousands.
    wide: list[Any] = list(range(1000))
    wide.append(wide)
    with pytest.raises(TypeError, match="cannot marshal recursive sequences"):
        dumps((wide,))


def test_shared_but_not_recursive_containers_are_fine() -> None:
    shared = [1, 2]
    assert loads(dumps(([shared, shared],)))[0][0] == [[1, 2], [1, 2]]
    # The same containers, shared deeper than where tracking starts (long uniform
    # arrays take another path: both must be released after use).
    uniform = list(range(40))
    leaf: dict[str, Any] = {"ints": uniform, "pair": shared}
    value: Any = [leaf, leaf, uniform, shared]
    for _ in range(12):
        value = [value, leaf, uniform]
    assert loads(dumps((value,)))[0][0] == value


@pytest.mark.parametrize("key", [1, None, ("a",), b"bytes"])
def test_struct_keys_must_be_strings(key: object) -> None:
    with pytest.raises(TypeError, match="dictionary key must be string"):
        dumps(({key: "one"},))
    # Wherever the struct is, and whatever else it holds.
    with pytest.raises(TypeError, match="dictionary key must be string"):
        encode_request("f", ([1, "a&b", {"ok": [{"fine": 1, key: 2}]}],))


def test_struct_keys_may_be_str_subclasses() -> None:
    class Key(str):
        pass

    assert loads(dumps(({Key("name"): 1},)))[0][0] == {"name": 1}


def test_deep_nesting_is_a_clear_error_not_a_recursion_error() -> None:
    value: list[Any] = []
    for _ in range(5000):
        value = [value]
    with pytest.raises(ValueError, match="nests too deeply"):
        dumps((value,))


@pytest.mark.parametrize(
    ("value", "index"),
    [
        ("This is a string with control characters\x00", 40),
        ("escape \x1b[0m", 7),
        ("lone \ud800 surrogate", 5),
        ("\ufffe", 0),
        ({"key\x01": "v"}, 3),
        ([["ok", {"k": "\x0b"}]], 0),
    ],
)
def test_characters_xml_cannot_carry_raise_value_error_naming_the_position(
    value: object, index: int
) -> None:
    with pytest.raises(ValueError, match=f"at index {index} of the string") as info:
        encode_request("f", (value,))
    assert "XML 1.0 cannot carry" in str(info.value)


def test_method_names_are_checked_and_escaped() -> None:
    # Twice each: the second time, a good name's head comes from a cache.
    for _ in range(2):
        with pytest.raises(ValueError, match="cannot carry"):
            encode_request("bad\x00name")
        assert parse_request(encode_request("a&b<c>")) == ("a&b<c>", ())
        assert encode_request("a&b", encoding="iso-8859-1").startswith(
            b"<?xml version='1.0' encoding='iso-8859-1'?>\n<methodCall>\n<methodName>a&amp;b<"
        )


def test_many_method_names_are_all_written_right() -> None:
    # More names than the cache of requests' heads keeps.
    for i in range(1500):
        name = f"method.n{i}"
        assert encode_request(name, (i,)) == xmlrpc.client.dumps((i,), name).encode()


def test_dumps_keeps_the_stdlibs_assertions() -> None:
    with pytest.raises(AssertionError, match="argument must be tuple or Fault instance"):
        dumps([1])  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="response tuple must be a singleton"):
        dumps((1, 2), methodresponse=True)


def test_dumps_without_a_method_or_response_gives_the_params_element() -> None:
    assert dumps((1, "a")) == xmlrpc.client.dumps((1, "a"))


def test_faults_marshal_like_the_stdlib() -> None:
    fault = Fault(4, "Too many <parameters> & more")
    assert dumps(fault) == xmlrpc.client.dumps(fault)
    with pytest.raises(xmlrpc.client.Fault) as info:
        parse_response(encode_fault(fault))
    assert (info.value.faultCode, info.value.faultString) == (4, fault.faultString)


@pytest.mark.parametrize("encoding", ["iso-8859-1", "ascii", "utf-8"])
def test_encodings_declare_themselves_and_reference_what_they_lack(encoding: str) -> None:
    body = encode_request("f", ("café ☃",), encoding=encoding)
    if encoding != "utf-8":
        assert body.startswith(f"<?xml version='1.0' encoding='{encoding}'?>".encode())
    assert parse_request(body) == ("f", ("café ☃",))
    assert xmlrpc.client.loads(body) == (("café ☃",), "f")


def test_datetimes_marshal_like_the_stdlib() -> None:
    when = datetime.datetime(2026, 11, 25, 10, 0, 0, 123456)
    assert dumps((when,)) == xmlrpc.client.dumps((when,))
    assert dumps((DateTime(when),)) == xmlrpc.client.dumps((DateTime(when),))


def test_binary_and_bytes_marshal_as_base64_the_stdlib_reads() -> None:
    data = bytes(range(256)) * 3
    for value in (data, bytearray(data), Binary(data), xmlrpc.client.Binary(data)):
        body = encode_response(value)
        assert _any(xmlrpc.client.loads(body)[0][0]).data == data
        assert parse_response(body, use_builtin_types=True) == data


def test_tuples_marshal_as_arrays() -> None:
    assert loads(dumps(((1, (2, 3)),)))[0][0] == [1, [2, 3]]


@pytest.mark.parametrize(
    "items",
    [
        list(range(-50, 50)),
        [f"name {i}" for i in range(40)],
        [f"a&b<{i}>\r" for i in range(40)],
        [i / 7 for i in range(40)],
        [i % 3 == 0 for i in range(40)],
        [*range(30), "odd one out", *range(30)],
        [*range(30), True],
        [True, *range(30), True],
        ["x"] * 20 + [b"bytes"] + ["x"] * 20,
        [2**40, *range(30), 2**40],
        tuple(range(-20, 20)),
        [-(2**31), *range(30), 2**31 - 1],
    ],
    ids=[
        *("ints", "strs", "escaped", "floats", "bools"),
        *("mixed", "int-bool", "bool-ints", "bytes", "big", "int-tuple", "int-limits"),
    ],
)
def test_long_arrays_marshal_like_the_stdlib(items: list[object] | tuple[object, ...]) -> None:
    if any(isinstance(i, int) and not isinstance(i, bool) and abs(i) > 2**31 for i in items):
        with pytest.raises(OverflowError):
            dumps((items,))
        assert parse_response(encode_response(items, allow_i8=True)) == items
        return
    assert xmlrpc.client.loads(dumps((items,)))[0][0] == [
        xmlrpc.client.Binary(i) if isinstance(i, bytes) else as_read(i) for i in items
    ]
    if not any(isinstance(i, bytes) for i in items):
        assert dumps((items,)) == xmlrpc.client.dumps(_any((items,)))


def test_long_arrays_are_checked_for_forbidden_characters() -> None:
    with pytest.raises(ValueError, match="at index 3"):
        dumps((["ok"] * 20 + ["bad\x00"],))
    # Strings that need escaping are escaped together, joined by "\x00": one holding
    # that character must still be refused, not split into two items.
    with pytest.raises(ValueError, match="at index 3"):
        dumps((["a&b"] * 20 + ["bad\x00<"],))


def test_a_string_needing_escapes_late_in_the_document_is_escaped() -> None:
    # Strings are written unescaped at first, and the document again if one needs it.
    value = {"first": ["plain"] * 3, "then": {"deep": ["x", 1, "late & <last>"]}, "k&": 1}
    ours = dumps((value,))
    assert ours == xmlrpc.client.dumps(_any((value,)))
    assert loads(ours)[0][0] == value


@pytest.mark.timeout(300)  # coverage tracing in CI slows every example several times
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ping", "a.b", "x&y<z>"]),
            st.lists(values(allow_none=True, max_leaves=8), max_size=3),
        ),
        max_size=8,
    )
)
def test_multicall_requests_match_the_generic_encoding(
    calls: list[tuple[str, list[object]]],
) -> None:
    pairs = [(name, tuple(args)) for name, args in calls]
    generic = encode_request(
        "system.multicall",
        ([{"methodName": name, "params": list(args)} for name, args in pairs],),
        allow_none=True,
    )
    assert encode_multicall(pairs, allow_none=True) == generic


def test_multicall_requests_refuse_characters_xml_cannot_carry() -> None:
    with pytest.raises(ValueError, match="at index 2"):
        encode_multicall([("ping", ()), ("echo", ("ab\x00",))])


RECORD_VALUES = st.fixed_dictionaries(
    {
        "id": st.integers(-(2**31), 2**31 - 1),
        "name": st.text(alphabet=st.sampled_from("ab &<>%\r\té€"), max_size=8),
        "score": st.floats(allow_nan=False),
        "ok": st.booleans(),
        "50% & <more>": xml_text,
    }
)


@pytest.mark.timeout(300)  # property tests run slower under coverage
@given(st.lists(RECORD_VALUES, min_size=2, max_size=20))
def test_records_of_one_shape_marshal_like_the_stdlib(records: list[dict[str, object]]) -> None:
    # Many records of one shape, as large requests and replies are made of.
    for _ in range(3):
        ours = dumps((records,))
        assert xmlrpc.client.loads(ours)[0][0] == as_read(records)
        assert ours == xmlrpc.client.dumps(_any((records,)))


def test_repeated_records_are_checked_like_any_value() -> None:
    with pytest.raises(OverflowError):
        dumps(([{"id": 2**40, "name": "a"}] * 3,))
    assert b"<i8>" in encode_request("f", ([{"id": 2**40, "name": "a"}] * 3,), allow_i8=True)
    with pytest.raises(ValueError, match="at index 1"):
        dumps(([{"id": 1, "name": "a\x01"}] * 3,))
    with pytest.raises(ValueError, match="cannot carry"):
        dumps(([{"bad\x02key": 1, "name": "a"}] * 3,))
    assert loads(dumps(([{"id": 1, "name": "<&>"}] * 3,)))[0][0] == [{"id": 1, "name": "<&>"}] * 3
