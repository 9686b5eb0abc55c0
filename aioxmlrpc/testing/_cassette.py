"""Cassettes: a session recorded at the RPC level, replayed offline.

The rules (the file format is in ``docs/guide/testing.md`` and in :mod:`._values`):

- Recording wraps a real transport: each request body is parsed with the codec's
  ``parse_request``, sent, and its parsed outcome kept: the result, the
  `Fault`, or a `ProtocolError` (an HTTP status
  other than 200), with the call's duration. A call that fails otherwise (refused,
  timed out) is not kept. Interactions are kept in the order the requests were *sent*,
  so concurrent calls replay in the order the code makes them.
- A ``system.multicall`` is one interaction, its list of calls as the one parameter.
- Secrets are redacted before anything is kept: the URL's password (as written and
  decoded), the cassette's ``secrets=``, and a patched proxy's own ``secrets=``. In
  every string (params, result, fault string, struct keys) each occurrence becomes
  ``***``: a parameter equal to a secret is ``"***"``. The URL is kept with its password
  as ``***``. Replay redacts the live parameters the same way before matching, so a
  test replays with any token.
- Replay matches on the method and the (redacted) parameters, compared by type and
  value (``True`` is not ``1``); ``match_on`` may add the URL or drop the parameters.
  ``ordered=True`` (the default) wants each call to match the next interaction not yet
  played; ``ordered=False`` takes the first unplayed interaction that matches. Each
  interaction plays once. A call that matches none raises
  [NoMatchingInteraction][aioxmlrpc.testing.NoMatchingInteraction].
- A replayed outcome goes through the codec as the server's reply would: a response
  body is written from it and fed to the proxy's own parser, so ``use_datetime``,
  ``use_builtin_types`` and the size limits apply. (A value our writer cannot write, a
  ``Decimal`` or an integer beyond 64 bits, is returned as recorded.)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import enum
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from .._exceptions import Fault, ProtocolError
from .._http import HTTPTransport, Transport
from .._proxy import AsyncServerProxy
from .._redact import redact_headers, redact_url
from .._types import DateTime, Value
from .._version import __version__
from ..codec import Limits, ResponseParser, encode_fault, encode_response, parse_request
from ._errors import CassetteFormatError, CassetteNotFound, NoMatchingInteraction
from ._values import JSON, canonical, from_json, redact, to_json

__all__ = ["CASSETTE_VERSION", "Cassette", "CassetteTransport", "Interaction", "RecordMode"]

#: The version of the cassette format this release writes (and the newest it reads).
CASSETTE_VERSION = 1

_MATCHERS = frozenset({"method", "params", "url"})
# Our own request bodies: parsed without a size limit.
_UNLIMITED = Limits(max_bytes=None)
# Interactions shown in a mismatch error, at most.
_SHOWN = 10


class RecordMode(enum.Enum):
    """What a cassette does with the real server.

    Attributes:
        REPLAY: Never reach the server: every call must be in the cassette file, which
            must exist (vcrpy's ``none``).
        RECORD: Always reach the server, and write the cassette anew (vcrpy's ``all``).
        ONCE: Replay if the cassette file exists, otherwise record it (vcrpy's ``once``).
    """

    REPLAY = "replay"
    RECORD = "record"
    ONCE = "once"


@dataclass(frozen=True)
class Interaction:
    """One recorded call: what was asked, what came back, and how long it took.

    Exactly one of ``result`` (the default), ``fault`` and ``error`` is the outcome.

    Attributes:
        method: The method name.
        params: The parameters, secrets redacted.
        result: The result, secrets redacted.
        fault: The fault the server answered, its string redacted.
        error: The HTTP error (a status other than 200).
        duration: Seconds from sending the request to the parsed reply.
        url: The URL called, its password redacted.
    """

    method: str
    params: tuple[Value, ...] = ()
    result: Value = None
    fault: Fault | None = None
    error: ProtocolError | None = None
    duration: float = 0.0
    url: str | None = None

    def to_json(self) -> dict[str, JSON]:
        """Return the interaction as the cassette file holds it."""
        data: dict[str, JSON] = {"method": self.method, "params": to_json(list(self.params))}
        if self.fault is not None:
            data["fault"] = {
                "faultCode": to_json(self.fault.faultCode),
                "faultString": to_json(self.fault.faultString),
            }
        elif self.error is not None:
            data["error"] = {
                "type": "ProtocolError",
                "status": self.error.errcode,
                "reason": self.error.errmsg,
                "headers": dict(redact_headers(dict(self.error.headers or {}))),
            }
        else:
            data["result"] = to_json(self.result)
        data["duration"] = round(self.duration, 6)
        if self.url is not None:
            data["url"] = self.url
        return data

    @classmethod
    def from_json(cls, data: JSON) -> Interaction:
        """Read one interaction of a cassette file.

        Raises:
            CassetteFormatError: It is not one.
        """
        if not isinstance(data, dict):
            raise CassetteFormatError(f"an interaction is an object, not {data!r:.60}")
        method = data.get("method")
        params = data.get("params", [])
        if not isinstance(method, str) or not isinstance(params, list):
            raise CassetteFormatError(
                f"an interaction needs a method string and a params array: {data!r:.80}"
            )
        outcomes = [key for key in ("result", "fault", "error") if key in data]
        if len(outcomes) != 1:
            raise CassetteFormatError(
                f"interaction {method!r} needs one of result, fault and error, "
                f"not {outcomes or 'none'}"
            )
        duration = data.get("duration", 0.0)
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise CassetteFormatError(f"interaction {method!r}: duration {duration!r}")
        if not (math.isfinite(duration) and duration >= 0):
            raise CassetteFormatError(f"interaction {method!r}: duration {duration!r}")
        url = data.get("url")
        if url is not None and not isinstance(url, str):
            raise CassetteFormatError(f"interaction {method!r}: url {url!r}")
        fault = error = None
        result: Value = None
        if "fault" in data:
            fault = _read_fault(method, data["fault"])
        elif "error" in data:
            error = _read_error(method, data["error"], url)
        else:
            result = from_json(data["result"])
        value = from_json(params)
        assert isinstance(value, list)  # noqa: S101 - an array reads as a list
        return cls(method, tuple(value), result, fault, error, float(duration), url)

    def describe(self) -> str:
        """A one-line summary: ``method(params) -> outcome``."""
        if self.fault is not None:
            outcome = f"Fault {self.fault.faultCode}"
        elif self.error is not None:
            outcome = f"HTTP {self.error.errcode}"
        else:
            outcome = _short(self.result)
        return f"{_call_text(self.method, self.params)} -> {outcome}"


def _read_fault(method: str, data: JSON) -> Fault:
    if not isinstance(data, dict) or set(data) != {"faultCode", "faultString"}:
        raise CassetteFormatError(f"interaction {method!r}: a fault is {{faultCode, faultString}}")
    # Fault's stubs say int and str; a server may send other types, kept as they came.
    code: Any = from_json(data["faultCode"])
    text: Any = from_json(data["faultString"])
    return Fault(code, text)


def _read_error(method: str, data: JSON, url: str | None) -> ProtocolError:
    if not isinstance(data, dict) or data.get("type") != "ProtocolError":
        raise CassetteFormatError(f"interaction {method!r}: unknown error {data!r:.60}")
    status, reason = data.get("status"), data.get("reason", "")
    headers = data.get("headers", {})
    if not isinstance(status, int) or not isinstance(reason, str) or not isinstance(headers, dict):
        raise CassetteFormatError(f"interaction {method!r}: invalid error {data!r:.60}")
    return ProtocolError(url or "", status, reason, headers)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _call_text(method: str, params: Iterable[object]) -> str:
    text = ", ".join(repr(param) for param in params)
    if len(text) > 100:
        text = text[:97] + "..."
    return f"{method}({text})"


def _url_secrets(url: str) -> list[str]:
    """The password of ``url``, as written and percent-decoded."""
    netloc = urlsplit(url).netloc
    userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
    if ":" not in userinfo:
        return []
    password = userinfo.partition(":")[2]
    return [password, unquote(password)]


def _read(path: Path) -> list[Interaction]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CassetteNotFound(
            f"cassette {str(path)!r} does not exist: record it first (mode 'once' or "
            "'record'; with pytest: --xmlrpc-record-mode=once)"
        ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CassetteFormatError(f"cassette {str(path)!r} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or "version" not in data:
        raise CassetteFormatError(f"cassette {str(path)!r} has no version: not a cassette")
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CassetteFormatError(f"cassette {str(path)!r}: invalid version {version!r}")
    if version > CASSETTE_VERSION:
        raise CassetteFormatError(
            f"cassette {str(path)!r} is format version {version}, newer than this "
            f"aioxmlrpc reads ({CASSETTE_VERSION}): upgrade aioxmlrpc"
        )
    interactions = data.get("interactions")
    if not isinstance(interactions, list):
        raise CassetteFormatError(f"cassette {str(path)!r}: interactions is not an array")
    try:
        return [Interaction.from_json(item) for item in interactions]
    except CassetteFormatError as exc:
        raise CassetteFormatError(f"cassette {str(path)!r}: {exc}") from None


class Cassette:
    """A recorded XML-RPC session: record it from a real server, replay it offline.

    ::

        with Cassette("tests/cassettes/status.json", secrets=[token]) as cassette:
            async with AsyncServerProxy(url) as proxy:   # every proxy made inside
                await code_under_test(proxy)

    Inside ``with``, every [AsyncServerProxy][aioxmlrpc.AsyncServerProxy] created without
    ``transport=`` goes through the cassette (see :meth:`patch`); give others
    :meth:`transport`. Leaving the block writes the file when recording, unless an
    exception ended it.

    Args:
        path: The cassette file (JSON).
        mode: A [RecordMode][aioxmlrpc.testing.RecordMode] or its value
            (``"replay"``, ``"record"``, ``"once"``).
        ordered: Replay calls in the recorded order (the default), or in any order.
        match_on: What must be equal for a call to match an interaction: ``"method"``,
            ``"params"``, ``"url"`` (the URL with its password redacted).
        secrets: Strings never written to the file (and redacted from live parameters
            before matching).
        realtime: Replay each interaction after its recorded duration.

    Raises:
        CassetteNotFound: Replay of a file that does not exist.
        CassetteFormatError: A file that is not a cassette this version reads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: RecordMode | str = RecordMode.ONCE,
        ordered: bool = True,
        match_on: Iterable[str] = ("method", "params"),
        secrets: Iterable[str] = (),
        realtime: bool = False,
    ) -> None:
        """Open the cassette: read it to replay, or start an empty recording."""
        self.path = Path(path)
        self.mode = RecordMode(mode)
        self.match_on = frozenset(match_on)
        if not self.match_on or not self.match_on <= _MATCHERS:
            raise ValueError(f"match_on takes some of {sorted(_MATCHERS)}, not {sorted(match_on)}")
        self.ordered = ordered
        self.secrets = tuple(secret for secret in secrets if secret)
        self.realtime = realtime
        #: Whether calls go to the real server (``RECORD``, or ``ONCE`` without a file).
        self.recording = self.mode is RecordMode.RECORD or (
            self.mode is RecordMode.ONCE and not self.path.exists()
        )
        self._slots: list[Interaction | None] = []
        self._recorded: list[Interaction] = [] if self.recording else _read(self.path)
        self._played = [False] * len(self._recorded)
        self._keys = [self._key(item.method, item.params, item.url) for item in self._recorded]
        self._cursor = 0
        #: The mismatches raised so far (the pytest plugin fails a test that had any).
        self.errors: list[NoMatchingInteraction] = []

    # -- what it holds -------------------------------------------------------------------

    @property
    def interactions(self) -> list[Interaction]:
        """The interactions: recorded so far, or read from the file to replay."""
        if self.recording:
            return [item for item in self._slots if item is not None]
        return list(self._recorded)

    @property
    def play_count(self) -> int:
        """How many interactions were replayed."""
        return sum(self._played)

    @property
    def unplayed(self) -> list[Interaction]:
        """The interactions not replayed (yet)."""
        if self.recording:
            return []
        return [item for item, done in zip(self._recorded, self._played, strict=True) if not done]

    def assert_all_played(self) -> None:
        """Raise ``AssertionError`` naming the interactions that were not replayed."""
        left = self.unplayed
        if left:
            shown = "\n".join(f"  {item.describe()}" for item in left[:_SHOWN])
            raise AssertionError(
                f"{len(left)} interactions of cassette {str(self.path)!r} were not played:\n"
                + shown
            )

    # -- use -----------------------------------------------------------------------------

    def transport(
        self, inner: Transport | None = None, *, secrets: Iterable[str] = ()
    ) -> CassetteTransport:
        """Return a transport that records through ``inner``, or replays.

        Args:
            inner: The real transport (default: a new
                [HTTPTransport][aioxmlrpc.HTTPTransport]); never used in replay.
            secrets: More strings to redact for this transport's calls.
        """
        if inner is None:
            inner = HTTPTransport()
        return CassetteTransport(self, inner, secrets=secrets)

    def proxy(self, uri: str, **options: Any) -> AsyncServerProxy:
        """Return an [AsyncServerProxy][aioxmlrpc.AsyncServerProxy] through this cassette.

        ``options`` are the proxy's, transport options (``unix_socket``, ``secrets``...)
        included: those configure the real transport, made as the URL says.
        """
        with self.patch():
            return AsyncServerProxy(uri, **options)

    @contextlib.contextmanager
    def patch(self) -> Iterator[Cassette]:
        """Make every proxy created without ``transport=`` use this cassette, while active.

        The proxy's HTTP options still configure its real transport, and its
        ``secrets=`` are redacted from the cassette too.
        """
        from .. import _proxy

        original = _proxy.build_transport  # type: ignore[attr-defined]

        def factory(*args: Any, **options: Any) -> CassetteTransport:
            inner = original(*args, **options)  # HTTP or SCGI, as the URL says
            return self.transport(inner, secrets=options.get("secrets", ()))

        setattr(_proxy, "build_transport", factory)  # noqa: B010 - mypy: a function is replaced
        try:
            yield self
        finally:
            setattr(_proxy, "build_transport", original)  # noqa: B010

    def save(self) -> None:
        """Write the recorded interactions to the file (atomically); replay writes nothing."""
        if not self.recording:
            return
        document = {
            "version": CASSETTE_VERSION,
            "recorded_with": f"aioxmlrpc {__version__}",
            "interactions": [item.to_json() for item in self.interactions],
        }
        text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def __enter__(self) -> Cassette:
        self._patch = self.patch()
        self._patch.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._patch.__exit__(exc_type, exc, traceback)
        if exc_type is None:  # a session that failed is not worth replaying
            self.save()

    def __repr__(self) -> str:
        what = "recording" if self.recording else f"replaying {len(self._recorded)} interactions"
        return f"<Cassette {str(self.path)!r}, {what}>"

    # -- recording -----------------------------------------------------------------------

    def _reserve(self) -> int:
        self._slots.append(None)
        return len(self._slots) - 1

    def _keep(self, index: int, interaction: Interaction, secrets: list[str]) -> None:
        fault = interaction.fault
        if fault is not None:
            text: Any = redact(fault.faultString, secrets)
            fault = Fault(fault.faultCode, text)
        error = interaction.error
        if error is not None:
            error = ProtocolError(
                redact_url(error.url),
                error.errcode,
                str(redact(error.errmsg, secrets)),
                dict(redact_headers(dict(error.headers or {}))),
            )
        params = redact(list(interaction.params), secrets)
        assert isinstance(params, list)  # noqa: S101 - a list stays a list
        self._slots[index] = Interaction(
            interaction.method,
            tuple(params),
            redact(interaction.result, secrets),
            fault,
            error,
            interaction.duration,
            None if interaction.url is None else redact_url(interaction.url),
        )

    # -- replaying -----------------------------------------------------------------------

    def _key(self, method: str, params: Iterable[Value], url: str | None) -> tuple[str, ...]:
        match = self.match_on
        return (
            method if "method" in match else "",
            canonical(list(params)) if "params" in match else "",
            (url or "") if "url" in match else "",
        )

    def _find(self, method: str, params: list[Value], url: str) -> Interaction:
        key = self._key(method, params, url)
        played = self._played
        if self.ordered:
            index = self._cursor
            if index < len(played) and self._keys[index] == key:
                self._cursor += 1
                played[index] = True
                return self._recorded[index]
        else:
            for index, done in enumerate(played):
                if not done and self._keys[index] == key:
                    played[index] = True
                    return self._recorded[index]
        error = self._mismatch(method, params)
        self.errors.append(error)
        raise error

    def _mismatch(self, method: str, params: list[Value]) -> NoMatchingInteraction:
        where = str(self.path)
        lines = [
            f"cassette {where!r} has no interaction for {_call_text(method, params)} "
            f"(matching on {', '.join(sorted(self.match_on))}, "
            f"{'in order' if self.ordered else 'in any order'})"
        ]
        if self.ordered and self._cursor < len(self._recorded):
            lines.append(
                f"the next interaction, #{self._cursor}, is "
                f"{self._recorded[self._cursor].describe()}"
            )
        left = self.unplayed
        lines.append(
            f"it holds {len(self._recorded)} interactions, {len(left)} not played"
            + (":" if left else "")
        )
        lines += [f"  {item.describe()}" for item in left[:_SHOWN]]
        if len(left) > _SHOWN:
            lines.append(f"  ... and {len(left) - _SHOWN} more")
        return NoMatchingInteraction("\n".join(lines), method=method, params=params, cassette=where)


def _reply_body(interaction: Interaction) -> bytes | None:
    """The response body a server would have sent; ``None`` if our writer cannot write it.

    The writer refuses a ``Decimal`` and integers beyond 64 bits (which a parser accepts
    from a server), and writes an aware ``datetime`` without its offset (as the standard
    library does): that one is written as the ``DateTime`` text it was parsed from.
    """
    try:
        if interaction.fault is not None:
            return encode_fault(interaction.fault)
        return encode_response(_as_sent(interaction.result), allow_none=True, allow_i8=True)
    except (TypeError, ValueError, OverflowError):
        return None


def _as_sent(value: Value) -> Value:
    if isinstance(value, datetime.datetime) and value.utcoffset() is not None:
        offset = value.strftime("%z")
        return DateTime(f"{value:%Y%m%dT%H:%M:%S}{offset[:3]}:{offset[3:5]}")
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_sent(item) for key, item in value.items()}
    return value


class CassetteTransport:
    """The [Transport][aioxmlrpc.Transport] of a [Cassette][aioxmlrpc.testing.Cassette].

    Made by [Cassette.transport][aioxmlrpc.testing.Cassette.transport]: it records each
    call through the real transport, or replays it from the cassette.
    """

    def __init__(
        self, cassette: Cassette, inner: Transport, *, secrets: Iterable[str] = ()
    ) -> None:
        """Record through (or replay instead of) ``inner``."""
        self.cassette = cassette
        self.inner = inner
        self._secrets = tuple(secrets)

    def _secrets_for(self, url: str) -> list[str]:
        return [*self.cassette.secrets, *self._secrets, *_url_secrets(url)]

    async def request(
        self, url: str, body: bytes, parser: ResponseParser, *, verbose: bool = False
    ) -> Value:
        """Record or replay one call.

        Raises:
            NoMatchingInteraction: In replay, a call the cassette does not hold.
            Fault: The (recorded) fault.
            ProtocolError: The (recorded) HTTP error.
        """
        method, params = parse_request(body, limits=_UNLIMITED)
        cassette = self.cassette
        if cassette.recording:
            return await self._record(url, body, parser, verbose, method, params)
        live = redact(list(params), self._secrets_for(url))
        assert isinstance(live, list)  # noqa: S101 - a list stays a list
        interaction = cassette._find(method, live, redact_url(url))
        if cassette.realtime and interaction.duration:
            await asyncio.sleep(interaction.duration)
        if interaction.error is not None:
            error = interaction.error
            raise ProtocolError(redact_url(url), error.errcode, error.errmsg, error.headers)
        reply = _reply_body(interaction)
        if reply is None:  # a value our writer cannot write: as it was recorded
            if interaction.fault is not None:
                raise Fault(interaction.fault.faultCode, interaction.fault.faultString)
            return interaction.result
        return parser.close(reply)

    async def _record(
        self,
        url: str,
        body: bytes,
        parser: ResponseParser,
        verbose: bool,
        method: str,
        params: tuple[Value, ...],
    ) -> Value:
        cassette = self.cassette
        index = cassette._reserve()
        loop = asyncio.get_running_loop()
        started = loop.time()
        secrets = self._secrets_for(url)

        def keep(**outcome: Any) -> None:
            duration = loop.time() - started
            cassette._keep(
                index, Interaction(method, params, duration=duration, url=url, **outcome), secrets
            )

        try:
            value = await self.inner.request(url, body, parser, verbose=verbose)
        except Fault as fault:
            keep(fault=fault)
            raise
        except ProtocolError as error:
            keep(error=error)
            raise
        keep(result=value)
        return value

    async def aclose(self) -> None:
        """Close the real transport."""
        await self.inner.aclose()
