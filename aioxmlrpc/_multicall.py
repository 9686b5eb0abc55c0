"""``MultiCall``: many calls in one ``system.multicall`` round trip, awaitable.

Semantics are :class:`xmlrpc.client.MultiCall`'s: record calls by attribute access, send
them with ``await mc()``, then iterate the results; a failed call's :class:`Fault` is
raised when its result is reached (the results before it were already yielded), and a
result that is neither a one-element list nor a fault struct raises the stdlib's
``ValueError`` when it is reached. Results are never guessed from their shapes.

Beyond the standard library:

- ``MultiCall(proxy, bare_results=True)`` reads a server that returns bare values instead
  of one-element lists (supervisord does, its docstring notwithstanding; so does Perl's
  RPC::XML): each result is the value itself, a fault struct is still a fault;
- ``return_exceptions=True`` returns a plain list with the :class:`Fault` (or
  ``ValueError``) in place of each failed result, as :func:`asyncio.gather` does;
- ``chunk_size=N`` splits a large batch into requests of at most N calls, sent
  concurrently (at most ``max_concurrency`` at once) and reassembled in order;
- ``fallback=True`` sends the calls one by one, concurrently, when the server has no
  ``system.multicall``, which only an unambiguous answer tells: a fault -32601, or a
  fault whose message says ``system.multicall`` is not found. An HTTP error or any other
  fault is raised: the server may have run some of the calls.

The rules that hold in every mode: every request is marshalled before the first is sent
(a value that cannot be marshalled raises before any I/O); when a request fails, the
requests and calls still running or waiting are cancelled and that request's own
exception is raised, with the same type with and without ``chunk_size``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar, overload

from ._exceptions import Fault, InvalidResponse
from ._proxy import AsyncServerProxy, encode_multicall, profile_of, send_encoded

__all__ = ["DEFAULT_MULTICALL_CONCURRENCY", "MultiCall", "MultiCallIterator"]

_T = TypeVar("_T")

#: Requests in flight at once for a chunked or fallen-back batch.
DEFAULT_MULTICALL_CONCURRENCY = 8

# The one fault code that means "no such method" (the XML-RPC introspection spec's), and
# the phrases that say so in a fault that names system.multicall itself.
_NOT_FOUND_CODE = -32601
_NOT_FOUND_PHRASES = ("not found", "not supported", "unknown method", "no such method")


class MultiCallIterator:
    """The results of a MultiCall: iterable, indexable, with ``len()``.

    Reaching a failed call raises its :class:`Fault`, as in the standard library; a
    result that is neither a one-element list nor a fault struct raises ``ValueError``
    there, unless ``bare`` says the server returns bare values.
    """

    def __init__(
        self,
        results: Sequence[Any],
        *,
        bare: bool = False,
        faults: Callable[[Fault], Fault] | None = None,
    ) -> None:
        """Wrap the raw ``system.multicall`` results; ``faults`` picks each fault's class."""
        self.results = results
        self.bare = bare
        self.faults = faults

    def __getitem__(self, index: int) -> Any:
        """Return the result of call ``index``, or raise its Fault."""
        return _unwrap(self.results[index], self.bare, self.faults)

    def __iter__(self) -> Iterator[Any]:
        """Yield each result in order; a failed call raises its Fault when reached."""
        bare, faults = self.bare, self.faults
        for item in self.results:
            yield _unwrap(item, bare, faults)

    def __len__(self) -> int:
        """Return the number of calls."""
        return len(self.results)

    def __repr__(self) -> str:
        return f"<MultiCallIterator of {len(self.results)} results>"


def _unwrap(item: Any, bare: bool, faults: Callable[[Fault], Fault] | None = None) -> Any:
    # The stdlib's rule: a fault struct raises, a one-element list holds the value.
    if type(item) is list and item and not bare:  # [] is no value: ValueError below
        return item[0]  # the common case first: a list is never a fault (the stdlib's rule)
    if type(item) is dict and "faultCode" in item and "faultString" in item:
        fault = Fault(item["faultCode"], item["faultString"])
        raise fault if faults is None else faults(fault)
    if bare:
        return item
    raise ValueError("unexpected type in multicall result")


