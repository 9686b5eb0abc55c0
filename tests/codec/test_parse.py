"""Parsing: the standard library is the oracle for every document it accepts."""

from __future__ import annotations

import datetime
import xml.parsers.expat
import xmlrpc.client
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioxmlrpc import Binary, DateTime, Fault, InvalidResponse, MalformedXML
from aioxmlrpc.codec import (
    RequestParser,
    ResponseParser,
    loads,
    parse_request,
    parse_response,
)
from aioxmlrpc.codec._parse import Parser

from strategies import marshalled, values


def _response(value_xml: str, head: str = "<?xml version='1.0'?>\n") -> bytes:
    return (
        f"{head}<methodResponse><params><param>{value_xml}</param></params></methodResponse>"
    ).encode()


# Documents real servers send, and the corners of the format. Each must parse exactly as
# the standard library parses it.
CORPUS: dict[str, bytes] = {
    # "]]>" made of text either side of a construct: well-formed. Split right after the
    # construct, the "]" it leaves at the end of one feed must not meet the next's ">".
    "bracket-comment-gt": _response("<value><string>a]]<!-- c -->></string></value>"),
    "bracket-pi-bracket-gt": _response("<value><string>a]<?pi x?>]></string></value>"),
    "cdata-bracket-then-text": _response("<value><string><![CDATA[x]]]>]></string></value>"),
    "cdata-brackets-then-gt": _response("<value><string><![CDATA[y]]]]>></string></value>"),
    "untyped string": _response("<value>  plain text  </value>"),
    "empty untyped": _response("<value></value>"),
    "self-closed value": _response("<value/>"),
    "empty string element": _response("<value><string/></value>"),
    "string keeps whitespace": _response("<value><string>\n\t a \n</string></value>"),
    "whitespace around a typed child": _response("<value>\n  <int> 42 </int>\n</value>"),
    "i4 and int": _response(
        "<value><array><data><value><i4>-7</i4></value>"
        "<value><int>+3</int></value></data></array></value>"
    ),
    "i8": _response("<value><i8>9223372036854775807</i8></value>"),
    "ex:i8": _response("<value><ex:i8>-9223372036854775808</ex:i8></value>"),
    "i1 i2 biginteger": _response(
        "<value><array><data><value><i1>1</i1></value><value><i2>300</i2></value>"
        "<value><biginteger>123456789012345678901234567890</biginteger></value>"
        "</data></array></value>"
    ),
    "nil": _response("<value><nil/></value>"),
    "ex:nil": _response("<value><ex:nil/></value>"),
    "nil with whitespace": _response("<value><nil> </nil></value>"),
    "double forms": _response(
        "<value><array><data><value><double>1</double></value>"
        "<value><double>-0.5e-3</double></value><value><float>inf</float></value>"
        "</data></array></value>"
    ),
    "bigdecimal": _response("<value><bigdecimal>3.14159265358979323846</bigdecimal></value>"),
    "boolean": _response(
        "<value><array><data><value><boolean>1</boolean></value>"
        "<value><boolean>0</boolean></value></data></array></value>"
    ),
    "base64 with line breaks": _response("<value><base64>\nAAECAwQF\nBgcICQ==\n</base64></value>"),
    "dateTime": _response("<value><dateTime.iso8601>20261125T10:00:00</dateTime.iso8601></value>"),
    "empty array": _response("<value><array><data></data></array></value>"),
    "self-closed data": _response("<value><array><data/></array></value>"),
    "empty struct": _response("<value><struct></struct></value>"),
    "self-closed struct": _response("<value><struct/></value>"),
    "nested": _response(
        "<value><struct><member><name>a</name><value><array><data>"
        "<value><struct><member><name>b</name><value>deep</value></member></struct></value>"
        "</data></array></value></member></struct></value>"
    ),
    "duplicate keys keep the last": _response(
        "<value><struct><member><name>k</name><value>1</value></member>"
        "<member><name>k</name><value>2</value></member></struct></value>"
    ),
    "member name whitespace": _response(
        "<value><struct><member><name> spaced key </name><value>v</value></member></struct></value>"
    ),
    "entities": _response("<value>&lt;a href=&quot;x&quot;&gt;&amp;&apos;</value>"),
    "character references": _response("<value>&#65;&#x42;&#x1F600;&#13;&#10;</value>"),
    "double-escaped stays once escaped": _response("<value>&amp;lt;</value>"),
    "CDATA": _response("<value><string><![CDATA[<not> &a tag;]]></string></value>"),
    "CDATA mixed with text": _response("<value>a<![CDATA[<b>]]>c&amp;</value>"),
    "comments everywhere": (
        b"<?xml version='1.0'?><!-- c --><methodResponse><!-- c --><params><param>"
        b"<value><string>a<!-- c -->b</string></value></param></params></methodResponse><!-- c -->"
    ),
    "processing instructions": (
        b"<?xml version='1.0'?><?pi data?><methodResponse><params><param>"
        b"<value><?pi?>x</value></param></params></methodResponse><?pi?>"
    ),
    "attributes and namespaces": (
        b"<?xml version='1.0'?><methodResponse xmlns:ex='http://ws.apache.org/xmlrpc/"
        b"namespaces/extensions' a=\"1\"><params><param><value a='&gt;'><ex:i8>5</ex:i8>"
        b"</value></param></params></methodResponse>"
    ),
    "greater-than in an attribute": (
        b"<methodResponse note='a > b'><params><param><value>x</value></param></params>"
        b"</methodResponse>"
    ),
    "no declaration": (
        b"<methodResponse><params><param><value>1</value></param></params></methodResponse>"
    ),
    "leading whitespace without declaration": (
        b"\n  <methodResponse><params><param><value>1</value></param></params></methodResponse>"
    ),
    "standalone declaration": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><methodResponse><params>'
        b"<param><value>x</value></param></params></methodResponse>"
    ),
    "utf-8 BOM": b"\xef\xbb\xbf" + _response("<value>caf\u00e9</value>"),
    "latin-1 declared": (
        b"<?xml version='1.0' encoding='ISO-8859-1'?><methodResponse><params><param>"
        b"<value>caf\xe9 \xa9</value></param></params></methodResponse>"
    ),
    "windows-1252 declared": (
        b"<?xml version='1.0' encoding='windows-1252'?><methodResponse><params><param>"
        b"<value>\x80uro</value></param></params></methodResponse>"
    ),
    "utf-16 with BOM": (
        "<?xml version='1.0' encoding='UTF-16'?><methodResponse><params><param>"
        "<value>\u2603 snow</value></param></params></methodResponse>"
    ).encode("utf-16"),
    "CRLF line ends": _response("<value><string>a\r\nb\rc</string></value>").replace(
        b"><", b">\r\n<"
    ),
    "4-byte UTF-8": _response("<value>\U0001f600 \U0001d11e</value>"),
    "spaces inside tags": (
        b"<methodResponse ><params\n><param\t><value ><int >1</int ></value></param></params >"
        b"</methodResponse>"
    ),
    "fault": (
        b"<?xml version='1.0'?><methodResponse><fault><value><struct>"
        b"<member><name>faultCode</name><value><int>4</int></value></member>"
        b"<member><name>faultString</name><value><string>Too many</string></value></member>"
        b"</struct></value></fault></methodResponse>"
    ),
    "methodCall with params": (
        b"<?xml version='1.0'?><methodCall><methodName>system.multicall</methodName>"
        b"<params><param><value><int>1</int></value></param>"
        b"<param><value>two</value></param></params></methodCall>"
    ),
    "methodCall without params": (b"<methodCall><methodName>ping</methodName></methodCall>"),
    "methodCall with empty params": (
        b"<methodCall><methodName> spaced.name </methodName><params/></methodCall>"
    ),
}


