"""Scalar element types and the functions that turn their text into Python values.

Each scalar element maps to a type code; a parser builds one converter table for its
options (``use_datetime``, ``use_builtin_types``) and indexes it by code. The conversions
are the standard library's: ``int()`` and ``float()`` as they are, booleans exactly
``0``/``1``, base64 decoded leniently as ``base64.decodebytes`` does. The exception is
``dateTime.iso8601`` with ``use_datetime``: besides the canonical ``20261125T10:00:00`` it
accepts the forms real servers send (dashes, fractional seconds, ``Z`` or ``+hh:mm``)
and returns an aware ``datetime`` when an offset is given.
"""

from __future__ import annotations

import datetime
import functools
import re
from binascii import a2b_base64
from collections.abc import Callable
from decimal import Decimal
from xmlrpc.client import Binary, DateTime

__all__ = [
    "BASE64",
    "BOOLEAN",
    "DATETIME",
    "DECIMAL",
    "DOUBLE",
    "INT",
    "NIL",
    "SCALAR_TYPES",
    "STRING",
    "TYPE_NAMES",
    "converters",
    "parse_datetime",
]

Converter = Callable[[str], object]

INT, DOUBLE, BOOLEAN, STRING, BASE64, DATETIME, NIL, DECIMAL = range(8)

#: Local element names (any namespace prefix removed) of the scalar types, as the
#: standard library knows them, plus Apache's ``dateTime`` extension.
SCALAR_TYPES: dict[str, int] = {
    "int": INT,
    "i4": INT,
    "i8": INT,
    "i1": INT,
    "i2": INT,
    "biginteger": INT,
    "double": DOUBLE,
    "float": DOUBLE,
    "bigdecimal": DECIMAL,
    "boolean": BOOLEAN,
    "string": STRING,
    "base64": BASE64,
    "dateTime.iso8601": DATETIME,
    "dateTime": DATETIME,
    "nil": NIL,
}

TYPE_NAMES = {
    INT: "int",
    DOUBLE: "double",
    BOOLEAN: "boolean",
    STRING: "string",
    BASE64: "base64",
    DATETIME: "dateTime.iso8601",
    NIL: "nil",
    DECIMAL: "bigdecimal",
}

_BOOLEANS = {"0": False, "1": True}

_DATETIME = re.compile(
    r"[ \t\n]*(\d{4})-?(\d{2})-?(\d{2})[T ](\d{2}):?(\d{2}):?(\d{2})(?:[.,](\d+))?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?[ \t\n]*\Z"
)


def parse_datetime(text: str) -> datetime.datetime:
    """Parse an XML-RPC ``dateTime.iso8601`` text as real servers write it.

    Accepts ``20261125T10:00:00``, ``2026-11-25T10:00:00``, fractional seconds
    (``.5``, ``,123456789``: kept to the microsecond), and a ``Z`` or ``+hh:mm``/``+hhmm``/
    ``+hh`` offset. Returns a naive datetime without an offset, an aware one with it.

    Raises:
        ValueError: For anything else.
    """
    match = _DATETIME.match(text)
    if match is None:
        raise ValueError(f"not an ISO 8601 date and time: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction + "000000")[:6]) if fraction else 0
    tz: datetime.tzinfo | None = None
    if offset == "Z":
        tz = datetime.timezone.utc
    elif offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tz = datetime.timezone(sign * delta)
    return datetime.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
    )


def _nil(text: str) -> None:
    if text.strip(" \t\n"):
        raise ValueError("<nil/> must be empty")


def _date_time(text: str) -> DateTime:
    # The stdlib keeps the text as sent: DateTime compares and prints it unchanged.
    return DateTime(text.strip())


def _binary(text: str) -> Binary:
    return Binary(a2b_base64(text))


@functools.cache
def converters(use_datetime: bool, use_builtin_types: bool) -> tuple[Converter, ...]:
    """Return the converter table, indexed by type code, for these options."""
    table: list[Converter] = [str] * 8
    table[INT] = int
    table[DOUBLE] = float
    table[BOOLEAN] = _BOOLEANS.__getitem__  # exactly "0" or "1"; KeyError otherwise
    table[STRING] = str
    table[BASE64] = a2b_base64 if use_builtin_types else _binary
    table[DATETIME] = parse_datetime if (use_datetime or use_builtin_types) else _date_time
    table[NIL] = _nil
    table[DECIMAL] = Decimal
    return tuple(table)
