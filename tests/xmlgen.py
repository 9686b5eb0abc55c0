"""A generator of *valid* XML-RPC documents written with every lexical variation XML allows.

Not mutations: each document is well-formed, has no DTD, and means one known thing, so
``xmlrpc.client.loads`` must accept it and ours must return the same. The variations
(each chosen at random, per element or per piece of text):

- declaration: none, or ``version`` with either quote, optional ``encoding`` (any case,
  aliases) and ``standalone``, with or without spaces around ``=``; BOMs (UTF-8, and
  UTF-16 in both byte orders);
- encodings: UTF-8, UTF-16, ISO-8859-1 and its aliases, US-ASCII, cp1252, koi8-r... with
  characters the encoding lacks written as character references;
- names: namespace prefixes on any element (ASCII, non-ASCII, empty, with two colons),
  the same on the end tag;
- attributes on any start tag: ``xmlns`` declarations, prefixed and non-ASCII names,
  values holding ``>``, the other quote, ``]]>``, references, whitespace around ``=``;
- whitespace inside tags (before ``>`` and ``/>``, in end tags), and between elements
  where it is insignificant: spaces, tabs, LF, CR and CRLF;
- comments and processing instructions between elements, inside text (splitting it),
  before and after the root; their bodies hold ``<``, ``>``, ``&`` and ``]]>``;
- text: literal characters, the five predefined entities, decimal and hexadecimal
  character references (zero-padded, either case of hex digit), CDATA sections (split
  anywhere, adjacent, ``]]>`` split across two), CR and CRLF line ends;
- a ``<fault>`` wrapping a value inside a ``<value>``, as Perl's RPC::XML writes;
- empty-element forms (``<string/>``, ``<value/>``, ``<nil/>``, ``<array/>``,
  ``<struct/>``, ``<data/>``), and the type aliases (``i4``, ``i8``, ``int``, untyped
  ``<value>`` text).

``document(rng)`` returns ``(body, options)``: the bytes, and the ``loads`` options to
use (``use_datetime``, ``use_builtin_types``).
"""

from __future__ import annotations

import base64
import codecs
import random
import string
from typing import Any
from xmlrpc.client import Binary, DateTime

__all__ = ["document", "normalise"]

# Characters text may hold (no controls, no lone surrogates, no U+FFFE/U+FFFF), weighted
# towards those XML treats specially.
_SPECIAL = "<>&'\"]\n\t\r"
_WIDE = "é€Ж日\u00a0\u00ff\U0001f600\U0001d11e\ufffd\u2028"
_PLAIN = string.ascii_letters + string.digits + " .,;:-_/!?#%()[]{}=+*"

_ENCODINGS = [
    ("utf-8", ["UTF-8", "utf-8", "Utf-8"]),
    ("utf-16", ["UTF-16", "utf-16"]),
    ("iso-8859-1", ["ISO-8859-1", "iso-8859-1", "latin-1", "Latin1", "ISO_8859-1"]),
    ("us-ascii", ["US-ASCII", "ascii", "us-ascii"]),
    ("cp1252", ["windows-1252", "cp1252"]),
    ("koi8-r", ["KOI8-R"]),
    ("iso-8859-15", ["ISO-8859-15"]),
]

_PREFIXES = ["ex", "ns1", "xmlrpc", "ëx", "日本", "", "a:b", "_x.y-z", "Ωmega"]
_ASCII_PREFIXES = ["ex", "ns1", "xmlrpc", "", "a:b", "_x.y-z"]
_ATTRIBUTE_NAMES = ["id", "xmlns", "xmlns:ex", "a:b", "type", "x-y", "_z", "lang"]
_WIDE_ATTRIBUTE_NAMES = ["ä", "名前", "xmlns:ëx"]
_PI_TARGETS = ["pi", "php", "xml-stylesheet", "tëst", "日本", "a:b", "xml2"]


