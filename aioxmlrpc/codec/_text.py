r"""Character-level XML rules: encodings, references, line ends, and non-element markup.

Non-element markup is comments, processing instructions, CDATA and the DOCTYPE.

Rules, as XML 1.0 states them (the parts XML-RPC documents can meet):

- Encoding: a BOM decides (UTF-8, UTF-16); otherwise the XML declaration's ``encoding``,
  which must name an ASCII-compatible single-byte codec or UTF-8; otherwise UTF-8.
- The XML declaration may only open the document. ``\\r\\n`` and lone ``\\r`` become
  ``\\n`` before anything else looks at the text.
- Characters outside ``#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
  [#x10000-#x10FFFF]`` are errors, written or referenced.
- ``&`` starts ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;``, ``&apos;`` or a character
  reference; any other entity reference is refused (no DTD can define one).
- ``]]>`` may not appear in character data. Comments may not contain ``--``.
- A DOCTYPE is refused outright (defusedxml's ``forbid_dtd`` policy): that is where
  entity bombs and external references live.

Comments and processing instructions are dropped and CDATA sections turned into escaped
character data before the structure is read, so the fast path only sees elements and text.
"""

from __future__ import annotations

import codecs
import re
from typing import NoReturn

from .._exceptions import DTDForbidden, EntitiesForbidden, MalformedXML, ResponseError

__all__ = [
    "NAME",
    "NAME_RE",
    "XML_FIRST_BYTES",
    "TextDecoder",
    "bad_reference",
    "expand_markup",
    "position",
    "stray_cdata_end",
    "strip_declaration",
    "unescape",
]

#: The bytes an XML-RPC body can begin with: markup, a blank, or the first byte of a
#: byte order mark (UTF-8, UTF-16, UTF-32). No gzip or zlib stream begins with one: a
#: body labelled compressed that does is not compressed (both transports' inflaters).
XML_FIRST_BYTES = frozenset(b"< \t\r\n\xef\xfe\xff\x00")

_WS = "[ \t\r\n]"
_DECLARATION = re.compile(
    rf"<\?xml{_WS}+version{_WS}*={_WS}*(?:'[A-Za-z0-9_.-]*'|\"[A-Za-z0-9_.-]*\")"
    rf"(?:{_WS}+encoding{_WS}*={_WS}*(?:'([A-Za-z][A-Za-z0-9._-]*)'|\"([A-Za-z][A-Za-z0-9._-]*)\"))?"
    rf"(?:{_WS}+standalone{_WS}*={_WS}*(?:'(?:yes|no)'|\"(?:yes|no)\"))?"
    rf"{_WS}*\?>"
)
_DECLARATION_BYTES = re.compile(_DECLARATION.pattern.encode("ascii"))
# The declaration is short; a "<?xml " prefix this long without "?>" is not one.
_MAX_DECLARATION = 512