def _outcome(item: Any, bare: bool, faults: Callable[[Fault], Fault] | None) -> Any:
    try:
        return _unwrap(item, bare, faults)
    except (Fault, ValueError) as exc:
        return exc


class _Recorder:
    """A method name under a MultiCall: calling it records the call."""

    __slots__ = ("__calls", "__name")

    def __init__(self, calls: list[tuple[str, tuple[Any, ...]]], name: str) -> None:
        self.__calls = calls
        self.__name = name

    def __getattr__(self, name: str) -> _Recorder:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Recorder(self.__calls, f"{self.__name}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{self.__name}() got keyword arguments: XML-RPC has none")
        self.__calls.append((self.__name, args))


class MultiCall:
    """Record calls on ``proxy``, then send them in one ``system.multicall`` request.

    ::

        multicall = MultiCall(proxy)
        multicall.ping()
        multicall.show_type(1)
        for result in await multicall():
            print(result)

    Args:
        proxy: The proxy whose options (encoding, allow_none...) the request uses; its
            profile, if any, names the multicall method and the results' shape.
        bare_results: The server returns each result bare, not in a one-element list
            (supervisord, Perl's RPC::XML). A fault struct is still read as a fault.
            ``None`` (the default): as the proxy's profile says; without one, ``False``.
    """

    def __init__(self, proxy: AsyncServerProxy, *, bare_results: bool | None = None) -> None:
        """Start an empty batch for ``proxy``."""
        self.__proxy = proxy
        self.__profile = profile = profile_of(proxy)
        if bare_results is None:
            bare_results = profile is not None and profile.multicall_results == "bare"
        self.__bare = bare_results
        self.__calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> _Recorder:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        recorder = _Recorder(self.__calls, name)
        # Kept on the instance: the next mc.<name> is a plain attribute lookup, which
        # matters when thousands of calls are recorded.
        setattr(self, name, recorder)
        return recorder

    def __len__(self) -> int:
        """Return the number of calls recorded."""
        return len(self.__calls)

    def __repr__(self) -> str:
        return f"<MultiCall of {len(self.__calls)} calls for {self.__proxy!r}>"

    @overload
    async def __call__(
        self,
        *,
        return_exceptions: Literal[False] = False,
        chunk_size: int | None = None,
        max_concurrency: int = DEFAULT_MULTICALL_CONCURRENCY,
        fallback: bool = False,
    ) -> MultiCallIterator: ...

    @overload
    async def __call__(
        self,
        *,
        return_exceptions: Literal[True],
        chunk_size: int | None = None,
        max_concurrency: int = DEFAULT_MULTICALL_CONCURRENCY,
        fallback: bool = False,
    ) -> list[Any]: ...

    async def __call__(
        self,
        *,
        return_exceptions: bool = False,
        chunk_size: int | None = None,
        max_concurrency: int = DEFAULT_MULTICALL_CONCURRENCY,
        fallback: bool = False,
    ) -> MultiCallIterator | list[Any]:
        """Send the recorded calls; return their results.

        Args:
            return_exceptions: Return a list with each failed call's Fault in its place,
                instead of an iterator that raises it.
            chunk_size: Send at most this many calls per request, concurrently.
            max_concurrency: Requests in flight at once when chunking or falling back.
            fallback: If the server says it has no ``system.multicall`` (fault -32601, or
                a fault naming it as not found), make the calls one by one.

        Raises:
            TypeError: A value cannot be marshalled (before anything is sent).
            Error: A request failed (transport, HTTP, or its own fault): the same
                exception with or without ``chunk_size``; the other requests are cancelled.
        """
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size!r}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency!r}")
        calls = list(self.__calls)
        size = len(calls) if chunk_size is None else chunk_size
        chunks = [calls[start : start + size] for start in range(0, len(calls), size or 1)]
        # Every request marshalled before any is sent.
        bodies = [encode_multicall(self.__proxy, chunk) for chunk in chunks]
        results: list[Any] = []
        if len(chunks) == 1:
            results = await self.__request(chunks[0], bodies[0], fallback, max_concurrency)
        elif chunks:
            gate = _Gate(max_concurrency)

            async def run(chunk: list[tuple[str, tuple[Any, ...]]], body: bytes) -> list[Any]:
                async with gate:
                    return await self.__request(chunk, body, fallback, max_concurrency)

            parts = await _all_or_none([run(*pair) for pair in zip(chunks, bodies, strict=True)])
            results = [item for part in parts for item in part]
        bare, profile = self.__bare, self.__profile
        faults = None
        if profile is not None:
            results, faults = profile.multicall_values(results), profile.fault
        if return_exceptions:
            return [_outcome(item, bare, faults) for item in results]
        return MultiCallIterator(results, bare=bare, faults=faults)

    async def __request(
        self,
        calls: list[tuple[str, tuple[Any, ...]]],
        body: bytes,
        fallback: bool,
        concurrency: int,
    ) -> list[Any]:
        try:
            results = await send_encoded(self.__proxy, body, len(calls))
        except Fault as fault:
            if fallback and _lacks_multicall(fault):
                return await self.__one_by_one(calls, concurrency)
            raise
        whole = _whole_batch_fault(results)
        if whole is not None:
            raise whole  # the server ran calls: never fall back after this
        if not isinstance(results, list) or len(results) != len(calls):
            got = f"{len(results)} results" if isinstance(results, list) else repr(results)[:80]
            raise InvalidResponse(f"system.multicall returned {got} for {len(calls)} calls")
        return results

    async def __one_by_one(
        self, calls: list[tuple[str, tuple[Any, ...]]], concurrency: int
    ) -> list[Any]:
        # The same shapes system.multicall returns: [value] or a fault struct.
        gate = _Gate(concurrency)
        proxy = self.__proxy
        bare = self.__bare

        async def run(name: str, args: tuple[Any, ...]) -> Any:
            async with gate:
                try:
                    value = await getattr(proxy, name)(*args)
                except Fault as fault:
                    return {"faultCode": fault.faultCode, "faultString": fault.faultString}
                return value if bare else [value]

        return await _all_or_none([run(name, args) for name, args in calls])


