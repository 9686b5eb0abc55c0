r"""The value writer: Python values -> XML-RPC ``<value>`` text, appended to a :class:`Writer`.

:mod:`._marshal` wraps what this writes into ``<params>``, ``<fault>`` and documents, and
states the rules (the standard library's, and ours). Speed comes from:

- the containers' loops write the common scalars (and, in structs, dates and binaries)
  inline, one formatted string and one ``append`` each, instead of a call per value;
- long arrays of one scalar type are written in a few C-level joins (ints through a
  list's ``repr``);
- forbidden characters are looked for once, in all the strings joined, not string by
  string nor in the whole document (in a UTF-8 document that is not ASCII, once in its
  bytes, which are made anyway); strings are written unescaped first, and the
  document again only if that same joined text shows one needs escaping;
- containers are tracked for cycles only past a small depth, and writers are reused.
"""

from __future__ import annotations

import datetime
from binascii import b2a_base64
from collections.abc import Callable, Iterator
from typing import Any, NoReturn
from xmlrpc.client import Binary, DateTime

from .._types import MAXI8, MINI8
from ._escape import (
    BAD_CHAR,
    CONTROLS,
    SUSPECTS,
    escape_each,
    escape_items,
    escaped,
    has_bad_char,
    needs_escaping,
)

__all__ = [
    "FALSE_VALUE",
    "TRUE_VALUE",
    "Writer",
    "dump",
    "dump_array",
    "dump_struct",
    "raise_invalid_char",
    "written",
]


TRUE_VALUE = "<value><boolean>1</boolean></value>\n"
FALSE_VALUE = "<value><boolean>0</boolean></value>\n"


def _base64(data: bytes | bytearray) -> str:
    """``data`` in base64 on one line and its LF; nothing for no data.

    So the standard library writes up to 57 bytes (it wraps longer data at 76 columns).
    A peer that reads an element with no text as no value (aiohttp-xmlrpc, on lxml)
    must see the standard library's LF in an empty ``<base64>``.
    """
    return b2a_base64(data).decode() if data else ""


def _datetime_text(value: datetime.datetime) -> str:
    # The stdlib's format: naive fields, no separators in the date, no fraction. From
    # isoformat(), in C, which always writes four digits of year: a third cheaper than
    # formatting the six fields.
    return value.isoformat("T", "seconds")[:19].replace("-", "", 2)


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


def _big_int(value: int, allow_i8: bool) -> str:
    if allow_i8 and MINI8 <= value <= MAXI8:
        return f"<value><i8>{value}</i8></value>\n"
    raise OverflowError("int exceeds XML-RPC limits")


def _instance_members(value: object) -> dict[str, Any]:
    """Return what an object of no known type marshals as: its ``__dict__``."""
    if not hasattr(value, "__dict__"):
        raise TypeError(f"cannot marshal {type(value)} objects")
    # A subclass of a marshallable type would lose its meaning as a struct.
    for base in type(value).__mro__:
        if base in _KNOWN_TYPES:
            raise TypeError(f"cannot marshal {type(value)} objects")
    return vars(value)


_ARRAY_OPEN = "<value><array><data>\n"
_ARRAY_CLOSE = "</data></array></value>\n"
# Arrays of one scalar type are joined in C: (before each, after each).
_UNIFORM: dict[type, tuple[str, str]] = {
    str: ("<value><string>", "</string></value>\n"),
    int: ("<value><int>", "</int></value>\n"),
    float: ("<value><double>", "</double></value>\n"),
    bool: ("<value><boolean>", "</boolean></value>\n"),
}
_BOOL_TEXT = {True: "1", False: "0"}
_UNIFORM_MIN = 16  # shorter arrays are not worth the type scan


