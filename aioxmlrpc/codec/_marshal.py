r"""Python values -> XML-RPC text, exactly as :mod:`xmlrpc.client` marshals them, but faster.

Rules (each one the standard library's, unless marked *ours*):

- Dispatch is on the exact type: ``bool``, ``int``, ``float``, ``str``, ``bytes``,
  ``bytearray``, ``list``, ``tuple``, ``dict``, ``datetime.datetime``, ``None``, and the
  exact classes ``DateTime`` and ``Binary``. Any other object with a ``__dict__`` marshals
  as a struct of its attributes, unless one of its base classes is a type above (a
  ``str`` or ``int`` subclass, an ``IntEnum``, an ``OrderedDict``): those raise
  ``TypeError("cannot marshal <class '...'> objects")``, as do objects without
  ``__dict__``.
- ``None`` raises ``TypeError("cannot marshal None unless allow_none is enabled")``
  unless ``allow_none``; then it is ``<nil/>``.
- Integers outside 32 bits raise ``OverflowError("int exceeds XML-RPC limits")``; *ours:*
  with ``allow_i8`` those within 64 bits go out as ``<i8>``.
- Struct keys must be strings (``TypeError("dictionary key must be string")``);
  containers that contain themselves raise ``TypeError("cannot marshal recursive ...")``.
- *Ours:* a string holding a character XML 1.0 cannot carry (``\\x00``-``\\x08``,
  ``\\x0b``, ``\\x0c``, ``\\x0e``-``\\x1f``, lone surrogates, ``\\ufffe``, ``\\uffff``)
  raises ``ValueError`` naming the character and its position, instead of sending a
  document the server will reject. ``\\r`` is sent as ``&#13;`` so that it survives the
  receiver's line-end normalisation: strings round-trip exactly.
- *Ours:* base64 is written on one line (the standard library wraps at 76 columns);
  every decoder accepts both, and it is much faster.
"""

from __future__ import annotations

import datetime
import re
from binascii import b2a_base64
from collections.abc import Callable, Iterable
from typing import Any
from xmlrpc.client import Binary, DateTime, Fault

from .._types import MAXI8, MAXINT, MINI8, MININT

__all__ = ["marshal_fault", "marshal_params", "xml_header"]

