"""The codec's public functions and parsers; :mod:`aioxmlrpc.codec` re-exports them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .._exceptions import Fault
from .._types import Value
from ._cache import Cache
from ._escape import escaped
from ._limits import Limits
from ._marshal import (
    check_name,
    encode,
    is_utf8,
    marshal_fault,
    marshal_multicall,
    marshal_params,
    xml_header,
)
from ._parse import Parser, as_bytes

__all__ = [
    "RequestParser",
    "ResponseParser",
    "dumps",
    "encode_fault",
    "encode_multicall",
    "encode_request",
    "encode_response",
    "loads",
    "parse_request",
    "parse_response",
]

_NO_PARAMS = "<params>\n</params>\n"
_DEFAULT_LIMITS = Limits()


def _call_head(method_name: str, encoding: str | None) -> str:
    """Return a ``methodCall`` document's text up to its ``<params>``."""
    # A program calls a few methods many times: their heads are kept, as checking and
    # formatting a name costs more than a ping's whole request. Keyed by the names the
    # program calls, never by anything a server sends.
    cacheable = type(method_name) is str and encoding is None
    if cacheable:
        head = _CALL_HEADS.table.get(method_name)
        if head is not None:
            return head
    if type(method_name) is not str:
        if not isinstance(method_name, str):
            raise TypeError(f"method name must be a str, not {type(method_name).__name__}")
        method_name = str(method_name)
    check_name(method_name)
    head = f"{xml_header(encoding)}<methodCall>\n<methodName>{escaped(method_name)}</methodName>\n"
    if cacheable:
        _CALL_HEADS.put(method_name, head, 150 + len(method_name) + len(head))
    return head


_CALL_HEADS: Cache[str, str] = Cache("request heads", 256 * 1024)
_CALL_TAIL = "</methodCall>\n"
_RESPONSE_TAIL = "</methodResponse>\n"


def _response_head(encoding: str | None) -> str:
    if encoding is None:
        return _UTF8_RESPONSE_HEAD
    return f"{xml_header(encoding)}<methodResponse>\n"


_UTF8_RESPONSE_HEAD = f"{xml_header(None)}<methodResponse>\n"


def encode_request(
    method_name: str,
    params: Iterable[object] = (),
    *,
    encoding: str | None = None,
    allow_none: bool = False,
    allow_i8: bool = False,
) -> bytes:
    """Return the ``methodCall`` document calling ``method_name`` with ``params``.

    Args:
        method_name: The remote method, e.g. ``"system.listMethods"``.
        params: The positional parameters.
        encoding: The document's encoding (default UTF-8); characters it lacks are
            written as character references.
        allow_none: Marshal ``None`` as ``<nil/>`` instead of raising ``TypeError``.
        allow_i8: Marshal integers beyond 32 bits (within 64) as ``<i8>`` instead of
            raising ``OverflowError``.

    Raises:
        TypeError: A value XML-RPC cannot carry (``"cannot marshal <class 'set'> objects"``).
        OverflowError: An integer out of range.
        ValueError: A string holding a character XML 1.0 cannot carry.
    """
    head = _call_head(method_name, encoding)
    if not params:
        return encode(f"{head}{_NO_PARAMS}{_CALL_TAIL}", encoding)
    # By position: cheaper to call than by keyword, on every request.
    text = marshal_params(params, allow_none, allow_i8, head, _CALL_TAIL, is_utf8(encoding))
    return encode(text, encoding, params)


def encode_multicall(
    calls: Sequence[tuple[str, Sequence[object]]],
    *,
    encoding: str | None = None,
    allow_none: bool = False,
    allow_i8: bool = False,
) -> bytes:
    """Return the ``system.multicall`` request for ``(method_name, params)`` pairs.

    The same bytes as ``encode_request("system.multicall", ([{"methodName": name,
    "params": list(params)}, ...],))``, made faster. Options and errors are those of
    :func:`encode_request`.
    """
    body = marshal_multicall(
        calls, allow_none=allow_none, allow_i8=allow_i8, utf8=is_utf8(encoding)
    )
    return encode(f"{_call_head('system.multicall', encoding)}{body}{_CALL_TAIL}", encoding, calls)


def encode_response(
    value: object,
    *,
    encoding: str | None = None,
    allow_none: bool = False,
    allow_i8: bool = False,
) -> bytes:
    """Return the ``methodResponse`` document carrying ``value``.

    Options and errors are those of :func:`encode_request`.
    """
    head = _UTF8_RESPONSE_HEAD if encoding is None else _response_head(encoding)
    text = marshal_params((value,), allow_none, allow_i8, head, _RESPONSE_TAIL, is_utf8(encoding))
    return encode(text, encoding, value)