def _uniform_array(values: list[Any] | tuple[Any, ...], w: Writer) -> bool:
    """Write the array if all its items share one scalar type; return whether it did.

    The text goes out in a few large pieces, not joined here: the document's final join
    copies them once, and at megabytes every copy counts.
    """
    kind = type(values[0])
    if kind not in _UNIFORM or type(values[-1]) is not kind or set(map(type, values)) != {kind}:
        return False
    head, tail = _UNIFORM[kind]
    if kind is str:
        inner = _string_items(values, tail + head, w)
    elif kind is int:
        if min(values) < -2147483648 or max(values) > 2147483647:
            return False
        # A list's repr is its ints' decimal text joined by ", ", all in C: more than
        # twice as fast as str() on each. (A tuple this long has no "(1,)" comma.)
        inner = repr(values)[1:-1].replace(", ", tail + head)
    elif kind is float:
        inner = (tail + head).join(map(repr, values))
    else:
        inner = (tail + head).join(map(_BOOL_TEXT.__getitem__, values))
    append = w.append
    append(_ARRAY_OPEN + head)
    append(inner)
    append(tail + _ARRAY_CLOSE)
    return True


def _string_items(values: list[str] | tuple[str, ...], separator: str, w: Writer) -> str:
    """The strings of an array, each escaped as needed, joined by ``separator``."""
    items = escape_items(values, separator, w.utf8)
    if items is None:
        w.escape_checked("".join(values))  # a forbidden character: text() names it
        return ""
    return items


class Writer:
    r"""Where one marshalling writes: output, strings to check, options, open containers.

    Passed down the recursion, rather than closures made per call (defining three nested
    functions costs more than marshalling a small struct); the loops below copy what they
    use into locals, Python's cheapest lookups. Writers are kept for reuse (see
    :func:`written`): making one costs a tenth of writing a small struct.

    Almost no string needs escaping, so the first pass is optimistic (``careful`` false):
    it writes strings as they are, and :meth:`text` looks for ``&<>`` once in all of
    them joined; only if one is found does the document get written again, escaping
    each string.
    So that a document full of such text (markup, formulas) is not written twice, the
    strings are also looked at early, at a container that starts once ``probe`` strings
    have been written, then again at four times as many: the first look that finds one
    ends the optimistic pass there (:class:`_Escaping`).
    Strings written already escaped go to ``escaped``, checked for forbidden characters
    only. With ``utf8``, text that is not ASCII is not looked at for forbidden
    characters at all: the caller looks for them in the document it encodes (see
    :func:`written`). Struct keys are collected without a look at their type: joining them all
    refuses any that is not a string.
    """

    __slots__ = (
        "allow_i8",
        "allow_none",
        "append",
        "careful",
        "collect",
        "escaped",
        "hole",
        "holes",
        "looked",
        "open_ids",
        "out",
        "probe",
        "strings",
        "utf8",
    )

    def __init__(self) -> None:
        self.out: list[str] = []
        self.append = self.out.append
        self.strings: list[str] = []
        # Bound once: binding ``strings.append`` in each container would allocate.
        self.collect = self.strings.append
        self.escaped: list[str] = []
        self.holes: list[int] = []  # indices in ``out`` of a careful pass's strings
        self.hole = self.holes.append
        # The containers open past _UNTRACKED_DEPTH: id -> depth. One setdefault() both
        # looks for a container and adds it: met again while open, it is found at the
        # smaller depth it was opened at.
        self.open_ids: dict[int, int] = {}
        self.looked = 0  # strings before this index were found clean by look()
        self.allow_none = self.allow_i8 = self.careful = self.utf8 = False
        self.probe = _FIRST_LOOK

    def look(self) -> None:
        """Look at the strings written so far; stop the optimistic pass if one needs escaping.

        Raises:
            _Escaping: One does: the caller starts again, carefully.
        """
        strings = self.strings
        try:
            # Only the strings written since the last look: each is looked at once.
            joined = "".join(strings[self.looked :])
        except TypeError:  # a key that is not a string: text() says so, at the end
            self.probe = _NEVER
            return
        if joined.isascii():
            suspect = SUSPECTS.found_in(joined.encode("ascii"))
        else:
            suspect = needs_escaping(joined) or (not self.utf8 and has_bad_char(joined))
        if suspect:
            raise _Escaping  # to escape (or forbidden, which the careful pass names)
        self.looked = len(strings)
        self.probe = 4 * len(strings)

    def reset(self) -> None:
        """Forget the document written, ready for an optimistic pass over the next one."""
        self.out.clear()
        self.strings.clear()
        self.looked = 0
        self.probe = _FIRST_LOOK
        if self.careful:
            self.careful = False
            self.holes.clear()
        if self.escaped:
            self.escaped.clear()
        if self.open_ids:
            self.open_ids.clear()

    def escape_checked(self, text: str) -> None:
        """Have ``text``, written escaped already, checked for forbidden characters only."""
        self.escaped.append(text)

    def text(self, root: object) -> str | None:
        """Return the document written, or None if an optimistic pass must be redone.

        Raises:
            ValueError: A string holds a character XML 1.0 cannot carry (``root`` is
                walked again to say which).
            TypeError: A struct key is not a string.
        """
        if self.careful:
            return self._filled(root)
        try:
            # One check over all the strings joined: far cheaper than one per string, and
            # than one over the whole document (its markup is known to be clean).
            # (Those before ``looked`` were found clean already.)
            looked = self.looked
            joined = "".join(self.strings[looked:] if looked else self.strings)
        except TypeError:
            raise TypeError("dictionary key must be string") from None
        if joined.isascii():
            raw = joined.encode("ascii")
            # SUSPECTS.found_in(raw), inlined for the short text of most documents.
            if len(raw) < SUSPECTS.SCAN_MIN:
                clean = raw.translate(SUSPECTS.table) == raw
            else:
                clean = not SUSPECTS.found_in(raw)
            if clean and not self.escaped:
                return "".join(self.out)  # the common case: nothing forbidden or to escape
            bad = CONTROLS.found_in(raw)
        else:  # with utf8, left to the check of the encoded document
            bad = not self.utf8 and has_bad_char(joined)
        if bad or (self.escaped and has_bad_char("".join(self.escaped))):
            raise_invalid_char(root)
        if needs_escaping(joined):
            return None
        return "".join(self.out)

    def later(self, text: str) -> None:
        """Append ``text`` as it is, to be escaped with all the others at the end.

        A careful pass writes each string as an item of its own, and keeps its index.
        """
        self.holes.append(len(self.out))
        self.out.append(text)

    def _filled(self, root: object) -> str:
        """Return the document of a careful pass, its strings escaped (see :meth:`later`).

        They are escaped all at once (:func:`escape_each`), about twice as cheap as a
        few ``replace`` calls on each.
        """
        if self.escaped and has_bad_char("".join(self.escaped)):
            raise_invalid_char(root)
        out, holes = self.out, self.holes
        if holes:
            filling = escape_each([out[i] for i in holes], self.utf8)
            if filling is None:
                raise_invalid_char(root)
            for i, text in zip(holes, filling, strict=True):
                out[i] = text
        return "".join(out)


