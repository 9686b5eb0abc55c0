"""Which transport a URL asks for: the scheme decides, as in the standard library.

=================================  ==========================================================
``http://``, ``https://``          :class:`~aioxmlrpc.HTTPTransport` (path default ``/RPC2``)
``http+unix://%2Fpath%2Fto.sock/``  :class:`~aioxmlrpc.HTTPTransport` on that unix socket; the
                                   socket path is the host, percent-encoded (as in
                                   requests-unixsocket); the URL path defaults to ``/RPC2``
``scgi://host:port/``              :class:`~aioxmlrpc.SCGITransport` over TCP
``scgi+unix:///path/to.sock``      :class:`~aioxmlrpc.SCGITransport` on that unix socket
anything else                      ``OSError("unsupported XML-RPC protocol")``, as the stdlib
=================================  ==========================================================
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp

from ._http import HTTPTransport, Transport, parse_uri
from ._redact import redact_url
from ._scgi import SCGITransport, scgi_address
from .profiles import Profile

__all__ = ["Endpoint", "build_transport", "resolve", "split_token"]


@dataclass(frozen=True)
class Endpoint:
    """A parsed server URL: what the transport is given, and what to show."""

    url: str  # what the transport's request() receives
    display: str  # the URL as given, password hidden
    kind: str  # "http" or "scgi"
    unix_socket: str | None = None  # http+unix: the socket's path


def resolve(uri: str) -> Endpoint:
    """Parse ``uri`` and say which transport serves it.

    Raises:
        OSError: ``"unsupported XML-RPC protocol"`` for an unknown scheme, or a URL
            without the host, port or path its scheme needs.
    """
    scheme = urlsplit(uri).scheme
    if scheme in ("scgi", "scgi+unix"):
        scgi_address(uri)  # refuses a URL without what it needs, before any call
        return Endpoint(uri, redact_url(uri), "scgi")
    if scheme == "http+unix":
        parts = urlsplit(uri)
        userinfo, at, host = parts.netloc.rpartition("@")
        if not host:
            raise OSError(f"no socket path in XML-RPC URI {redact_url(uri)!r}")
        netloc = f"{userinfo}@localhost" if at else "localhost"
        path = parts.path or "/RPC2"
        url = urlunsplit(("http", netloc, path, parts.query, ""))
        shown = urlunsplit((scheme, parts.netloc, path, parts.query, ""))
        return Endpoint(url, redact_url(shown), "http", unquote(host))
    url, display = parse_uri(uri)
    return Endpoint(url, display, "http")


def build_transport(
    endpoint: Endpoint,
    *,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    context: ssl.SSLContext | None,
    session: aiohttp.ClientSession | None,
    timeout: float | aiohttp.ClientTimeout | None,
    unix_socket: str | None,
    proxy: str | None,
    pool_size: int,
    user_agent: str | None,
    gzip_threshold: int | None,
    secrets: tuple[str, ...],
) -> Transport:
    """Make the transport ``endpoint`` asks for, with the proxy's options.

    Raises:
        TypeError: An option the scheme's transport does not have (HTTP options for
            SCGI, ``unix_socket=`` with an ``http+unix://`` URL).
    """
    if endpoint.kind == "scgi":
        http_only = {
            "headers": bool(headers),
            "context": context is not None,
            "session": session is not None,
            "unix_socket": unix_socket is not None,
            "proxy": proxy is not None,
            "user_agent": user_agent is not None,
            "gzip_threshold": gzip_threshold is not None,
            "timeout=ClientTimeout": isinstance(timeout, aiohttp.ClientTimeout),
        }
        given = [name for name, present in http_only.items() if present]
        if given:
            raise TypeError(f"{', '.join(given)}: HTTP options, not for an SCGI URL")
        assert not isinstance(timeout, aiohttp.ClientTimeout)  # noqa: S101 - refused above
        return SCGITransport(timeout=timeout, pool_size=pool_size, secrets=secrets)
    if endpoint.unix_socket is not None:
        if unix_socket is not None:
            raise TypeError("an http+unix:// URL names its socket: leave unix_socket= out")
        unix_socket = endpoint.unix_socket
    return HTTPTransport(
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


def split_token(profile: Profile | None, url: str, token: str | None) -> tuple[str, str | None]:
    """Take a profile's token out of ``url`` (``http://token:SECRET@host/``).

    Returns:
        The URL without it, and the token (from the URL or from ``token``).

    Raises:
        TypeError: A token for a profile that takes none, or given twice.
    """
    if profile is None or profile.token_format is None:
        if token is not None:
            name = "no profile" if profile is None else f"profile {profile.name!r}"
            raise TypeError(f"token= given, but {name} takes a token (try profile='aria2')")
        return url, None
    parts = urlsplit(url)
    if profile.token_user is None or "@" not in parts.netloc:
        return url, token
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if unquote(user) != profile.token_user or not colon:
        return url, token
    if token is not None:
        raise TypeError("the token is given twice: in the URL and as token=")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, "")), unquote(password)
