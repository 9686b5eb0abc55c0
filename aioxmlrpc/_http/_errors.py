"""The one place that knows aiohttp's exceptions: each is mapped to ours here.

The transport raises ``translate(exc, call) from exc``, so the original error stays
reachable as ``__cause__``. The rules, first match wins:

1. Anything after :meth:`HTTPTransport.aclose` began: :class:`TransportError`, "the
   proxy was closed" (a call cut short by our own close is not the server's fault).
2. A timeout: :class:`TransportTimeout`, naming the limit that fired: connecting, the
   gap between reads (``sock_read``), or the whole call (``timeout``).
3. An operating-system error while connecting: refused is :class:`ConnectionRefused`
   (also a :class:`ConnectionRefusedError`), a failed lookup is
   :class:`NameResolutionError` (also a :class:`socket.gaierror`), any other is
   :class:`ConnectError`; each with the real ``errno``.
4. The connection lost before a reply: :class:`ConnectError`; during the body:
   :class:`TruncatedResponse`.
5. A malformed HTTP reply: :class:`TransportError` with aiohttp's reason.
"""

from __future__ import annotations

import asyncio
import errno as errnos
import os
import socket
import ssl
from dataclasses import dataclass

import aiohttp

from .._exceptions import (
    ConnectError,
    ConnectionRefused,
    Error,
    NameResolutionError,
    TransportError,
    TransportTimeout,
    TruncatedResponse,
)

__all__ = ["Call", "translate"]

_TIMEOUTS = (TimeoutError, asyncio.TimeoutError)
# aiohttp 3.10 names its two socket timeouts; 3.9 tells them apart by message only.
_CONNECT_TIMEOUT = getattr(aiohttp, "ConnectionTimeoutError", ())
_READ_TIMEOUT = getattr(aiohttp, "SocketTimeoutError", ())


@dataclass
class Call:
    """What a message needs to know about the call that failed."""

    where: str  # the URL, password hidden
    timeout: aiohttp.ClientTimeout
    closed: bool = False  # the transport was closed meanwhile
    replied: bool = False  # a reply head arrived
    proxy: str | None = None  # the HTTP proxy's URL, password hidden
    crowded: bool = False  # other calls were in flight on other connections, then or now


def translate(exc: BaseException, call: Call) -> Error:
    """Return our exception for ``exc``; the caller raises it ``from exc``."""
    where = call.where
    if call.closed:
        return TransportError(f"call to {where} abandoned: the proxy was closed")
    if isinstance(exc, _TIMEOUTS):
        timeout = TransportTimeout(_timeout_message(exc, call))
        if _connecting(exc):
            timeout.request_sent = False
        return timeout
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return ConnectError(f"TLS certificate of {where} rejected: {exc.certificate_error}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        target = (
            f"proxy {call.proxy}" if isinstance(exc, aiohttp.ClientProxyConnectionError) else where
        )
        error = _os_error(f"cannot connect to {target}", exc.os_error)
        error.request_sent = False  # connecting failed: nothing was sent
        return error
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        if call.replied:
            return TruncatedResponse(f"{where} closed the connection in the middle of its reply")
        if not isinstance(exc.message, str):  # part of a head: nothing usable came back
            return ConnectError(f"{where} closed the connection in the middle of its reply")
        return ConnectError(f"{where} closed the connection without replying")
    if isinstance(exc, aiohttp.ClientOSError):
        if call.replied:
            return TruncatedResponse(f"connection to {where} lost during its reply: {_reason(exc)}")
        return _os_error(f"connection to {where} failed", exc)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return TruncatedResponse(f"body from {where} ended early: {exc}")
    if isinstance(exc, aiohttp.ClientResponseError):
        return TransportError(f"bad HTTP reply from {where}: {exc.message}")
    if isinstance(exc, aiohttp.InvalidURL):
        return TransportError(f"invalid URL {where}")
    if isinstance(exc, aiohttp.ClientConnectionError):
        return ConnectError(f"connection to {where} failed: {exc}")
    return TransportError(f"call to {where} failed: {type(exc).__name__}: {exc}")


def _os_error(what: str, os_error: BaseException) -> ConnectError:
    reason = _reason(os_error)
    code = os_error.errno if isinstance(os_error, OSError) else None
    if isinstance(os_error, socket.gaierror):
        return NameResolutionError(f"{what}: {reason}", code)
    if isinstance(os_error, ConnectionRefusedError) or code == errnos.ECONNREFUSED:
        return ConnectionRefused(f"{what}: {reason}", code or errnos.ECONNREFUSED)
    if isinstance(os_error, ssl.SSLError):
        return ConnectError(f"{what}: TLS: {reason}", None)
    return ConnectError(f"{what}: {reason}", code)


def _reason(exc: BaseException) -> str:
    os_error = getattr(exc, "os_error", exc)
    code = getattr(os_error, "errno", None)
    if isinstance(code, int) and code > 0 and not isinstance(os_error, socket.gaierror):
        return os.strerror(code)  # asyncio's "Connect call failed (...)" says less
    if isinstance(os_error, OSError) and os_error.strerror:
        return os_error.strerror
    return str(exc) or type(exc).__name__


def _seconds(value: float | None) -> str:
    return f"{value:g} s" if value is not None else "no limit"


def _connecting(exc: BaseException) -> bool:
    """Whether a timeout fired while connecting (aiohttp's, or the pool's wait)."""
    return isinstance(exc, _CONNECT_TIMEOUT) or str(exc).startswith("Connection timeout")


def _timeout_message(exc: BaseException, call: Call) -> str:
    timeout = call.timeout
    where = call.where
    if _connecting(exc):
        limits = [
            f"{name}={value:g} s"
            for name, value in (
                ("sock_connect", timeout.sock_connect),
                ("connect", timeout.connect),
            )
            if value is not None
        ]
        return f"connecting to {where} timed out (connect timeout: {', '.join(limits)})"
    if isinstance(exc, _READ_TIMEOUT) or str(exc).startswith("Timeout on reading"):
        return f"{where} sent nothing for {_seconds(timeout.sock_read)} (sock_read timeout)"
    message = f"call to {where} timed out after {_seconds(timeout.total)} (timeout)"
    if call.crowded and not call.replied:
        # The usual cause when other calls were answered meanwhile: a server that serves
        # one connection at a time, held by another call's idle kept-alive connection.
        message += (
            "; if the server handles one connection at a time (Perl's RPC::XML::Server, "
            "HTTP::Daemon), pass pool_size=1"
        )
    return message