class _Escaping(Exception):
    """The optimistic pass met a string that needs escaping: start again, carefully."""


#: Strings written before the first look for one that needs escaping (see Writer).
_FIRST_LOOK = 64
#: A ``probe`` no document reaches: no more looks.
_NEVER = 1 << 62

#: Containers this deep or less are not tracked for cycles: a cycle nests without end,
#: so it is still caught, one cycle's length past this depth, having written at most
#: this many times the containers' width.
_UNTRACKED_DEPTH = 8


#: Writers not in use. One is taken per document and given back cleared, so there are
#: never more than documents being written at once (one per thread, but for reentry).
_SPARE: list[Writer] = []


def written(
    fill: Callable[[Any, Writer, int], None],
    root: Any,
    allow_none: bool,
    allow_i8: bool,
    head: str = "",
    tail: str = "",
    utf8: bool = False,
) -> str:
    """Run ``fill(root, writer, 1)`` optimistically, then carefully if a string needs escaping.

    ``utf8``: the caller encodes the text to UTF-8 and looks for forbidden characters
    there (:func:`~._marshal.encode`), so strings that are not ASCII are not looked at
    for them here. Their UTF-8 is made once that way, not twice.
    """
    try:
        w = _SPARE.pop()
    except IndexError:
        w = Writer()
    w.allow_none = allow_none
    w.allow_i8 = allow_i8
    w.utf8 = utf8
    w.append(head)
    try:
        try:
            fill(root, w, 1)
        except _Escaping:
            text = None
        else:
            w.append(tail)
            text = w.text(root)
        if text is None:  # a string needs escaping: write it all again, carefully
            w.reset()
            w.careful = True
            w.probe = _NEVER
            w.append(head)
            fill(root, w, 1)
            w.append(tail)
            text = w.text(root)
            assert text is not None  # noqa: S101 - a careful pass always returns its text
        return text
    except RecursionError:
        raise ValueError("value nests too deeply to marshal") from None
    finally:
        w.reset()
        _SPARE.append(w)


