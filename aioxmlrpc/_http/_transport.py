"""The HTTP side of a call: one pooled aiohttp session, bounded and mapped to our errors.

What happens to a call, in order:

0. Wait, in turn, for one of the pool's connections (``_pool.py``), within the call's
   time.
1. POST the request body (gzip-compressed above ``gzip_threshold``) with ``Content-Type:
   text/xml``, our ``User-Agent``, ``Accept-Encoding: gzip`` and any basic auth from the
   URL. Redirects are not followed (the standard library does not either).
2. A status other than 200 raises :class:`~aioxmlrpc.ProtocolError`; an HTML or JSON
   Content-Type raises :class:`~aioxmlrpc.InvalidResponse`; a declared length over the limit
   raises :class:`~aioxmlrpc.ResponseTooLarge` before reading.
3. The body is fed to the parser as it arrives, decompressed in bounded steps, so a
   gzip bomb never holds more than a step in memory and the size limit counts the
   decompressed bytes. A small body is read whole and parsed in one pass.
4. A connection the server closed while it sat idle in the pool is retried once, and only
   when nothing of a reply came back on it (the standard library's rule); a cancelled or
   failed call closes its connection instead of returning a half-read one to the pool.
   A pooled connection with anything to read is never reused (``_pool.py``).

One attempt is one call of :meth:`HTTPTransport._attempt`; :meth:`HTTPTransport.request`
makes a second one when the first may be retried (:meth:`HTTPTransport._may_retry`).
Every aiohttp exception is mapped to ours in ``_errors.py``, the one place that knows
them, and raised ``from`` it.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import logging
import re
import ssl
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TextIO
from urllib.parse import unquote_to_bytes, urlsplit, urlunsplit

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from .._exceptions import (
    InvalidResponse,
    ProtocolError,
    ResponseError,
    ResponseTooLarge,
    TransportError,
    TransportTimeout,
)
from .._redact import redact_url
from .._types import Value
from .._version import __version__
from ..codec import ResponseParser
from ..hooks import REQUEST_HEADERS
from ._dump import Secrets, WireDump, logger
from ._errors import Call, translate
from ._inflate import Inflater
from ._pool import ATTEMPT, Attempt, FairGate, GateClosed, TCPConnector, UnixConnector
from ._timeouts import DEFAULT_CONNECT_TIMEOUT, client_timeout, queue_limit, with_total

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT",
    "HTTPTransport",
    "Transport",
    "parse_uri",
]

#: Seconds a whole call may take, connecting, sending and reading included.
DEFAULT_TIMEOUT = 30.0
#: Connections kept open to the server at most (calls beyond wait for one).
DEFAULT_POOL_SIZE = 100

# Content types that say "not XML-RPC": an HTML login or error page, a JSON API. Any
# other type is given to the parser, which judges the body itself (servers label XML
# text/xml, application/xml, and sometimes application/octet-stream or nothing).
_NOT_XML = re.compile(r"\s*(text/html|application/xhtml\+xml|application/json|[^;]*\+json)\b", re.I)
_MIB = 1 << 20
# aiohttp would add "Accept: */*"; the stdlib sends no Accept, and verbose output shows
# exactly the headers sent.
_SKIP_AUTO_HEADERS = frozenset({"Accept"})
# Bodies up to this size are read whole and parsed in one pass.
_READ_WHOLE = 64 * 1024
# The longest status or header line read: http.client's (aiohttp's own 8190 refuses the
# large cookies and signed headers the standard library reads). aiohttp (3.13.4 and
# newer) also reads at most 128 header lines, so a reply's head holds 8 MiB at most.
_MAX_HEAD_LINE = 65536
# What a failed attempt can raise that is aiohttp's or asyncio's, not ours.
_FOREIGN = (aiohttp.ClientError, TimeoutError, asyncio.TimeoutError)


class Transport(Protocol):
    """What :class:`~aioxmlrpc.AsyncServerProxy` needs from a transport.

    Implement it to carry XML-RPC over something else (SCGI for rTorrent, a message
    queue, a test double): send ``body``, feed the reply to ``parser`` and return
    ``parser.close()``.
    """

    async def request(
        self, url: str, body: bytes, parser: ResponseParser, *, verbose: bool = False
    ) -> Value:
        """Send ``body`` to ``url``; return the parsed reply (or raise its Fault)."""
        ...

    async def aclose(self) -> None:
        """Release what the transport holds; calling it again does nothing."""
        ...


class _Target:
    """A server URL, parsed once: what to connect to and what to show."""

    __slots__ = ("_extra", "_raw", "_secrets", "display", "headers", "url")

    def __init__(
        self, raw: str, url: URL, display: str, headers: CIMultiDict[str], extra: tuple[str, ...]
    ) -> None:
        self._raw = raw
        self.url = url  # without credentials
        self.display = display  # the URL with its password redacted
        self.headers = headers  # per-call headers, Authorization included
        self._extra = extra
        self._secrets: Secrets | None = None

    def secrets(self) -> Secrets:
        """What verbose output hides: the password, its token, ``secrets=``; built once."""
        if self._secrets is None:
            self._secrets = Secrets.of_url(self._raw, self._extra)
        return self._secrets


def parse_uri(uri: str) -> tuple[str, str]:
    """Check an XML-RPC URI as the standard library does; return it and its redacted form.

    The path defaults to ``/RPC2``.

    Raises:
        OSError: ``"unsupported XML-RPC protocol"`` for a scheme other than http(s).
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        raise OSError("unsupported XML-RPC protocol")
    if not parts.netloc:
        raise OSError(f"no host in XML-RPC URI {redact_url(uri)!r}")
    path = parts.path or "/RPC2"
    full = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return full, redact_url(full)