@pytest.mark.parametrize("use_builtin_types", [False, True])
@pytest.mark.parametrize("use_datetime", [False, True])
@pytest.mark.parametrize("name", list(CORPUS))
def test_corpus_parses_as_the_stdlib_parses_it(
    name: str, use_datetime: bool, use_builtin_types: bool
) -> None:
    body = CORPUS[name]
    options = {"use_datetime": use_datetime, "use_builtin_types": use_builtin_types}
    if b"<fault>" in body:
        with pytest.raises(Fault) as theirs:
            xmlrpc.client.loads(body, **options)
        with pytest.raises(Fault) as ours:
            loads(body, **options)
        assert (ours.value.faultCode, ours.value.faultString) == (
            theirs.value.faultCode,
            theirs.value.faultString,
        )
        return
    expected = xmlrpc.client.loads(body, **options)
    result = loads(body, **options)
    assert result == expected
    assert list(map(type, result[0])) == list(map(type, expected[0]))


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_split_point_gives_the_same_result(name: str) -> None:
    body = CORPUS[name]
    try:
        expected: object = loads(body)
    except Fault as fault:
        expected = fault.faultString
    for cut in range(len(body) + 1):
        parser = _any_parser()
        parser.feed(body[:cut])
        parser.feed(body[cut:])
        assert _finish(parser) == expected, f"split at {cut}"