class _Writer:
    """Writes one document, choosing a variation at each step."""

    def __init__(self, rng: random.Random, codec: str, wide_names: bool, wild: float) -> None:
        self.rng = rng
        self.codec = codec
        self.wide_names = wide_names  # non-ASCII names only where the encoding has them
        self.wild = wild  # how often a variation is chosen, per opportunity
        self.out: list[str] = []

    def chance(self, scale: float = 1.0) -> bool:
        return self.rng.random() < self.wild * scale

    # -- markup between elements ----------------------------------------------------

    def space(self) -> str:
        if not self.chance():
            return self.rng.choice(["", "", "\n"])
        return "".join(self.rng.choice([" ", "\t", "\n", "\r", "\r\n"]) for _ in range(3))

    def comment(self) -> str:
        body = self.rng.choice(["", " x ", " <a> & ]]> ", "é€", "x-y", " > ", "-x"])
        return f"<!--{body}-->"

    def pi(self) -> str:
        targets = _PI_TARGETS if self.wide_names else [t for t in _PI_TARGETS if t.isascii()]
        target = self.rng.choice(targets)
        data = self.rng.choice(["", " ", " data", " <a> & ]]> >", " x='1'"])
        return f"<?{target}{data}?>"

    def misc(self) -> str:
        """Whitespace, comments and PIs: what may stand between elements."""
        parts = [self.space()]
        while self.chance(0.5):
            parts.append(self.comment() if self.rng.random() < 0.6 else self.pi())
            parts.append(self.space())
        return "".join(parts)

    # -- tags -----------------------------------------------------------------------------

    def qname(self, local: str) -> str:
        if not self.chance(0.4):
            return local
        prefixes = _PREFIXES if self.wide_names else _ASCII_PREFIXES
        return f"{self.rng.choice(prefixes)}:{local}"

    def attribute_value(self) -> str:
        body = self.rng.choice(
            ["", "1", "a b", ">", "]]>", "&amp;", "&#60;", "&lt;&gt;", "&#x3e;", "x y=z", "é"]
        )
        if self.rng.random() < 0.5:
            return '"' + body.replace('"', "&quot;") + "'" * self.rng.randint(0, 1) + '"'
        return "'" + body.replace("'", "&apos;") + '"' * self.rng.randint(0, 1) + "'"

    def attributes(self) -> str:
        if not self.chance(0.5):
            return ""
        names = _ATTRIBUTE_NAMES + (_WIDE_ATTRIBUTE_NAMES if self.wide_names else [])
        chosen = self.rng.sample(names, self.rng.randint(1, 3))
        parts = []
        for name in chosen:
            around = self.rng.choice(["", " ", "\n", "\t "])
            parts.append(f"{self.rng.choice([' ', '  ', chr(10), chr(9)])}{name}{around}=")
            parts.append(f"{around}{self.attribute_value()}")
        return "".join(parts)

    def inner_space(self) -> str:
        return self.rng.choice([" ", "\n", "\t", "  "]) if self.chance(0.5) else ""

    def start(self, qname: str) -> str:
        return f"<{qname}{self.attributes()}{self.inner_space()}>"

    def end(self, qname: str) -> str:
        return f"</{qname}{self.inner_space()}>"

    def empty(self, qname: str) -> str:
        return f"<{qname}{self.attributes()}{self.inner_space()}/>"

    # -- text -----------------------------------------------------------------------------

    def text(self, value: str) -> str:
        """Character data that parses to exactly ``value``."""
        out: list[str] = []
        i = 0
        while i < len(value):
            if value.startswith("]]>", i) and self.rng.random() < 0.5:
                # Legal as long as the three are not adjacent in the source.
                between = self.comment() if self.rng.random() < 0.5 else self.pi()
                out.append(f"]]{between}{self.rng.choice(['>', '&gt;'])}")
                i += 3
                continue
            if value.startswith("]]>", i) or (self.chance(0.3) and i + 1 < len(value)):
                # A CDATA section over the next few characters (no CR: CDATA keeps it
                # raw, and line-end normalisation would then turn it into LF).
                end = min(len(value), i + self.rng.randint(3, 8))
                chunk = value[i:end]
                if ("\r" in chunk or not self.encodable(chunk)) and chunk.startswith("]]>"):
                    chunk, end = "]]>", i + 3
                if "\r" not in chunk and self.encodable(chunk):
                    out.append("<![CDATA[" + chunk.replace("]]>", "]]]]><![CDATA[>") + "]]>")
                    i = end
                    continue
            c = value[i]
            out.append(self.character(c, out, value[i + 1 : i + 2]))
            if self.chance(0.1):
                out.append(self.comment() if self.rng.random() < 0.5 else self.pi())
            i += 1
        return "".join(out)

    def encodable(self, text: str) -> bool:
        """Whether ``text`` can be written as is (CDATA cannot hold references)."""
        try:
            text.encode(self.codec)
        except UnicodeEncodeError:
            return False
        return True

    def character(self, c: str, before: list[str], following: str) -> str:
        if c == "<":
            return self.rng.choice(["&lt;", "&#60;", "&#x3C;", "&#x3c;", "&#0060;"])
        if c == "&":
            return self.rng.choice(["&amp;", "&#38;", "&#x26;"])
        if c == "\r":
            return self.rng.choice(["&#13;", "&#xD;", "&#xd;", "&#00013;"])
        if c == ">":
            # A literal ">" is fine unless the text before ends in "]]".
            tail = "".join(before[-2:])[-2:]
            if tail.endswith("]]") or not self.chance():
                return self.rng.choice(["&gt;", "&#62;"])
            return ">"
        if c == "\n" and self.chance(0.5):
            # A lone CR would join an LF written next into one line end.
            lone_cr = [] if following == "\n" else ["\r"]
            return self.rng.choice(["\r\n", "&#10;", "&#xA;", *lone_cr])
        if c in "'\"" and self.chance():
            return "&apos;" if c == "'" else "&quot;"
        if self.chance(0.15):
            code = ord(c)
            return self.rng.choice([f"&#{code};", f"&#x{code:x};", f"&#x{code:X};", f"&#00{code};"])
        return c

    # -- values ---------------------------------------------------------------------------

    def value(self, depth: int) -> Any:
        """Write one ``<value>``; return what it means."""
        rng = self.rng
        if depth < 4 and self.chance(0.1):
            # A <fault> in a <value> wraps a value (Perl's failed multicall items).
            value, fault = self.qname("value"), self.qname("fault")
            self.out.append(self.start(value) + self.misc() + self.start(fault) + self.misc())
            inner = self.value(depth + 1)
            self.out.append(self.misc() + self.end(fault) + self.misc() + self.end(value))
            return inner
        kind = rng.randrange(12) if depth < 4 else rng.randrange(9)
        qname = self.qname("value")
        if kind == 0 and self.chance():
            self.out.append(self.empty(qname))
            return ""
        self.out.append(self.start(qname))
        typed_space = kind != 1  # untyped text is the value: no space around it
        if typed_space:
            self.out.append(self.misc())
        result = self.typed(kind, depth)
        if typed_space:
            self.out.append(self.misc())
        self.out.append(self.end(qname))
        return result

    def typed(self, kind: int, depth: int) -> Any:
        rng = self.rng
        if kind == 0:
            text = self.string_value()
            return self.scalar("string", self.text(text), text, allow_empty=not text)
        if kind == 1:  # untyped: the text is a string
            text = self.string_value() or "x"
            self.out.append(self.text(text))
            return text
        if kind == 2:
            number = rng.choice([0, 1, -1, 2**31 - 1, -(2**31), rng.randint(-999, 999)])
            name = rng.choice(["int", "i4", "i8", "i2", "i1"])
            spelled = rng.choice(
                [str(number), f" {number} ", f"+{number}" if number >= 0 else str(number)]
            )
            return self.scalar(name, self.text(spelled), number)
        if kind == 3:
            flag = rng.random() < 0.5
            return self.scalar("boolean", self.text("1" if flag else "0"), flag)
        if kind == 4:
            real = rng.choice([0.0, -1.5, 1e300, 2.5e-7, float(rng.randint(-99, 99))])
            return self.scalar(rng.choice(["double", "float"]), self.text(repr(real)), real)
        if kind == 5:
            data = rng.randbytes(rng.randint(0, 12))
            encoded = base64.encodebytes(data).decode("ascii")
            if self.chance():
                encoded = encoded.replace("\n", self.rng.choice(["\r\n", " ", "\n\n"]))
            return self.scalar("base64", self.text(encoded), Binary(data), allow_empty=not data)
        if kind == 6:
            stamp = f"{rng.randint(1900, 2099)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}T"
            stamp += f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
            return self.scalar("dateTime.iso8601", self.text(stamp), DateTime(stamp))
        if kind in (7, 8):
            self.nil()
            return None
        if kind in (9, 10):
            return self.array(depth)
        return self.struct(depth)

    def scalar(self, local: str, written: str, meaning: Any, allow_empty: bool = False) -> Any:
        qname = self.qname(local)
        if allow_empty and self.chance():
            self.out.append(self.empty(qname))
        else:
            self.out.append(self.start(qname) + written + self.end(qname))
        return meaning

    def nil(self) -> None:
        qname = self.qname("nil")
        self.out.append(
            self.empty(qname) if self.rng.random() < 0.7 else self.start(qname) + self.end(qname)
        )

    def string_value(self) -> str:
        rng = self.rng
        pools = [_PLAIN, _SPECIAL, _WIDE]
        length = rng.choice([0, 1, 3, 8, 20])
        chars = [rng.choice(rng.choices(pools, weights=[6, 3, 2])[0]) for _ in range(length)]
        text = "".join(chars)
        if rng.random() < 0.2:
            text += rng.choice(["]]>", "]]", "]]]>", "&amp;", "<![CDATA[", "-->"])
        return text

    def array(self, depth: int) -> list[Any]:
        qname = self.qname("array")
        items: list[Any] = []
        if self.chance(0.3):
            self.out.append(self.empty(qname))
            return items
        self.out.append(self.start(qname) + self.misc())
        data = self.qname("data")
        count = self.rng.randint(0, 4)
        if not count and self.chance():
            self.out.append(self.empty(data))
        else:
            self.out.append(self.start(data) + self.misc())
            for _ in range(count):
                items.append(self.value(depth + 1))
                self.out.append(self.misc())
            self.out.append(self.end(data))
        self.out.append(self.misc() + self.end(qname))
        return items

    def struct(self, depth: int) -> dict[str, Any]:
        qname = self.qname("struct")
        members: dict[str, Any] = {}
        if self.chance(0.3):
            self.out.append(self.empty(qname))
            return members
        self.out.append(self.start(qname) + self.misc())
        for _ in range(self.rng.randint(0, 4)):
            member = self.qname("member")
            name = self.qname("name")
            key = self.string_value() or "k"
            self.out.append(self.start(member) + self.misc())
            self.out.append(self.start(name) + self.text(key) + self.end(name) + self.misc())
            members[key] = self.value(depth + 1)
            self.out.append(self.misc() + self.end(member) + self.misc())
        self.out.append(self.end(qname))
        return members

    # -- documents ----------------------------------------------------------------------

    def params(self, count: int) -> list[Any]:
        values: list[Any] = []
        params = self.qname("params")
        if not count and self.chance():
            self.out.append(self.empty(params))
            return values
        self.out.append(self.start(params) + self.misc())
        for _ in range(count):
            param = self.qname("param")
            self.out.append(self.start(param) + self.misc())
            values.append(self.value(0))
            self.out.append(self.misc() + self.end(param) + self.misc())
        self.out.append(self.end(params))
        return values

    def fault(self) -> tuple[int, str]:
        code, message = self.rng.randint(-32768, 32767), self.string_value()
        fault = self.qname("fault")
        self.out.append(self.start(fault) + self.misc())
        value, struct = self.qname("value"), self.qname("struct")
        self.out.append(self.start(value) + self.misc() + self.start(struct) + self.misc())
        for key, meaning in (("faultCode", code), ("faultString", message)):
            member, name = self.qname("member"), self.qname("name")
            self.out.append(self.start(member) + self.start(name) + self.text(key) + self.end(name))
            inner = self.qname("value")
            if key == "faultCode":
                int_name = self.qname(self.rng.choice(["int", "i4"]))
                written = self.start(int_name) + self.text(str(meaning)) + self.end(int_name)
            else:
                string_name = self.qname("string")
                written = self.start(string_name) + self.text(message) + self.end(string_name)
            self.out.append(self.start(inner) + written + self.end(inner) + self.end(member))
            self.out.append(self.misc())
        self.out.append(
            self.end(struct) + self.misc() + self.end(value) + self.misc() + self.end(fault)
        )
        return code, message

    def root(self) -> Any:
        """Write the root element; return ``(params, method name)`` or a fault pair."""
        rng = self.rng
        shape = rng.randrange(4)
        if shape == 0:
            qname = self.qname("methodCall")
            self.out.append(self.start(qname) + self.misc())
            name = rng.choice(["ping", "system.listMethods", "a.b_c-d", "x:y", "é"])
            element = self.qname("methodName")
            self.out.append(self.start(element) + self.text(name) + self.end(element))
            params: list[Any] = []
            if self.chance():
                self.out.append(self.misc())
                params = self.params(rng.randint(0, 3))
            self.out.append(self.misc() + self.end(qname))
            return ("call", tuple(params), name)
        if shape == 3:
            return ("params", tuple(self.params(rng.randint(0, 3))), None)
        qname = self.qname("methodResponse")
        self.out.append(self.start(qname) + self.misc())
        if shape == 1:
            result: Any = ("fault", *self.fault())
        else:
            result = ("response", tuple(self.params(1)), None)
        self.out.append(self.misc() + self.end(qname))
        return result


