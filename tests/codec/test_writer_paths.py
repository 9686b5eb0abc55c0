"""Every inlined fast path of the writer, checked against xmlrpc.client's text.

The writer writes the common scalars inline in each container's loop, joins long
uniform arrays in C, writes lone scalar parameters without a writer, and has an
optimistic pass (strings as they are) and a careful one (strings escaped). Each
combination of scalar type, position and pass is compared here with the standard
library's ``dumps``, character for character, but for the one documented difference
(base64 of more than 57 bytes on one line), which is normalised away.
"""

from __future__ import annotations

import datetime
import re
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import pytest

from aioxmlrpc import codec
from aioxmlrpc.codec import _writer, dumps
from aioxmlrpc.codec._escape import ESCAPES, SUSPECTS, ByteSet, escape

from strategies import as_read

SCALARS: dict[str, Any] = {
    "str": "plain",
    "str-escaped": "a & b < c > d",
    "str-empty": "",
    "str-unicode": "h\xe9llo \u2603 \U0001f600",
    "int": 42,
    "int-min": -(2**31),
    "int-max": 2**31 - 1,
    "bool-true": True,
    "bool-false": False,
    "float": 0.1,
    "float-big": 1e300,
    "datetime": datetime.datetime(2026, 12, 3, 4, 5, 6),
    "DateTime": xmlrpc.client.DateTime("20261203T04:05:06"),
    "Binary": xmlrpc.client.Binary(b"\x00\x01binary\xff" * 10),
    "bytes": b"\x00raw bytes\xff",
    "bytearray": bytearray(b"bytearray"),
    "nested-list": [1, "x"],
    "nested-dict": {"k": "v"},
    "tuple": (1, 2),
}

POSITIONS: dict[str, Callable[[Any], tuple[Any, ...]]] = {
    "alone": lambda v: (v,),
    "two-params": lambda v: (v, 1),
    "in-array": lambda v: ([0, v, "z"],),
    "in-uniform-array": lambda v: ([v] * 20,),
    "in-struct": lambda v: ({"a": 0, "key": v, "z": "z"},),
    "in-array-of-structs": lambda v: ([{"key": v, "n": i} for i in range(3)],),
    "deep": lambda v: ([[[[[[[[[[{"key": v}]]]]]]]]]],),
}

# A string to escape, placed so as to make the writer take its careful pass.
CAREFUL = "needs <escaping> & more"


def normalised(text: str) -> str:
    # The documented difference: the stdlib wraps base64 at 76 columns.
    return re.sub(
        r"<base64>([^<]*)</base64>", lambda m: f"<base64>{m[1].replace(chr(10), '')}</base64>", text
    )


def both(params: tuple[Any, ...], methodresponse: bool = False) -> tuple[str, str]:
    ours = codec.dumps(params, methodresponse=methodresponse or None)
    theirs = xmlrpc.client.dumps(params, methodresponse=methodresponse or None)
    return normalised(ours), normalised(theirs)


@pytest.mark.parametrize("position", sorted(POSITIONS))
@pytest.mark.parametrize("kind", sorted(SCALARS))
@pytest.mark.parametrize("careful", [False, True], ids=["optimistic", "careful"])
def test_every_inline_path_writes_the_stdlibs_text(kind: str, position: str, careful: bool) -> None:
    params = POSITIONS[position](SCALARS[kind])
    if careful:
        params = (*params, [CAREFUL])  # forces the careful pass over everything
    ours, theirs = both(params)
    assert ours == theirs
    if len(params) == 1:
        ours, theirs = both(params, methodresponse=True)
        assert ours == theirs
    # And the request path (encode_request) writes the same params.
    request = codec.encode_request("m", params).decode()
    assert normalised(request) == normalised(xmlrpc.client.dumps(params, "m"))


def test_a_document_full_of_text_to_escape_is_not_written_twice() -> None:
    # Escapes from the first record on: the optimistic pass stops at its first look.
    records = [{"id": i, "text": f"<b>{i}</b> & more"} for i in range(500)]
    looks = _count_looks(lambda: codec.dumps((records,)))
    assert looks == 1
    ours, theirs = both((records,))
    assert ours == theirs