def _basic_auth(userinfo: str) -> str:
    # As the standard library does: percent-decoded, "user:password" in base64.
    return "Basic " + base64.b64encode(unquote_to_bytes(userinfo)).decode("ascii")


class HTTPTransport:
    """XML-RPC over HTTP(S) with aiohttp: one pooled session, created on first use.

    Args:
        headers: Extra request headers (pairs or a mapping); they override ours.
        context: The :class:`ssl.SSLContext` for https (default: verify as usual).
        session: Use this :class:`aiohttp.ClientSession` (it is never closed by us).
        timeout: Seconds for a whole call, or an :class:`aiohttp.ClientTimeout`, or
            ``None`` for no limit (not advised).
        unix_socket: Connect to this unix socket path instead (supervisord's default).
        proxy: An HTTP proxy URL, credentials allowed.
        pool_size: Connections kept open at most.
        user_agent: The ``User-Agent`` header (default ``aioxmlrpc/<version>``).
        gzip_threshold: Compress request bodies larger than this many bytes (default:
            never; not every server accepts compressed requests).
        output: Where verbose output goes (default ``sys.stdout``, as the stdlib).
        secrets: Strings never to show in verbose output or logs (an aria2
            ``"token:..."`` parameter, an API key): replaced by ``***`` wherever they
            appear, as the URL's password already is.

    Raises:
        ValueError: A timeout that is NaN, zero or negative, or a ``pool_size`` below 1.
    """

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        context: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float | aiohttp.ClientTimeout | None = DEFAULT_TIMEOUT,
        unix_socket: str | None = None,
        proxy: str | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
        user_agent: str | None = None,
        gzip_threshold: int | None = None,
        output: TextIO | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        """Store the options; the session is created inside the event loop, on first use."""
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size!r}")
        if session is not None and (
            context is not None or unix_socket is not None or pool_size != DEFAULT_POOL_SIZE
        ):
            raise TypeError(
                "context, unix_socket and pool_size configure our own session's connector: "
                "set them on the aiohttp.ClientSession you pass instead"
            )
        self._session = session
        self._owns_session = session is None
        self._context = context
        self._unix_socket = unix_socket
        self._proxy = proxy
        self._proxy_display = redact_url(proxy) if proxy else None
        self._pool_size = pool_size
        self._gzip_threshold = gzip_threshold
        self._output = output
        self._timeout = client_timeout(timeout)
        # Our session's calls queue for a connection in order (see _pool.py); a caller's
        # session has its own limits, unknown to us.
        self._gate = FairGate(pool_size, queue_limit(self._timeout)) if session is None else None
        base: CIMultiDict[str] = CIMultiDict(
            {
                "Content-Type": "text/xml",
                "User-Agent": user_agent or f"aioxmlrpc/{__version__}",
                "Accept-Encoding": "gzip",
            }
        )
        base.update(headers.items() if isinstance(headers, Mapping) else headers)
        self._headers = base
        self._targets: dict[str, _Target] = {}
        self._secrets = tuple(secrets)
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # our session's
        # What every POST passes. Our own session has the timeout and the headers to skip
        # already; a caller's session needs them with each request.
        self._post_options: dict[str, Any] = {
            "proxy": proxy,
            "allow_redirects": False,
            "auto_decompress": False,
        }
        if session is not None:
            self._post_options["timeout"] = self._timeout
            self._post_options["skip_auto_headers"] = _SKIP_AUTO_HEADERS

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            parts = urlsplit(url)
            headers = self._headers.copy()
            netloc = parts.netloc
            if "@" in netloc:
                userinfo, _, netloc = netloc.rpartition("@")
                headers["Authorization"] = _basic_auth(userinfo)
            clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
            target = _Target(url, URL(clean), redact_url(url), headers, self._secrets)
            if len(self._targets) < 64:
                self._targets[url] = target
        return target

    def _open(self, target: _Target) -> aiohttp.ClientSession:
        if self._closed:
            raise TransportError(f"call to {target.display} refused: the proxy was closed")
        connector: aiohttp.BaseConnector
        if self._unix_socket is not None:
            connector = UnixConnector(self._unix_socket, limit=self._pool_size)
        else:
            ssl_option: ssl.SSLContext | bool = self._context if self._context else True
            connector = TCPConnector(limit=self._pool_size, ssl=ssl_option)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=False,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            max_line_size=_MAX_HEAD_LINE,
            max_field_size=_MAX_HEAD_LINE,
        )
        self._loop = asyncio.get_running_loop()
        return self._session

    async def aclose(self) -> None:
        """Close the session (if it is ours) and its connections; idempotent.

        Calls still waiting for a connection, or for their reply, end at once with
        :class:`~aioxmlrpc.TransportError` ("the proxy was closed").
        """
        self._closed = True
        if self._gate is not None:
            self._gate.close()
        session, self._session = self._session, None
        if session is None or not self._owns_session:
            return
        if self._loop is not asyncio.get_running_loop():
            # Its loop is gone (asyncio.run() ended): so are its connections; drop it.
            session.detach()
            return
        await session.close()

    async def request(
        self, url: str, body: bytes, parser: ResponseParser, *, verbose: bool = False
    ) -> Value:
        """POST ``body`` to ``url`` and return what ``parser`` makes of the reply.

        Raises:
            Fault: The server answered with a fault.
            ProtocolError: The HTTP status was not 200.
            ResponseError: A subclass, for a body that is not a valid XML-RPC response.
            TransportError: A subclass, for the connection, a timeout, or a closed proxy.
        """
        target = self._target(url)
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None:
            session = self._open(target)
        elif self._loop is not loop and self._owns_session:
            raise TransportError(
                f"call to {target.display} refused: this proxy's connections belong to the "
                "event loop it was first used in; use one proxy per event loop (each "
                "asyncio.run()), or aclose() it before its loop ends"
            )
        elif not self._owns_session and session.closed:  # ours closes only in aclose()
            raise TransportError(
                f"call to {target.display} refused: the aiohttp session given as session= is closed"
            )
        headers = target.headers
        extra = REQUEST_HEADERS.get()
        if extra:  # added by a hook for this call (a traceparent, say)
            headers = headers.copy()
            headers.update(extra)
        if self._gzip_threshold is not None and len(body) > self._gzip_threshold:
            body = gzip.compress(body, compresslevel=6)
            headers = headers.copy()
            headers["Content-Encoding"] = "gzip"
        dump = None
        if verbose or logger.isEnabledFor(logging.DEBUG):
            dump = WireDump(target.secrets(), verbose, self._output)
            dump.request(target.url, headers, body)
        started = loop.time()
        gate = self._gate
        queued = gate is not None and not gate.try_enter()
        if queued:
            await self._queue(target)
        state = Attempt(crowded=gate is not None and gate.busy > 1)
        options = self._post_options
        try:
            if queued:
                options = {**options, "timeout": self._remaining(started, target)}
            try:
                return await self._attempt(
                    session, target, headers, body, parser, dump, options, state
                )
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                if not self._may_retry(exc, state):
                    raise
                logger.debug("retrying %s on a new connection: %s", target.display, exc)
            # The second attempt, on a new connection, within what is left of the time.
            options = {**options, "timeout": self._remaining(started, target)}
            state.reused = state.replied = False
            return await self._attempt(session, target, headers, body, parser, dump, options, state)
        except _FOREIGN as exc:
            raise translate(exc, self._call(target, state)) from exc
        finally:
            if gate is not None:
                gate.leave()

    def _call(self, target: _Target, state: Attempt) -> Call:
        """What the error mapping needs to know of a failed call."""
        gate = self._gate
        return Call(
            where=target.display,
            timeout=self._timeout,
            closed=self._closed,
            replied=state.replied,
            proxy=self._proxy_display,
            # In flight beside others when it started, or now: they may hold the server.
            crowded=(state.crowded or (gate is not None and gate.busy > 1)) and self._pool_size > 1,
        )

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        target: _Target,
        headers: CIMultiDict[str],
        body: bytes,
        parser: ResponseParser,
        dump: WireDump | None,
        options: dict[str, Any],
        state: Attempt,
    ) -> Value:
        """One POST and its reply, read and parsed; a failed read never pools its connection."""
        ATTEMPT.set(state)
        # aiohttp wants a file object above 1 MiB (it warns otherwise); a fresh one each
        # attempt, so that a retry sends the whole body again.
        data: bytes | io.BytesIO = body if len(body) <= _MIB else io.BytesIO(body)
        response = await session.post(target.url, data=data, headers=headers, **options)
        state.replied = True
        try:
            encoding, not_xml = self._check(response, target, parser, dump)
            try:
                length = response.content_length
                if length is not None and length <= _READ_WHOLE and not encoding:
                    whole = await response.read()
                    if dump is not None:
                        dump.whole_body(whole)
                    value = parser.close(whole)
                else:
                    value = await self._read_stream(response, encoding, parser, dump)
            except ResponseError as exc:
                # Labelled HTML or JSON and not XML-RPC either: say what it was labelled.
                if not_xml is None or isinstance(exc, ResponseTooLarge):
                    raise
                raise InvalidResponse(not_xml) from exc
        except BaseException:
            # Cancelled or failed mid-body: drop the connection, never pool it.
            response.close()
            raise
        response.release()
        return value

    async def _queue(self, target: _Target) -> None:
        """Wait for a place in the pool, in turn, within the call's total timeout."""
        assert self._gate is not None  # noqa: S101 - only called with a gate
        try:
            await self._gate.enter()
        except GateClosed:
            raise TransportError(
                f"call to {target.display} abandoned: the proxy was closed"
            ) from None
        except (TimeoutError, asyncio.TimeoutError):
            raise TransportTimeout(
                f"call to {target.display} timed out after {queue_limit(self._timeout):g} s "
                f"waiting for one of the pool's {self._pool_size} connections (pool_size)"
            ) from None

    def _remaining(self, started: float, target: _Target) -> aiohttp.ClientTimeout:
        total = self._timeout.total
        if total is None:
            return self._timeout
        left = total - (asyncio.get_running_loop().time() - started)
        if left <= 0:
            raise TransportTimeout(
                f"call to {target.display} timed out after {total:g} s (timeout)"
            )
        # The caller's other settings (sock_read...) stay as given.
        return with_total(self._timeout, total=left)

    def _may_retry(self, exc: Exception, state: Attempt) -> bool:
        # Only a pooled connection that gave no reply at all: the request may never have
        # reached the server. Outside sessions cannot tell us about reuse; trust the error.
        if self._closed or state.replied or isinstance(exc, aiohttp.ClientConnectorError):
            return False  # a reply came, or no connection was ever made
        if isinstance(exc, aiohttp.ServerDisconnectedError) and not isinstance(exc.message, str):
            return False  # part of a reply head arrived: the server had the request
        return bool(state.reused) or not self._owns_session

    def _check(
        self,
        response: aiohttp.ClientResponse,
        target: _Target,
        parser: ResponseParser,
        dump: WireDump | None,
    ) -> tuple[str, str | None]:
        """Refuse a reply by its head (status, content coding, declared size).

        Returns:
            Its content coding, lowercase (empty for none or ``identity``), and, when its
            Content-Type says HTML or JSON, the error to raise if the body turns out not
            to be XML-RPC (the standard library reads such a body all the same).
        """
        if dump is not None:
            raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
            dump.reply(response.version or (1, 1), response.status, response.reason or "", raw)
        if response.status != 200:
            # The reason stripped, as http.client strips it ("... characters. " is a
            # node server's).
            reason = (response.reason or "").strip()
            raise ProtocolError(target.display, response.status, reason, dict(response.headers))
        headers = response.headers
        content_type = headers.get("Content-Type", "")
        not_xml = None
        if content_type and _refused_type(content_type):
            not_xml = (
                f"expected an XML body from {target.display}, got Content-Type {content_type!r}"
            )
        encoding = headers.get("Content-Encoding", "").lower()
        if encoding == "identity":
            encoding = ""
        elif encoding not in ("", "gzip", "x-gzip", "deflate"):
            raise InvalidResponse(
                f"unsupported Content-Encoding {encoding!r} from {target.display}"
            )
        length = response.content_length
        limit = parser.limits.max_bytes
        if length is not None and limit is not None and length > limit and not encoding:
            raise ResponseTooLarge(
                f"response from {target.display} declares {length} bytes, "
                f"over the {limit} allowed (max_response_size)"
            )
        return encoding, not_xml

    async def _read_stream(
        self,
        response: aiohttp.ClientResponse,
        encoding: str,
        parser: ResponseParser,
        dump: WireDump | None,
    ) -> Value:
        """Feed a large or compressed body to the parser as it arrives."""
        shown = dump.body() if dump is not None else None
        if not encoding:
            async for chunk in response.content.iter_chunked(_READ_WHOLE):
                if shown is not None:
                    shown.feed(chunk)
                parser.feed(chunk)
        else:
            inflate = Inflater(encoding)
            async for chunk in response.content.iter_chunked(_READ_WHOLE):
                for piece in inflate.feed(chunk):
                    if shown is not None:
                        shown.feed(piece)
                    parser.feed(piece)
            inflate.finish()
        if shown is not None:
            shown.close()
        return parser.close()


def _refused_type(content_type: str) -> bool:
    # A server sends one or two Content-Type values: remember the verdict on each.
    refused = _REFUSED_TYPES.get(content_type)
    if refused is None:
        refused = _NOT_XML.match(content_type) is not None
        if len(_REFUSED_TYPES) < 64:
            _REFUSED_TYPES[content_type] = refused
    return refused


_REFUSED_TYPES: dict[str, bool] = {}
