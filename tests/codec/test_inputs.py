"""What the parsers accept as input, and how they behave once they have failed."""

from __future__ import annotations

import array
import xmlrpc.client
from collections.abc import Callable

import pytest

from aioxmlrpc import (
    InvalidResponse,
    InvalidValue,
    MalformedXML,
    ResponseError,
    TruncatedResponse,
    codec,
)
from aioxmlrpc.codec import RequestParser, ResponseParser

BODY = codec.encode_response({"a": [1, "two"]})
CALL = codec.encode_request("echo", ("x", 2))

BYTES_LIKE: list[Callable[[bytes], object]] = [
    bytes,
    bytearray,
    memoryview,
    lambda data: memoryview(bytearray(data)),
    lambda data: array.array("B", data),
]


@pytest.mark.parametrize("kind", BYTES_LIKE)
def test_every_parser_accepts_any_bytes_like_object(kind: Callable[[bytes], object]) -> None:
    expected = {"a": [1, "two"]}
    assert codec.parse_response(kind(BODY)) == expected  # type: ignore[arg-type]
    assert codec.loads(kind(BODY))[0][0] == expected  # type: ignore[arg-type]
    assert ResponseParser().close(kind(BODY)) == expected  # type: ignore[arg-type]
    parser = ResponseParser()
    parser.feed(kind(BODY[:10]))  # type: ignore[arg-type]
    parser.feed(kind(BODY[10:]))  # type: ignore[arg-type]
    assert parser.close() == expected
    assert codec.parse_request(kind(CALL)) == ("echo", ("x", 2))  # type: ignore[arg-type]
    request = RequestParser()
    request.feed(kind(CALL))  # type: ignore[arg-type]
    assert request.close() == ("echo", ("x", 2))


def test_text_is_refused_by_the_byte_parsers_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="not str"):
        ResponseParser().feed(BODY.decode())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes-like object, not int"):
        codec.parse_response(42)  # type: ignore[arg-type]
    assert codec.loads(BODY.decode())[0][0] == {"a": [1, "two"]}  # loads takes both


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (b"<methodResponse><params></oops>", "feed"),
        (b"<methodResponse><params></oops>", "close"),
        (b"<!DOCTYPE x []><methodResponse/>", "feed"),
    ],
)
def test_a_parser_that_failed_refuses_every_later_step(first: bytes, then: str) -> None:
    parser = ResponseParser()
    parser.feed(first[:5])

    def rest() -> None:
        parser.feed(first[5:])
        parser.close()

    with pytest.raises(ResponseError) as failure:
        rest()
    step = (lambda: parser.feed(b"<x/>")) if then == "feed" else parser.close
    with pytest.raises(RuntimeError, match="failed already") as refused:
        step()
    assert refused.value.__cause__ is failure.value
    assert type(failure.value).__name__ in str(refused.value)
    # A new parser is unaffected.
    assert ResponseParser().close(BODY) == {"a": [1, "two"]}


def test_a_truncated_body_fails_at_close_and_stays_failed() -> None:
    parser = RequestParser()
    parser.feed(CALL[:-20])
    with pytest.raises(TruncatedResponse):
        parser.close()
    with pytest.raises(RuntimeError, match="TruncatedResponse"):
        parser.close()
    with pytest.raises(RuntimeError):
        parser.feed(CALL[-20:])


def test_a_forbidden_character_fails_and_then_every_step_is_refused() -> None:
    parser = ResponseParser()
    parser.feed(BODY[:30])

    def rest() -> None:  # the error comes with the feed or at close
        parser.feed(b"\x00" + BODY[30:])
        parser.close()

    with pytest.raises(MalformedXML):
        rest()
    with pytest.raises(RuntimeError, match="MalformedXML"):
        parser.feed(BODY)


def test_a_request_body_given_whole_to_close_reads_as_fed() -> None:
    body = xmlrpc.client.dumps(({"a": [1, "x", 2.5]}, "s"), "echo").encode()
    expected = ("echo", ({"a": [1, "x", 2.5]}, "s"))
    assert RequestParser().close(body) == expected
    assert codec.parse_request(body) == expected
    fed = RequestParser()
    fed.feed(body[:40])
    assert fed.close(body[40:]) == expected
    broken = RequestParser()
    with pytest.raises(InvalidResponse):
        broken.close(body.replace(b"methodCall", b"methodResponse"))
    with pytest.raises(RuntimeError, match="failed already"):
        broken.close(body)


# A scalar whose text is not of its type: the standard library raises ValueError (or its
# subclass binascii.Error) for all but <boolean>, where it raises TypeError.
# (value, use_datetime, use_builtin_types, what the standard library's message says)
BAD_VALUES = [
    ("<int>abc</int>", False, False, "invalid literal for int"),
    ("<int>1e+100</int>", False, False, "invalid literal for int"),  # node's for 1e100
    ("<i8>12.5</i8>", False, False, "invalid literal for int"),
    ("<double>x</double>", False, False, "could not convert string to float"),
    ("<dateTime.iso8601>garbage</dateTime.iso8601>", True, False, "does not match format"),
    ("<dateTime.iso8601>garbage</dateTime.iso8601>", False, True, "does not match format"),
    ("<base64>QUJ</base64>", False, False, "padding"),
    ("<base64>QUJ</base64>", False, True, "padding"),
]


def _in_struct(value: str) -> bytes:
    # In a struct, and after another member: a value that is not the first pair's.
    return (
        "<?xml version='1.0'?><methodResponse><params><param><value><struct>"
        "<member><name>ok</name><value><int>1</int></value></member>"
        f"<member><name>bad</name><value>{value}</value></member>"
        "</struct></value></param></params></methodResponse>"
    ).encode()


@pytest.mark.parametrize(("value", "use_datetime", "use_builtin_types", "stdlib"), BAD_VALUES)
def test_a_bad_value_is_a_value_error_as_in_the_stdlib(
    value: str, use_datetime: bool, use_builtin_types: bool, stdlib: str
) -> None:
    options = {"use_datetime": use_datetime, "use_builtin_types": use_builtin_types}
    top_level = xmlrpc.client.dumps(("x",), methodresponse=True).encode()
    top_level = top_level.replace(b"<string>x</string>", value.encode())
    for body in (_in_struct(value), top_level):
        with pytest.raises(ValueError, match=stdlib):
            xmlrpc.client.loads(body, **options)
        with pytest.raises(InvalidValue, match=r"bad <[a-zA-Z0-9.]+> value .*line \d+, column"):
            codec.loads(body, **options)
        with pytest.raises(InvalidValue) as caught:
            codec.parse_response(
                body, use_datetime=use_datetime, use_builtin_types=use_builtin_types
            )
        assert isinstance(caught.value, ValueError)
        assert isinstance(caught.value, xmlrpc.client.ResponseError)
        parser = ResponseParser(use_datetime=use_datetime, use_builtin_types=use_builtin_types)
        for byte in range(len(body)):  # fed byte by byte: the same class
            try:
                parser.feed(body[byte : byte + 1])
            except InvalidValue:
                break
        else:
            with pytest.raises(InvalidValue):
                parser.close()


def test_a_bad_boolean_is_an_invalid_value_not_a_type_error() -> None:
    body = _in_struct("<boolean>2</boolean>")
    with pytest.raises(TypeError, match="bad boolean value"):
        xmlrpc.client.loads(body)
    with pytest.raises(InvalidValue, match="bad <boolean> value '2'") as caught:
        codec.loads(body)
    assert not isinstance(caught.value, TypeError)  # documented: except TypeError misses it
    assert isinstance(caught.value, InvalidResponse)
