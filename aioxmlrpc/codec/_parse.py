"""Incremental, hardened XML-RPC parsing: ``feed(bytes)`` as they arrive, then ``close()``.

A document flows through three stages, each of which keeps only what it has not finished:

1. bytes -> text (:class:`~._text.TextDecoder`: BOM, declared encoding, split
   multi-byte characters), in slices of at most :data:`_SLICE` bytes so that a large
   ``feed`` never holds more than a slice's worth of intermediate objects;
2. character rules over the text not yet read (:mod:`._text`): line ends, forbidden
   characters, references, comments, CDATA, and the refusal of DTDs;
3. structure: one regular-expression call splits the text up to the last ``<`` into
   (markup run, text) pairs, and each pair runs a plan compiled by :mod:`._grammar`.

Text after the last ``<`` (and a run that might continue) waits for the next ``feed``,
so splitting a body at any byte boundary gives the same result.
"""

from __future__ import annotations

import itertools
import re
import sys
from itertools import chain
from typing import Any, NoReturn

from .._exceptions import (
    Fault,
    InvalidResponse,
    InvalidValue,
    MalformedXML,
    ResponseError,
    ResponseTooDeep,
    ResponseTooLarge,
    TruncatedResponse,
)
from .._types import Value
from ._escape import BAD_CHAR, MARKED, has_bad_char
from ._grammar import (
    DOC,
    DYNAMIC,
    END,
    O_BLANK,
    O_CLOSE,
    O_EMIT,
    O_FAULT,
    O_KEY,
    O_NAME,
    O_OPEN,
    O_ROOT,
    P_DICT,
    P_DICT_STR,
    P_KEY,
    P_LIST,
    P_LIST_STR,
    P_NEXT,
    P_OPEN,
    Plan,
    QuotedMarkup,
    State,
    canonical_run,
    compile_plan,
    initial_state,
    variant_key,
)
from ._limits import Limits
from ._scalars import TYPE_NAMES, converters
from ._text import (
    TextDecoder,
    bad_reference,
    expand_markup,
    position,
    stray_cdata_end,
    strip_declaration,
    unescape,
)

__all__ = ["Parser", "as_bytes"]

#: Bytes decoded and read per step: bounds the temporary objects of a large feed.
_SLICE = 64 * 1024
#: Text is read once this much is pending (and at close): a small body takes one pass.
#: After a read, the next waits until the pending text has doubled, so text held back
#: again and again (an unclosed comment, a long run of tags) costs linear time in all.
_EAGER = 8 * 1024
#: A run that may continue is held back for the next feed, unless it is this long.
_MAX_HELD_RUN = 8 * 1024
#: Canonical forms a document keeps (see Parser._canonical), of runs this long at most.
_MAX_CANONICAL = 64
_MAX_CANONICAL_RUN = 1024
#: Until the root element opens, text is read as it arrives (a DOCTYPE is refused at
#: once), unless what is held back is this long already.
_SMALL_HOLD = 2048

# A markup run (tags and the whitespace between them), then the text up to the next tag.
# This one call is a third of the parse, so it is built for the regex engine's fastest
# loops: possessive quantifiers (Python 3.11+) spare it backtracking records, and a tag is
# "<", anything but ">", ">" (one excluded character is a memchr-like scan; a class of two
# is a lookup per character). A "<" inside a tag is then refused by the plan compiler,
# which reads every tag strictly. The second pattern also reads ">" inside quoted
# attribute values; it is slower, so it only takes over where the first one fails.
#
# A run holds 12 tags at most, and a longer one is read as several with no text between
# them. Tags with no text between them go on for as long as an array of empty strings
# or nils does; read whole, each such stretch was a plan of its own, compiled anew for
# every document (2.3x the stdlib's time). Cut every 12 tags, a stretch that repeats a
# shape of 1, 2, 3, 4 or 6 tags is the same run again and again, compiled once.
_MORE_TAGS = "{0,11}"
if sys.version_info >= (3, 11):  # pragma: no branch
    _PAIRS = re.compile(r"(<[^>]*+>(?:[ \t\n]*+<[^>]*+>)" + _MORE_TAGS + r"+[ \t\n]*+)([^<]*+)")
    _TAG_QUOTED = r"<(?:[^<>\"']++|\"[^<\"]*+\"|'[^<']*+')*+>"
    _PAIRS_QUOTED = re.compile(
        rf"({_TAG_QUOTED}(?:[ \t\n]*+{_TAG_QUOTED}){_MORE_TAGS}+[ \t\n]*+)([^<]*+)"
    )
