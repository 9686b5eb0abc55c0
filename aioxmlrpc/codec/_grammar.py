r"""The structure of an XML-RPC document, and the plans compiled from it.

The grammar, one element per line (``*`` repeats, ``?`` is optional, ``|`` chooses)::

    methodResponse := params | fault
    methodCall     := methodName params?
    (document)     := methodResponse | methodCall | params (the last for loads() only)
    params         := param*
    param, fault   := value
    value          := text | int | i4 | i8 | ... | string | nil | array | struct | fault
    array          := data?
    data           := value*
    struct         := member*
    member         := name value

A ``<fault>`` inside a ``<value>`` wraps the value it holds, as the standard library reads
it: Perl's RPC::XML writes a failed call of a ``system.multicall`` that way.

Any namespace prefix is ignored (``<ex:i8>`` is ``<i8>``), as the standard library does,
but an end tag must repeat its start tag's prefix, as XML requires; attributes are
checked for well-formedness and ignored; whitespace between elements is insignificant;
text anywhere else, an unknown element, or an element out of place is an error.

How it is read. The parser splits a document into pairs of a *markup run* (one or more
consecutive tags with the whitespace between them, e.g. ``</int></value>\\n<value><int>``)
and the text after it. What a run does depends only on the run and on the elements
open around it, and a document repeats a handful of runs thousands of times. So each
(state, run) is compiled once, by the pushdown machine below, into a *plan*: what to do
with the text before the run, which containers to open or close, and the state after it.
Reading a document is then one dictionary lookup and one small action per text.

The state is *local*: the elements open inside the innermost array or struct (or, outside
any, the whole stack), never the whole stack. Opening a container pushes, with the
container, the state to return to when it closes (the *return state*), on the parser's
own stack. So the states are finite, fixed by the grammar, whatever a document holds,
and a plan compiled inside one struct serves every struct. A run that closes containers
opened before it depends on their return states too: its plan records them as *guards*,
checked before it runs, and another combination gets a plan of its own.

What the plans are keyed by: a run as written when it holds nothing but the grammar's
element names and whitespace; otherwise (namespace prefixes, attributes) its *canonical*
form, with attributes dropped and each prefix replaced by a marker no document can
contain. The actual prefixes are matched against a stack of their own as the run is
read. So prefixes and attributes never make new states or plans, and no cache holds a
document's text (see :mod:`._cache`).
"""

from __future__ import annotations

import re
import sys
from typing import Any, Final, NoReturn, TypeAlias

from .._exceptions import InvalidResponse, MalformedXML
from ._cache import Cache
from ._scalars import SCALAR_TYPES, STRING
from ._text import NAME, NAME_RE, bad_reference

__all__ = [
    "DYNAMIC",
    "PREFIX",
    "Plan",
    "QuotedMarkup",
    "State",
    "canonical_run",
    "compile_plan",
    "initial_state",
    "variant_key",
]

# Element kinds on the stack. *_DONE kinds have seen the child they need.
(
    DOC,
    END,
    RESPONSE,
    RESPONSE_DONE,
    CALL,
    CALL_NAMED,
    CALL_DONE,
    METHOD_NAME,
    PARAMS,
    PARAM,
    PARAM_DONE,
    FAULT,
    FAULT_DONE,
    VALUE,
    VALUE_DONE,
    SCALAR,
    ARRAY,
    ARRAY_DONE,
    DATA,
    STRUCT,
    MEMBER,
    NAME_ELEMENT,
    MEMBER_VALUE,
    MEMBER_DONE,
    WRAP,
    WRAP_DONE,
) = range(26)

#: Kinds whose text is content (kept), rather than insignificant whitespace.
_CONTENT = frozenset({VALUE, SCALAR, NAME_ELEMENT, METHOD_NAME})

# Plan kinds: the first five are the hot plans; P_NEXT ends a container that sits in a
# list and opens the next one (array of structs, multicall results): emit, close, open;
# P_OPEN takes a member's name and opens its value, an array or a struct (records).
P_LIST, P_DICT, P_LIST_STR, P_DICT_STR, P_KEY, P_NEXT, P_OPS, P_OPEN = range(8)

