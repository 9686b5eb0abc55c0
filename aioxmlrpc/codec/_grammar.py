r"""The structure of an XML-RPC document, and the plans compiled from it.

The grammar, one element per line (``*`` repeats, ``?`` is optional, ``|`` chooses)::

    methodResponse := params | fault
    methodCall     := methodName params?
    (document)     := methodResponse | methodCall | params (the last for loads() only)
    params         := param*
    param, fault   := value
    value          := text | int | i4 | i8 | ... | string | nil | array | struct
    array          := data?
    data           := value*
    struct         := member*
    member         := name value

Any namespace prefix is ignored (``<ex:i8>`` is ``<i8>``), as the standard library does;
attributes are ignored; whitespace between elements is insignificant; text anywhere
else, an unknown element, or an element out of place is an error.

How it is read. The parser splits a document into pairs of a *markup run* (one or more
consecutive tags with the whitespace between them, e.g. ``</int></value>\\n<value><int>``)
and the text after it. What a run does depends only on the run and on the stack of open
elements (the *state*), and a document repeats a handful of runs thousands of times. So
each (state, run) is compiled once, by the pushdown machine below, into a *plan*: what to
do with the text before the run, which containers to open or close, and the state after
it. Plans are cached on their state, states are interned, and reading a document becomes
one dictionary lookup and one small action per text, instead of several per tag.
"""

from __future__ import annotations

import re
from typing import Final, NoReturn, TypeAlias

from .._exceptions import InvalidResponse, MalformedXML, ResponseTooDeep
from ._scalars import SCALAR_TYPES, STRING

__all__ = ["DYNAMIC", "Plan", "QuotedMarkup", "State", "compile_plan", "initial_state"]

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
    NAME,
    MEMBER_VALUE,
    MEMBER_DONE,
) = range(24)

#: Kinds whose text is content (kept), rather than insignificant whitespace.
_CONTENT = frozenset({VALUE, SCALAR, NAME, METHOD_NAME})

# Plan kinds: the first six are the hot plans; P_NEXT ends a container that sits in a
# list and opens the next one (array of structs, multicall results): emit, close, open.
P_LIST, P_DICT, P_LIST_STR, P_DICT_STR, P_KEY, P_NEXT, P_OPS = range(7)

# Operations of a P_OPS plan; each is a tuple (opcode, *operands).
O_BLANK, O_EMIT, O_KEY, O_NAME, O_OPEN, O_CLOSE, O_FAULT, O_ROOT = range(8)


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

Frame: TypeAlias = "tuple[int, str, int]"  # (kind, qualified name, scalar type code)
Op: TypeAlias = "tuple[object, ...]"
# (kind, operand, next state's plans, whitespace that starts the next text, next state)
Plan: TypeAlias = "tuple[int, object, dict[str, Plan], str, State]"

# Bounds on the cache, so a hostile document cannot grow it without limit (it only loses
# the speed-up): plans per state, states, the longest run cached, and the characters of
# all cached runs together (deep documents open and close in one long run each).
_MAX_PLANS_PER_STATE = 256
_MAX_STATES = 4096
_MAX_CACHED_RUN = 16 * 1024
_MAX_CACHED_CHARS = 8 * 1024 * 1024
_cached_chars = 0


class State:
    """A stack of open elements, interned, with the plans compiled for it."""

    __slots__ = ("depth", "frames", "plans")

    def __init__(self, frames: tuple[Frame, ...]) -> None:
        """Intern through :func:`_state`, not directly."""
        self.frames = frames
        self.plans: dict[str, Plan] = {}
        self.depth = sum(1 for kind, _, _ in frames if kind in (ARRAY, ARRAY_DONE, STRUCT))


_STATES: dict[tuple[Frame, ...], State] = {}


def _state(frames: tuple[Frame, ...]) -> State:
    state = _STATES.get(frames)
    if state is None:
        state = State(frames)
        if len(_STATES) < _MAX_STATES:
            _STATES[frames] = state
    return state


def initial_state() -> State:
    """Return the state before the root element."""
    return _state(((DOC, "", -1),))