def test_text_to_escape_found_only_at_the_end_is_still_escaped() -> None:
    records: list[Any] = [{"id": i, "text": "plain"} for i in range(500)]
    records.append({"id": -1, "text": "late < & >"})
    ours, theirs = both((records,))
    assert ours == theirs


def test_names_to_escape_in_a_careful_pass() -> None:
    value = [{"a<b": CAREFUL, "&": 1}] * 100
    ours, theirs = both((value,))
    assert ours == theirs


def test_a_name_that_is_not_a_string_is_refused_in_either_pass() -> None:
    for value in ([{"k": "x"}] * 100 + [{1: "x"}], [{"k": CAREFUL}] * 100 + [{1: "x"}]):
        with pytest.raises(TypeError, match="dictionary key must be string"):
            codec.dumps((value,))


def _count_looks(run: Any) -> int:
    calls = 0
    original = _writer.Writer.look

    def look(self: _writer.Writer) -> None:
        nonlocal calls
        calls += 1
        original(self)

    _writer.Writer.look = look  # type: ignore[method-assign]
    try:
        run()
    finally:
        _writer.Writer.look = original  # type: ignore[method-assign]
    return calls


def test_escape_spells_out_the_escapes_table() -> None:
    text = "".join(char for char, _ in ESCAPES) * 2 + "plain"
    expected = text
    for char, entity in ESCAPES:
        expected = expected.replace(char, entity)
    assert escape(text) == expected


@pytest.mark.parametrize(
    "bad", ["\x00", "\x01", "\x1f", chr(0xD800), chr(0xDFFF), "\ufffe", "\uffff"]
)
@pytest.mark.parametrize("text", ["ascii & <text>", "ёж & <日本> \U0001f600", "한국어 & <b>"])
def test_long_string_arrays_escaped_at_once_refuse_forbidden_characters(
    text: str, bad: str
) -> None:
    values = [f"{text} {i}" for i in range(20)]
    assert dumps((values,)) == xmlrpc.client.dumps((values,))
    values[7] += bad
    with pytest.raises(ValueError, match=f"at index {len(values[7]) - 1} of the string"):
        dumps((values,))


@pytest.mark.parametrize("late", ["a & b", "x\r", "\x01", chr(0xD800)])
def test_strings_after_the_last_look_are_checked_too(late: str) -> None:
    # The optimistic pass looks at the strings written so far at 64, 256, 1024... and
    # the final check covers only those after the last look: a late string counts.
    value = [{"k": f"v{i}", "n": i} for i in range(700)] + [{"k": late}]
    if late in ("\x01", chr(0xD800)):
        with pytest.raises(ValueError, match="cannot carry this character"):
            dumps((value,))
    else:
        assert codec.loads(dumps((value,)))[0][0] == as_read(value)
        assert dumps((value,)) == xmlrpc.client.dumps((value,))