class _Gate:
    """A semaphore that shuts once a holder fails: no waiter starts after a failure.

    The failing holder shuts it before it gives its place back, so a waiter woken by that
    release sees it shut at once (cancelling it from outside could come too late).
    """

    def __init__(self, size: int) -> None:
        self._semaphore = asyncio.Semaphore(size)
        self._shut = False

    async def __aenter__(self) -> None:
        await self._semaphore.acquire()
        if self._shut:
            self._semaphore.release()
            raise asyncio.CancelledError  # the batch failed: never sent

    async def __aexit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self._shut = True
        self._semaphore.release()


async def _all_or_none(awaitables: list[Awaitable[_T]]) -> list[_T]:
    """Run ``awaitables`` concurrently; on the first failure cancel the rest, raise it."""
    tasks = [asyncio.ensure_future(item) for item in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return [task.result() for task in tasks]


def _whole_batch_fault(results: Any) -> Fault | None:
    """The fault a server sent in place of the whole list of results, if it did.

    Perl's RPC::XML stops at the first failing call and answers with that call's response
    object, a struct ``{"value": <fault>}``; a bare fault struct is read the same way.
    """
    if isinstance(results, dict) and set(results) == {"value"}:
        results = results["value"]
    if isinstance(results, dict) and set(results) == {"faultCode", "faultString"}:
        return Fault(results["faultCode"], results["faultString"])
    return None


def _lacks_multicall(fault: Fault) -> bool:
    """Whether a fault says, unambiguously, that ``system.multicall`` does not exist."""
    if fault.faultCode == _NOT_FOUND_CODE:
        return True
    text = str(fault.faultString).lower()
    return "system.multicall" in text and any(phrase in text for phrase in _NOT_FOUND_PHRASES)