# Characters XML 1.0 cannot carry, in any form (not even as character references).
_INVALID_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(s: str) -> str:
    # "&" first, so the entities added next are not escaped again.
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _datetime_text(value: datetime.datetime) -> str:
    # The stdlib's format: naive fields, no separators in the date, no fraction.
    return (
        f"{value.year:04d}{value.month:02d}{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )


def _base64_text(data: bytes | bytearray) -> str:
    return b2a_base64(data, newline=False).decode("ascii")


def xml_header(encoding: str | None) -> str:
    """Return the XML declaration the standard library writes for ``encoding``."""
    if not encoding or encoding == "utf-8":
        return "<?xml version='1.0'?>\n"
    return f"<?xml version='1.0' encoding='{encoding}'?>\n"


class _Writer:
    """One marshalling run: the output list, the options, and the containers open now.

    The hot loops inline the common scalars (``str``, ``int``, ``float``, ``bool``)
    instead of calling :meth:`dump` for each, which halves the time for large arrays
    and structs; everything else goes through :meth:`dump`.
    """

    __slots__ = ("allow_i8", "allow_none", "open_ids", "out")

    def __init__(self, allow_none: bool, allow_i8: bool) -> None:
        self.out: list[str] = []
        self.allow_none = allow_none
        self.allow_i8 = allow_i8
        self.open_ids: set[int] = set()

    def dump(self, value: object) -> None:
        """Append one ``<value>`` element for ``value``."""
        append = self.out.append
        cls = type(value)
        if cls is str:
            s: str = value  # type: ignore[assignment]
            if "&" in s or "<" in s or ">" in s or "\r" in s:
                s = _escape(s)
            append(f"<value><string>{s}</string></value>\n")
        elif cls is int:
            append(self._int(value))  # type: ignore[arg-type]
        elif cls is bool:
            append(
                "<value><boolean>1</boolean></value>\n"
                if value
                else "<value><boolean>0</boolean></value>\n"
            )
        elif cls is float:
            append(f"<value><double>{value!r}</double></value>\n")
        elif cls is dict:
            self.dump_struct(value)  # type: ignore[arg-type]
        elif cls is list or cls is tuple:
            self.dump_array(value)  # type: ignore[arg-type]
        elif value is None:
            if not self.allow_none:
                raise TypeError("cannot marshal None unless allow_none is enabled")
            append("<value><nil/></value>")
        elif cls is bytes or cls is bytearray:
            append(f"<value><base64>{_base64_text(value)}</base64></value>\n")  # type: ignore[arg-type]
        elif cls is datetime.datetime:
            append(
                f"<value><dateTime.iso8601>{_datetime_text(value)}"  # type: ignore[arg-type]
                "</dateTime.iso8601></value>\n"
            )
        elif cls is DateTime:
            text = _escape(value.value)  # type: ignore[attr-defined]
            append(f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>\n")
        elif cls is Binary:
            append(f"<value><base64>{_base64_text(value.data)}</base64></value>\n")  # type: ignore[attr-defined]
        else:
            self.dump_instance(value)

    def _int(self, value: int) -> str:
        if MININT <= value <= MAXINT:
            return f"<value><int>{value}</int></value>\n"
        if self.allow_i8 and MINI8 <= value <= MAXI8:
            return f"<value><i8>{value}</i8></value>\n"
        raise OverflowError("int exceeds XML-RPC limits")

    def dump_instance(self, value: object) -> None:
        """Marshal an object of no known type as a struct of its ``__dict__``."""
        if not hasattr(value, "__dict__"):
            raise TypeError(f"cannot marshal {type(value)} objects")
        # A subclass of a marshallable type would lose its meaning as a struct.
        for base in type(value).__mro__:
            if base in _KNOWN_TYPES:
                raise TypeError(f"cannot marshal {type(value)} objects")
        self.dump_struct(vars(value))

    def _enter(self, value: object, what: str) -> int:
        key = id(value)
        if key in self.open_ids:
            raise TypeError(f"cannot marshal recursive {what}")
        self.open_ids.add(key)
        return key

    def dump_array(self, values: Iterable[object]) -> None:
        """Append an ``<array>`` for a list or tuple."""
        key = self._enter(values, "sequences")
        append = self.out.append
        dump = self.dump
        append("<value><array><data>\n")
        for v in values:
            cls = type(v)
            if cls is str:
                if "&" in v or "<" in v or ">" in v or "\r" in v:  # type: ignore[operator]
                    v = _escape(v)  # type: ignore[arg-type]
                append(f"<value><string>{v}</string></value>\n")
            elif cls is int:
                append(self._int(v))  # type: ignore[arg-type]
            elif cls is float:
                append(f"<value><double>{v!r}</double></value>\n")
            else:
                dump(v)
        append("</data></array></value>\n")
        self.open_ids.discard(key)

    def dump_struct(self, members: dict[Any, object]) -> None:
        """Append a ``<struct>`` for a dict (or an instance's ``__dict__``)."""
        key = self._enter(members, "dictionaries")
        append = self.out.append
        dump = self.dump
        append("<value><struct>\n")
        for name, v in members.items():
            if type(name) is not str:
                if not isinstance(name, str):
                    raise TypeError("dictionary key must be string")
                name = str(name)
            if "&" in name or "<" in name or ">" in name or "\r" in name:
                name = _escape(name)
            cls = type(v)
            if cls is str:
                if "&" in v or "<" in v or ">" in v or "\r" in v:  # type: ignore[operator]
                    v = _escape(v)  # type: ignore[arg-type]
                append(
                    f"<member>\n<name>{name}</name>\n"
                    f"<value><string>{v}</string></value>\n</member>\n"
                )
            elif cls is int:
                append(f"<member>\n<name>{name}</name>\n{self._int(v)}</member>\n")  # type: ignore[arg-type]
            elif cls is float:
                append(
                    f"<member>\n<name>{name}</name>\n"
                    f"<value><double>{v!r}</double></value>\n</member>\n"
                )
            else:
                append(f"<member>\n<name>{name}</name>\n")
                dump(v)
                append("</member>\n")
        append("</struct></value>\n")
        self.open_ids.discard(key)


_KNOWN_TYPES: frozenset[type] = frozenset(
    {
        str,
        int,
        bool,
        float,
        dict,
        list,
        tuple,
        type(None),
        bytes,
        bytearray,
        datetime.datetime,
        DateTime,
        Binary,
    }
)


def _run(fill: Callable[[_Writer], None], root: object, allow_none: bool, allow_i8: bool) -> str:
    writer = _Writer(allow_none, allow_i8)
    try:
        fill(writer)
    except RecursionError:
        raise ValueError("value nests too deeply to marshal") from None
    text = "".join(writer.out)
    # One scan of the whole document is much cheaper than one per string.
    if _INVALID_XML_CHAR.search(text) is not None:
        _raise_invalid_char(root)
    return text


def marshal_params(params: Iterable[object], *, allow_none: bool, allow_i8: bool) -> str:
    """Return the ``<params>`` element for ``params``, as the standard library writes it.

    Raises:
        TypeError: A value of a type XML-RPC cannot carry.
        OverflowError: An integer outside the range XML-RPC (or ``<i8>``) carries.
        ValueError: A string holding a character XML 1.0 cannot carry.
    """

    def fill(writer: _Writer) -> None:
        append = writer.out.append
        append("<params>\n")
        for value in params:
            append("<param>\n")
            writer.dump(value)
            append("</param>\n")
        append("</params>\n")

    return _run(fill, params, allow_none, allow_i8)


def marshal_fault(fault: Fault) -> str:
    """Return the ``<fault>`` element for ``fault``, as the standard library writes it."""

    def fill(writer: _Writer) -> None:
        writer.out.append("<fault>\n")
        writer.dump({"faultCode": fault.faultCode, "faultString": fault.faultString})
        writer.out.append("</fault>\n")

    return _run(fill, fault.faultString, allow_none=False, allow_i8=False)


def _strings(root: object) -> Iterable[str]:
    """Yield every string marshalling ``root`` writes, keys and method names included."""
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, DateTime):
            yield value.value
        elif isinstance(value, dict):
            for name, item in value.items():
                yield name
                stack.append(item)
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed(value))
        elif hasattr(value, "__dict__") and not isinstance(value, (Binary, type)):
            stack.append(vars(value))


def _raise_invalid_char(root: object) -> None:
    # Only reached on error: walk the values again to say which string and where.
    for s in _strings(root):
        bad = _INVALID_XML_CHAR.search(s)
        if bad is not None:
            index = bad.start()
            snippet = s[max(0, index - 20) : index + 20]
            raise ValueError(
                f"cannot marshal {bad.group()!r} at index {index} of the string "
                f"{snippet!r}: XML 1.0 cannot carry this character (send bytes or "
                "Binary for binary data)"
            )
    raise ValueError("cannot marshal a character XML 1.0 cannot carry")  # pragma: no cover