# Operations of a P_OPS plan; each is a tuple (opcode, *operands).
O_BLANK, O_EMIT, O_KEY, O_NAME, O_OPEN, O_CLOSE, O_FAULT, O_ROOT = range(8)

#: Stands for "some namespace prefix" in a canonical run: a character no document can
#: hold (XML forbids it, and the parser refuses it before any run is read).
PREFIX: Final = "\x01"


class QuotedMarkup(Exception):
    """A run ends inside a quoted attribute value: the tokenizer must re-read with quotes.

    The parser sets ``offset`` to where the run starts before re-raising it to itself.
    """

    offset = 0


class _Dynamic:
    """The text before the run, known only when the plan runs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DYNAMIC"


DYNAMIC: Final = _Dynamic()

# (kind, local name, scalar type code, prefixed?)
Frame: TypeAlias = "tuple[int, str, int, bool]"
Op: TypeAlias = "tuple[object, ...]"
# [kind, operand, next state's plans, whitespace that starts the next text, next state,
#  the last document that used it, the document it was last judged by] (see _in_use)
Plan: TypeAlias = "list[Any]"

#: Every state and every plan, bounded in bytes (the estimates below are CPython's
#: sizes, rounded up). Only a flood of distinct runs can fill the plans; states are
#: finite, but go through a cache all the same.
_PLANS: Cache[object, Plan] = Cache("plans", 8 * 1024 * 1024, keep=lambda plan: _in_use(plan))
_STATES: Cache[tuple[Frame, ...], State] = Cache("states", 2 * 1024 * 1024)
#: Runs longer than this are compiled each time they are met: rare (deep nesting), and
#: compiling is linear in their length anyway.
_MAX_CACHED_RUN = 4096


def _in_use(plan: Plan) -> bool:
    """Whether another document used ``plan`` since it was made or last kept: keep it.

    The parser stamps each plan it runs with its document's number (one store per
    run, the only cost on the hot path); a plan only its own document used (a flood's)
    is forgotten with its generation, one that others use survives floods.
    """
    if plan[5] == plan[6]:
        return False
    plan[6] = plan[5]
    return True


class State:
    """The elements open inside the innermost container, interned, with its plans."""

    __slots__ = ("frames", "plans")

    def __init__(self, frames: tuple[Frame, ...]) -> None:
        """Intern through :func:`_state`, not directly."""
        self.frames = frames
        self.plans: dict[object, Plan] = {}  # a table of _PLANS: entries may vanish

    def __repr__(self) -> str:
        names = "/".join(("*" if prefixed else "") + name for _, name, _, prefixed in self.frames)
        return f"<State {names or 'document'}>"


def _state(frames: tuple[Frame, ...]) -> State:
    state = _STATES.table.get(frames)
    if state is None:
        state = State(frames)
        _STATES.put(frames, state, 200 + 100 * len(frames))
    return state


def initial_state() -> State:
    """Return the state before the root element."""
    return _state(((DOC, "", -1, False),))


# -- tags -------------------------------------------------------------------------------

# A tag of a run keyed as written or canonical: no attributes, an optional prefix
# marker, then whitespace. (Raw runs holding ":" or "=" are made canonical first.)
_TAG = re.compile(r"<(/?)(\x01?)([^\s/<>=\x01]+)[ \t\n]*(/?)>([ \t\n]*)")

# A tag as XML allows it, attributes included, for canonical_run().
_ATTRIBUTE = rf"[ \t\n]+{NAME}[ \t\n]*=[ \t\n]*(?:\"[^\"<]*\"|'[^'<]*')"
_FULL_TAG = re.compile(rf"<(/?)({NAME})((?:{_ATTRIBUTE})*)[ \t\n]*(/?)>([ \t\n]*)")
_QUOTED_TAG = re.compile(r"<(?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*>")
_ATTRIBUTE_PARTS = re.compile(rf"[ \t\n]+({NAME})[ \t\n]*=[ \t\n]*(\"[^\"]*\"|'[^']*')")


def canonical_run(run: str) -> tuple[str, list[tuple[bool, str]]]:
    """Return the canonical form of ``run``, and its prefixes in order.

    Attributes are checked (well-formed, no duplicates, valid references) and dropped;
    each prefix becomes :data:`PREFIX`; whitespace inside tags is dropped, whitespace
    between them kept. The prefixes come as ``(is_start_tag, prefix)`` for every
    prefixed tag but empty-element ones, in document order, for the parser to match.

    Raises:
        MalformedXML: The run is not well-formed (``run_offset`` says where).
        QuotedMarkup: The run ends inside a quoted attribute value.
        EntitiesForbidden: An attribute value refers to an entity.
    """
    out: list[str] = []
    prefixes: list[tuple[bool, str]] = []
    pos = 0
    for match in _FULL_TAG.finditer(run):
        if match.start() != pos:
            break
        slash, qname, attributes, empty, space = match.groups()
        if attributes:
            if slash:
                _malformed("not well-formed (invalid token)", pos)
            _check_attributes(attributes, pos)
        elif slash and empty:
            _malformed("not well-formed (invalid token)", pos)
        prefix, colon, local = qname.rpartition(":")
        if colon:
            out.append(f"<{slash}{PREFIX}{local}{empty}>{space}")
            if not empty:
                prefixes.append((not slash, prefix))
        else:
            out.append(f"<{slash}{qname}{empty}>{space}")
        pos = match.end()
    if pos != len(run) or not pos:
        if ("'" in run[pos:] or '"' in run[pos:]) and _QUOTED_TAG.match(run, pos) is None:
            raise QuotedMarkup  # the tag goes on after a quoted ">"
        _malformed("not well-formed (invalid token)", pos)
    return "".join(out), prefixes


def _check_attributes(attributes: str, pos: int) -> None:
    names = []
    for name, value in _ATTRIBUTE_PARTS.findall(attributes):
        names.append(name)
        if "&" in value:
            bad = bad_reference(value)
            if bad is not None:
                error = bad[1]
                error.run_offset = pos  # type: ignore[attr-defined]
                raise error
    if len(set(names)) != len(names):
        _malformed("duplicate attribute", pos)


def _malformed(message: str, offset: int) -> NoReturn:
    error = MalformedXML(message)
    error.run_offset = offset  # type: ignore[attr-defined]
    raise error


# -- the pushdown machine -----------------------------------------------------------------

# (parent kind, local name) -> (what the parent becomes, the child's kind)
_STARTS: dict[tuple[int, str], tuple[int | None, int]] = {
    (DOC, "methodResponse"): (None, RESPONSE),
    (DOC, "methodCall"): (None, CALL),
    (DOC, "params"): (None, PARAMS),  # what dumps() writes without a method name
    (RESPONSE, "params"): (RESPONSE_DONE, PARAMS),
    (RESPONSE, "fault"): (RESPONSE_DONE, FAULT),
    (CALL, "methodName"): (CALL_NAMED, METHOD_NAME),
    (CALL_NAMED, "params"): (CALL_DONE, PARAMS),
    (PARAMS, "param"): (None, PARAM),
    (PARAM, "value"): (PARAM_DONE, VALUE),
    (FAULT, "value"): (FAULT_DONE, VALUE),
    (ARRAY, "data"): (ARRAY_DONE, DATA),
    (DATA, "value"): (None, VALUE),
    (STRUCT, "member"): (None, MEMBER),
    (MEMBER, "name"): (MEMBER_VALUE, NAME_ELEMENT),
    (MEMBER_VALUE, "value"): (MEMBER_DONE, VALUE),
    (WRAP, "value"): (WRAP_DONE, VALUE),
}

# Kinds that may not end yet, and why.
_UNFINISHED = {
    RESPONSE: "<methodResponse> holds neither <params> nor <fault>",
    CALL: "<methodCall> has no <methodName>",
    PARAM: "<param> holds no <value>",
    FAULT: "<fault> holds no <value>",
    WRAP: "<fault> holds no <value>",
    MEMBER: "<member> has no <name>",
    MEMBER_VALUE: "<member> has no <value>",
}


def _shown(local: str, prefixed: bool) -> str:
    return f"prefix:{local}" if prefixed else local


class _Compiler:
    """Runs the pushdown machine over one run and records the operations."""

    __slots__ = ("containers", "frames", "guards", "ops", "pos", "pushed")

    def __init__(self, state: State, containers: list[tuple[object, object, State]]) -> None:
        self.frames: list[Frame] = list(state.frames)
        self.ops: list[Op] = []
        self.containers = containers  # the parser's, read only: return states to guard
        self.pushed: list[State] = []  # return states of containers this run opened
        self.guards: list[State] = []  # return states of containers it closed, opened before
        self.pos = 0  # where in the run the current tag starts

    def blank(self, text: object) -> None:
        """Text where only whitespace belongs (constant text in a run is whitespace)."""
        if text is DYNAMIC:
            self.ops.append((O_BLANK, self.frames[-1][0] in (DOC, END)))

    def into_dict(self, value_index: int) -> bool:
        """Whether the value at ``frames[value_index]`` goes into a struct."""
        frames = self.frames
        parent = value_index - 1
        while frames[parent][0] == WRAP_DONE:  # <value><fault><value>: look through it
            parent -= 2
        return frames[parent][0] == MEMBER_DONE

    def start(self, local: str, prefixed: bool, text: object) -> None:
        frames = self.frames
        kind, parent, _, parent_prefixed = frames[-1]
        if kind in _CONTENT and kind != VALUE:
            _invalid(f"<{parent}> cannot contain elements, found <{local}>")
        if kind == END:
            raise MalformedXML("junk after document element")
        self.blank(text)
        if kind == VALUE:
            code = SCALAR_TYPES.get(local, -1)
            frames[-1] = (VALUE_DONE, parent, -1, parent_prefixed)
            if code >= 0:
                frames.append((SCALAR, local, code, prefixed))
            elif local == "fault":
                frames.append((WRAP, local, -1, prefixed))
            elif local == "array" or local == "struct":
                back = _state(tuple(frames))
                self.pushed.append(back)
                self.ops.append((O_OPEN, local == "struct", back))
                self.frames = [(ARRAY if local == "array" else STRUCT, local, -1, prefixed)]
            else:
                _unexpected(local, "value")
            return
        nxt, child = _STARTS.get((kind, local), (None, -1))
        if child < 0:
            _unexpected(local, parent)
        if kind == DOC:
            self.ops.append((O_ROOT, local))
        elif child == FAULT:
            self.ops.append((O_FAULT,))
        if nxt is not None:
            frames[-1] = (nxt, parent, -1, parent_prefixed)
        frames.append((child, local, -1, prefixed))

    def end(self, local: str, prefixed: bool, text: object) -> None:
        frames = self.frames
        kind, name, code, was_prefixed = frames[-1]
        if name != local or was_prefixed != prefixed:
            raise MalformedXML(
                f"mismatched tag: </{_shown(local, prefixed)}> closes "
                f"<{_shown(name, was_prefixed)}>"
            )
        if kind == VALUE:
            self.ops.append((O_EMIT, STRING, text, self.into_dict(-1)))
        elif kind == SCALAR:
            self.ops.append((O_EMIT, code, text, self.into_dict(-2)))
        elif kind == NAME_ELEMENT:
            self.ops.append((O_KEY, text))
        elif kind == METHOD_NAME:
            self.ops.append((O_NAME, text))
        elif kind in _UNFINISHED:
            _invalid(_UNFINISHED[kind])
        else:
            self.blank(text)
        frames.pop()
        if not frames:  # the container element itself: back to its return state
            if self.pushed:
                back = self.pushed.pop()
            else:
                back = self.containers[-1 - len(self.guards)][2]
                self.guards.append(back)
            self.frames = list(back.frames)
            self.ops.append((O_CLOSE, self.into_dict(-1)))
        elif len(frames) == 1 and frames[0][0] == DOC:
            frames[0] = (END, "", -1, False)

    def run(self, run: str) -> str:
        """Apply every tag of ``run``; return the whitespace after its last tag.

        Errors carry ``run_offset``, the index in ``run`` of the tag at fault.
        """
        text: object = DYNAMIC
        space = ""
        pos = 0
        try:
            for match in _TAG.finditer(run):
                if match.start() != pos:
                    break
                self.pos = pos
                slash, marker, local, empty, space = match.groups()
                pos = match.end()
                if slash:
                    if empty:
                        raise MalformedXML("not well-formed (invalid token)")
                    self.end(local, bool(marker), text)
                else:
                    self.start(local, bool(marker), text)
                    if empty:
                        self.end(local, bool(marker), "")
                text = space
            if pos != len(run) or pos == 0:
                self.pos = pos
                raise MalformedXML("not well-formed (invalid token)")
        except (InvalidResponse, MalformedXML) as exc:
            if not hasattr(exc, "run_offset"):
                setattr(exc, "run_offset", self.pos)  # noqa: B010 - not a declared attribute
            raise
        return space


def _invalid(message: str) -> NoReturn:
    raise InvalidResponse(message)


def _unexpected(local: str, parent: str) -> NoReturn:
    if NAME_RE.fullmatch(local) is None:
        raise MalformedXML("not well-formed (invalid token)")
    where = f" in <{parent}>" if parent else ""
    _invalid(f"unexpected <{local}>{where}")


def variant_key(run: str, guards: int, containers: list[tuple[object, object, State]]) -> object:
    """The key of the plan for ``run`` under the return states open now."""
    return (run, *(entry[2] for entry in containers[-guards:]))


def compile_plan(
    state: State,
    run: str,
    containers: list[tuple[object, object, State]],
    document: int,
    key: object = None,
) -> Plan:
    """Compile what ``run`` (as written, or canonical) does in ``state``, and cache it.

    The plan is cached under ``key`` (default: ``run``); a variant for other guards
    (``key`` from :func:`variant_key`) is never fused, so the caller can run its ops.

    Raises:
        MalformedXML: The run is not well-formed XML, or closes the wrong element.
        InvalidResponse: The run is well-formed but breaks the XML-RPC grammar.
    """
    compiler = _Compiler(state, containers)
    prefix = compiler.run(run)
    frames = compiler.frames
    if frames[-1][0] not in _CONTENT:
        prefix = ""  # whitespace between elements means nothing
    nxt = _state(tuple(frames))
    ops, guards = compiler.ops, tuple(compiler.guards)
    plan = _fuse(ops, guards, nxt, prefix) if key is None else None
    if plan is None:
        plan = [P_OPS, (tuple(ops), guards), nxt.plans, prefix, nxt]
    plan += (document, document)
    if len(run) <= _MAX_CACHED_RUN:
        size = 200 + sys.getsizeof(run) + 90 * len(ops) + 8 * len(guards)
        _PLANS.add(state.plans, run if key is None else key, plan, size)
    return plan


def _fuse(ops: list[Op], guards: tuple[State, ...], nxt: State, prefix: str) -> Plan | None:
    """Turn the commonest plans into their fast kinds."""
    if len(ops) == 1 and not guards:
        op = ops[0]
        if op[0] == O_EMIT and op[2] is DYNAMIC:
            into_dict = op[3]
            if op[1] == STRING:
                return [P_DICT_STR if into_dict else P_LIST_STR, None, nxt.plans, prefix, nxt]
            return [P_DICT if into_dict else P_LIST, op[1], nxt.plans, prefix, nxt]
        if op[0] == O_KEY and op[1] is DYNAMIC:
            return [P_KEY, None, nxt.plans, prefix, nxt]
    if len(ops) == 2 and not guards and ops[0] == (O_KEY, DYNAMIC) and ops[1][0] == O_OPEN:
        # (open a dict?, the state the container returns to)
        return [P_OPEN, ops[1][1:], nxt.plans, prefix, nxt]
    if (
        len(ops) == 3
        and ops[0][0] == O_EMIT
        and ops[0][2] is DYNAMIC
        and ops[1] == (O_CLOSE, False)
        and ops[2][0] == O_OPEN
        and guards == (ops[2][2],)
    ):
        # (type code, emit into a dict?, open a dict?, the return state both share)
        operand = (ops[0][1], ops[0][3], ops[2][1], guards[0])
        return [P_NEXT, operand, nxt.plans, prefix, nxt]
    return None
