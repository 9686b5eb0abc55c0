"""``AsyncServerProxy``: :class:`xmlrpc.client.ServerProxy` with ``await`` added.

Remote methods are looked up as attributes (``proxy.system.listMethods``); the proxy's
own state lives in name-mangled attributes, as the standard library's does, so that no
remote method name is ever shadowed. The only public attributes are the coroutine
:meth:`~AsyncServerProxy.aclose` and the async context manager protocol.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import warnings
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, cast

import aiohttp

from ._exceptions import Fault, TransportTimeout
from ._http import DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT, Transport
from ._http._dump import Secrets
from ._lenient import LenientParser
from ._retry import RetryPolicy, deadline_error
from ._schemes import build_transport, resolve, split_token
from .codec import DEFAULT_MAX_DEPTH, DEFAULT_MAX_RESPONSE_BYTES, Limits, ResponseParser
from .codec import encode_multicall as _encode_multicall
from .codec import encode_request as _encode_request
from .hooks import INSTALLED, REQUEST_HEADERS, CallInfo, Hook, emit
from .profiles import Profile, get_profile

__all__ = ["AsyncServerProxy", "encode_multicall", "profile_of", "send_encoded"]

logger = logging.getLogger("aioxmlrpc")

# A call's result is typed Any, as json.loads' is: its shape is the server's to decide,
# and a union would force a cast on every use. The codec's parsers return Value.
_Send = Callable[[str, tuple[Any, ...]], Coroutine[Any, Any, Any]]


class _Method:
    """A remote method name, callable; attribute access extends the dotted name."""

    __slots__ = ("__name", "__send")

    def __init__(self, send: _Send, name: str) -> None:
        self.__send = send
        self.__name = name

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # no remote "__aiter__" etc. for introspecting tools
        return _Method(self.__send, f"{self.__name}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        if kwargs:
            raise TypeError(
                f"{self.__name}() got keyword arguments {sorted(kwargs)}: "
                "XML-RPC passes parameters by position only"
            )
        return self.__send(self.__name, args)

    def __repr__(self) -> str:
        return f"<remote method {self.__name!r}>"


class AsyncServerProxy:
    """A connection to an XML-RPC server: ``await proxy.method(*args)``.

    Positional parameters are the standard library's, in its order; the rest are keyword
    only. A proxy may be created outside a running event loop: its aiohttp session is
    created on the first call, inside the loop. Close it with ``await proxy.aclose()`` or
    ``async with AsyncServerProxy(...) as proxy:``.

    Args:
        uri: ``http(s)://[user:password@]host[:port][/path]``; the path defaults to
            ``/RPC2``. Credentials become HTTP basic auth and are never shown. Also
            ``http+unix://%2Fpath%2Fto.sock/RPC2`` (HTTP on a unix socket, its path
            percent-encoded), ``scgi://host:port/`` and ``scgi+unix:///path/to.sock``
            (SCGI, as rTorrent speaks it: :class:`~aioxmlrpc.SCGITransport`).
        transport: Another :class:`~aioxmlrpc.Transport` (then the HTTP options below
            must be left at their defaults).
        encoding: The request document's encoding (default UTF-8).
        verbose: Print each exchange as the standard library does (credentials hidden).
        allow_none: Send ``None`` as ``<nil/>``.
        use_datetime: Return ``dateTime.iso8601`` values as ``datetime``.
        use_builtin_types: Return base64 as ``bytes`` and dates as ``datetime``.
        headers: Extra HTTP headers, as pairs or a mapping.
        context: An :class:`ssl.SSLContext` for https.
        session: An :class:`aiohttp.ClientSession` to use instead of our own; it is never
            closed by the proxy.
        timeout: Seconds for a whole call (default 30; connecting: at most 10 of them),
            an :class:`aiohttp.ClientTimeout`, or ``None`` for no limit.
        unix_socket: Reach the server through this unix socket path.
        proxy: An HTTP proxy URL.
        max_response_size: The largest reply body accepted, in bytes after decompression
            (default 100 MiB); ``None`` for no limit.
        max_depth: The deepest nesting of arrays and structs accepted (default 512).
        pool_size: Connections kept open to the server at most (default 100).
        user_agent: The ``User-Agent`` header (default ``aioxmlrpc/<version>``).
        allow_i8: Send integers beyond 32 bits (within 64) as ``<i8>``.
        gzip_threshold: Compress request bodies larger than this many bytes.
        secrets: Strings that verbose output and debug logs must never show, such as
            aria2's ``"token:..."`` parameter or an API key passed as an argument: each
            is replaced by ``***`` in request and reply heads and bodies (also
            XML-escaped and in base64), as the URL's password and its basic-auth token
            already are.
        profile: A server profile, by name (``"aria2"``, ``"supervisord"``...) or a
            :class:`~aioxmlrpc.profiles.Profile`: what that server needs beyond the
            standard (see [Profile][aioxmlrpc.Profile]). ``None``: the standard proxy.
        token: The profile's token (aria2's secret), sent as the profile says and never
            shown; or put it in the URL: ``http://token:SECRET@host:6800/rpc``.
        hooks: :class:`~aioxmlrpc.hooks.Hook` objects that see every call (request,
            retry, response, fault and error events), parameters redacted.
        retry: A :class:`~aioxmlrpc.RetryPolicy`: which failed calls to send again,
            and how long to wait, under one deadline (by default ``timeout``).

    Raises:
        OSError: ``"unsupported XML-RPC protocol"`` for a scheme other than http(s),
            http+unix, scgi and scgi+unix.
        ValueError: An unknown profile name.
    """

    def __init__(
        self,
        uri: str,
        transport: Transport | None = None,
        encoding: str | None = None,
        verbose: bool = False,
        allow_none: bool = False,
        use_datetime: bool = False,
        use_builtin_types: bool = False,
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        context: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float | aiohttp.ClientTimeout | None = DEFAULT_TIMEOUT,
        unix_socket: str | None = None,
        proxy: str | None = None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
        pool_size: int = DEFAULT_POOL_SIZE,
        user_agent: str | None = None,
        allow_i8: bool = False,
        gzip_threshold: int | None = None,
        secrets: Iterable[str] = (),
        hooks: Sequence[Hook] = (),
        retry: RetryPolicy | None = None,
        profile: str | Profile | None = None,
        token: str | None = None,
    ) -> None:
        """Check the URI and options; nothing is connected until the first call."""
        endpoint = resolve(uri)
        self.__display = endpoint.display
        self.__profile = get_profile(profile) if profile is not None else None
        self.__url, self.__token = split_token(self.__profile, endpoint.url, token)
        secrets = given_secrets = tuple(secrets)
        if self.__token is not None and self.__profile is not None:
            secrets += (self.__profile.token_param(self.__token), self.__token)
        self.__noticed = self.__skipped = False
        self.__hooks = tuple(hooks)
        self.__retry = retry
        self.__secrets = secrets
        self.__hide: Callable[[str], str] | None = None
        total = timeout.total if isinstance(timeout, aiohttp.ClientTimeout) else timeout
        self.__deadline = retry.deadline if retry is not None and retry.deadline else total
        if transport is None:
            transport = build_transport(
                endpoint,
                headers=headers,
                context=context,
                session=session,
                timeout=timeout,
                unix_socket=unix_socket,
                proxy=proxy,
                pool_size=pool_size,
                user_agent=user_agent,
                gzip_threshold=gzip_threshold,
                secrets=secrets,
            )
        elif (
            headers
            or context
            or session
            or unix_socket
            or proxy
            or user_agent
            or timeout != DEFAULT_TIMEOUT
            or pool_size != DEFAULT_POOL_SIZE
            or gzip_threshold is not None
            or given_secrets
        ):
            raise TypeError("pass HTTP options to the transport, not with transport=")
        self.__transport: Transport = transport
        self.__encoding = encoding
        self.__verbose = verbose
        self.__allow_none = allow_none or bool(self.__profile and self.__profile.allow_none)
        self.__allow_i8 = allow_i8 or bool(self.__profile and self.__profile.allow_i8)
        self.__use_datetime = use_datetime
        self.__use_builtin_types = use_builtin_types
        self.__limits = Limits(max_bytes=max_response_size, max_depth=max_depth)

    async def __request(self, method_name: str, params: tuple[Any, ...]) -> Any:
        profile = self.__profile
        if profile is not None:
            params = profile.params(method_name, params, self.__token)
        body = _encode_request(
            method_name,
            params,
            encoding=self.__encoding,
            allow_none=self.__allow_none,
            allow_i8=self.__allow_i8,
        )
        if profile is None and not (self.__hooks or INSTALLED or self.__retry is not None):
            # The plain call, one coroutine: the hot path of every proxy without extras.
            parser = self.__parser()
            return await self.__transport.request(self.__url, body, parser, verbose=self.__verbose)
        result = await self.__exchange(method_name, params, body, None)
        if profile is not None and not self.__noticed:
            notice = profile.notice(method_name, result)
            if notice:
                self.__noticed = True
                warnings.warn(notice, DeprecationWarning, stacklevel=2)
        return result

    async def __exchange(
        self, method: str, params: tuple[Any, ...], body: bytes, items: int | None
    ) -> Any:
        """Send ``body`` (observed, with hooks or retries); raise the profile's faults."""
        try:
            if self.__hooks or INSTALLED or self.__retry is not None:
                return await self.__observed(method, params, body, items)
            parser = self.__parser()
            return await self.__transport.request(self.__url, body, parser, verbose=self.__verbose)
        except Fault as fault:
            mapped = fault if self.__profile is None else self.__profile.fault(fault)
            if mapped is fault:
                raise
            raise mapped from None

    async def __observed(
        self, method: str, params: tuple[Any, ...], body: bytes, items: int | None
    ) -> Any:
        """Send ``body`` with the hooks told and the retry policy applied."""
        hooks, policy = self.__hooks + tuple(INSTALLED), self.__retry
        if self.__hide is None and (self.__secrets or "@" in self.__url):
            self.__hide = Secrets.of_url(self.__url, self.__secrets).hide_text
        call = CallInfo(method, self.__display, params, len(body), items=items, hide=self.__hide)
        breaker = policy.breaker if policy is not None else None
        total = self.__deadline if policy is not None else None
        end = None if total is None else call.started + total
        try:
            while True:
                if breaker is not None:
                    breaker.before(method, self.__display)
                emit(hooks, "on_request", call)
                parser = self.__parser()
                sending = self.__transport.request(self.__url, body, parser, verbose=self.__verbose)
                token = REQUEST_HEADERS.set(call.headers) if call.headers else None
                try:
                    if end is None:
                        result = await sending
                    else:
                        result = await _within(sending, end, self.__display, total or 0.0)
                except Fault as fault:
                    call.response_size = parser.bytes_received
                    if breaker is not None:
                        breaker.succeeded()  # an answer: the server is up
                    delay = policy.delay(fault, method, call.attempt) if policy else None
                    if delay is None:
                        emit(hooks, "on_fault", call, fault)
                        raise
                    error: BaseException = fault
                except Exception as exc:
                    call.response_size = parser.bytes_received or None
                    if breaker is not None:
                        breaker.failed()
                    delay = policy.delay(exc, method, call.attempt) if policy else None
                    if delay is None or (end is not None and time.monotonic() + delay > end):
                        emit(hooks, "on_error", call, exc)
                        raise
                    error = exc
                else:
                    call.response_size = parser.bytes_received
                    if breaker is not None:
                        breaker.succeeded()
                    emit(hooks, "on_response", call, result)
                    return result
                finally:
                    if token is not None:
                        REQUEST_HEADERS.reset(token)
                emit(hooks, "on_retry", call, error, delay)
                await asyncio.sleep(delay)
                call.attempt += 1
        except asyncio.CancelledError as exc:
            emit(hooks, "on_error", call, exc)
            raise
        finally:
            call.finished = time.monotonic()

    def __encode_multicall(self, calls: list[tuple[str, tuple[Any, ...]]]) -> bytes:
        profile = self.__profile
        if profile is not None:
            token = self.__token
            calls = [(name, profile.params(name, args, token)) for name, args in calls]
            if profile.multicall_method != "system.multicall":
                batch = [{"methodName": name, "params": list(args)} for name, args in calls]
                return _encode_request(
                    profile.multicall_method,
                    (batch,),
                    encoding=self.__encoding,
                    allow_none=self.__allow_none,
                    allow_i8=self.__allow_i8,
                )
        return _encode_multicall(
            calls,
            encoding=self.__encoding,
            allow_none=self.__allow_none,
            allow_i8=self.__allow_i8,
        )

    async def __send(self, body: bytes, items: int | None = None) -> Any:
        profile = self.__profile
        method = "system.multicall" if profile is None else profile.multicall_method
        return await self.__exchange(method, (), body, items)

    def __parser(self) -> ResponseParser:
        profile = self.__profile
        if profile is not None and profile.junk_before_xml:
            return LenientParser(
                profile.junk_before_xml,
                self.__skipped_junk,
                use_datetime=self.__use_datetime,
                use_builtin_types=self.__use_builtin_types,
                limits=self.__limits,
            )
        return ResponseParser(
            use_datetime=self.__use_datetime,
            use_builtin_types=self.__use_builtin_types,
            limits=self.__limits,
        )

    def __skipped_junk(self, junk: bytes) -> None:
        if self.__skipped:
            return
        self.__skipped = True  # once per proxy: a site that prints junk prints it every time
        assert self.__profile is not None  # noqa: S101 - only a profile skips junk
        logger.warning(
            "skipped %d bytes before the XML document in the reply from %s "
            "(profile %r allows %d): %r",
            len(junk),
            self.__display,
            self.__profile.name,
            self.__profile.junk_before_xml,
            junk[:80],
        )

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Method(self.__request, name)

    def __call__(self, attr: str) -> Any:
        """Reach the proxy's internals as the standard library does.

        ``proxy("close")`` returns the :meth:`aclose` coroutine function and
        ``proxy("transport")`` the transport.
        """
        if attr == "close":
            return self.aclose
        if attr == "transport":
            return self.__transport
        raise AttributeError(f"Attribute {attr!r} not found")

    async def aclose(self) -> None:
        """Close the transport and its connections; closing twice does nothing."""
        await self.__transport.aclose()

    async def __aenter__(self) -> AsyncServerProxy:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {self.__display}>"

    __str__ = __repr__