else:  # pragma: no cover
    _PAIRS = re.compile(r"(<[^>]*>(?:[ \t\n]*<[^>]*>)" + _MORE_TAGS + r"[ \t\n]*)([^<]*)")
    _TAG_QUOTED = r"<(?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*>"
    _PAIRS_QUOTED = re.compile(
        rf"({_TAG_QUOTED}(?:[ \t\n]*{_TAG_QUOTED}){_MORE_TAGS}[ \t\n]*)([^<]*)"
    )

_BLANK = " \t\n"


class Parser:
    """Parse one XML-RPC document fed in pieces (the engine behind the public parsers).

    Args:
        root: ``"methodResponse"``, ``"methodCall"``, or ``None`` for either.
        use_datetime: ``dateTime.iso8601`` values as ``datetime`` rather than ``DateTime``.
        use_builtin_types: base64 as ``bytes`` and dates as ``datetime``.
        limits: Size and depth bounds.
    """

    #: The last segment read and how much of it, when the position after it is not
    #: counted yet: the final read leaves it to the errors that need it.
    _last_read: tuple[str, int] | None = None
    #: The canonical forms of the prefixed runs (or runs with attributes) of this
    #: document, made once each: :func:`canonical_run` reads tag by tag in Python, and a
    #: document with prefixes (Apache's ``ex:``) repeats a few runs thousands of times.
    #: This document's only, and bounded in entries: no process-wide cache holds its
    #: prefixes or attribute values.
    _canonical: dict[str, tuple[str, list[tuple[bool, str]]]] | None = None

    def __init__(
        self,
        root: str | None = None,
        *,
        use_datetime: bool = False,
        use_builtin_types: bool = False,
        limits: Limits | None = None,
    ) -> None:
        """Prepare to read one document."""
        limits = limits or _DEFAULT_LIMITS
        self._root = root
        self._max_bytes = limits.max_bytes
        self._max_depth = limits.max_depth
        self._convert = converters(use_datetime, use_builtin_types)
        self._decoder: TextDecoder | None = TextDecoder()
        self._received = 0
        self._pending: list[str] = []  # decoded text not read yet
        self._pending_size = 0
        self._threshold = _EAGER  # read when this much is pending
        self._watch_prolog = True  # before the root: read "<!" at once
        self._holding_markup = False  # "<!..." held back, waiting for its end
        self._prolog = True  # the XML declaration may still come
        self._line = 1  # position of the first pending character, for errors
        self._column = 0
        # The structure being built.
        self._state: State = _INITIAL
        self._text = ""  # text after the last run read, consumed by the next one
        self.params: list[Any] = []
        # Open containers: (the parent, the key in it, the state to return to).
        self._containers: list[tuple[Any, Any, State]] = []
        self._prefixes: list[str] = []  # prefixes of the prefixed elements open
        self._current: Any = self.params
        self._key: Any = None
        self.method_name: str | None = None
        self.is_fault = False
        self.closed = False
        self._failed: ResponseError | None = None  # the first error, once one is raised
        self._document = next(_DOCUMENTS)  # stamps the plans it uses (_grammar._in_use)

    @property
    def bytes_received(self) -> int:
        """How many bytes have been fed so far."""
        return self._received

    # -- input ----------------------------------------------------------------------

    # -- the public steps: each refuses to run once one has failed (as h11's ERROR state)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Read the next piece of the document.

        Raises:
            ResponseError: A subclass saying what is wrong and where; the parser then
                refuses any further step (``RuntimeError`` naming this error).
        """
        if self._failed is not None:
            self._refuse()
        try:
            self._feed(as_bytes(data))
        except ResponseError as exc:
            self._failed = exc
            raise

    def feed_whole(self, data: bytes | bytearray | memoryview) -> None:
        """Read a whole document and finish it: :meth:`feed` then :meth:`close`, faster.

        Raises:
            ResponseError: As :meth:`close` does.
        """
        if self._failed is not None:
            self._refuse()
        try:
            self._feed_whole(as_bytes(data))
        except ResponseError as exc:
            self._failed = exc
            raise

    def feed_text(self, text: str) -> None:
        """Read the next piece of a document that is already text.

        Its declared encoding is ignored, as :mod:`pyexpat` ignores it for ``str`` input.
        """
        if self._failed is not None:
            self._refuse()
        try:
            self._feed_text(text)
        except ResponseError as exc:
            self._failed = exc
            raise

    def close(self) -> None:
        """Finish the document.

        Raises:
            TruncatedResponse: The document is empty or ended early.
            ResponseError: Another subclass for any other problem.
        """
        if self._failed is not None:
            self._refuse()
        try:
            self._close()
        except ResponseError as exc:
            self._failed = exc
            raise

    def _refuse(self) -> NoReturn:
        first = self._failed
        raise RuntimeError(
            f"the parser failed already, with {type(first).__name__}: {first}"
        ) from first

    def _feed(self, data: bytes) -> None:
        if self.closed:
            raise RuntimeError("feed() after close()")
        size = len(data)
        if not size:
            return
        self._received += size
        if self._max_bytes is not None and self._received > self._max_bytes:
            raise ResponseTooLarge(
                f"response exceeds {_format_size(self._max_bytes)} "
                "(max_response_size; Limits.max_bytes in the codec)"
            )
        if self._decoder is None:
            raise RuntimeError("feed() after feed_text()")
        decode = self._decoder.decode
        try:
            if size <= _SLICE:
                self._push(decode(data))
            else:
                for start in range(0, size, _SLICE):
                    self._push(decode(data[start : start + _SLICE]))
        except MalformedXML as exc:
            self._locate_decoding_error(exc)

    def _feed_whole(self, data: bytes) -> None:
        if len(data) > _SLICE:
            self._feed(data)
            self._close()
            return
        if self.closed:
            raise RuntimeError("feed() after close()")
        self._received += len(data)
        if self._max_bytes is not None and self._received > self._max_bytes:
            raise ResponseTooLarge(
                f"response exceeds {_format_size(self._max_bytes)} "
                "(max_response_size; Limits.max_bytes in the codec)"
            )
        if self._decoder is None:
            raise RuntimeError("feed() after feed_text()")
        self.closed = True
        try:
            text = self._decoder.decode(data, final=True)
        except MalformedXML as exc:
            self._locate_decoding_error(exc)
        self._finish(text)

    def _feed_text(self, text: str) -> None:
        if type(text) is not str:
            raise TypeError(f"feed_text() takes a str, not {type(text).__name__}")
        if self.closed:
            raise RuntimeError("feed_text() after close()")
        self._decoder = None  # text from now on
        self._received += len(text)
        if self._max_bytes is not None and self._received > self._max_bytes:
            raise ResponseTooLarge(f"document exceeds {_format_size(self._max_bytes)} (max_bytes)")
        self._push(text)

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            tail = self._decoder.decode(b"", final=True) if self._decoder else ""
        except MalformedXML as exc:
            self._locate_decoding_error(exc)
        self._finish(tail)

    def _finish(self, tail: str) -> None:
        pending = self._pending
        buf = "".join(pending) + tail if pending else tail
        pending.clear()
        self._process(buf, final=True)
        kind, name, _, _ = self._state.frames[-1]
        if kind == END and not self._text.strip(_BLANK):
            return
        if self._last_read is not None:  # where the last read ended: only errors need it
            segment, consumed = self._last_read
            self._line, self._column = position(segment, consumed, self._line, self._column)
        if kind == DOC:
            raise TruncatedResponse("no element found", self._line, self._column)
        if kind != END:
            raise TruncatedResponse(
                f"document ended inside <{name}> (truncated?)", self._line, self._column
            )
        raise MalformedXML("junk after document element", self._line, self._column)

    # -- stage 2: character rules ------------------------------------------------------

    def _push(self, text: str) -> None:
        if not text:
            return
        pending = self._pending
        pending.append(text)
        self._pending_size += len(text)
        # Small documents are read in one pass at close(); larger ones as they come.
        # Until the root element opens, text is read at once, so a DOCTYPE (where entity
        # bombs live) or a wrong document is refused as soon as it arrives.
        waiting = self._pending_size < self._threshold or "<" not in text
        if waiting and not (self._watch_prolog and ("<" in text or self._holding_markup)):
            return
        buf = "".join(pending)
        pending.clear()
        tail = self._process(buf, final=False)
        if tail:
            pending.append(tail)
        self._pending_size = len(tail)
        self._threshold = max(_EAGER, 2 * len(tail))
        self._watch_prolog = self._state is _INITIAL and len(tail) < _SMALL_HOLD
        self._holding_markup = "<!" in tail

    def _process(self, buf: str, final: bool) -> str:
        """Read ``buf`` as far as it is complete; return the rest."""
        if self._prolog:
            if self._decoder is not None and self._decoder.declaration_done:
                self._prolog = False  # read from the bytes already: count its characters
                declaration = self._decoder.declaration
                self._line, self._column = position(declaration, len(declaration), 1, 0)
            else:
                decided, buf = strip_declaration(buf, final)
                if not decided:
                    return buf
                self._prolog = False
        if buf.isascii() and not MARKED.found_in(buf.encode("ascii")):
            held = ""  # plain text and tags: one pass told what the checks would
        else:
            buf, held = self._check_characters(buf, final)
        if final and not held:
            if buf.rfind("<") > buf.rfind(">"):
                self._fail_at(buf, buf.rfind("<"), TruncatedResponse, "unclosed token")
            cut = len(buf)
        else:
            cut = buf.rfind("<")
            if cut < 0:
                cut = 0
        segment = buf[:cut]
        tail = buf[cut:] + held
        if segment:
            tail = self._read(segment, final and not tail) + tail
        return tail

    def _check_characters(self, buf: str, final: bool) -> tuple[str, str]:
        """Normalise line ends, refuse forbidden characters, expand markup other than tags.

        Returns ``buf`` so read, and what must wait for more text (markup not ended yet,
        a CR that may be the first half of CRLF) to go back in front of the next piece.
        """
        held_cr = ""
        if "\r" in buf:
            if not final and buf.endswith("\r"):
                buf, held_cr = buf[:-1], "\r"  # may be the first half of "\r\n"
            buf = buf.replace("\r\n", "\n").replace("\r", "\n")
        if has_bad_char(buf):
            bad = BAD_CHAR.search(buf)
            index = bad.start() if bad is not None else 0
            self._fail_after(buf, index, MalformedXML("not well-formed (invalid token)"))
        held = ""
        if "<!" in buf or "<?" in buf:
            try:
                buf, held = expand_markup(buf, final)
            except ResponseError as exc:
                where = getattr(exc, "text_index", None)
                if where is None:
                    raise
                self._fail_after(buf, where, exc)
        elif "]]>" in buf:
            stray = stray_cdata_end(buf)
            if stray >= 0:
                self._fail_after(buf, stray, MalformedXML("not well-formed (invalid token)"))
        return buf, held + held_cr

    # -- stage 3: structure ---------------------------------------------------------------

    def _read(self, segment: str, final: bool) -> str:
        """Read the complete pairs of ``segment``; return what must wait for more text."""
        amp = "&" in segment
        if amp:
            bad = bad_reference(segment)
            if bad is not None:
                self._fail_after(segment, *bad)
        start = segment.find("<")
        if start < 0:
            start = len(segment)
        if start:
            self._text += segment[:start]
        pairs, held = self._pairs(segment, start, final, _PAIRS)
        try:
            self._apply(pairs, amp or "&" in self._text, segment, start)
        except QuotedMarkup as exc:
            # A quoted attribute value holds ">", which the fast pattern took for the end
            # of the tag: read the rest with the slower pattern that knows quotes.
            pairs, held = self._pairs(segment, exc.offset, final, _PAIRS_QUOTED)
            try:
                self._apply(pairs, amp or "&" in self._text, segment, exc.offset)
            except QuotedMarkup as again:  # quotes read as quotes: the tag is broken
                self._fail_at(
                    segment, again.offset, MalformedXML, "not well-formed (invalid token)"
                )
        consumed = len(segment) - len(held)
        if final:
            self._last_read = (segment, consumed)  # nothing follows but checks
        else:
            self._line, self._column = position(segment, consumed, self._line, self._column)
        return held

    def _pairs(
        self, segment: str, start: int, final: bool, pattern: re.Pattern[str]
    ) -> tuple[list[tuple[str, str]], str]:
        """Split ``segment[start:]`` into pairs, holding back a run that may continue."""
        pairs: list[tuple[str, str]] = pattern.findall(segment, start)
        # findall skips what it cannot match. With _PAIRS, from a "<", that can only be a
        # "<" with no ">" after it, and then the last "<" has none either; otherwise the
        # lengths must add up to the whole.
        if (
            segment.rfind(">") < segment.rfind("<")
            if pattern is _PAIRS
            else sum(map(len, chain.from_iterable(pairs))) != len(segment) - start
        ):
            pairs = _PAIRS_QUOTED.findall(segment, start)
            if sum(map(len, chain.from_iterable(pairs))) != len(segment) - start:
                gap = start
                for match in _PAIRS_QUOTED.finditer(segment, start):
                    if match.start() != gap:
                        break
                    gap = match.end()
                self._fail_at(segment, gap, MalformedXML, "not well-formed (invalid token)")
        held = ""
        if not final and pairs:
            run, text = pairs[-1]
            if not text and len(run) <= _MAX_HELD_RUN:
                held = run  # the run may go on in the next feed
                pairs.pop()
        return pairs, held

    def _apply(self, pairs: list[tuple[str, str]], amp: bool, segment: str, start: int) -> None:
        """Run the plan of every pair: the hot loop of the parser."""
        state = self._state
        plans = state.plans
        convert = self._convert
        current = self._current
        key = self._key
        text = self._text
        containers = self._containers
        document = self._document
        run = ""
        operand: Any = None
        try:
            for run, following in pairs:
                plan = plans.get(run)
                if plan is None:
                    plan = self._miss(state, run)
                if amp and "&" in text:
                    text = unescape(text)
                kind, operand, plans, prefix, after, _, _ = plan
                plan[5] = document  # in use (see _grammar._in_use)
                if kind == P_LIST:
                    current.append(convert[operand](text))
                elif kind == P_DICT:
                    current[key] = convert[operand](text)
                elif kind == P_KEY:
                    key = text
                elif kind == P_LIST_STR:
                    current.append(text)
                elif kind == P_DICT_STR:
                    current[key] = text
                elif kind == P_NEXT and containers[-1][2] is operand[3]:
                    code, into_dict, new_dict, _ = operand
                    if into_dict:
                        current[key] = convert[code](text)
                    else:
                        current.append(convert[code](text))
                    containers[-1][0].append(current)  # close: into its list parent
                    current = {} if new_dict else []  # open the next; same parent
                elif kind == P_OPEN:
                    if len(containers) >= self._max_depth:
                        self._too_deep()
                    key = text
                    containers.append((current, key, operand[1]))
                    current = {} if operand[0] else []
                else:
                    self._key = key
                    plan = self._run_ops(state, run, plan, text, current)
                    current, key = self._current, self._key
                    _, operand, plans, prefix, after, _, _ = plan
                state = after
                text = prefix + following if prefix else following
        except QuotedMarkup as exc:
            self._state, self._current, self._key, self._text = state, current, key, text
            exc.offset = self._offset(start, pairs, run)
            raise
        except ResponseError as exc:
            self._relocate(exc, segment, start, pairs, run)
        except (ValueError, KeyError, ArithmeticError) as exc:
            if isinstance(operand, tuple) and len(operand) == 4:
                operand = operand[0]  # P_NEXT's type code
            what = TYPE_NAMES.get(operand, "") if isinstance(operand, int) else ""
            self._bad_value(exc, what, text, segment, start, pairs, run)
        self._state = state
        self._current = current
        self._key = key
        self._text = text

    def _miss(self, state: State, run: str) -> Plan:
        """Return the plan of a run not found as written: canonical, or compiled now."""
        if ":" not in run and "=" not in run:
            return compile_plan(state, run, self._containers, self._document)
        canonical, prefixes = self._canonical_run(run)
        if prefixes:
            self._match_prefixes(prefixes)
        plan = state.plans.get(canonical)
        if plan is None:
            plan = compile_plan(state, canonical, self._containers, self._document)
        return plan

    def _canonical_run(self, run: str) -> tuple[str, list[tuple[bool, str]]]:
        known = self._canonical
        if known is None:
            known = self._canonical = {}
        found = known.get(run)
        if found is None:
            found = canonical_run(run)
            if len(known) < _MAX_CANONICAL and len(run) <= _MAX_CANONICAL_RUN:
                known[run] = found
        return found

    def _match_prefixes(self, prefixes: list[tuple[bool, str]]) -> None:
        """Check that each prefixed end tag repeats its start tag's prefix."""
        stack = self._prefixes
        for opening, prefix in prefixes:
            if opening:
                stack.append(prefix)
            elif not stack or stack.pop() != prefix:
                raise MalformedXML("mismatched tag")

    def _run_ops(self, state: State, run: str, plan: Plan, text: str, current: Any) -> Plan:
        """Run a general plan, or a variant of it if its guards do not hold; return it."""
        kind = plan[0]
        operand: Any = plan[1]
        guards: tuple[State, ...] = (operand[3],) if kind == P_NEXT else operand[1]
        containers = self._containers
        held = True
        for depth, expected in enumerate(guards, 1):
            if containers[-depth][2] is not expected:
                held = False
                break
        if not held or kind == P_NEXT:
            if ":" in run or "=" in run:
                run = self._canonical_run(run)[0]  # its prefixes were matched already
            variant = variant_key(run, len(guards), containers)
            found = state.plans.get(variant)
            if found is None:
                plan = compile_plan(state, run, containers, self._document, variant)
            else:
                plan = found
                plan[5] = self._document  # in use, as _apply stamps the plans it finds
            operand = plan[1]
        self._current = self._operate(operand[0], text, current)
        return plan

    def _too_deep(self) -> NoReturn:
        raise ResponseTooDeep(f"arrays and structs nest deeper than {self._max_depth} (max_depth)")

    def _operate(self, ops: tuple[tuple[Any, ...], ...], text: str, current: Any) -> Any:
        """Run the operations of a general plan; return the current container."""
        for op in ops:
            code = op[0]
            if code == O_EMIT:
                source = text if op[2] is DYNAMIC else op[2]
                try:
                    value = self._convert[op[1]](source)
                except (ValueError, KeyError, ArithmeticError):
                    raise InvalidValue(
                        f"bad <{TYPE_NAMES[op[1]]}> value {_clip(source)!r}"
                    ) from None
                if op[3]:
                    current[self._key] = value
                else:
                    current.append(value)
            elif code == O_KEY:
                self._key = text if op[1] is DYNAMIC else op[1]
            elif code == O_BLANK:
                if text.strip(_BLANK):
                    if op[1]:  # outside the root element: not XML at all
                        raise MalformedXML("not well-formed (invalid token)")
                    raise InvalidResponse(f"unexpected text {_clip(text)!r}")
            elif code == O_OPEN:
                if len(self._containers) >= self._max_depth:
                    self._too_deep()
                self._containers.append((current, self._key, op[2]))
                current = {} if op[1] else []
            elif code == O_CLOSE:
                value = current
                current, self._key, _ = self._containers.pop()
                if op[1]:
                    current[self._key] = value
                else:
                    current.append(value)
            elif code == O_NAME:
                self.method_name = text if op[1] is DYNAMIC else op[1]
            elif code == O_FAULT:
                self.is_fault = True
            elif code == O_ROOT and self._root is not None and op[1] != self._root:
                raise InvalidResponse(f"expected <{self._root}>, found <{op[1]}>")
        return current

    # -- errors -----------------------------------------------------------------------

    def _locate_decoding_error(self, exc: MalformedXML) -> NoReturn:
        """Re-raise a decoding error with the line and column of the bad byte."""
        prefix = getattr(exc, "valid_prefix", None)
        if prefix is None:
            raise exc
        before = "".join(self._pending) + prefix
        line, column, prolog = self._line, self._column, self._prolog
        if before:
            self._process(before, final=False)  # an earlier error in the document wins
        self._line, self._column, self._prolog = line, column, prolog
        if self._prolog and self._decoder is not None:
            before = self._decoder.declaration + before  # not counted yet
        self._fail_at(before, len(before), MalformedXML, str(exc))

    def _fail_after(self, text: str, index: int, error: ResponseError) -> NoReturn:
        """Raise ``error``, found at ``text[index]``, unless the text before has one too.

        The lexical checks look at a whole buffer at once; reading what comes before the
        bad spot first makes the error reported the first in the document, however the
        document was split into pieces.
        """
        line, column = self._line, self._column
        before = text[:index]
        tag = before.rfind("<")
        if tag > before.rfind(">"):
            before = before[:tag]  # the bad spot is inside a tag: read up to the tag
        if before:
            self._process(before, final=False)  # raises the earlier error, if any
        self._line, self._column = line, column
        if isinstance(error, MalformedXML):
            self._fail_at(text, index, type(error), str(error))
        raise error

    def _fail_at(self, text: str, index: int, cls: type[MalformedXML], message: str) -> NoReturn:
        line, column = position(text, index, self._line, self._column)
        raise cls(message, line, column)

    @staticmethod
    def _offset(start: int, pairs: list[tuple[str, str]], failed: str) -> int:
        """Return where in the segment the run ``failed`` (found by identity) starts."""
        offset = start
        for run, text in pairs:
            if run is failed:
                break
            offset += len(run) + len(text)
        return offset

    def _locate(
        self, segment: str, start: int, pairs: list[tuple[str, str]], failed: str, within: int = 0
    ) -> tuple[int, int]:
        """Return the (line, column) of the run ``failed`` in ``segment``."""
        offset = min(self._offset(start, pairs, failed) + within, len(segment))
        return position(segment, offset, self._line, self._column)

    def _relocate(
        self,
        exc: ResponseError,
        segment: str,
        start: int,
        pairs: list[tuple[str, str]],
        failed: str,
    ) -> NoReturn:
        if isinstance(exc, MalformedXML) and exc.lineno is not None:
            raise exc
        within = getattr(exc, "run_offset", 0)
        line, column = self._locate(segment, start, pairs, failed, within)
        if isinstance(exc, MalformedXML):
            raise type(exc)(str(exc), line, column) from None
        raise type(exc)(f"{exc}: line {line}, column {column}") from None

    def _bad_value(
        self,
        exc: Exception,
        what: str,
        text: str,
        segment: str,
        start: int,
        pairs: list[tuple[str, str]],
        failed: str,
    ) -> NoReturn:
        line, column = self._locate(segment, start, pairs, failed)
        element = f"<{what}> " if what else ""
        raise InvalidValue(
            f"bad {element}value {_clip(text)!r}: line {line}, column {column}"
        ) from None

    # -- results ------------------------------------------------------------------------

    def fault(self) -> Fault:
        """Return the fault a finished fault document carries."""
        value = self.params[0] if len(self.params) == 1 else None
        if not isinstance(value, dict) or "faultCode" not in value or "faultString" not in value:
            raise InvalidResponse("<fault> must hold a struct with faultCode and faultString")
        return Fault(value["faultCode"], value["faultString"])

    def result(self) -> Value:
        """Return the value of a finished response, or raise its fault.

        A response holds one ``<param>``; one with none or several gives the tuple of
        them (``()`` for none), as the standard library's proxy returns it: xmlrpc-epi
        answers ``system.methodSignature`` of a method it has no description of so.
        """
        if self.is_fault:
            raise self.fault()
        params = self.params
        if len(params) == 1:
            return params[0]  # type: ignore[no-any-return]
        return tuple(params)


_DEFAULT_LIMITS = Limits()
_INITIAL = initial_state()
_DOCUMENTS = itertools.count(1)


def as_bytes(data: object) -> bytes:
    """Return ``data``, any bytes-like object, as ``bytes`` (copied only if it is not).

    Raises:
        TypeError: For text, or anything that is not bytes-like.
    """
    if type(data) is bytes:
        return data
    if isinstance(data, str):
        raise TypeError("expected bytes, not str: encode the text, or pass it to loads()")
    try:
        return bytes(memoryview(data))  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"expected a bytes-like object, not {type(data).__name__}") from None


def _clip(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[:size] + "..."


def _format_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"
