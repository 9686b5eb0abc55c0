"""The error tree.

The four :mod:`xmlrpc.client` classes are reused as they are, so ``except
xmlrpc.client.Fault`` (or ``Error``) written for the standard library still catches our
errors. Everything new subclasses one of them, plus a builtin or a defusedxml class where
one fits, so existing ``except`` clauses keep working::

    Exception
    └── xmlrpc.client.Error ............................. Error
        ├── xmlrpc.client.Fault ......................... Fault (the server said no)
        ├── xmlrpc.client.ProtocolError ................. ProtocolError (HTTP status != 200)
        ├── xmlrpc.client.ResponseError ................. ResponseError (bad body)
        │   ├── MalformedXML (+ xml.parsers.expat.ExpatError)
        │   │   └── TruncatedResponse ................... ended before the document did
        │   ├── InvalidResponse ......................... well-formed, but not XML-RPC
        │   ├── ResponseTooLarge ........................ over Limits.max_bytes
        │   ├── ResponseTooDeep ......................... over Limits.max_depth
        │   └── UnsafeXML (+ defusedxml.DefusedXmlException)
        │       ├── DTDForbidden (+ defusedxml.DTDForbidden)
        │       └── EntitiesForbidden (+ defusedxml.EntitiesForbidden)
        └── TransportError (+ OSError) .................. the HTTP exchange failed
            ├── ConnectError (+ ConnectionError) ........ refused, reset, DNS
            │   ├── ConnectionRefused (+ ConnectionRefusedError)
            │   └── NameResolutionError (+ socket.gaierror)
            └── TransportTimeout (+ TimeoutError) ....... a deadline expired

A ``TransportError`` caused by an operating-system error carries its ``errno`` (and the
error itself as ``__cause__``), as the standard library's would.

Marshalling errors are the stdlib's builtins: ``TypeError("cannot marshal ...")``,
``OverflowError`` for integers XML-RPC cannot carry, and ``ValueError`` for strings holding
characters XML 1.0 cannot carry.
"""

from __future__ import annotations

import socket
from xml.parsers.expat import ExpatError
from xmlrpc.client import Error, Fault, ProtocolError, ResponseError

import defusedxml

__all__ = [
    "ConnectError",
    "ConnectionRefused",
    "DTDForbidden",
    "EntitiesForbidden",
    "Error",
    "Fault",
    "InvalidResponse",
    "InvalidValue",
    "MalformedXML",
    "NameResolutionError",
    "ProtocolError",
    "ResponseError",
    "ResponseTooDeep",
    "ResponseTooLarge",
    "TransportError",
    "TransportTimeout",
    "TruncatedResponse",
    "UnsafeXML",
]


class _Message:
    """``str(exc)`` is the message (``xmlrpc.client.Error.__str__`` would give the repr)."""

    args: tuple[object, ...]

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MalformedXML(_Message, ResponseError, ExpatError):
    """The body is not well-formed XML.

    Also an :class:`xml.parsers.expat.ExpatError`, as the standard library raises there,
    with ``lineno`` (1-based) and ``offset`` (0-based column) set where they are known.
    """

    def __init__(self, message: str, lineno: int | None = None, offset: int | None = None):
        """Describe the problem; ``lineno``/``offset`` are added to the message when given."""
        if lineno is not None:
            message = f"{message}: line {lineno}, column {offset or 0}"
        super().__init__(message)
        # ExpatError declares these as int; None means "not known" here.
        self.lineno = lineno  # type: ignore[assignment]
        self.offset = offset  # type: ignore[assignment]


class TruncatedResponse(MalformedXML):
    """The body ended before the XML document did (empty, cut short, or unclosed)."""


class InvalidResponse(_Message, ResponseError):
    """The body is well-formed XML but not a valid XML-RPC document.

    Unknown elements, text where only elements belong, a response with more or fewer
    than one ``<param>``, or a fault without ``faultCode``/``faultString`` all land here;
    a scalar whose text is not of its type raises the subclass :class:`InvalidValue`.
    """