def encode_multicall(proxy: AsyncServerProxy, calls: list[tuple[str, tuple[Any, ...]]]) -> bytes:
    """Marshal ``system.multicall`` for ``(name, params)`` pairs with ``proxy``'s options.

    For :class:`~aioxmlrpc.MultiCall`, which marshals every request before sending any.
    (Module functions, so that no proxy attribute can shadow a remote method.)

    Raises:
        TypeError: A value cannot be marshalled.
        OverflowError: An integer XML-RPC cannot carry.
    """
    return cast(bytes, proxy._AsyncServerProxy__encode_multicall(calls))


def profile_of(proxy: AsyncServerProxy) -> Profile | None:
    """The profile ``proxy`` was created with, if any."""
    return cast("Profile | None", proxy._AsyncServerProxy__profile)


async def send_encoded(proxy: AsyncServerProxy, body: bytes, items: int | None = None) -> Any:
    """Send a request ``body`` made by :func:`encode_multicall`; return the parsed reply.

    ``items`` (the number of calls in it) is for the hooks.
    """
    return await proxy._AsyncServerProxy__send(body, items)


async def _within(sending: Coroutine[Any, Any, Any], end: float, where: str, total: float) -> Any:
    """Await ``sending`` until ``end`` (monotonic), then cancel it: the retry deadline."""
    remaining = end - time.monotonic()
    if remaining <= 0:
        sending.close()
        raise deadline_error(where, total)
    try:
        return await asyncio.wait_for(sending, remaining)
    except asyncio.TimeoutError as exc:
        if isinstance(exc, TransportTimeout):  # the transport's own, not the deadline
            raise
        raise deadline_error(where, total) from None