def document(rng: random.Random, wild: float = 0.35) -> tuple[bytes, dict[str, bool], Any]:
    """Return ``(body, loads options, meaning)`` for one random valid document.

    ``meaning`` is ``("response"|"call"|"params", params, method name)`` or
    ``("fault", code, string)``: what the document says, for checking the generator.
    """
    codec, names = rng.choice(_ENCODINGS)
    wide = codec in ("utf-8", "utf-16")
    writer = _Writer(rng, codec, wide_names=wide, wild=wild)
    head = ""
    declared = rng.random() < 0.7 or codec not in ("utf-8", "utf-16")
    if declared:
        quote = rng.choice("'\"")
        eq = rng.choice(["=", " = ", "\t=\n"])
        head = f"<?xml version{eq}{quote}{rng.choice(['1.0', '1.0', '1.1', '2.0'])}{quote}"
        if codec != "utf-8" or rng.random() < 0.5:
            head += f" encoding{eq}{quote}{rng.choice(names)}{quote}"
        if rng.random() < 0.2:
            head += f" standalone={quote}{rng.choice(['yes', 'no'])}{quote}"
        head += rng.choice(["", " ", "\n"]) + "?>"
    writer.out.append(head)
    if rng.random() < 0.3:
        writer.out.append(writer.misc())
    meaning = writer.root()
    if rng.random() < 0.3:
        writer.out.append(writer.misc())
    text = "".join(writer.out)
    bom = b""
    if codec == "utf-16":
        encoding = rng.choice(["utf-16-le", "utf-16-be"])
        bom = codecs.BOM_UTF16_LE if encoding == "utf-16-le" else codecs.BOM_UTF16_BE
        body = bom + text.encode(encoding)
    else:
        if codec == "utf-8" and rng.random() < 0.15:
            bom = codecs.BOM_UTF8
        body = bom + text.encode(codec, "xmlcharrefreplace")
    options = {
        "use_datetime": rng.random() < 0.2,
        "use_builtin_types": rng.random() < 0.2,
    }
    return body, options, meaning


def normalise(value: Any) -> Any:
    """A comparable form: DateTime and Binary by content, containers recursively."""
    if isinstance(value, DateTime):
        return ("DateTime", value.value)
    if isinstance(value, Binary):
        return ("Binary", value.data)
    if isinstance(value, (list, tuple)):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, float) and value != value:
        return ("nan",)
    return value
