"""Type aliases shared by the codec and the client, and the stdlib value types we reuse.

``Binary`` and ``DateTime`` are the :mod:`xmlrpc.client` classes themselves, so values
move between this package and code written for the standard library unchanged.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TypeAlias, Union
from xmlrpc.client import MAXINT, MININT, Binary, DateTime

__all__ = ["MAXI8", "MAXINT", "MINI8", "MININT", "Binary", "DateTime", "Value"]

#: Largest and smallest integers an ``<i8>`` element carries (a signed 64-bit integer).
MAXI8 = 2**63 - 1
MINI8 = -(2**63)

#: A value as the parser returns it (what :mod:`xmlrpc.client` returns, plus aware
#: datetimes for ``dateTime`` values that carry an offset; a tuple only for a whole
#: response of no ``<param>`` or several, as the standard library's proxy returns it).
#: The encoder accepts more: bytearrays, and objects whose ``__dict__`` marshals as a
#: struct.
Value: TypeAlias = Union[  # noqa: UP007 - a runtime alias must work on Python 3.10
    bool,
    int,
    float,
    str,
    bytes,
    Decimal,
    Binary,
    DateTime,
    datetime.datetime,
    list["Value"],
    dict[str, "Value"],
    tuple["Value", ...],
    None,
]
