"""Server profiles: what one XML-RPC server needs beyond the standard, bundled under a name.

``AsyncServerProxy(url, profile="aria2")`` (or a :class:`Profile` object) applies one. A
profile changes only what it names; a proxy without one is the standard proxy. What a
profile can say, and when it applies:

- **parameter injection** (``token_format``, ``token_user``, ``token_skip``): a token,
  from ``token=`` or from the URL's password when the URL's user name is ``token_user``
  (``http://token:SECRET@host/rpc``), is written as ``token_format`` and sent as the first
  parameter of every call, and of every call inside a multicall, except methods whose
  name starts with one of ``token_skip``. The token is registered as a secret: verbose
  output and debug logs show ``***``;
- **multicall** (``multicall_method``, ``multicall_results``): the method a
  :class:`~aioxmlrpc.MultiCall` sends, and the shape of its results: ``"lists"`` (the
  standard: ``[value]`` or a fault struct), ``"bare"`` (the value itself, supervisord and
  RPC::XML) or ``"all-lists"`` (faults wrapped in a list too, PHP's xmlrpc-epi);
- **extensions** (``allow_none``, ``allow_i8``): turned on for sending; an extension the
  proxy's own option turns on stays on;
- **fault classes** (``faults``): a fault whose code is listed is raised as that class, a
  :class:`~aioxmlrpc.Fault` subclass (so ``except Fault`` still catches it), from plain
  calls and from multicall results alike;
- **leniency** (``junk_before_xml``): at most that many bytes before ``<?xml`` or
  ``<methodResponse`` are skipped (WordPress plugins print there); the first skip is
  logged once per proxy, at WARNING, on the ``aioxmlrpc`` logger. More junk than that is
  refused as by the standard proxy;
- **hints** (:meth:`Profile.notice`): a reply the server's maintainers have flagged
  (Odoo 19's deprecated XML-RPC) becomes one warning per proxy.

Write your own by creating a :class:`Profile`, or by subclassing it to override
:meth:`Profile.params`, :meth:`Profile.fault` or :meth:`Profile.notice`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ._exceptions import Fault

__all__ = [
    "ARIA2",
    "KOJI",
    "ODOO",
    "PERL_RPC_XML",
    "PHP_XMLRPC_EPI",
    "PROFILES",
    "RTORRENT",
    "SUPERVISORD",
    "WORDPRESS",
    "KojiActionNotAllowed",
    "KojiAuthError",
    "KojiAuthExpired",
    "KojiBuildError",
    "KojiError",
    "KojiLockError",
    "KojiParameterError",
    "KojiServerOffline",
    "KojiTagError",
    "Profile",
    "get_profile",
]

MulticallResults = Literal["lists", "bare", "all-lists"]
_RESULT_SHAPES = ("lists", "bare", "all-lists")


@dataclass(frozen=True)
class Profile:
    """What one server needs beyond standard XML-RPC; every field defaults to "standard".

    Attributes:
        name: What ``profile=`` and ``--profile`` call it.
        description: One line for ``aioxmlrpc profiles`` and the docs.
        token_format: How the token is sent as the first parameter (``"token:{token}"``);
            ``None``: this profile takes no token.
        token_user: The URL user name that marks the URL's password as the token instead
            of HTTP basic auth credentials (``"token"``).
        token_skip: Method-name prefixes that never get the token (``("system.",)``).
        multicall_method: The method :class:`~aioxmlrpc.MultiCall` sends.
        multicall_results: ``"lists"``, ``"bare"`` or ``"all-lists"`` (see the module).
        allow_none: Send ``None`` as ``<nil/>``.
        allow_i8: Send integers beyond 32 bits as ``<i8>``.
        faults: Fault code to :class:`~aioxmlrpc.Fault` subclass, raised instead.
        junk_before_xml: Bytes skipped at most before the document starts.
    """

    name: str
    description: str = ""
    token_format: str | None = None
    token_user: str | None = None
    token_skip: tuple[str, ...] = ()
    multicall_method: str = "system.multicall"
    multicall_results: MulticallResults = "lists"
    allow_none: bool = False
    allow_i8: bool = False
    faults: Mapping[int, type[Fault]] = field(default_factory=dict)
    junk_before_xml: int = 0

    def __post_init__(self) -> None:
        """Refuse a profile that cannot work; freeze the fault table."""
        if not self.name:
            raise ValueError("a profile needs a name")
        if self.token_format is not None and "{token}" not in self.token_format:
            raise ValueError(f"token_format must contain '{{token}}', not {self.token_format!r}")
        if self.token_user is not None and self.token_format is None:
            raise ValueError("token_user needs a token_format")
        if self.multicall_results not in _RESULT_SHAPES:
            raise ValueError(
                f"multicall_results must be one of {_RESULT_SHAPES}, not {self.multicall_results!r}"
            )
        if not self.multicall_method:
            raise ValueError("multicall_method must be a method name")
        if self.junk_before_xml < 0:
            raise ValueError(f"junk_before_xml must be 0 or more, not {self.junk_before_xml!r}")
        for code, cls in self.faults.items():
            if not (isinstance(cls, type) and issubclass(cls, Fault)):
                raise TypeError(
                    f"faults[{code!r}] must be a Fault subclass (so that 'except Fault' "
                    f"still catches it), not {cls!r}"
                )
        object.__setattr__(self, "token_skip", tuple(self.token_skip))
        object.__setattr__(self, "faults", MappingProxyType(dict(self.faults)))

    def token_param(self, token: str) -> str:
        """Return the first parameter that carries ``token``."""
        if self.token_format is None:
            raise TypeError(f"profile {self.name!r} takes no token")
        return self.token_format.replace("{token}", token)

    def params(self, method: str, params: tuple[Any, ...], token: str | None) -> tuple[Any, ...]:
        """Return the parameters sent for ``method``: ``params`` with the token first.

        Called for every call and every call inside a multicall. Override it to inject
        something else.
        """
        if token is None or self.token_format is None or method.startswith(self.token_skip):
            return params
        return (self.token_param(token), *params)

    def fault(self, fault: Fault) -> Fault:
        """Return the exception to raise for ``fault``: its class from :attr:`faults`."""
        cls = self.faults.get(fault.faultCode) if isinstance(fault.faultCode, int) else None
        if cls is None or type(fault) is cls:
            return fault
        return cls(fault.faultCode, fault.faultString)

    def notice(self, method: str, result: Any) -> str | None:
        """Return a warning about this reply, if it calls for one (default: never).

        The proxy warns with the first notice, once, as a ``DeprecationWarning``.
        """
        return None

    def multicall_values(self, results: list[Any]) -> list[Any]:
        """Return multicall results in the standard shape (or bare, for ``"bare"``)."""
        if self.multicall_results != "all-lists":
            return results
        return [
            item[0] if type(item) is list and len(item) == 1 and _is_fault(item[0]) else item
            for item in results
        ]


def _is_fault(value: Any) -> bool:
    return type(value) is dict and "faultCode" in value and "faultString" in value


# -- koji --------------------------------------------------------------------------------------


class KojiError(Fault):
    """koji's ``GenericError`` (fault code 1000), and the base of the other koji faults."""