@pytest.mark.parametrize("length", [10, ByteSet.SCAN_MIN - 1, ByteSet.SCAN_MIN, 100_000])
def test_byte_sets_find_each_member_and_nothing_else_on_either_path(length: int) -> None:
    # Short text is read through translate, long text by one memchr per member: both
    # must find every member, anywhere, and nothing else.
    members = SUSPECTS.members
    assert set(members) == set(range(32)) - {9, 10, 13} | set(b"&<>")
    clean = bytes(byte for byte in range(256) if byte not in members)
    text = (clean * (length // len(clean) + 1))[:length]
    assert not SUSPECTS.found_in(text)
    for byte in members:
        for at in (0, length // 2, length - 1):
            assert SUSPECTS.found_in(text[:at] + bytes([byte]) + text[at + 1 :]), (byte, at)


@pytest.mark.parametrize("bad", ["\x00", "\x0b", "\x1f", "&", "<", ">", "\r"])
def test_a_suspect_character_deep_in_long_text_is_escaped_or_refused(bad: str) -> None:
    # Past ByteSet.SCAN_MIN the writer's final check takes the memchr path.
    value: list[dict[str, Any]] = [{"id": i, "text": "plain words " * 100} for i in range(20)]
    value[17]["text"] += bad
    if bad in "&<>\r":
        assert codec.loads(dumps((value,)))[0][0] == as_read(value)
        assert dumps((value,)) == xmlrpc.client.dumps((value,))
    else:
        with pytest.raises(ValueError, match="cannot carry this character"):
            dumps((value,))


def test_names_alone_to_escape_make_a_careful_pass_with_no_string_to_fill() -> None:
    value = [{"a<b": i, "&": 1.5} for i in range(100)]
    ours, theirs = both((value,))
    assert ours == theirs


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\ufffe", chr(0xD800)])
@pytest.mark.parametrize("where", ["value", "name", "DateTime", "alone"])
def test_a_forbidden_character_is_named_in_a_careful_pass(bad: str, where: str) -> None:
    # The careful pass escapes its strings all at once at the end (Writer.later): a
    # forbidden one among them is still found, and named, whatever its place.
    value: list[Any] = [{"id": i, "text": f"<b>{i}</b> & {chr(0x4E00 + i)}"} for i in range(80)]
    if where == "value":
        value[50]["text"] += bad
    elif where == "name":
        value[50][f"k{bad}"] = 1
    elif where == "DateTime":
        value[50]["when"] = xmlrpc.client.DateTime(f"20261203T04:05:06{bad}")
    else:
        value.append(f"alone {bad}")
    with pytest.raises(ValueError, match="cannot carry this character"):
        dumps((value,))
    # And the writer, reused, writes the next document right.
    ok = value[:10]
    assert normalised(dumps((ok,))) == normalised(xmlrpc.client.dumps((ok,)))


def test_every_string_of_a_careful_pass_lands_in_its_own_place() -> None:
    # Strings of every kind and width, all escaped at the end and put back in place.
    words = ["a&b", "<", "", "plain", "ü > ö", "\U0001f600&", "x\r\ny", "&amp;"]
    value: list[Any] = []
    for i in range(300):
        value.append(
            {
                "s": words[i % len(words)] * (i % 3),
                "d": xmlrpc.client.DateTime(f"2026120{i % 9}T04:05:06"),
                "n": [words[(i + 1) % len(words)], i, {"deep": words[(i + 2) % len(words)]}],
            }
        )
    assert _count_looks(lambda: dumps((value,))) == 1  # the careful pass did write it
    ours, theirs = both((value,))
    assert ours == theirs
    assert codec.loads(dumps((value,)))[0][0] == as_read(value)


# -- the UTF-8 documents: text that is not ASCII is checked once it is encoded -------------
#
# encode_request, encode_response and encode_multicall in UTF-8 leave the search for
# forbidden characters in text that is not ASCII to the encoded document (one UTF-8
# encoding, not two); dumps() and other encodings look for them as they write.

TEXTS = {
    "cyrillic": "Привет, мир",
    "cjk": "漢字かなカナ",
    "emoji": "hi \U0001f600 there",
    "mostly-ascii": "plain words and one é",
}
FORBIDDEN = ["\x00", "\x01", "\x1f", chr(0xD800), chr(0xDFFF), "\ufffe", "\uffff"]


def _value(text: str, where: str) -> Any:
    """A value with ``text`` at ``where``, each a path of its own through the writer."""
    if where == "uniform-array":
        return [f"{text} {i}" for i in range(40)]
    if where == "uniform-array-escaped":
        return [f"{text} & <{i}>" for i in range(40)]
    if where == "uniform-array-long-escaped":  # escaped string by string
        return [f"{text * 10} & <{i}>" for i in range(40)]
    if where == "struct-value":
        return [{"id": i, "text": f"{text} {i}"} for i in range(40)]
    if where == "struct-key":
        return [{f"{text} {i}": i} for i in range(40)]
    if where == "careful-pass":
        return [{"id": i, "text": f"<b>{text}</b> & {i}"} for i in range(80)]
    if where == "DateTime":
        return [xmlrpc.client.DateTime(f"20261203T04:05:0{i % 10}{text}") for i in range(3)]
    return text  # "alone": a scalar parameter, written without a writer


WHERE = [
    "uniform-array",
    "uniform-array-escaped",
    "uniform-array-long-escaped",
    "struct-value",
    "struct-key",
    "careful-pass",
    "DateTime",
    "alone",
]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("text", sorted(TEXTS))
def test_utf8_documents_are_the_stdlibs(text: str, where: str) -> None:
    value = _value(TEXTS[text], where)
    params = (value,)
    assert codec.encode_request("m", params) == xmlrpc.client.dumps(params, "m").encode()
    expected = xmlrpc.client.dumps(params, methodresponse=True).encode()
    assert codec.encode_response(value) == expected
    multicall = xmlrpc.client.dumps(([{"methodName": "m", "params": [value]}],), "system.multicall")
    assert codec.encode_multicall([("m", [value])]) == multicall.encode()


@pytest.mark.parametrize("bad", FORBIDDEN, ids=[f"U+{ord(c):04X}" for c in FORBIDDEN])
@pytest.mark.parametrize("where", WHERE)
def test_utf8_documents_refuse_forbidden_characters_beside_text_that_is_not_ascii(
    where: str, bad: str
) -> None:
    value = _value(TEXTS["cyrillic"] + bad, where)
    writers: list[Callable[[], object]] = [
        lambda: codec.encode_request("m", (value,)),
        lambda: codec.encode_response(value),
        lambda: codec.encode_multicall([("m", [value])]),
        lambda: codec.encode_request("m", (value,), encoding="iso-8859-1"),  # checked as written
        lambda: dumps((value,)),
    ]
    for write in writers:
        with pytest.raises(ValueError, match="cannot carry this character"):
            write()
    # And the writer, reused, writes the next document right.
    ok = _value(TEXTS["cjk"], where)
    assert codec.encode_response(ok) == xmlrpc.client.dumps((ok,), methodresponse=True).encode()


def test_a_forbidden_character_in_ascii_beside_text_that_is_not_is_refused() -> None:
    # The document is not ASCII, so the writer leaves its check to the encoded bytes;
    # the forbidden character is in an ASCII string of it.
    value = ["Привет"] * 20 + [{"k": "plain\x01"}]
    with pytest.raises(ValueError, match=r"'\\x01' at index 5"):
        codec.encode_response(value)


@pytest.mark.parametrize("careful", [False, True], ids=["optimistic", "careful"])
@pytest.mark.parametrize("position", sorted(POSITIONS))
def test_none_is_written_or_refused_as_the_stdlib_does_wherever_it_is(
    position: str, careful: bool
) -> None:
    params = POSITIONS[position](None)
    if careful:
        params = (*params, CAREFUL)
    expected = xmlrpc.client.dumps(params, allow_none=True)
    assert dumps(params, allow_none=True) == expected
    with pytest.raises(TypeError, match="cannot marshal None unless allow_none is enabled"):
        dumps(params)


@pytest.mark.parametrize(
    "when",
    [
        datetime.datetime(1, 1, 1),
        datetime.datetime(999, 12, 31, 23, 59, 59, 999999),
        datetime.datetime(2026, 12, 4, 5, 6, 7, 1),
        datetime.datetime(2026, 12, 4, 5, 6, 7, tzinfo=datetime.timezone.utc),
        datetime.datetime(
            9999, 12, 31, 1, 2, 3, 500, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))
        ),
    ],
    ids=["year-1", "year-999-micro", "micro", "utc", "year-9999-offset"],
)
@pytest.mark.parametrize("position", ["alone", "in-array", "in-uniform-array", "in-struct"])
def test_datetimes_are_written_as_the_stdlib_writes_them(
    when: datetime.datetime, position: str
) -> None:
    # Naive fields, four digits of year, no fraction, no offset: the stdlib's strftime.
    ours, theirs = both(POSITIONS[position](when))
    assert ours == theirs
