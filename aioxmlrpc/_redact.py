"""Credentials out of URLs, for everything a person or a log can see.

Every URL that reaches ``repr``, an exception message, a log record or verbose output
goes through :func:`redact_url` first: ``http://user:secret@host/RPC2`` is shown as
``http://user:***@host/RPC2``. Only the password is hidden; the user name helps debugging
and is rarely the secret. Headers shown in verbose output and logs go through
:func:`redact_headers`: Authorization, cookies, and any header whose name says token,
secret, password or API key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

__all__ = ["REDACTED", "redact_headers", "redact_url"]

REDACTED = "***"
# Headers that carry credentials: the standard ones, and the usual custom names.
_SECRET_HEADER = re.compile(
    r"(proxy-)?authorization|(set-)?cookie|.*(token|secret|password|passwd|api[-_]?key).*",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """Return ``url`` with the password of its user information replaced by ``***``."""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED  # unparseable: show nothing rather than a secret
    if parts.password is None and "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> list[tuple[str, str]]:
    """Return (name, value) pairs with credentials (Authorization, cookies) hidden."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    shown: list[tuple[str, str]] = []
    for name, value in items:
        name, value = str(name), str(value)
        if _SECRET_HEADER.fullmatch(name):
            # Keep the scheme of an Authorization value ("Basic ***"); nothing else.
            scheme, space, _ = value.partition(" ")
            keep = space and "authorization" in name.lower() and "=" not in scheme
            value = f"{scheme} {REDACTED}" if keep else REDACTED
        shown.append((name, value))
    return shown
