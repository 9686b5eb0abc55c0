"""Compatibility with the httpx-based ``aioxmlrpc`` 0.x: ``from aioxmlrpc.client import ...``.

Code written for the old package keeps working unchanged::

    from aioxmlrpc.client import ServerProxy, Fault, ProtocolError

    proxy = ServerProxy("https://example.com/RPC2")
    await proxy.version.info()

:class:`ServerProxy` accepts the old signature (``encoding`` second, ``auth``, a
5-second default timeout). Two things differ, by design: ``session`` must be an
:class:`aiohttp.ClientSession` (an httpx client raises ``TypeError``), and failures are
typed (:class:`~aioxmlrpc.TransportError` for the network, which is an ``OSError``)
instead of all becoming ``ProtocolError``. See the migration guide in the docs.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Mapping
from typing import Any

import aiohttp

from ._exceptions import Fault, ProtocolError
from ._proxy import AsyncServerProxy

__all__ = ["Fault", "ProtocolError", "ServerProxy"]


class ServerProxy(AsyncServerProxy):
    """:class:`~aioxmlrpc.AsyncServerProxy` with the 0.x constructor.

    Args:
        uri: The server URL.
        encoding: The request encoding.
        verbose: Print each exchange.
        allow_none: Send ``None`` as ``<nil/>``.
        use_datetime: Return dates as ``datetime``.
        use_builtin_types: Return base64 as ``bytes`` and dates as ``datetime``.
        auth: ``(user, password)`` or an :class:`aiohttp.BasicAuth`, for basic auth.
        headers: Extra HTTP headers.
        context: An :class:`ssl.SSLContext`, a CA bundle path, ``True`` (verify, the
            default) or ``False`` (skip TLS verification), as httpx's ``verify`` took.
        timeout: Seconds per call (default 5, as in 0.x).
        session: An :class:`aiohttp.ClientSession` to use; it is never closed for you.
        **options: Any further :class:`~aioxmlrpc.AsyncServerProxy` keyword option.
    """

    def __init__(
        self,
        uri: str,
        encoding: str | None = None,
        verbose: bool = False,
        allow_none: bool = False,
        use_datetime: bool = False,
        use_builtin_types: bool = False,
        auth: tuple[str, str] | aiohttp.BasicAuth | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        context: ssl.SSLContext | bool | str | None = None,
        timeout: float | None = 5.0,
        session: Any = None,
        **options: Any,
    ) -> None:
        """Translate the 0.x options to :class:`~aioxmlrpc.AsyncServerProxy`'s."""
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError(
                "aioxmlrpc 1.x runs on aiohttp: pass an aiohttp.ClientSession as session= "
                f"(got {type(session).__module__}.{type(session).__name__})"
            )
        extra = dict(headers or {})
        if isinstance(auth, aiohttp.BasicAuth):  # a named tuple itself: test it first
            extra["Authorization"] = auth.encode()
        elif auth is not None:
            user, password = auth
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            extra["Authorization"] = f"Basic {token}"
        if context is False:  # httpx's verify=False
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif isinstance(context, str):  # httpx's verify="/path/to/ca.pem"
            context = ssl.create_default_context(cafile=context)
        super().__init__(
            uri,
            None,
            encoding,
            verbose,
            allow_none,
            use_datetime,
            use_builtin_types,
            headers=extra,
            context=context if isinstance(context, ssl.SSLContext) else None,
            session=session,
            timeout=timeout,
            **options,
        )