def encode_fault(fault: Fault, *, encoding: str | None = None) -> bytes:
    """Return the ``methodResponse`` document carrying ``fault``."""
    text = f"{_response_head(encoding)}{marshal_fault(fault)}{_RESPONSE_TAIL}"
    return encode(text, encoding)


class ResponseParser:
    """Parse a ``methodResponse`` fed in pieces as they arrive.

    Feed the body with :meth:`feed` (any split, down to single bytes, gives the same
    result), then call :meth:`close` for the value. Errors are raised as early as the
    bytes show them, typed (:class:`~aioxmlrpc.ResponseError` subclasses), with what went
    wrong and where.

    Args:
        use_datetime: Return ``dateTime.iso8601`` values as :class:`datetime.datetime`
            (aware when the value carries an offset) instead of ``DateTime``.
        use_builtin_types: Return base64 values as ``bytes`` and dates as ``datetime``.
        limits: Size and nesting bounds (default :class:`Limits`).
    """

    __slots__ = ("_options", "_parser", "limits")

    def __init__(
        self,
        *,
        use_datetime: bool = False,
        use_builtin_types: bool = False,
        limits: Limits | None = None,
    ) -> None:
        """Prepare to parse one response."""
        self.limits = limits or _DEFAULT_LIMITS
        self._options = (use_datetime, use_builtin_types)
        self._parser: Parser | None = None  # made on first use: a cached reply needs none

    def _engine(self) -> Parser:
        parser = self._parser
        if parser is None:
            use_datetime, use_builtin_types = self._options
            parser = self._parser = Parser(
                "methodResponse",
                use_datetime=use_datetime,
                use_builtin_types=use_builtin_types,
                limits=self.limits,
            )
        return parser

    @property
    def bytes_received(self) -> int:
        """How many bytes have been fed so far."""
        return self._parser.bytes_received if self._parser else 0

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse the next piece of the body.

        Raises:
            ResponseError: A subclass saying what is wrong; the parser is then unusable.
        """
        self._engine().feed(data)

    def close(self, data: bytes | bytearray | memoryview = b"") -> Value:
        """Finish the body, given its last piece if any, and return its value.

        A body known whole at once is best passed here directly (``close(body)``): it is
        then read in a single pass, and the commonest replies (the ``True`` of a ping,
        an ``"OK"``, in the bytes Python servers write) are recognised without parsing.

        Raises:
            Fault: The response is a fault.
            TruncatedResponse: The body is empty or ended early.
            ResponseError: Another subclass for any other problem.
        """
        if data and self._parser is None:
            data = as_bytes(data)
            known = _KNOWN_REPLIES.get(data, _MISSING) if len(data) <= _KNOWN_SIZE else _MISSING
            if known is not _MISSING and (self.limits.max_bytes or len(data)) >= len(data):
                return known  # type: ignore[return-value]
        parser = self._engine()
        if data:
            if parser.bytes_received:
                parser.feed(data)
                parser.close()
            else:
                parser.feed_whole(data)
        else:
            parser.close()
        return parser.result()


def _known_replies() -> dict[bytes, Value]:
    """The exact bytes of the commonest replies, as this codec and the stdlib write them.

    A ping's ``True``, a status call's ``"OK"``, a counter's ``0``: servers written in
    Python (the standard library's, ours, supervisord's) answer with these very bytes,
    and a health check reads them thousands of times. A table fixed here, of immutable
    values, built from our own writer: nothing a server sends is ever kept.
    """
    values: list[Value] = [True, False, 0, 1, "", "OK", "ok"]
    table: dict[bytes, Value] = {}
    for value in values:
        for encoding in (None, "utf-8"):
            table[encode_response(value, encoding=encoding)] = value
        table[encode_response(value).replace(b"'1.0'", b'"1.0"')] = value
    table[encode_response(None, allow_none=True)] = None
    return table


_MISSING = object()
_KNOWN_REPLIES = _known_replies()
_KNOWN_SIZE = max(map(len, _KNOWN_REPLIES))


class RequestParser:
    """Parse a ``methodCall`` fed in pieces, as a server would.

    Options are those of :class:`ResponseParser`; :meth:`close` returns
    ``(method_name, params)``.
    """

    __slots__ = ("_parser",)

    def __init__(
        self,
        *,
        use_datetime: bool = False,
        use_builtin_types: bool = False,
        limits: Limits | None = None,
    ) -> None:
        """Prepare to parse one request."""
        self._parser = Parser(
            "methodCall",
            use_datetime=use_datetime,
            use_builtin_types=use_builtin_types,
            limits=limits,
        )

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse the next piece of the body (see :meth:`ResponseParser.feed`)."""
        self._parser.feed(data)

    def close(self, data: bytes | bytearray | memoryview = b"") -> tuple[str, tuple[Value, ...]]:
        """Finish the body, given its last piece if any; return ``(method_name, params)``.

        A body known whole at once is best passed here directly, ``parser.close(body)``:
        it is then read in a single pass, as :meth:`ResponseParser.close` reads one.
        """
        parser = self._parser
        if data and not parser.bytes_received:
            parser.feed_whole(data)
        else:
            if data:
                parser.feed(data)
            parser.close()
        assert parser.method_name is not None  # noqa: S101 - the grammar requires it
        return parser.method_name, tuple(parser.params)