def test_one_byte_at_a_time_gives_the_same_result() -> None:
    for body in CORPUS.values():
        try:
            expected: object = loads(body)
        except Fault as fault:
            expected = fault.faultString
        parser = _any_parser()
        for i in range(len(body)):
            parser.feed(body[i : i + 1])
        assert _finish(parser) == expected


def _any_parser() -> Parser:
    # The engine behind both public parsers, accepting either kind of document.
    return Parser()


def _finish(parser: Parser) -> object:
    parser.close()
    if parser.is_fault:
        return parser.fault().faultString
    return tuple(parser.params), parser.method_name


@pytest.mark.timeout(300)  # property tests run slower under coverage
@given(values(allow_none=True))
def test_random_values_parse_as_the_stdlib_parses_them(value: object) -> None:
    body = marshalled(value)
    assert loads(body) == xmlrpc.client.loads(body)
    assert loads(body, use_builtin_types=True) == xmlrpc.client.loads(body, use_builtin_types=True)


@pytest.mark.timeout(300)  # property tests run slower under coverage
@given(values(allow_none=True, max_leaves=60), st.data())
def test_random_chunks_parse_as_if_fed_whole(value: object, data: st.DataObject) -> None:
    body = marshalled(value)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=12)))
    parser = ResponseParser()
    start = 0
    for cut in [*cuts, len(body)]:
        parser.feed(body[start:cut])
        start = cut
    assert parser.close() == parse_response(body)


def test_large_bodies_parse_across_internal_slices() -> None:
    value = [{"id": i, "name": f"n{i}", "tags": ["a", "b"], "x": i / 3} for i in range(20_000)]
    body = marshalled(value)
    assert len(body) > 1_000_000
    assert parse_response(body) == value
    parser = ResponseParser()
    for start in range(0, len(body), 4093):
        parser.feed(body[start : start + 4093])
    assert parser.close() == value


def test_long_text_split_across_many_feeds() -> None:
    text = "x" * 300_000
    body = marshalled(text)
    parser = ResponseParser()
    for start in range(0, len(body), 100):
        parser.feed(body[start : start + 100])
    assert parser.close() == text


@pytest.mark.parametrize(
    "order", ["cdata-then-pis", "pis-then-cdata", "interleaved", "comments-then-cdata"]
)
def test_many_cdata_sections_comments_and_pis_in_any_order_read_as_the_stdlib_reads_them(
    order: str,
) -> None:
    # Where the next "<!" and the next "<?" are is kept while the constructs are
    # expanded, each searched for again once passed: every order must find each one.
    cdata = [f"<value><string><![CDATA[a<{i}>&]]></string></value>" for i in range(300)]
    pis = [f"<?pi {i}?><value><string>p{i}</string></value>" for i in range(300)]
    comments = [f"<!-- {i} --><value><int>{i}</int></value>" for i in range(300)]
    items = {
        "cdata-then-pis": cdata + pis,
        "pis-then-cdata": pis + cdata,
        "interleaved": [x for pair in zip(cdata, pis, comments, strict=True) for x in pair],
        "comments-then-cdata": comments + cdata + pis[:1],
    }[order]
    body = _response(f"<value><array><data>{''.join(items)}</data></array></value>")
    expected = xmlrpc.client.loads(body)
    assert loads(body) == expected
    parser = ResponseParser()
    for start in range(0, len(body), 997):
        parser.feed(body[start : start + 997])
    assert parser.close() == expected[0][0]