# XML 1.0's Name production (fifth edition): element, attribute, prefix, PI target and
# entity names, non-ASCII included.
_NAME_START = (
    ":A-Z_a-z\xc0-\xd6\xd8-\xf6\xf8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME_CHAR = _NAME_START + "\\-.0-9\xb7\u0300-\u036f\u203f-\u2040"
#: The Name production, as a pattern to embed.
NAME = f"[{_NAME_START}][{_NAME_CHAR}]*"
NAME_RE = re.compile(NAME)

_BAD_REFERENCE = re.compile(r"&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
_CHAR_REFERENCE = re.compile(r"&#(?:([0-9]+)|x([0-9a-fA-F]+));")
_CHAR_REFERENCE_START = re.compile(r"&#(?:x[0-9a-fA-F]*|[0-9]*)")
_REFERENCE = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_DECLARED_NAME = re.compile(rf"[ \t\r\n%]*({NAME})")
_QUOTED = r"(\"[^\"]*\"|'[^']*')"
_DOCTYPE = re.compile(
    rf"<!DOCTYPE{_WS}+([^\s\[>]+)"
    rf"(?:{_WS}+SYSTEM{_WS}+{_QUOTED}|{_WS}+PUBLIC{_WS}+{_QUOTED}{_WS}+{_QUOTED})?"
    rf"{_WS}*[\[>]"
)
# How long a DOCTYPE's head (name and identifiers) may be before it is refused anyway.
_MAX_DOCTYPE_HEAD = 1024


def _unquote(text: str | None) -> str | None:
    return text[1:-1] if text else None


def position(text: str, index: int, line: int, column: int) -> tuple[int, int]:
    """Return the (line, column) of ``text[index]``, when ``text`` starts at (line, column)."""
    last = text.rfind("\n", 0, index)
    if last < 0:
        return line, column + index
    # The first newlines are hopped over by find(), a memchr: text that has only a few,
    # around a long string, is not counted a character at a time (str.count is a plain
    # loop, a third of a millisecond per megabyte).
    newlines, at = 1, text.find("\n", 0, index)
    while at != last and newlines < _HOPS:
        at = text.find("\n", at + 1, index)
        newlines += 1
    if at != last:
        newlines += text.count("\n", at + 1, index)
    return line + newlines, index - last - 1


_HOPS = 16


def _valid_code_point(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def bad_reference(text: str) -> tuple[int, ResponseError] | None:
    """Return where the first bad reference in ``text`` is, and the error it makes.

    The error is :class:`EntitiesForbidden` for a named entity other than XML's five,
    :class:`MalformedXML` for anything else. It is returned, not raised: the parser
    first reads what comes before it, so that an earlier error is the one reported.
    """
    found: tuple[int, ResponseError] | None = None
    bad = _BAD_REFERENCE.search(text)
    if bad is not None:
        name = NAME_RE.match(text, bad.end())
        if name is not None and text.startswith(";", name.end()):
            found = (bad.start(), EntitiesForbidden(name.group()))
        else:
            found = (_broken_at(text, bad.start()), MalformedXML("not well-formed (invalid token)"))
    if "&#" in text:
        end = found[0] if found is not None else len(text)
        for match in _CHAR_REFERENCE.finditer(text, 0, end):
            digits, hexdigits = match.groups()
            # Leading zeros are allowed, however many (as expat allows them).
            too_long = len((digits or hexdigits).lstrip("0")) > 8
            if too_long or not _valid_code_point(int(digits) if digits else int(hexdigits, 16)):
                return match.start(), MalformedXML("reference to invalid character number")
    return found


def _broken_at(text: str, amp: int) -> int:
    """Where a broken reference at ``amp`` is refused: where expat refuses it.

    That is at its first character that cannot go on: after ``&``, ``&#``, ``&#x``, the
    digits, or the name (``&amp `` at the space).
    """
    start = _CHAR_REFERENCE_START.match(text, amp)
    if start is not None:
        return start.end()
    name = NAME_RE.match(text, amp + 1)
    return amp + 1 if name is None else name.end()


def _replace_reference(match: re.Match[str]) -> str:
    name, digits, hexdigits = match.groups()
    if name:
        return _PREDEFINED[name]
    return chr(int(digits) if digits else int(hexdigits, 16))


def unescape(text: str) -> str:
    """Replace the references in checked character data by the characters they stand for."""
    if "&#" in text:
        return _REFERENCE.sub(_replace_reference, text)
    # "&amp;" last: the others cannot produce a new reference, but it could.
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def strip_declaration(text: str, final: bool) -> tuple[bool, str]:
    """Remove the XML declaration that may open ``text``.

    Returns:
        ``(decided, rest)``: ``decided`` is False while ``text`` is too short to tell
        whether it opens with a declaration; ``rest`` is the text after it.
    """
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte order mark in text given as str
    if not text.startswith("<?xml"):
        decided = final or len(text) >= 5 or not "<?xml".startswith(text)
        return decided, text
    if len(text) > 5 and text[5] not in " \t\r\n":
        return True, text  # a processing instruction such as <?xml-stylesheet ...?>
    match = _DECLARATION.match(text)
    if match is not None:
        return True, text[match.end() :]
    if "?>" in text or len(text) > _MAX_DECLARATION or final:
        raise MalformedXML("XML declaration not well-formed", 1, 0)
    return False, text


def _codec_for(name: str) -> str:
    """Return the codec for an encoding named in a declaration, if we can read it safely."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise MalformedXML(f"unknown encoding {name!r}", 1, 0) from None
    if info.name in ("utf-8", "utf-8-sig", "ascii", "latin-1", "iso8859-1"):
        return info.name
    # Anything else must be a single-byte codec that agrees with ASCII, or the markup
    # would not mean what it says (UTF-7, EBCDIC, multibyte Asian codecs...).
    probe = bytes(range(256)).decode(info.name, "replace")
    if len(probe) != 256 or probe[:128] != bytes(range(128)).decode("ascii"):
        raise MalformedXML(f"unsupported encoding {name!r}", 1, 0)
    return info.name


class TextDecoder:
    """Bytes -> text, choosing the codec from a BOM or the XML declaration.

    For ASCII-compatible encodings the declaration is read (and removed) here, from the
    bytes; ``declaration_done`` then tells the parser not to look for it in the text.
    """

    def __init__(self) -> None:
        """Start undecided: the first bytes choose the codec."""
        self._head = b""
        self._decoder: codecs.IncrementalDecoder | None = None
        self.declaration_done = False
        self.declaration = ""  # the declaration read from the bytes, for positions

    def decode(self, data: bytes, final: bool = False) -> str:
        """Decode the next bytes (``final`` on the last call).

        Raises:
            MalformedXML: Bytes that are not valid in the document's encoding.
        """
        decoder = self._decoder
        try:
            if decoder is None:
                head = self._head + data if self._head else data
                choice = self._choose(head, final)
                if choice is None:
                    self._head = head
                    return ""
                codec, start = choice
                self._head = b""
                if final and codec == "utf-8":
                    self._decoder = _DONE
                    return str(head[start:], "utf-8")  # the whole body at once
                decoder = self._decoder = codecs.getincrementaldecoder(codec)("strict")
                data = head[start:] if start else head
            return decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            error = MalformedXML("not well-formed (invalid token)")
            # Where in these bytes: the parser turns it into a line and column.
            error.valid_prefix = bytes(exc.object[: exc.start]).decode(exc.encoding, "replace")  # type: ignore[attr-defined]
            raise error from None

    def _choose(self, head: bytes, final: bool) -> tuple[str, int] | None:
        """Return (codec, bytes to skip), or None until enough bytes have arrived."""
        if head.startswith(b"<?xml "):  # the usual: no BOM, one of a few declarations
            end = head.find(b"?>", 6, _MAX_DECLARATION) + 2
            declaration = _COMMON_DECLARATIONS.get(head[:end]) if end > 1 else None
            if declaration is not None:
                self.declaration_done = True
                self.declaration = declaration
                return "utf-8", end
        if len(head) < 5 and not final:
            return None  # a BOM or "<?xml" may still be arriving
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            raise MalformedXML("unsupported encoding 'UTF-32'", 1, 0)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", 0  # the declaration is found in the text
        if head.startswith((b"<\x00", b"\x00<")):
            raise MalformedXML("unsupported encoding (UTF-16 without a BOM)", 1, 0)
        start = 3 if head.startswith(codecs.BOM_UTF8) else 0
        if len(head) < start + 5 and not final:
            return None
        if not head.startswith(b"<?xml", start):
            self.declaration_done = True
            return "utf-8", start
        match = _DECLARATION_BYTES.match(head, start)
        if match is None:
            if b"?>" in head or len(head) > _MAX_DECLARATION or final:
                return "utf-8", start  # the parser reports the bad declaration
            return None
        self.declaration_done = True
        self.declaration = match.group().decode("ascii")
        name = match.group(1) or match.group(2)
        codec = _codec_for(name.decode("ascii")) if name else "utf-8"
        if start and codec != "utf-8":
            raise MalformedXML(f"encoding {name!r} contradicts the UTF-8 byte order mark", 1, 0)
        return codec, match.end()


# What servers write (no encoding, or UTF-8): recognised without the regular expression.
_COMMON_DECLARATIONS = {
    text.encode("ascii"): text
    for q in "'\""
    for text in (
        f"<?xml version={q}1.0{q}?>",
        f"<?xml version={q}1.0{q} encoding={q}UTF-8{q}?>",
        f"<?xml version={q}1.0{q} encoding={q}utf-8{q}?>",
    )
}

# Stands in once a body was decoded whole: the parser only ever asks it for nothing more.
_DONE = codecs.getincrementaldecoder("utf-8")("strict")


def _fail(message: str, index: int | None = None) -> NoReturn:
    error = MalformedXML(message)
    if index is not None:
        error.text_index = index  # type: ignore[attr-defined]  # the parser locates it
    raise error


# A tag whose attribute values may hold ">", for telling a tag's "]]>" from text's.
_QUOTED_TAG = re.compile(r"<(?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*>")


def stray_cdata_end(text: str, start: int = 0) -> int:
    """Return the index of a ``]]>`` in character data, or -1.

    ``text`` holds tags and character data only (no comments, PIs or CDATA sections),
    and starts outside a tag. ``]]>`` is allowed in attribute values, not in text.
    """
    index = text.find("]]>", start)
    while index >= 0:
        tag = text.rfind("<", 0, index)
        if tag < 0:
            return index
        match = _QUOTED_TAG.match(text, tag)
        if match is not None and match.end() <= index:
            return index  # that tag ended before it: this is text
        index = text.find("]]>", index + 1)
    return -1


def expand_markup(text: str, final: bool) -> tuple[str, str]:
    """Drop comments and processing instructions; turn CDATA sections into escaped text.

    A ``]]>`` in character data is refused here, before the text around the dropped
    constructs is joined: ``x]]<!-- -->>`` is well-formed, and joining must not make it
    look otherwise. Where joining would put ``]]`` before ``>``, the ``>`` is written as
    ``&gt;``, so the expanded text can be read again (held back for the next feed) with
    the same meaning; where the text ends at a construct, the ``]`` before it are
    written as ``&#93;``, for the same reason.

    Returns:
        ``(expanded, held)``: ``held`` is an unfinished construct at the end of ``text``,
        to be retried when more text arrives.

    Raises:
        DTDForbidden: For a document type declaration.
        EntitiesForbidden: For an entity declaration.
        MalformedXML: For a construct XML does not allow (``text_index`` says where).
    """
    out: list[str] = []
    pos = 0
    # Where the next "<!" and "<?" are: each searched again only once passed, as a search
    # for one absent from the rest would read it all again for every construct (text
    # full of CDATA sections and no "<?" took 4 times the standard library's time).
    bang = text.find("<!")
    question = text.find("<?")
    while True:
        if 0 <= bang < pos:
            bang = text.find("<!", pos)
        if 0 <= question < pos:
            question = text.find("<?", pos)
        start = question if bang < 0 else bang if question < 0 else min(bang, question)
        piece = text[pos:start] if start >= 0 else text[pos:]
        if "]]>" in piece:
            stray = stray_cdata_end(piece)
            if stray >= 0:
                _fail("not well-formed (invalid token)", pos + stray)
        if out and piece.startswith((">", "]>")):
            piece = _no_new_cdata_end(out, piece)
        if start < 0:
            if out and not final and piece in ("", "]"):
                # The text ends at a construct (or one "]" after it): the "]" before it
                # must not meet a ">" or "]>" that starts the next feed, where nothing
                # joins the two back.
                _bracket_references(out)
            out.append(piece)
            return "".join(out), ""
        # A reference cannot be split by a comment; joining the text around it must not
        # make one.
        if piece.rfind("&") > piece.rfind(";"):
            _fail("not well-formed (invalid token)", start)
        out.append(piece)
        try:
            end = _markup_end(text, start, final)
            if end < 0:
                return "".join(out), text[start:]
            replacement = _replacement(text, start, end)
        except ResponseError as exc:
            if not hasattr(exc, "text_index"):
                exc.text_index = start  # type: ignore[attr-defined]  # the parser locates it
            raise
        if replacement:
            if replacement[0] == ">" or replacement.startswith("]>"):
                replacement = _no_new_cdata_end(out, replacement)
            out.append(replacement)
        pos = end


def _bracket_references(out: list[str]) -> None:
    """Write the run of ``]`` that ends ``out`` as ``&#93;``: the same text, unjoinable."""
    for index in range(len(out) - 1, -1, -1):
        entry = out[index]
        kept = entry.rstrip("]")
        if len(kept) != len(entry):
            out[index] = kept + "&#93;" * (len(entry) - len(kept))
        if kept:
            return