def parse_response(
    data: bytes | bytearray | memoryview,
    *,
    use_datetime: bool = False,
    use_builtin_types: bool = False,
    limits: Limits | None = None,
) -> Value:
    """Parse a whole ``methodResponse`` body at once (see :class:`ResponseParser`)."""
    parser = Parser(
        "methodResponse",
        use_datetime=use_datetime,
        use_builtin_types=use_builtin_types,
        limits=limits,
    )
    parser.feed_whole(data)
    return parser.result()


def parse_request(
    data: bytes | bytearray | memoryview,
    *,
    use_datetime: bool = False,
    use_builtin_types: bool = False,
    limits: Limits | None = None,
) -> tuple[str, tuple[Value, ...]]:
    """Parse a whole ``methodCall`` body at once (see :class:`RequestParser`)."""
    parser = RequestParser(
        use_datetime=use_datetime, use_builtin_types=use_builtin_types, limits=limits
    )
    return parser.close(data)


def dumps(
    params: tuple[object, ...] | Fault,
    methodname: str | None = None,
    methodresponse: bool | None = None,
    encoding: str | None = None,
    allow_none: bool = False,
) -> str:
    r"""Marshal ``params`` as :func:`xmlrpc.client.dumps` does, only faster.

    ``params`` is a tuple, or a :class:`Fault` (which makes a response). With
    ``methodname`` the result is a ``methodCall``; with ``methodresponse`` a
    ``methodResponse`` (its tuple must hold exactly one value); with neither, just the
    ``<params>`` element. The text is the standard library's, character for character,
    with one deliberate difference that any parser reads back identically: base64 of
    more than 57 bytes is written on one line.
    Strings holding characters XML 1.0 cannot carry raise ``ValueError``.

    Raises:
        AssertionError: ``params`` is not a tuple or a Fault, as in the standard library.
        TypeError: A value XML-RPC cannot carry.
        OverflowError: An integer outside 32 bits.
        ValueError: A string holding a character XML 1.0 cannot carry.
    """
    # AssertionError, as the standard library's asserts raise (even under -O here).
    if type(params) is not tuple:
        if isinstance(params, Fault):
            head = _call_head(methodname, encoding) if methodname else _response_head(encoding)
            tail = _CALL_TAIL if methodname else _RESPONSE_TAIL
            return f"{head}{marshal_fault(params)}{tail}"
        if not isinstance(params, tuple):
            raise AssertionError("argument must be tuple or Fault instance")
    if methodresponse and len(params) != 1:
        raise AssertionError("response tuple must be a singleton")
    if methodname:
        head, tail = _call_head(methodname, encoding), _CALL_TAIL
    elif methodresponse:
        head = _UTF8_RESPONSE_HEAD if encoding is None else _response_head(encoding)
        tail = _RESPONSE_TAIL
    else:
        head = tail = ""
    return marshal_params(params, allow_none, False, head, tail)


def loads(
    data: bytes | bytearray | memoryview | str,
    use_datetime: bool = False,
    use_builtin_types: bool = False,
) -> tuple[tuple[Value, ...], str | None]:
    """Parse an XML-RPC document as :func:`xmlrpc.client.loads` does: ``(params, name)``.

    ``name`` is the method name of a ``methodCall`` and ``None`` for a response. A fault
    response raises :class:`Fault`. Unlike the standard library, a document that is not
    well-formed raises :class:`~aioxmlrpc.MalformedXML`, which is both a
    ``ResponseError`` and the ``xml.parsers.expat.ExpatError`` the standard library raises.
    """
    parser = Parser(use_datetime=use_datetime, use_builtin_types=use_builtin_types)
    if isinstance(data, str):
        parser.feed_text(data)
        parser.close()
    else:
        parser.feed_whole(data)
    if parser.is_fault:
        raise parser.fault()
    return tuple(parser.params), parser.method_name
