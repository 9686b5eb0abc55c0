r"""The text rules of both directions, stated once: what XML cannot carry, what is escaped.

- XML 1.0 carries ``#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
  [#x10000-#x10FFFF]``: anything else (the C0 controls but tab, LF and CR; lone
  surrogates; U+FFFE and U+FFFF) is an error, read or written.
- Written character data escapes ``&`` and ``<`` (XML requires it), ``>`` (as the
  standard library does, and so that ``]]>`` can never appear), and ``\r`` as ``&#13;``
  (a raw CR would come back as LF: the receiver normalises line ends).

The checks are single passes in C over the bytes (``bytes.translate`` with a table that
changes exactly the suspect bytes), not a regular expression per string.
"""

from __future__ import annotations

import re

__all__ = [
    "BAD_CHAR",
    "CONTROL_BUT_NUL_TABLE",
    "CONTROL_TABLE",
    "ESCAPES",
    "SUSPECT_BUT_NUL_TABLE",
    "SUSPECT_TABLE",
    "changing_table",
    "escape",
    "escape_items",
    "escaped",
    "has_bad_char",
    "is_suspect",
    "needs_escaping",
]

#: A character XML 1.0 cannot carry.
BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BAD_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def changing_table(suspects: bytes) -> bytes:
    """Return a ``bytes.translate`` table that changes exactly the bytes in ``suspects``.

    ``raw.translate(table) != raw`` then tells whether ``raw`` holds one of them, in a
    single pass: several times faster than a regular expression, and, unlike deleting
    them, with no table to build on each call. (When nothing changes, CPython returns
    ``raw`` itself, and the comparison is one of identity.)
    """
    table = bytearray(range(256))
    for byte in suspects:
        table[byte] ^= 1
    return bytes(table)


_CONTROLS = bytes(range(32)).translate(None, b"\t\n\r")
#: Changes the ASCII bytes XML forbids.
CONTROL_TABLE = changing_table(_CONTROLS)
#: Changes the ASCII bytes a written string cannot hold as is: controls XML forbids, and
#: the four that are escaped.
SUSPECT_TABLE = changing_table(_CONTROLS + b"&<>\r")
#: The same two but for NUL, which joins strings whose joints must be known.
CONTROL_BUT_NUL_TABLE = changing_table(_CONTROLS[1:])
SUSPECT_BUT_NUL_TABLE = changing_table(_CONTROLS[1:] + b"&<>\r")


def has_bad_char(text: str) -> bool:
    """Whether ``text`` holds a character XML 1.0 forbids (surrogates included).

    Non-ASCII text falls back to a regular expression only when it must.
    """
    if text.isascii():
        raw = text.encode("ascii")
        return raw.translate(CONTROL_TABLE) != raw
    raw = text.encode("utf-8", "surrogatepass")
    if raw.translate(CONTROL_TABLE) != raw:
        return True
    # U+FFFE, U+FFFF and surrogates (ED A0..ED BF) are the only others.
    if b"\xef\xbf\xbe" in raw or b"\xef\xbf\xbf" in raw:
        return True
    return b"\xed" in raw and BAD_CHAR.search(text) is not None


#: What written character data escapes, in this order ("&" first, so that the entities
#: added next are not escaped again). :func:`escape` spells it out, for speed.
ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
_BYTE_ESCAPES = tuple((char.encode(), entity.encode()) for char, entity in ESCAPES)


def escape_items(items: list[str] | tuple[str, ...], separator: str) -> str | None:
    """Escape ``items`` and join them by ``separator``, all at once.

    They are joined by NUL, the one character no string may hold (so the joints are
    known), escaped, and the NULs replaced by ``separator``. Text that is not ASCII is
    escaped in UTF-8, where a character costs one byte, not the four of a string holding
    an emoji. Returns None if an item holds a character XML 1.0 forbids (NUL included):
    the caller then names it.
    """
    joined = "\x00".join(items)
    ascii = joined.isascii()
    raw = joined.encode("ascii" if ascii else "utf-8", "surrogatepass")
    if raw.count(0) != len(items) - 1:
        return None
    if raw.translate(SUSPECT_BUT_NUL_TABLE) != raw:
        if raw.translate(CONTROL_BUT_NUL_TABLE) != raw:
            return None
        for char, entity in _BYTE_ESCAPES:
            if char in raw:
                raw = raw.replace(char, entity)
    # U+FFFE, U+FFFF and surrogates (ED A0..ED BF) are the only others.
    if not ascii and (b"\xef\xbf\xbe" in raw or b"\xef\xbf\xbf" in raw):
        return None
    if not ascii and b"\xed" in raw and _BAD_BUT_NUL.search(joined) is not None:
        return None
    return raw.replace(b"\x00", separator.encode()).decode("ascii" if ascii else "utf-8")


def escape(text: str) -> str:
    """Escape ``text`` for XML character data: the replacements of ``ESCAPES``."""
    # "&" first, so the entities added next are not escaped again. A replace that finds
    # nothing still copies nothing, but looking first is cheaper than the call.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def is_suspect(text: str) -> bool:
    """Whether ``text`` holds a character to escape, or one XML 1.0 forbids."""
    if text.isascii():
        raw = text.encode("ascii")
        return raw.translate(SUSPECT_TABLE) != raw
    return needs_escaping(text) or has_bad_char(text)


def needs_escaping(text: str) -> bool:
    """Whether ``text`` holds a character that :func:`escape` changes."""
    return "&" in text or "<" in text or ">" in text or "\r" in text


def escaped(text: str) -> str:
    """Return ``text`` escaped if it holds a character to escape, else ``text`` itself."""
    # needs_escaping() inlined: this runs once per string of a careful pass.
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return escape(text)
    return text