class KojiLockError(KojiError):
    """koji's ``LockError`` (1001): a lock conflict."""


class KojiAuthError(KojiError):
    """koji's ``AuthError`` (1002): authentication failed."""


class KojiTagError(KojiError):
    """koji's ``TagError`` (1003): a tagging operation failed."""


class KojiActionNotAllowed(KojiError):
    """koji's ``ActionNotAllowed`` (1004): the session may not do this."""


class KojiBuildError(KojiError):
    """koji's ``BuildError`` (1005): a build failed."""


class KojiAuthExpired(KojiAuthError):
    """koji's ``AuthExpired`` (1007): the session has expired."""


class KojiServerOffline(KojiError):
    """koji's ``ServerOffline`` (1014): the hub is offline."""


class KojiParameterError(KojiError):
    """koji's ``ParameterError`` (1019): a wrong parameter."""


# -- Odoo --------------------------------------------------------------------------------------

_ODOO_NOTICE = (
    "this Odoo server (version {version}) deprecates its XML-RPC endpoints (/xmlrpc, "
    "/xmlrpc/2) and has scheduled their removal; plan a move to its JSON-2 API "
    "(https://www.odoo.com/documentation/19.0/developer/reference/external_api.html)"
)


@dataclass(frozen=True)
class _OdooProfile(Profile):
    """a DeprecationWarning when ``version()`` says 19 or later."""

    def notice(self, method: str, result: Any) -> str | None:
        """Warn when ``common.version()`` reports Odoo 19 or later."""
        if method != "version" or not isinstance(result, dict):
            return None
        info = result.get("server_version_info")
        major = info[0] if isinstance(info, list) and info else result.get("server_version")
        found = re.search(r"\d+", str(major))
        if found is None or int(found.group()) < 19:
            return None
        return _ODOO_NOTICE.format(version=result.get("server_version", major))


