"""Fuzzing the parser with mutated valid responses; the standard library is the oracle.

For every mutant, our parser must either return exactly what ``xmlrpc.client.loads``
returns, or raise a typed :class:`xmlrpc.client.ResponseError` (or the document's
:class:`Fault`). It may refuse what the standard library accepts only in the cases the
docs name (guide/codec.md, "Stricter than xmlrpc.client"): a DTD or an entity, a limit,
or a well-formed document that breaks XML-RPC's grammar, which the standard library
reads into something anyway. Never "not well-formed" where expat saw well-formed XML;
never a value where the standard library refuses, a different value, or anything
untyped.

The quick run is part of the suite. For a long run (20,000 examples per test)::

    HYPOTHESIS_PROFILE=long python -m pytest tests/security/test_fuzz.py -p no:randomly
"""

from __future__ import annotations

import re
import xml.parsers.expat
import xmlrpc.client
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aioxmlrpc import (
    Fault,
    InvalidResponse,
    ResponseError,
    ResponseTooDeep,
    ResponseTooLarge,
    UnsafeXML,
)
from aioxmlrpc.codec import ResponseParser, loads

from strategies import marshalled, values

# A token of a document: a tag, or the text between tags.
_TOKENS = re.compile(rb"<[^>]*>|[^<]+")

_WEIRD_TEXTS = [
    b"",
    b" ",
    b"-0",
    b"+7",
    b"1_000",
    b"9" * 400,
    b"1e400",
    b"nan",
    b"0x1f",
    b"\xc3\xa9",
    b"\xff",
    b"&amp;",
    b"&lt;&gt;",
    b"&#x1F600;",
    b"&#0;",
    b"&bogus;",
    b"&",
    b"]]>",
    b"AAE=",
    b"AAE",
    b"!!!!",
    b"2026-11-25T10:00:00",
    b"20261325T99:99:99",
    b"<![CDATA[<x>]]>",
    b"<!-- c -->",
    b"<?pi x?>",
]
_WEIRD_TAGS = [
    b"<value>",
    b"</value>",
    b"<int>",
    b"</int>",
    b"<i8>",
    b"<ex:nil/>",
    b"<nil/>",
    b"<struct>",
    b"</struct>",
    b"<array><data>",
    b"</data></array>",
    b"<member>",
    b"<name>k</name>",
    b"<unknown>",
    b"<value a='>'>",
    b"<!DOCTYPE x>",
    b"<?xml version='1.0'?>",
    b"<value/>",
    b"<string/>",
]
_DECLARATIONS = [
    b"<?xml version='1.0'?>",
    b"<?xml version='1.0' encoding='utf-8'?>",
    b"<?xml version='1.0' encoding='iso-8859-1'?>",
    b"<?xml version='1.0' encoding='us-ascii'?>",
    b"<?xml version='1.0' encoding='utf-16'?>",
    b"<?xml version='1.0' encoding='no-such-codec'?>",
    b"<?xml version='2.0'?>",
    b"",
    b"\xef\xbb\xbf<?xml version='1.0'?>",
]


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    """A valid response, then a few random mutations of its tokens."""
    body = marshalled(draw(values(allow_none=True, max_leaves=12)))
    head, _, rest = body.partition(b"?>")
    tokens = _TOKENS.findall(rest)
    for _ in range(draw(st.integers(1, 4))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        action = draw(st.sampled_from(["drop", "dup", "swap", "text", "tag", "cut", "bytes"]))
        if action == "drop":
            del tokens[i]
        elif action == "dup":
            tokens.insert(i, tokens[i])
        elif action == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif action == "text":
            tokens.insert(i, draw(st.sampled_from(_WEIRD_TEXTS)))
        elif action == "tag":
            tokens.insert(i, draw(st.sampled_from(_WEIRD_TAGS)))
        elif action == "cut":
            tokens = tokens[:i]
        else:
            tokens.insert(i, draw(st.binary(min_size=1, max_size=4)))
    declaration = draw(st.sampled_from([head + b"?>", *_DECLARATIONS]))
    return declaration + b"".join(tokens)


def _stdlib(body: bytes) -> tuple[str, Any]:
    try:
        return "value", xmlrpc.client.loads(body)
    except Fault as fault:
        return "fault", (fault.faultCode, fault.faultString)
    except Exception as exc:  # the stdlib raises whatever comes: ExpatError, TypeError...
        return "error", type(exc).__name__


def _ours(body: bytes) -> tuple[str, Any]:
    try:
        return "value", loads(body)
    except Fault as fault:
        return "fault", (fault.faultCode, fault.faultString)
    except ResponseError as exc:
        return "refused", exc


# The refusals of documents the stdlib accepts that the docs name, and only those.
_NAMED_STRICTNESS = (UnsafeXML, ResponseTooLarge, ResponseTooDeep, InvalidResponse)


def _check(body: bytes) -> None:
    theirs_kind, theirs = _stdlib(body)
    ours_kind, ours = _ours(body)  # anything untyped propagates and fails the test
    if ours_kind == "refused" and theirs_kind != "error":
        assert isinstance(ours, _NAMED_STRICTNESS), (body, theirs, ours)
        return
    if ours_kind == "refused":
        return  # both refuse
    assert theirs_kind == ours_kind, (body, theirs, ours)
    assert theirs == ours, body


@pytest.mark.timeout(300)  # coverage tracing in CI slows every example several times
@given(mutants())
@example(b"<?xml version='1.0'?><methodResponse><params><param><value><int>1_000</int>")
@example(b"<methodResponse><params><param><value><string>]]></string></value></param></params>")
def test_mutated_responses_get_the_stdlibs_value_or_a_typed_refusal(body: bytes) -> None:
    _check(body)


@pytest.mark.timeout(300)
@settings(max_examples=max(20, settings().max_examples // 2))  # parses twice
@given(mutants(), st.data())
def test_mutants_fed_in_pieces_behave_as_fed_whole(body: bytes, data: st.DataObject) -> None:
    whole = _outcome(lambda parser: parser.feed(body), body)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=6)))

    def pieces(parser: ResponseParser) -> None:
        start = 0
        for cut in [*cuts, len(body)]:
            parser.feed(body[start:cut])
            start = cut

    assert _outcome(pieces, body) == whole


def _outcome(feed: Any, body: bytes) -> tuple[str, Any]:
    parser = ResponseParser()
    try:
        feed(parser)
        return "value", parser.close()
    except Fault as fault:
        return "fault", (fault.faultCode, fault.faultString)
    except ResponseError as exc:
        # The class is part of the promise; the position may legitimately differ.
        return "refused", type(exc).__name__


@given(st.binary(max_size=300))
def test_random_bytes_are_refused_with_a_typed_error(body: bytes) -> None:
    kind, _ = _ours(body)
    assert kind in ("refused", "value", "fault")


@given(st.integers(1, 2000))
def test_deep_nesting_is_refused_or_parsed(depth: int) -> None:
    body = (
        b"<methodResponse><params><param>"
        + b"<value><array><data>" * depth
        + b"</data></array></value>" * depth
        + b"</param></params></methodResponse>"
    )
    kind, result = _ours(body)
    if depth <= 512:
        assert kind == "value"
    else:
        assert kind == "refused"
        assert "max_depth" in str(result)


def test_expat_errors_are_wrapped_never_raw() -> None:
    kind, error = _ours(b"<methodResponse><params></methodResponse>")
    assert kind == "refused"
    assert isinstance(error, xml.parsers.expat.ExpatError)