class InvalidValue(InvalidResponse, ValueError):
    """A scalar's text is not a value of its type: ``<int>1e+100</int>``, ``<boolean>2</boolean>``.

    Also a :class:`ValueError`, as the standard library raises for a bad ``<int>``,
    ``<double>``, ``<dateTime.iso8601>`` (read as ``datetime``) or ``<base64>``, so that
    ``except ValueError`` still catches it. (For a bad ``<boolean>`` it raises
    ``TypeError``, which does not catch this.)
    """


class ResponseTooLarge(_Message, ResponseError):
    """The body exceeds the configured size limit (``Limits.max_bytes``)."""


class ResponseTooDeep(_Message, ResponseError):
    """Arrays and structs nest deeper than the configured limit (``Limits.max_depth``)."""


class UnsafeXML(_Message, ResponseError, defusedxml.DefusedXmlException):
    """The XML uses a feature refused by defusedxml's policy (DTDs, entity declarations).

    Also a :class:`defusedxml.DefusedXmlException`, so code that guards against
    defusedxml's errors catches it.
    """

    def __init__(self, message: str):
        """Store the message."""
        # Skip the defusedxml subclasses' __init__ (they take other arguments).
        Exception.__init__(self, message)
        self.message = message

    def __str__(self) -> str:
        """Return the message (defusedxml's subclasses would format their fields)."""
        return self.message

    def __repr__(self) -> str:
        """Show the class and the message."""
        return f"{type(self).__name__}({self.message!r})"


class DTDForbidden(UnsafeXML, defusedxml.DTDForbidden):
    """The body contains a document type declaration (``<!DOCTYPE ...>``)."""

    def __init__(self, name: str, sysid: str | None = None, pubid: str | None = None):
        """Record the doctype's name and identifiers, as defusedxml does."""
        UnsafeXML.__init__(self, f"DTDs are forbidden: <!DOCTYPE {name} ...>")
        self.name = name
        self.sysid = sysid
        self.pubid = pubid


class EntitiesForbidden(UnsafeXML, defusedxml.EntitiesForbidden):
    """The body declares or references an entity beyond XML's five predefined ones."""

    def __init__(self, name: str):
        """Record the entity's name, as defusedxml does."""
        UnsafeXML.__init__(self, f"entities are forbidden: {name!r}")
        self.name = name
        self.value = None
        self.base = None
        self.sysid = None
        self.pubid = None
        self.notation_name = None


class TransportError(Error, OSError):
    """The HTTP exchange failed: the connection, TLS, or the transfer itself.

    Also an :class:`OSError`, which is what :mod:`xmlrpc.client` lets escape, so ``except
    OSError`` code keeps working. When an operating-system error caused it, ``errno`` is
    that error's (``errno.ECONNREFUSED``...) and the error is its ``__cause__``;
    otherwise ``errno`` is ``None``.

    ``request_sent`` is False when the request certainly never left (connecting
    failed), and None when it may have (which is what a retry must know).
    """

    request_sent: bool | None = None

    def __init__(self, message: str, errno: int | None = None):
        """Store the message and the errno; ``str(exc)`` is the message alone."""
        if errno is None:
            OSError.__init__(self, message)
        else:
            OSError.__init__(self, errno, message)

    def __str__(self) -> str:
        """Return the message alone (``OSError`` would add the errno)."""
        if self.errno is not None:
            return str(self.strerror)
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[type[TransportError], tuple[str, int | None]]:
        """Pickle as ``(message, errno)``: ``OSError``'s own would swap them."""
        return (type(self), (str(self), self.errno))


class ConnectError(TransportError, ConnectionError):
    """The server could not be reached: refused, reset, unreachable or not resolvable."""


class ConnectionRefused(ConnectError, ConnectionRefusedError):
    """Nothing listens at the server's address; also a :class:`ConnectionRefusedError`."""

    request_sent = False


class NameResolutionError(ConnectError, socket.gaierror):
    """The server's host name could not be resolved; also a :class:`socket.gaierror`.

    ``errno`` is the resolver's code (``socket.EAI_NONAME``...), as in the standard
    library's ``gaierror``.
    """

    request_sent = False


class TransportTimeout(TransportError, TimeoutError):
    """A deadline expired (connecting, or the whole call); also a :class:`TimeoutError`.

    The message names the limit that fired: ``timeout`` (the whole call), the connect
    timeout, aiohttp's ``sock_read``, or the wait for the pool.
    """
