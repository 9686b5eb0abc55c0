r"""The text rules of both directions, stated once: what XML cannot carry, what is escaped.

- XML 1.0 carries ``#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
  [#x10000-#x10FFFF]``: anything else (the C0 controls but tab, LF and CR; lone
  surrogates; U+FFFE and U+FFFF) is an error, read or written.
- Written character data escapes ``&`` and ``<`` (XML requires it) and ``>`` (so that
  ``]]>`` can never appear), exactly as the standard library does. ``\r`` is written
  as it is, as there: a conforming receiver reads it as a line end (``\r\n`` as
  ``\n``), and ``&#13;``, which would keep it, reaches the application of a server
  whose parser decodes no character reference (ROS's XmlRpc++) as those five bytes.

The checks look for a set of bytes in the encoded text (:class:`ByteSet`), in C: not
a regular expression per string, which reads a character at a time.
"""

from __future__ import annotations

import re

__all__ = [
    "BAD_CHAR",
    "CONTROLS",
    "CONTROLS_BUT_NUL",
    "ESCAPES",
    "MARKED",
    "SUSPECTS",
    "SUSPECTS_BUT_NUL",
    "ByteSet",
    "escape",
    "escape_each",
    "escape_items",
    "escaped",
    "has_bad_char",
    "has_bad_utf8",
    "needs_escaping",
]

#: A character XML 1.0 cannot carry.
BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class ByteSet:
    """A set of bytes, and the cheapest test of whether some text holds one of them.

    Short text is read once through ``bytes.translate``, with a table that changes exactly
    these bytes: when nothing changes, CPython returns the text itself, and the
    comparison is one of identity. That reads about a byte per nanosecond and a half.
    From a few kilobytes on, one ``memchr`` per byte of the set is cheaper, although
    there are 33 of them: each reads tens of bytes per nanosecond (measured: 3.5 times
    faster on 250 KB, 2.2 times on 4 MB, and slower than the one pass below 4 KB).
    """

    __slots__ = ("members", "table")

    #: Where memchr starts to win (see above).
    SCAN_MIN = 4096

    def __init__(self, members: bytes) -> None:
        self.members = tuple(members)  # ints: ``int in bytes`` is a memchr, with no buffer
        table = bytearray(range(256))
        for byte in members:
            table[byte] ^= 1
        self.table = bytes(table)

    def found_in(self, raw: bytes) -> bool:
        """Whether ``raw`` holds one of the bytes of the set."""
        if len(raw) < self.SCAN_MIN:
            return raw.translate(self.table) != raw
        return any(map(raw.__contains__, self.members))


_CONTROL_BYTES = bytes(range(32)).translate(None, b"\t\n\r")
#: The ASCII bytes XML forbids.
CONTROLS = ByteSet(_CONTROL_BYTES)
#: The ASCII bytes a written string cannot hold as is: controls XML forbids, and the
#: three that are escaped.
SUSPECTS = ByteSet(_CONTROL_BYTES + b"&<>")
#: The same two but for NUL, which joins strings whose joints must be known.
CONTROLS_BUT_NUL = ByteSet(_CONTROL_BYTES[1:])
SUSPECTS_BUT_NUL = ByteSet(_CONTROL_BYTES[1:] + b"&<>")
#: What read text must be looked at for, beyond tags: controls XML forbids, CR (line
#: ends are normalised), "&" (references), and the bytes that begin markup other than
#: tags or end a CDATA section ("<!", "<?", "]]>"). ASCII text holding none is plain.
MARKED = ByteSet(_CONTROL_BYTES + b"\r&!?]")


def has_bad_char(text: str) -> bool:
    """Whether ``text`` holds a character XML 1.0 forbids (surrogates included).

    Text that is not ASCII is looked at in UTF-8, in C: no regular expression, which
    reads a character at a time.
    """
    if text.isascii():
        return CONTROLS.found_in(text.encode("ascii"))
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # strict UTF-8 refuses exactly the lone surrogates
        return True
    return has_bad_utf8(raw)


def _has_noncharacter(raw: bytes) -> bool:
    """Whether UTF-8 ``raw`` holds U+FFFE or U+FFFF.

    With the ASCII controls and the surrogates (which strict UTF-8 cannot encode), the
    characters XML 1.0 forbids.
    """
    # A memchr first: a search for three bytes reads text of other scripts at a tenth
    # of its speed (measured on Cyrillic and CJK), and EF is rare outside this block.
    return 0xEF in raw and (b"\xef\xbf\xbe" in raw or b"\xef\xbf\xbf" in raw)


def has_bad_utf8(raw: bytes) -> bool:
    """Whether ``raw``, strict UTF-8, holds a character XML 1.0 forbids."""
    return CONTROLS.found_in(raw) or _has_noncharacter(raw)


