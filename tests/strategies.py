"""Hypothesis strategies for XML-RPC values, shared by the codec and client tests."""

from __future__ import annotations

import datetime
import xmlrpc.client
from typing import Any

from hypothesis import strategies as st

from aioxmlrpc import MAXINT, MININT

# Every character XML 1.0 can carry, surrogates excluded (they cannot be encoded).
xml_chars = st.characters(
    codec="utf-8",
    exclude_characters="\ufffe\uffff",
    exclude_categories=["Cs"],
).filter(lambda c: c in "\t\n\r" or c >= " ")

xml_text = st.text(alphabet=xml_chars, max_size=40)
ints = st.integers(min_value=MININT, max_value=MAXINT)
floats = st.floats(allow_nan=False)
naive_datetimes = st.datetimes(
    min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)
).map(lambda d: d.replace(microsecond=0))


def scalars(allow_none: bool = False) -> st.SearchStrategy[object]:
    """Scalars as the standard library marshals them."""
    options: list[st.SearchStrategy[object]] = [
        st.booleans(),
        ints,
        floats,
        xml_text,
        st.binary(max_size=64).map(xmlrpc.client.Binary),
        naive_datetimes.map(xmlrpc.client.DateTime),
    ]
    if allow_none:
        options.append(st.none())
    return st.one_of(options)


def values(allow_none: bool = False, max_leaves: int = 30) -> st.SearchStrategy[object]:
    """Nested XML-RPC values: scalars in lists and string-keyed dicts."""
    return st.recursive(
        scalars(allow_none),
        lambda children: st.one_of(
            st.lists(children, max_size=6),
            st.dictionaries(xml_text, children, max_size=6),
        ),
        max_leaves=max_leaves,
    )


def marshalled(value: object, allow_none: bool = True) -> bytes:
    """The standard library's response document for ``value``."""
    params: Any = (value,)
    return xmlrpc.client.dumps(params, methodresponse=True, allow_none=allow_none).encode()


def as_read(value: object) -> object:
    """``value`` as a conforming parser reads it back: ``\\r\\n`` and ``\\r`` become ``\\n``.

    Both libraries write ``\\r`` as it is, and XML's line-end normalisation turns it into
    ``\\n``, in strings and struct keys alike.
    """
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, list):
        return [as_read(item) for item in value]
    if isinstance(value, tuple):
        return tuple(as_read(item) for item in value)
    if isinstance(value, dict):
        return {as_read(key): as_read(item) for key, item in value.items()}
    return value