# A tag: "<" "/"? name attributes? whitespace? "/"? ">", then whitespace.
_TAG = re.compile(
    r"<(/?)([^\s/>=\"']+)"
    r"((?:[ \t\n]+[^\s/>=\"']+[ \t\n]*=[ \t\n]*(?:\"[^\"<]*\"|'[^'<]*'))*)"
    r"[ \t\n]*(/?)>([ \t\n]*)"
)
_ATTRIBUTE_NAME = re.compile(r"[ \t\n]+([^\s=]+)")
_QNAME = re.compile(r"(?:[A-Za-z_][A-Za-z0-9._-]*:)?[A-Za-z_][A-Za-z0-9._-]*\Z")


class _Compiler:
    """Runs the pushdown machine over one run and records the operations."""

    def __init__(self, state: State, max_depth: int) -> None:
        self.frames: list[Frame] = list(state.frames)
        self.ops: list[Op] = []
        self.max_depth = max_depth
        self.depth = state.depth
        self.pos = 0  # where in the run the current tag starts

    # -- errors --------------------------------------------------------------------

    @staticmethod
    def invalid(message: str) -> NoReturn:
        raise InvalidResponse(message)

    @staticmethod
    def malformed(message: str) -> NoReturn:
        raise MalformedXML(message)

    # -- text ------------------------------------------------------------------------

    def blank(self, text: object) -> None:
        """Text where only whitespace belongs (constant text in a run is whitespace)."""
        if text is DYNAMIC:
            outside = self.frames[-1][0] in (DOC, END)
            self.ops.append((O_BLANK, outside))

    def into_dict(self, value_index: int) -> bool:
        """Whether the value at ``frames[value_index]`` goes into a struct."""
        return self.frames[value_index - 1][0] == MEMBER_DONE

    # -- tags ------------------------------------------------------------------------

    def start(self, qname: str, text: object) -> None:
        frames = self.frames
        kind, parent, _ = frames[-1]
        local = qname.rpartition(":")[2]
        if kind in _CONTENT and kind != VALUE:
            self.invalid(f"<{parent}> cannot contain elements, found <{qname}>")
        if kind == END:
            self.malformed("junk after document element")
        self.blank(text)
        nxt: int | None = None  # what the parent becomes
        child = -1
        code = -1
        if kind == VALUE:
            code = SCALAR_TYPES.get(local, -1)
            if code >= 0:
                nxt, child = VALUE_DONE, SCALAR
            elif local in ("array", "struct"):
                nxt, child = VALUE_DONE, (ARRAY if local == "array" else STRUCT)
                self.depth += 1
                if self.depth > self.max_depth:
                    raise ResponseTooDeep(
                        f"arrays and structs nest deeper than {self.max_depth} (max_depth)"
                    )
                self.ops.append((O_OPEN, local == "struct", self.depth))
        else:
            nxt, child = _STARTS.get((kind, local), (None, -1))
            if kind == DOC:
                self.ops.append((O_ROOT, local))
            elif child == FAULT:
                self.ops.append((O_FAULT,))
        if child < 0:
            where = f" in <{parent}>" if parent else ""
            self.invalid(f"unexpected <{qname}>{where}")
        if nxt is not None:
            frames[-1] = (nxt, parent, -1)
        frames.append((child, qname, code))

    def end(self, qname: str, text: object) -> None:
        frames = self.frames
        kind, name, code = frames[-1]
        if name != qname:
            self.malformed(f"mismatched tag: </{qname}> closes <{name}>")
        if kind == VALUE:
            self.ops.append((O_EMIT, STRING, text, self.into_dict(-1)))
        elif kind == SCALAR:
            self.ops.append((O_EMIT, code, text, self.into_dict(-2)))
        elif kind == NAME:
            self.ops.append((O_KEY, text))
        elif kind == METHOD_NAME:
            self.ops.append((O_NAME, text))
        elif kind in _UNFINISHED:
            self.invalid(_UNFINISHED[kind])
        else:
            self.blank(text)
            if kind in (ARRAY, ARRAY_DONE, STRUCT):
                self.depth -= 1
                self.ops.append((O_CLOSE, self.into_dict(-2)))
        frames.pop()
        if len(frames) == 1:
            frames[0] = (END, "", -1)

    def run(self, run: str) -> str:
        """Apply every tag of ``run``; return the whitespace after its last tag.

        Errors carry ``run_offset``, the index in ``run`` of the tag at fault.
        """
        try:
            return self._run(run)
        except (InvalidResponse, MalformedXML, ResponseTooDeep) as exc:
            setattr(exc, "run_offset", self.pos)  # noqa: B010 - not a declared attribute
            raise

    def _run(self, run: str) -> str:
        text: object = DYNAMIC
        space = ""
        pos = self.pos = 0
        for match in _TAG.finditer(run):
            if match.start() != pos:
                break
            self.pos = pos
            slash, qname, attributes, empty, space = match.groups()
            pos = match.end()
            if _QNAME.match(qname) is None:
                self.malformed(f"not well-formed (invalid token) in <{qname}>")
            if slash:
                if attributes or empty:
                    self.malformed("not well-formed (invalid token)")
                self.end(qname, text)
            else:
                if attributes:
                    names = _ATTRIBUTE_NAME.findall(attributes)
                    if len(set(names)) != len(names):
                        self.malformed("duplicate attribute")
                self.start(qname, text)
                if empty:
                    self.end(qname, "")
            text = space
        if pos != len(run) or pos == 0:
            if "'" in run[pos:] or '"' in run[pos:]:
                raise QuotedMarkup
            self.pos = pos
            self.malformed("not well-formed (invalid token)")
        return space


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
    (MEMBER, "name"): (MEMBER_VALUE, NAME),
    (MEMBER_VALUE, "value"): (MEMBER_DONE, VALUE),
}