def _no_new_cdata_end(out: list[str], piece: str) -> str:
    """Write the ``>`` of ``piece`` as ``&gt;`` if the text before it ends a ``]]``."""
    before = "".join(out[-2:])[-2:]
    if before.endswith("]]") and piece.startswith(">"):
        return "&gt;" + piece[1:]
    if before.endswith("]") and piece.startswith("]>"):
        return "]&gt;" + piece[2:]
    return piece


_TERMINATORS = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"))


def _markup_end(text: str, start: int, final: bool) -> int:
    """Return the index after the construct at ``start``, or -1 if it is unfinished."""
    for opener, closer in _TERMINATORS:
        if text.startswith(opener, start):
            end = text.find(closer, start + len(opener))
            if end >= 0:
                return end + len(closer)
            if final:
                _fail("unclosed token")
            return -1
        if not final and opener.startswith(text[start : start + len(opener)]):
            return -1  # too short to tell which construct this is (sliced short: no copy)
    if text.startswith("<!DOCTYPE", start):
        # Wait (briefly) for the identifiers, which defusedxml's error records too.
        head = _DOCTYPE.match(text, start)
        if head is None and not final and len(text) - start < _MAX_DOCTYPE_HEAD:
            return -1
        if head is None:
            raise DTDForbidden("")
        name, system, public, public_system = head.groups()
        raise DTDForbidden(
            name, _unquote(system or public_system), _unquote(public) if public else None
        )
    if text.startswith("<!ENTITY", start):
        name = _DECLARED_NAME.match(text, start + 8)
        raise EntitiesForbidden(name.group(1) if name else "")
    if not final and len(text) - start < 9:
        return -1  # may yet become "<!DOCTYPE"
    _fail("not well-formed (invalid token)")


def _replacement(text: str, start: int, end: int) -> str:
    if text.startswith("<!--", start):
        body = text[start + 4 : end - 3]
        if "--" in body or body.endswith("-"):
            _fail("not well-formed (invalid token)")
        return ""
    if text.startswith("<![CDATA[", start):
        body = text[start + 9 : end - 3]
        if not body.strip(" \t\n"):
            # Whitespace written as references: still whitespace inside a value, but not
            # mistaken for the insignificant kind between elements.
            return "".join(f"&#{ord(c)};" for c in body)
        return body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    target = NAME_RE.match(text, start + 2)
    if target is None or target.group().lower() == "xml":
        _fail("XML or text declaration not at start of entity")
    following = text[target.end() : target.end() + 1]
    if following not in (" ", "\t", "\n", "?"):
        _fail("not well-formed (invalid token)")
    return ""