def dump(value: Any, w: Writer, depth: int) -> None:
    """Append one ``<value>`` element for ``value``; every string written is collected.

    The same dispatch as the loop of :func:`dump_array`, on purpose: sharing it would
    cost every array one more call, and ``deep-100`` a fifth of its speed.
    """
    cls = type(value)
    if cls is str:
        if w.careful:
            w.append("<value><string>")
            w.later(value)
            w.append("</string></value>\n")
        else:
            w.strings.append(value)
            w.append(f"<value><string>{value}</string></value>\n")
    elif cls is int and -2147483648 <= value <= 2147483647:
        w.append(f"<value><int>{value}</int></value>\n")
    elif cls is bool:
        w.append(TRUE_VALUE if value else FALSE_VALUE)
    elif cls is float:
        w.append(f"<value><double>{value!r}</double></value>\n")
    elif cls is dict:
        dump_struct(value, w, depth)
    elif cls is list:
        dump_array(value, w, depth)
    else:
        _dump_other(value, w, depth)


def _dump_other(value: Any, w: Writer, depth: int) -> None:
    """Append the ``<value>`` of what the containers' loops do not write inline.

    That is all but strings, 32-bit integers, booleans, floats, lists and dicts.
    """
    cls = type(value)
    if cls is int:
        w.append(_big_int(value, w.allow_i8))
    elif cls is tuple:
        dump_array(value, w, depth)
    elif value is None:
        if not w.allow_none:
            raise TypeError("cannot marshal None unless allow_none is enabled")
        w.append("<value><nil/></value>")
    elif cls is Binary or cls is bytes or cls is bytearray:
        data = value.data if cls is Binary else value
        w.append(f"<value><base64>\n{_base64(data)}</base64></value>\n")
    elif cls is datetime.datetime:
        w.append(f"<value><dateTime.iso8601>{_datetime_text(value)}</dateTime.iso8601></value>\n")
    elif cls is DateTime:
        text = value.value
        if w.careful:
            w.append("<value><dateTime.iso8601>")
            w.later(text)
            w.append("</dateTime.iso8601></value>\n")
        else:
            w.strings.append(text)
            w.append(f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>\n")
    else:
        dump_struct(_instance_members(value), w, depth)


def dump_array(values: list[Any] | tuple[Any, ...], w: Writer, depth: int) -> None:
    if len(values) >= _UNIFORM_MIN and _uniform_array(values, w):
        return  # scalars only: never part of a cycle
    if len(w.strings) >= w.probe:
        w.look()
    tracked = depth > _UNTRACKED_DEPTH
    if tracked:
        open_ids, key = w.open_ids, id(values)
        if open_ids.setdefault(key, depth) != depth:
            raise TypeError("cannot marshal recursive sequences")
    append = w.append
    collect = w.collect
    careful = w.careful
    if careful:
        out, hole = w.out, w.hole
    inner = depth + 1
    append(_ARRAY_OPEN)
    for v in values:
        cls = type(v)
        if cls is str:
            if careful:  # Writer.later(), inlined
                append("<value><string>")
                hole(len(out))
                append(v)
                append("</string></value>\n")
            else:
                collect(v)
                append(f"<value><string>{v}</string></value>\n")
        elif cls is int and -2147483648 <= v <= 2147483647:
            append(f"<value><int>{v}</int></value>\n")
        elif cls is float:
            append(f"<value><double>{v!r}</double></value>\n")
        elif cls is bool:
            append(TRUE_VALUE if v else FALSE_VALUE)
        elif cls is dict:
            dump_struct(v, w, inner)
        elif cls is list:
            dump_array(v, w, inner)
        elif v is None and w.allow_none:  # (a list of nils: one call each cost 1.2x the stdlib)
            append("<value><nil/></value>")
        elif cls is datetime.datetime:
            append(f"<value><dateTime.iso8601>{_datetime_text(v)}</dateTime.iso8601></value>\n")
        elif cls is DateTime:  # (and a list of dates, 1.2x)
            text = v.value
            if careful:
                append("<value><dateTime.iso8601>")
                hole(len(out))
                append(text)
                append("</dateTime.iso8601></value>\n")
            else:
                collect(text)
                append(f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>\n")
        else:
            _dump_other(v, w, inner)
    append(_ARRAY_CLOSE)
    if tracked:
        del open_ids[key]


def dump_struct(members: dict[Any, Any], w: Writer, depth: int) -> None:
    if len(w.strings) >= w.probe:
        w.look()
    tracked = depth > _UNTRACKED_DEPTH
    if tracked:
        open_ids, key = w.open_ids, id(members)
        if open_ids.setdefault(key, depth) != depth:
            raise TypeError("cannot marshal recursive dictionaries")
    append = w.append
    collect = w.collect
    careful = w.careful
    inner = depth + 1
    if careful:
        out, hole = w.out, w.hole
        # Names rarely need escaping, even in text that does: look at them all at once.
        # They are escaped here, not filled in at the end, so are only checked there.
        try:
            names = "".join(members)
        except TypeError:
            raise TypeError("dictionary key must be string") from None
        careful_names = "&" in names or "<" in names or ">" in names
        w.escaped.extend(members)
    else:
        w.strings.extend(members)  # the keys: a key that is not a string fails their join
        careful_names = False
    append("<value><struct>\n")
    for name, v in members.items():
        if careful_names:
            name = escaped(name)
        cls = type(v)
        if cls is str:
            if careful:  # Writer.later(), inlined
                append(f"<member>\n<name>{name}</name>\n<value><string>")
                hole(len(out))
                append(v)
                append("</string></value>\n</member>\n")
            else:
                collect(v)
                append(
                    f"<member>\n<name>{name}</name>\n"
                    f"<value><string>{v}</string></value>\n</member>\n"
                )
        elif cls is int and -2147483648 <= v <= 2147483647:
            append(f"<member>\n<name>{name}</name>\n<value><int>{v}</int></value>\n</member>\n")
        elif cls is float:
            append(
                f"<member>\n<name>{name}</name>\n<value><double>{v!r}</double></value>\n</member>\n"
            )
        elif cls is bool:
            append(f"<member>\n<name>{name}</name>\n{TRUE_VALUE if v else FALSE_VALUE}</member>\n")
        elif cls is list or cls is dict:
            append(f"<member>\n<name>{name}</name>\n")
            if cls is list:
                dump_array(v, w, inner)
            else:
                dump_struct(v, w, inner)
            append("</member>\n")
        elif cls is DateTime:
            text = v.value
            if careful:
                append(f"<member>\n<name>{name}</name>\n<value><dateTime.iso8601>")
                w.later(text)
                append("</dateTime.iso8601></value>\n</member>\n")
            else:
                collect(text)
                append(
                    f"<member>\n<name>{name}</name>\n"
                    f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>\n</member>\n"
                )
        elif cls is Binary:
            append(
                f"<member>\n<name>{name}</name>\n<value><base64>\n"
                f"{_base64(v.data)}</base64></value>\n</member>\n"
            )
        else:
            append(f"<member>\n<name>{name}</name>\n")
            _dump_other(v, w, inner)
            append("</member>\n")
    append("</struct></value>\n")
    if tracked:
        del open_ids[key]


def _strings(root: object) -> Iterator[str]:
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


def raise_invalid_char(root: object) -> NoReturn:
    # Only reached on error: walk the values again to say which string and where.
    for s in _strings(root):
        bad = BAD_CHAR.search(s)
        if bad is not None:
            index = bad.start()
            snippet = s[max(0, index - 20) : index + 20]
            raise ValueError(
                f"cannot marshal {bad.group()!r} at index {index} of the string "
                f"{snippet!r}: XML 1.0 cannot carry this character (send bytes or "
                "Binary for binary data)"
            )
    raise ValueError("cannot marshal a character XML 1.0 cannot carry")  # pragma: no cover