# Kinds that may not end yet, and why.
_UNFINISHED = {
    RESPONSE: "<methodResponse> holds neither <params> nor <fault>",
    CALL: "<methodCall> has no <methodName>",
    PARAM: "<param> holds no <value>",
    FAULT: "<fault> holds no <value>",
    MEMBER: "<member> has no <name>",
    MEMBER_VALUE: "<member> has no <value>",
}


def compile_plan(state: State, run: str, max_depth: int) -> Plan:
    """Compile what ``run`` does in ``state``, caching the plan when that is safe.

    Raises:
        MalformedXML: The run is not well-formed XML, or closes the wrong element.
        InvalidResponse: The run is well-formed but breaks the XML-RPC grammar.
        ResponseTooDeep: The run nests arrays and structs deeper than ``max_depth``.
    """
    compiler = _Compiler(state, max_depth)
    prefix = compiler.run(run)
    frames = compiler.frames
    if frames[-1][0] not in _CONTENT:
        prefix = ""  # whitespace between elements means nothing
    nxt = _state(tuple(frames))
    plan = _fuse(compiler.ops, nxt, prefix)
    global _cached_chars
    if (
        len(run) <= _MAX_CACHED_RUN
        and len(state.plans) < _MAX_PLANS_PER_STATE
        and _cached_chars + len(run) <= _MAX_CACHED_CHARS
    ):
        state.plans[run] = plan
        _cached_chars += len(run)
    return plan


def _fuse(ops: list[Op], nxt: State, prefix: str) -> Plan:
    """Turn the commonest plans into their fast kinds."""
    if (
        len(ops) == 3
        and ops[0][0] == O_EMIT
        and ops[0][2] is DYNAMIC
        and ops[1] == (O_CLOSE, False)
        and ops[2][0] == O_OPEN
    ):
        # (type code, emit into a dict?, open a dict?, depth of the new container)
        operand = (ops[0][1], ops[0][3], ops[2][1], ops[2][2])
        return (P_NEXT, operand, nxt.plans, prefix, nxt)
    if len(ops) == 1:
        op = ops[0]
        if op[0] == O_EMIT and op[2] is DYNAMIC:
            into_dict = op[3]
            if op[1] == STRING:
                return (P_DICT_STR if into_dict else P_LIST_STR, None, nxt.plans, prefix, nxt)
            return (P_DICT if into_dict else P_LIST, op[1], nxt.plans, prefix, nxt)
        if op[0] == O_KEY and op[1] is DYNAMIC:
            return (P_KEY, None, nxt.plans, prefix, nxt)
    return (P_OPS, tuple(ops), nxt.plans, prefix, nxt)