#: What written character data escapes, in this order ("&" first, so that the entities
#: added next are not escaped again). :func:`escape` spells it out, for speed.
ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_BYTE_ESCAPES = tuple((char.encode(), entity.encode()) for char, entity in ESCAPES)


def _checked_utf8(joined: str) -> bytes | None:
    """Return ``joined`` (strings joined by NUL) in UTF-8, or None if it must be refused.

    That is, if it holds a character XML 1.0 forbids, NUL aside: the callers check that.
    """
    try:
        raw = joined.encode("ascii" if joined.isascii() else "utf-8")
    except UnicodeEncodeError:  # a lone surrogate: strict UTF-8 refuses nothing else
        return None
    if CONTROLS_BUT_NUL.found_in(raw) or _has_noncharacter(raw):
        return None
    return raw


def _escaped_bytes(raw: bytes) -> bytes:
    for char, entity in _BYTE_ESCAPES:
        if char in raw:  # a memchr: far cheaper than a replace that finds nothing
            raw = raw.replace(char, entity)
    return raw


def _decodes_fast(raw: bytes, joined: str) -> bool:
    # Decoding UTF-8 that is mostly ASCII is a copy; decoding CJK or Cyrillic costs more
    # than escaping the text as text.
    return len(raw) < 2 * len(joined)


def escape_items(
    items: list[str] | tuple[str, ...], separator: str, checked_later: bool = False
) -> str | None:
    """Escape ``items`` and join them by ``separator``, all at once.

    Their text is looked at once, joined, in a few passes in C; most arrays hold nothing
    to escape, and are then joined as they are. Otherwise they are joined by NUL, the
    one character no string may hold (so the joints are known), escaped, and the NULs
    replaced by ``separator``. Returns None if an item holds a character XML 1.0
    forbids: the caller names it.

    ``checked_later``: the caller looks for forbidden characters in the UTF-8 document
    (:func:`has_bad_utf8`), so text that is not ASCII is not looked at for them here,
    and not encoded: encoding it, escaping it as bytes and decoding it back cost more
    than the standard library's whole marshalling (2.3 times as much on Cyrillic).
    """
    plain = "".join(items)
    ascii = plain.isascii()
    raw: bytes | None = None
    if checked_later and not ascii:
        if not needs_escaping(plain):
            return separator.join(items)  # (a NUL in an item stays, for the check to find)
    else:
        try:
            raw = plain.encode("ascii" if ascii else "utf-8")
        except UnicodeEncodeError:  # a lone surrogate: strict UTF-8 refuses nothing else
            return None
        if CONTROLS.found_in(raw) or (not ascii and _has_noncharacter(raw)):
            return None
        if not (b"&" in raw or b"<" in raw or b">" in raw):  # memchrs
            return separator.join(items)
    if raw is not None and _decodes_fast(raw, plain):
        joined = "\x00".join(items)
        out = _escaped_bytes(joined.encode("utf-8")).replace(b"\x00", separator.encode())
        return out.decode("utf-8")
    if len(plain) > 64 * len(items):
        # Long text: escaped string by string, as the stdlib does, spares the copies of
        # a join and a split, which cost more than the calls (measured on CJK).
        return separator.join(map(escape, items))
    pieces = escape("\x00".join(items)).split("\x00")
    return separator.join(pieces) if len(pieces) == len(items) else None


def escape_each(items: list[str], checked_later: bool = False) -> list[str] | None:
    """Return ``items`` escaped, as :func:`escape` would, but all at once.

    A few passes in C over them all, joined by NUL: for many short strings, about twice
    as cheap as a few ``replace`` calls on each. Returns None if an item holds a
    character XML 1.0 forbids (NUL included). ``checked_later`` as for
    :func:`escape_items`.
    """
    joined = "\x00".join(items)
    if checked_later and not joined.isascii():
        escaped = escape(joined).split("\x00")
    else:
        raw = _checked_utf8(joined)
        if raw is None:
            return None
        if _decodes_fast(raw, joined):
            escaped = _escaped_bytes(raw).decode("utf-8").split("\x00")
        else:
            escaped = escape(joined).split("\x00")
    # A NUL inside an item would make one piece too many: no count pass is needed.
    return escaped if len(escaped) == len(items) else None


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
    return text


def needs_escaping(text: str) -> bool:
    """Whether ``text`` holds a character that :func:`escape` changes."""
    return "&" in text or "<" in text or ">" in text


def escaped(text: str) -> str:
    """Return ``text`` escaped if it holds a character to escape, else ``text`` itself."""
    # needs_escaping() inlined: this runs once per string of a careful pass.
    if "&" in text or "<" in text or ">" in text:
        return escape(text)
    return text
