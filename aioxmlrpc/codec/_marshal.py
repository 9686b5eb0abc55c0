r"""Python values -> XML-RPC text, as :mod:`xmlrpc.client` marshals them, but faster.

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
- *Ours:* a string holding a character XML 1.0 cannot carry (``\x00``-``\x08``,
  ``\x0b``, ``\x0c``, ``\x0e``-``\x1f``, lone surrogates, ``\ufffe``, ``\uffff``)
  raises ``ValueError`` naming the character and its position, instead of sending a
  document the server will reject. ``\r`` is sent as it is, as the standard library
  sends it, so a conforming receiver reads ``\r\n`` and a lone ``\r`` as ``\n``.
- *Ours:* base64 is written on one line between two LFs (the standard library wraps it
  at 76 columns, so the two agree up to 57 bytes); every decoder accepts both, and it
  is much faster.

The values themselves are written by :mod:`._writer`; this module wraps them into
``<params>``, ``<fault>`` and ``system.multicall`` requests. Parameters that are plain
scalars (a ping's, a getter's) are written without a writer at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from xmlrpc.client import Fault

from ._escape import escaped, has_bad_char, has_bad_utf8
from ._writer import (
    FALSE_VALUE,
    TRUE_VALUE,
    Writer,
    dump,
    dump_array,
    dump_struct,
    raise_invalid_char,
    written,
)

__all__ = [
    "check_name",
    "encode",
    "is_utf8",
    "marshal_fault",
    "marshal_multicall",
    "marshal_params",
    "xml_header",
]


def xml_header(encoding: str | None) -> str:
    """Return the XML declaration the standard library writes for ``encoding``."""
    if not encoding or encoding == "utf-8":
        return "<?xml version='1.0'?>\n"
    return f"<?xml version='1.0' encoding='{encoding}'?>\n"


_SCALARS = frozenset({str, int, bool, float})


def _scalar(value: Any, strings: list[str]) -> str | None:
    """Return the text of a plain scalar parameter without building a writer, or None."""
    cls = type(value)
    if cls is str:
        strings.append(value)
        value = escaped(value)
        return f"<param>\n<value><string>{value}</string></value>\n</param>\n"
    if cls is int and -2147483648 <= value <= 2147483647:
        return f"<param>\n<value><int>{value}</int></value>\n</param>\n"
    if cls is bool:
        return f"<param>\n{TRUE_VALUE if value else FALSE_VALUE}</param>\n"
    if cls is float:
        return f"<param>\n<value><double>{value!r}</double></value>\n</param>\n"
    return None


def marshal_params(
    params: Iterable[object],
    allow_none: bool,
    allow_i8: bool,
    head: str = "",
    tail: str = "",
    utf8: bool = False,
) -> str:
    """Return the ``<params>`` element for ``params``, as the standard library writes it.

    ``head`` and ``tail`` (the document around it) are joined in with it: a megabyte
    document is then copied once, not twice. ``utf8``: the text goes to :func:`encode`
    in UTF-8, which finishes the checks (see :func:`~._writer.written`).

    Raises:
        TypeError: A value of a type XML-RPC cannot carry.
        OverflowError: An integer outside the range XML-RPC (or ``<i8>``) carries.
        ValueError: A string holding a character XML 1.0 cannot carry, or values that
            nest too deeply to marshal.
    """
    if type(params) is not tuple:
        params = tuple(params)  # may be read twice
    if len(params) == 1 and type(params[0]) not in _SCALARS:
        # Most often: a response, or a call with one struct or array.
        fill = _FILLS.get(type(params[0]), dump)
        return written(
            fill,
            params[0],
            allow_none,
            allow_i8,
            head + _ONE_PARAM_OPEN,
            _ONE_PARAM_CLOSE + tail,
            utf8,
        )
    # Scalars only (a ping's, a getter's parameters): no writer needed.
    texts = []
    strings: list[str] = []
    for value in params:
        text = _scalar(value, strings)
        if text is None:
            break  # not a plain scalar, or an int beyond 32 bits
        texts.append(text)
    else:
        if strings:
            _check_strings(strings, params)
        return f"{head}<params>\n{''.join(texts)}</params>\n{tail}"
    return written(
        _fill_params,
        params,
        allow_none,
        allow_i8,
        f"{head}<params>\n",
        f"</params>\n{tail}",
        utf8,
    )


_FILLS: dict[type, Callable[[Any, Writer, int], None]] = {
    dict: dump_struct,
    list: dump_array,
}
_ONE_PARAM_OPEN = "<params>\n<param>\n"
_ONE_PARAM_CLOSE = "</param>\n</params>\n"


def _fill_params(params: tuple[object, ...], w: Writer, depth: int) -> None:
    append = w.append
    for value in params:
        append("<param>\n")
        dump(value, w, depth)
        append("</param>\n")


def marshal_multicall(
    calls: Sequence[tuple[str, Sequence[object]]],
    *,
    allow_none: bool,
    allow_i8: bool,
    utf8: bool = False,
) -> str:
    """Return the ``<params>`` of a ``system.multicall`` request for ``(name, args)`` pairs.

    The text is what marshalling ``[{"methodName": name, "params": list(args)}, ...]``
    writes, built directly: one formatted string per call, and calls without arguments
    (the common case) reused within the batch. ``utf8`` as for :func:`marshal_params`.
    """
    return written(_fill_multicall, calls, allow_none, allow_i8, utf8=utf8)


def _fill_multicall(calls: Sequence[tuple[str, Sequence[object]]], w: Writer, depth: int) -> None:
    append = w.append
    bare: dict[str, str] = {}
    append("<params>\n<param>\n<value><array><data>\n")
    for name, args in calls:
        if not args and name in bare:
            append(bare[name])
            continue
        if type(name) is not str:
            raise TypeError(f"method name must be a str, not {type(name).__name__}")
        w.escape_checked(name)  # escaped here, whatever the pass
        shown = escaped(name)
        head = (
            "<value><struct>\n<member>\n<name>methodName</name>\n"
            f"<value><string>{shown}</string></value>\n</member>\n"
            "<member>\n<name>params</name>\n<value><array><data>\n"
        )
        if not args:
            text = bare[name] = f"{head}{_MULTICALL_TAIL}"
            append(text)
            continue
        append(head)
        for arg in args:
            dump(arg, w, depth + 3)
        append(_MULTICALL_TAIL)
    append("</data></array></value>\n</param>\n</params>\n")


_MULTICALL_TAIL = "</data></array></value>\n</member>\n</struct></value>\n"


def marshal_fault(fault: Fault) -> str:
    """Return the ``<fault>`` element for ``fault``, as the standard library writes it."""
    return written(_fill_fault, fault, False, False)


def _fill_fault(fault: Fault, w: Writer, depth: int) -> None:
    w.append("<fault>\n")
    dump({"faultCode": fault.faultCode, "faultString": fault.faultString}, w, depth)
    w.append("</fault>\n")


def check_name(name: str) -> None:
    """Raise ``ValueError`` if a method name holds a character XML cannot carry."""
    _check_strings([name], name)


def _check_strings(strings: list[str], values: object) -> None:
    if has_bad_char("".join(strings)):
        raise_invalid_char(values)


def is_utf8(encoding: str | None) -> bool:
    """Whether :func:`encode` writes ``encoding`` as UTF-8 (and finishes the checks)."""
    return not encoding or encoding == "utf-8"


def encode(text: str, encoding: str | None, values: object = None) -> bytes:
    """Encode a document; characters the encoding lacks become references, as the stdlib does.

    In UTF-8, the document is also looked at for the characters XML 1.0 forbids, where
    the writer left them to it (``utf8``): ``values``, what it was marshalled from, is
    walked again to name one.

    Raises:
        ValueError: A string holding a character XML 1.0 cannot carry.
    """
    if encoding and not is_utf8(encoding):
        return text.encode(encoding, "xmlcharrefreplace")
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        raise_invalid_char(values)
    # An ASCII document was checked whole by the writer; the markup holds no control.
    if len(raw) != len(text) and has_bad_utf8(raw):
        raise_invalid_char(values)
    return raw