# -- the shipped profiles ------------------------------------------------------------------------

SUPERVISORD = Profile(
    "supervisord",
    "system.multicall returns bare results",
    multicall_results="bare",
)
ARIA2 = Profile(
    "aria2",
    "'token:SECRET' first in every aria2.* call, from token= or http://token:SECRET@",
    token_format="token:{token}",  # noqa: S106 - a format, not a password
    token_user="token",  # noqa: S106 - a user name
    token_skip=("system.",),
)
RTORRENT = Profile(
    "rtorrent",
    "64-bit integers sent as <i8>",
    allow_i8=True,
)
PHP_XMLRPC_EPI = Profile(
    "php-xmlrpc-epi",
    "system.multiCall, faults wrapped in lists",
    multicall_method="system.multiCall",
    multicall_results="all-lists",
)
PERL_RPC_XML = Profile(
    "perl-rpc-xml",
    "bare multicall results, <i8> sent",
    multicall_results="bare",
    allow_i8=True,
)
WORDPRESS = Profile(
    "wordpress",
    "up to 4 KiB of junk before <?xml skipped (and logged once)",
    junk_before_xml=4096,
)
ODOO = _OdooProfile(
    "odoo",
    "a DeprecationWarning when version() reports Odoo 19 or later",
)
KOJI = Profile(
    "koji",
    "multiCall, <nil/> and <i8> sent, koji's fault codes as exception classes",
    multicall_method="multiCall",
    allow_none=True,
    allow_i8=True,
    faults={
        1000: KojiError,
        1001: KojiLockError,
        1002: KojiAuthError,
        1003: KojiTagError,
        1004: KojiActionNotAllowed,
        1005: KojiBuildError,
        1007: KojiAuthExpired,
        1014: KojiServerOffline,
        1019: KojiParameterError,
    },
)

#: Every shipped profile, by name.
PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        profile.name: profile
        for profile in (
            SUPERVISORD,
            ARIA2,
            RTORRENT,
            PHP_XMLRPC_EPI,
            PERL_RPC_XML,
            WORDPRESS,
            ODOO,
            KOJI,
        )
    }
)


def get_profile(profile: str | Profile) -> Profile:
    """Return the shipped profile named ``profile``, or ``profile`` itself.

    Raises:
        ValueError: No profile has that name (the message lists them).
        TypeError: ``profile`` is neither a name nor a :class:`Profile`.
    """
    if isinstance(profile, Profile):
        return profile
    if not isinstance(profile, str):
        raise TypeError(f"profile must be a name or a Profile, not {profile!r}")
    found = PROFILES.get(profile)
    if found is None:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(sorted(PROFILES))}")
    return found
