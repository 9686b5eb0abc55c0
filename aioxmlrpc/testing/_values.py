"""XML-RPC values as JSON, losslessly: the value encoding of cassette files (version 1).

The rules, each way (``to_json`` then ``from_json`` gives back an equal value of the same
type):

- ``null``, ``true``/``false``, strings and arrays are themselves (a tuple is written as
  an array and read back as a list, as XML-RPC carries it);
- an ``int`` is a JSON integer of any size (``<int>``, ``<i4>``, ``<i8>`` and big
  integers all parse to ``int``); a finite ``float`` is a JSON number with a fraction or
  an exponent (``1.0``, never ``1``), so the two never mix;
- a struct is a JSON object, unless one of its keys starts with ``$``: then it is
  wrapped, ``{"$struct": {...}}``, so that no struct is ever read as a tagged value;
- every other type is an object with one ``$`` key naming it:

  ========================  ===============================================
  ``{"$binary": "..."}``    :class:`xmlrpc.client.Binary`, base64 of its data
  ``{"$bytes": "..."}``     ``bytes`` (``use_builtin_types``), base64
  ``{"$datetime": "..."}``  :class:`xmlrpc.client.DateTime`, its text as sent
  ``{"$python_datetime":    :class:`datetime.datetime` (``use_datetime``),
  "..."}``                  ISO 8601, with its offset when it is aware
  ``{"$decimal": "..."}``   :class:`decimal.Decimal`, its exact text
  ``{"$float": "nan"}``     ``nan``, ``inf`` or ``-inf``, which JSON lacks
  ========================  ===============================================

An unknown ``$`` tag is an error, never a struct: a file written by a newer version is
refused rather than misread.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any
from xmlrpc.client import Binary, DateTime

from .._redact import REDACTED
from .._types import Value
from ._errors import CassetteFormatError

__all__ = ["canonical", "from_json", "redact", "to_json"]

# JSON as the json module reads and writes it.
JSON = Any


def to_json(value: object) -> JSON:
    """Return ``value`` (an XML-RPC value) in the cassette's JSON encoding."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)  # an int subclass (an IntEnum) as the number it marshals as
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$float": repr(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        struct = {str(key): to_json(item) for key, item in value.items()}
        if any(key.startswith("$") for key in struct):
            return {"$struct": struct}
        return struct
    if isinstance(value, Binary):
        return {"$binary": base64.b64encode(value.data).decode("ascii")}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, DateTime):
        return {"$datetime": value.value}
    if isinstance(value, datetime.datetime):
        return {"$python_datetime": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"cannot write {type(value).__name__} values to a cassette: {value!r:.80}")


def _float(text: str) -> float:
    if text not in ("nan", "inf", "-inf"):
        raise CassetteFormatError(f"$float holds {text!r}, not nan, inf or -inf")
    return float(text)


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError as exc:
        raise CassetteFormatError(f"invalid base64 in a cassette: {text!r:.40}") from exc


def _python_datetime(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


_TAGS: dict[str, Callable[[str], Value]] = {
    "$binary": lambda text: Binary(_base64(text)),
    "$bytes": _base64,
    "$datetime": DateTime,
    "$python_datetime": _python_datetime,
    "$decimal": Decimal,
    "$float": _float,
}


def from_json(data: JSON) -> Value:
    """Return the XML-RPC value that ``data`` (the cassette's JSON encoding) stands for.

    Raises:
        CassetteFormatError: Data that no value encodes as (an unknown ``$`` tag...).
    """
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [from_json(item) for item in data]
    if isinstance(data, dict):
        if len(data) == 1:
            ((key, inner),) = data.items()
            if key == "$struct":
                if not isinstance(inner, dict):
                    raise CassetteFormatError(
                        f"$struct holds {type(inner).__name__}, not an object"
                    )
                return {name: from_json(item) for name, item in inner.items()}
            if key.startswith("$"):
                make = _TAGS.get(key)
                if make is None:
                    raise CassetteFormatError(f"unknown value tag {key!r} in a cassette")
                if not isinstance(inner, str):
                    raise CassetteFormatError(f"{key} holds {type(inner).__name__}, not a string")
                try:
                    return make(inner)
                except (ValueError, ArithmeticError) as exc:
                    raise CassetteFormatError(f"invalid {key} value {inner!r:.40}") from exc
        elif any(key.startswith("$") for key in data):
            raise CassetteFormatError(
                f"a struct with $ keys must be wrapped in $struct: {data!r:.80}"
            )
        return {name: from_json(item) for name, item in data.items()}
    raise CassetteFormatError(f"unexpected JSON value {data!r:.80}")


def canonical(value: object) -> str:
    """One string per value, for matching: equal only for values of the same types.

    (``True == 1`` in Python; their encodings differ.)
    """
    return json.dumps(to_json(value), sort_keys=True, ensure_ascii=False, allow_nan=False)


def redact(value: Value, secrets: Iterable[str]) -> Value:
    """Return ``value`` with every secret in its strings (keys too) replaced by ``***``.

    A string equal to a secret becomes ``***``; a string that contains one keeps the
    rest (``"Bearer ***"``). The longest secret is replaced first.
    """
    ordered = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
    if not ordered:
        return value
    return _redact(value, ordered)


def _redact(value: Value, secrets: list[str]) -> Value:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, (list, tuple)):
        return [_redact(item, secrets) for item in value]
    if isinstance(value, dict):
        return {str(_redact(key, secrets)): _redact(item, secrets) for key, item in value.items()}
    return value