# Each byte that sends a piece of text from the one-pass check to the full checks
# (aioxmlrpc.codec._escape.MARKED), in a short and a long document, near either end.
_MARKED_CASES = {
    "CR": "a\rb",
    "CRLF": "a\r\nb",
    "amp": "a&amp;b&#62;c",
    "bang": "Hello!",
    "question": "why?",
    "bracket": "]] ]",
    "comment": "a<!-- c -->b",
    "cdata": "<![CDATA[<&]]]]><![CDATA[>]]>",
    "pi": "a<?pi x?>b",
    "control": "a\x01b",
}


@pytest.mark.parametrize("size", [10, 10_000])
@pytest.mark.parametrize("case", list(_MARKED_CASES))
def test_marked_text_is_read_as_the_stdlib_reads_it(case: str, size: int) -> None:
    filler = "plain " * (size // 6)
    for text in (_MARKED_CASES[case] + filler, filler + _MARKED_CASES[case]):
        body = _response(f"<value><string>{text}</string></value>")
        try:
            expected = xmlrpc.client.loads(body)
        except xml.parsers.expat.ExpatError:
            with pytest.raises(MalformedXML):
                loads(body)
        else:
            assert loads(body) == expected
            assert parse_response(body) == expected[0][0]


def test_result_types() -> None:
    body = _response(
        "<value><array><data><value><base64>AAE=</base64></value>"
        "<value><dateTime.iso8601>20261125T10:00:00</dateTime.iso8601></value>"
        "<value><bigdecimal>1.5</bigdecimal></value></data></array></value>"
    )
    plain = parse_response(body)
    assert isinstance(plain, list)
    assert isinstance(plain[0], Binary)
    assert plain[0].data == b"\x00\x01"
    assert isinstance(plain[1], DateTime)
    assert plain[1].value == "20261125T10:00:00"
    assert plain[2] == Decimal("1.5")
    builtin = parse_response(body, use_builtin_types=True)
    assert builtin == [b"\x00\x01", datetime.datetime(2026, 11, 25, 10), Decimal("1.5")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20261125T10:00:00", datetime.datetime(2026, 11, 25, 10, 0, 0)),
        ("2026-11-25T10:00:00", datetime.datetime(2026, 11, 25, 10, 0, 0)),
        ("20261125T100000", datetime.datetime(2026, 11, 25, 10, 0, 0)),
        ("2026-11-25T10:00:00.5", datetime.datetime(2026, 11, 25, 10, 0, 0, 500000)),
        ("2026-11-25T10:00:00,123456789", datetime.datetime(2026, 11, 25, 10, 0, 0, 123456)),
        (
            "2026-11-25T10:00:00Z",
            datetime.datetime(2026, 11, 25, 10, tzinfo=datetime.timezone.utc),
        ),
        (
            "2026-11-25T10:00:00+01:00",
            datetime.datetime(
                2026, 11, 25, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
            ),
        ),
        (
            "20261125T10:00:00-0530",
            datetime.datetime(
                2026, 11, 25, 10, tzinfo=datetime.timezone(-datetime.timedelta(hours=5, minutes=30))
            ),
        ),
        (" 20261125T10:00:00 ", datetime.datetime(2026, 11, 25, 10, 0, 0)),
    ],
)
def test_use_datetime_accepts_the_forms_servers_send(
    text: str, expected: datetime.datetime
) -> None:
    body = _response(f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>")
    result = parse_response(body, use_datetime=True)
    assert result == expected
    assert isinstance(result, datetime.datetime)
    assert (result.tzinfo is None) == (expected.tzinfo is None)
    assert parse_response(body) == DateTime(text.strip())


@pytest.mark.parametrize("text", ["2026-13-01T00:00:00", "yesterday", "20261125", ""])
def test_use_datetime_refuses_what_is_not_a_date(text: str) -> None:
    body = _response(f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>")
    with pytest.raises(InvalidResponse, match="dateTime"):
        parse_response(body, use_datetime=True)


def test_faults_are_the_stdlib_class() -> None:
    with pytest.raises(xmlrpc.client.Fault) as info:
        parse_response(CORPUS["fault"])
    assert info.value.faultCode == 4
    assert info.value.faultString == "Too many"


def test_faults_may_carry_extra_members() -> None:
    body = CORPUS["fault"].replace(
        b"</struct>", b"<member><name>detail</name><value>x</value></member></struct>"
    )
    with pytest.raises(Fault, match="Too many"):
        parse_response(body)


def test_request_parser_returns_name_and_params() -> None:
    assert parse_request(CORPUS["methodCall with params"]) == ("system.multicall", (1, "two"))
    assert parse_request(CORPUS["methodCall without params"]) == ("ping", ())
    parser = RequestParser()
    parser.feed(CORPUS["methodCall with empty params"])
    assert parser.close() == (" spaced.name ", ())


def test_bytes_received_counts_what_was_fed() -> None:
    parser = ResponseParser()
    parser.feed(b"<methodResponse>")
    parser.feed(b"")
    assert parser.bytes_received == 16


def test_loads_accepts_text_and_ignores_its_declared_encoding() -> None:
    text = CORPUS["latin-1 declared"].decode("latin-1")
    assert loads(text) == xmlrpc.client.loads(text)


def test_loads_reads_a_bare_params_element_like_the_stdlib() -> None:
    body = xmlrpc.client.dumps((1, "two", [3]))
    assert loads(body) == xmlrpc.client.loads(body)
    with pytest.raises(InvalidResponse, match="expected <methodResponse>"):
        parse_response(body.encode())


def test_a_closed_parser_refuses_more_input() -> None:
    parser = ResponseParser()
    parser.feed(CORPUS["no declaration"])
    assert parser.close() == "1"
    with pytest.raises(RuntimeError):
        parser.feed(b"x")


@pytest.mark.parametrize("quote", ["'", '"'])
@pytest.mark.parametrize("encoding", ["", " encoding='UTF-8'", " encoding='utf-8'"])
def test_common_declarations_read_as_any_other(quote: str, encoding: str) -> None:
    # The declarations servers write are recognised without a regular expression; with
    # a space before "?>" the same one takes the general path. Both must agree, on the
    # value and on where an error after the declaration is.
    declaration = f"<?xml version='1.0'{encoding}".replace("'", quote).encode()
    fast, slow = declaration + b"?>", declaration + b" ?>"
    body = b"<methodResponse><params><param><value>ok</value></param></params></methodResponse>"
    assert parse_response(fast + body) == parse_response(slow + body) == "ok"
    broken = body.replace(b"<params>", b"<params><<")
    located = []
    for head in (fast, slow):
        with pytest.raises(MalformedXML) as info:
            parse_response(head + broken)
        located.append((info.value.lineno, info.value.offset - len(head)))
    assert located[0] == located[1] == (1, 24)


def test_a_fault_inside_a_value_wraps_it_as_perl_writes_failed_multicall_items() -> None:
    # What RPC::XML::Server 0.82 answers to a system.multicall whose second call fails:
    # its fault object's struct, with the <fault> element inside a <value>.
    body = (
        b'<?xml version="1.0" encoding="us-ascii"?><methodResponse><params><param><value>'
        b"<struct><member><name>value</name><value><fault><value><struct><member>"
        b"<name>faultCode</name><value><int>4</int></value></member><member>"
        b"<name>faultString</name><value><string>Too many parameters: 0</string></value>"
        b"</member></struct></value></fault></value></member></struct></value></param>"
        b"</params></methodResponse>"
    )
    expected = {"value": {"faultCode": 4, "faultString": "Too many parameters: 0"}}
    assert xmlrpc.client.loads(body)[0][0] == expected
    assert parse_response(body) == expected


def test_members_whose_values_open_containers_parse_as_the_stdlib_parses_them() -> None:
    # A member's name then its value's <array> or <struct> is one fused plan (P_OPEN):
    # records nest, empty, one after another, and split anywhere.
    value = [
        {"a": [1, {"b": {}}], "c": {"d": [], "e": {"f": ["x"]}}, "g": 2},
        {"a": [], "c": {"d": [{"h": [[]]}]}},
    ]
    body = marshalled(value)
    assert parse_response(body) == xmlrpc.client.loads(body)[0][0] == value
    parser = ResponseParser()
    for byte in range(len(body)):
        parser.feed(body[byte : byte + 1])
    assert parser.close() == value


@given(st.text(alphabet="ab\n", max_size=200), st.data())
def test_positions_are_counted_as_a_plain_count_would(text: str, data: st.DataObject) -> None:
    # position() hops over the first newlines with find(), then counts: the same figure.
    from aioxmlrpc.codec._text import position

    index = data.draw(st.integers(0, len(text)))
    newlines = text.count("\n", 0, index)
    column = index - text.rfind("\n", 0, index) - 1
    expected = (5 + newlines, column) if newlines else (5, 3 + index)
    assert position(text, index, 5, 3) == expected


APACHE_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><methodResponse'
    ' xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">'
    "<params><param><value><array><data>"
)
APACHE_TAIL = "</data></array></value></param></params></methodResponse>"


def test_a_prefixed_run_is_made_canonical_once_per_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Apache XML-RPC writes <ex:nil/> and <ex:i8>: their runs repeat thousands of times.
    from aioxmlrpc.codec import _grammar, _parse

    calls = 0
    canonical_run = _grammar.canonical_run

    def counting(run: str) -> tuple[str, list[tuple[bool, str]]]:
        nonlocal calls
        calls += 1
        return canonical_run(run)

    monkeypatch.setattr(_parse, "canonical_run", counting)
    items = "".join(
        f"<value><ex:i8>{i}</ex:i8></value><value><ex:nil/></value>" for i in range(5000)
    )
    body = (APACHE_HEAD + items + APACHE_TAIL).encode()
    assert parse_response(body) == xmlrpc.client.loads(body)[0][0]
    assert calls <= 64
    # Each document makes its own: nothing of this one's prefixes is kept.
    calls = 0
    assert parse_response(body) == xmlrpc.client.loads(body)[0][0]
    assert 0 < calls <= 64


def test_the_canonical_forms_a_document_keeps_are_bounded() -> None:
    distinct = "".join(f"<value><p{i}:int>{i}</p{i}:int></value>" for i in range(500))
    long_prefix = "q" * 2000
    long = f"<value><{long_prefix}:int>7</{long_prefix}:int></value>" * 3
    body = (APACHE_HEAD + distinct + long + APACHE_TAIL).encode()
    parser = Parser()
    parser.feed_whole(body)
    assert parser.result() == xmlrpc.client.loads(body)[0][0]
    known = parser._canonical
    assert known is not None
    assert len(known) <= 64
    assert all(len(run) <= 1024 for run in known)


def test_a_mismatched_prefix_is_refused_after_many_runs_like_it() -> None:
    items = "<value><ex:i8>1</ex:i8></value>" * 1000 + "<value><ex:i8>1</ey:i8></value>"
    body = (APACHE_HEAD + items + APACHE_TAIL).encode()
    with pytest.raises(xml.parsers.expat.ExpatError):
        xmlrpc.client.loads(body)
    with pytest.raises(MalformedXML, match="mismatched tag"):
        parse_response(body)
