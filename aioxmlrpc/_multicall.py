"""``MultiCall``: many calls in one ``system.multicall`` round trip, awaitable.

Semantics are :class:`xmlrpc.client.MultiCall`'s: record calls by attribute access, send
them with ``await mc()``, then iterate the results; a failed call's :class:`Fault` is
raised when its result is reached (the results before it were already yielded), and a
result that is neither a one-element list nor a fault struct raises ``ValueError``.

Beyond the standard library:

- ``return_exceptions=True`` returns a plain list with the :class:`Fault` (or
  ``ValueError``) in place of each failed result, as :func:`asyncio.gather` does;
- ``chunk_size=N`` splits a large batch into requests of at most N calls, sent
  concurrently (at most ``max_concurrency`` at once) and reassembled in order; a failed
  request raises :class:`MultiCallError` naming the calls it carried;
- ``fallback=True`` sends the calls one by one, concurrently, when the server has no
  ``system.multicall`` (it answers with an HTTP error or a "method not found" fault);
- servers that return bare values instead of one-element lists (supervisord does, its
  docstring notwithstanding) are read too: when some result is neither a one-element
  list nor a fault struct, the whole response is taken as bare values. A standard
  response is read exactly as the standard library reads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any, Literal, overload

from ._exceptions import Error, Fault, InvalidResponse, ProtocolError
from ._proxy import AsyncServerProxy, send_multicall

__all__ = ["DEFAULT_MULTICALL_CONCURRENCY", "MultiCall", "MultiCallError", "MultiCallIterator"]

#: Requests in flight at once for a chunked or fallen-back batch.
DEFAULT_MULTICALL_CONCURRENCY = 8

# What servers say when system.multicall does not exist: the XML-RPC introspection
# spec's code, and the phrases of the common servers (Python, PHP, Apache, xmlrpc-c).
_NOT_FOUND_CODES = frozenset({-32601, -506})
_NOT_FOUND_PHRASES = ("not found", "not supported", "unknown method", "no such method")


class MultiCallError(Error):
    """One request of a chunked (or fallen-back) batch failed as a whole.

    Attributes:
        start: Index of the first call the request carried.
        stop: Index after the last one.
        total: Calls in the whole batch.
    """

    def __init__(self, start: int, stop: int, total: int, cause: BaseException) -> None:
        """Describe which calls the failed request carried; ``cause`` is chained."""
        super().__init__(f"calls {start}-{stop - 1} of {total} failed: {cause!r}")
        self.start = start
        self.stop = stop
        self.total = total

    def __str__(self) -> str:
        """Return the message (``Error.__str__`` would give the repr)."""
        return str(self.args[0])


class MultiCallIterator:
    """The results of a MultiCall: iterable, indexable, with ``len()``.

    Reaching a failed call raises its :class:`Fault`, as in the standard library; so does
    a result that is neither a one-element list nor a fault struct (``ValueError``),
    unless ``bare`` says the server returns bare values.
    """

    def __init__(self, results: Sequence[Any], *, bare: bool = False) -> None:
        """Wrap the raw ``system.multicall`` results."""
        self.results = results
        self.bare = bare

    def __getitem__(self, index: int) -> Any:
        """Return the result of call ``index``, or raise its Fault."""
        return _unwrap(self.results[index], self.bare)

    def __iter__(self) -> Iterator[Any]:
        """Yield each result in order; a failed call raises its Fault when reached."""
        bare = self.bare
        for item in self.results:
            yield _unwrap(item, bare)

    def __len__(self) -> int:
        """Return the number of calls."""
        return len(self.results)

    def __repr__(self) -> str:
        return f"<MultiCallIterator of {len(self.results)} results>"


def _is_fault(item: Any) -> bool:
    return type(item) is dict and "faultCode" in item and "faultString" in item


def _is_standard(item: Any) -> bool:
    return (type(item) is list and len(item) == 1) or _is_fault(item)


def _unwrap(item: Any, bare: bool) -> Any:
    # The stdlib's rule: a fault struct raises, a one-element list holds the value.
    if type(item) is list and not bare:
        return item[0]  # the common case first: a list is never a fault
    if type(item) is dict and "faultCode" in item and "faultString" in item:
        raise Fault(item["faultCode"], item["faultString"])
    if bare:
        return item
    raise ValueError("unexpected type in multicall result")


def _outcome(item: Any, bare: bool) -> Any:
    try:
        return _unwrap(item, bare)
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
    """

    def __init__(self, proxy: AsyncServerProxy) -> None:
        """Start an empty batch for ``proxy``."""
        self.__proxy = proxy
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
            fallback: If the server has no ``system.multicall``, make the calls one by one.

        Raises:
            MultiCallError: A request of a chunked batch failed as a whole.
            Error: The single request failed (transport, HTTP, or its own fault).
        """
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size!r}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency!r}")
        calls = list(self.__calls)
        results: list[Any] = []
        if calls:
            if chunk_size is None or chunk_size >= len(calls):
                try:
                    results = await self.__send(calls)
                except (Fault, ProtocolError) as exc:
                    if not (fallback and _lacks_multicall(exc)):
                        raise
                    results = await self.__one_by_one(calls, max_concurrency)
            else:
                results = await self.__chunked(calls, chunk_size, max_concurrency, fallback)
        bare = not all(map(_is_standard, results))
        if return_exceptions:
            return [_outcome(item, bare) for item in results]
        return MultiCallIterator(results, bare=bare)

    async def __send(self, calls: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        results = await send_multicall(self.__proxy, calls)
        fault = _whole_batch_fault(results)
        if fault is not None:
            raise fault
        if not isinstance(results, list) or len(results) != len(calls):
            got = f"{len(results)} results" if isinstance(results, list) else repr(results)[:80]
            raise InvalidResponse(f"system.multicall returned {got} for {len(calls)} calls")
        return results

    async def __chunked(
        self,
        calls: list[tuple[str, tuple[Any, ...]]],
        size: int,
        concurrency: int,
        fallback: bool,
    ) -> list[Any]:
        gate = asyncio.Semaphore(concurrency)
        total = len(calls)

        async def run(start: int) -> list[Any]:
            chunk = calls[start : start + size]
            async with gate:
                try:
                    try:
                        return await self.__send(chunk)
                    except (Fault, ProtocolError) as exc:
                        if not (fallback and _lacks_multicall(exc)):
                            raise
                        return await self.__one_by_one(chunk, concurrency)
                except Exception as exc:  # any failure: say which calls it covered
                    raise MultiCallError(start, start + len(chunk), total, exc) from exc

        tasks = [asyncio.ensure_future(run(start)) for start in range(0, total, size)]
        try:
            parts = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [item for part in parts for item in part]

    async def __one_by_one(
        self, calls: list[tuple[str, tuple[Any, ...]]], concurrency: int
    ) -> list[Any]:
        # The same shapes system.multicall returns: [value] or a fault struct.
        gate = asyncio.Semaphore(concurrency)
        proxy = self.__proxy

        async def run(name: str, args: tuple[Any, ...]) -> Any:
            async with gate:
                try:
                    return [await getattr(proxy, name)(*args)]
                except Fault as fault:
                    return {"faultCode": fault.faultCode, "faultString": fault.faultString}

        return list(await asyncio.gather(*(run(name, args) for name, args in calls)))


# HTTP statuses that mean "no such method here" (401/403 mean something else entirely).
_NOT_FOUND_STATUSES = frozenset({400, 404, 405, 500, 501})


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


def _lacks_multicall(exc: BaseException) -> bool:
    if isinstance(exc, ProtocolError):
        return exc.errcode in _NOT_FOUND_STATUSES
    if isinstance(exc, Fault):
        text = str(exc.faultString).lower()
        return exc.faultCode in _NOT_FOUND_CODES or any(p in text for p in _NOT_FOUND_PHRASES)
    return False
