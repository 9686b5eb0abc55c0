"""The codec's one cache primitive: bounded in bytes, forgetting by generation.

Every process-wide cache of the codec goes through :class:`Cache`. The rules:

- **Bounded in bytes.** Each entry is added with an estimate of the memory it keeps
  alive. New entries join the *young* generation; once the young generation holds half
  the budget, the *old* generation is dropped and the young one becomes old. So a cache
  never keeps more than its budget, and an entry lives for at least half a budget's
  worth of later insertions. A flood of new entries can only push older ones out, never
  grow the cache, and what it pushed out is itself forgotten two generations later.
- **Lookups cost one dictionary access.** Entries live in plain dicts (*tables*) that
  the hot paths read directly; the cache only does its bookkeeping when an entry is
  added, which happens on a miss.
- **Keyed by what the grammar sees.** The callers make sure of it: no key holds a
  document's text (values, attribute values, namespace prefixes), only the element
  names and whitespace the parser compiled, method names a program calls, or
  constants. See the callers for what each key is.
- ``stats()`` and ``clear()`` for tests and for users who want to watch or reset them
  (:func:`aioxmlrpc.codec.cache_stats`, :func:`aioxmlrpc.codec.clear_caches`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Cache", "CacheStats", "cache_stats", "clear_caches"]

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of one cache.

    Attributes:
        name: What the cache holds, e.g. ``"plans"``.
        entries: Entries held now.
        size: Estimated bytes held now.
        max_size: The budget in bytes: ``size`` never exceeds it.
        added: Entries added since the cache was created or cleared (one per miss).
        evicted: Entries forgotten to stay within the budget.
    """

    name: str
    entries: int
    size: int
    max_size: int
    added: int
    evicted: int


class Cache(Generic[K, V]):
    """Entries in one or more tables, bounded in estimated bytes, evicted by generation.

    Args:
        name: Shown in :class:`CacheStats`.
        max_size: The budget, in estimated bytes.
    """

    def __init__(self, name: str, max_size: int) -> None:
        """Make an empty cache with its own default table (for :meth:`get`/:meth:`put`)."""
        if max_size < 2:
            raise ValueError(f"max_size must be at least 2, not {max_size!r}")
        self.name = name
        self.max_size = max_size
        self._lock = threading.Lock()  # bookkeeping only: lookups never take it
        self._young: list[tuple[dict[K, V], K, int]] = []
        self._old: list[tuple[dict[K, V], K, int]] = []
        self._young_size = 0
        self._old_size = 0
        self._added = 0
        self._evicted = 0
        self.table: dict[K, V] = {}
        _ALL.append(self)

    def get(self, key: K) -> V | None:
        """Return the entry of the default table for ``key``, or None."""
        return self.table.get(key)

    def put(self, key: K, value: V, size: int) -> None:
        """Add ``key`` to the default table (see :meth:`add`)."""
        self.add(self.table, key, value, size)

    def add(self, table: dict[K, V], key: K, value: V, size: int) -> None:
        """Add an entry to ``table`` (one of this cache's), forgetting old ones if needed.

        ``size`` is the estimated bytes the entry keeps alive; an entry larger than half
        the budget is not kept at all.
        """
        if size > self.max_size // 2:
            return
        with self._lock:
            if key in table:
                return  # another thread compiled it too
            if self._young_size + size > self.max_size // 2:
                self._rotate()
            table[key] = value
            self._young.append((table, key, size))
            self._young_size += size
            self._added += 1

    def _rotate(self) -> None:
        """Forget the old generation; the young one becomes old."""
        for table, key, _ in self._old:
            table.pop(key, None)
        self._evicted += len(self._old)
        self._old, self._young = self._young, []
        self._old_size, self._young_size = self._young_size, 0

    def clear(self) -> None:
        """Forget every entry, in every table."""
        with self._lock:
            for generation in (self._old, self._young):
                for table, key, _ in generation:
                    table.pop(key, None)
            self._old, self._young = [], []
            self._old_size = self._young_size = 0
            self._added = self._evicted = 0

    def stats(self) -> CacheStats:
        """Return a snapshot of the cache's size and activity."""
        with self._lock:
            return CacheStats(
                name=self.name,
                entries=len(self._old) + len(self._young),
                size=self._old_size + self._young_size,
                max_size=self.max_size,
                added=self._added,
                evicted=self._evicted,
            )


_ALL: list[Cache[Any, Any]] = []


def cache_stats() -> dict[str, CacheStats]:
    """Return a snapshot of every process-wide cache of the codec, by name.

    For tests, and for services that want to watch them: each is bounded in bytes
    (``max_size``) whatever the documents read, and forgets its oldest entries first.
    """
    return {cache.name: cache.stats() for cache in _ALL}


def clear_caches() -> None:
    """Empty every process-wide cache of the codec (they refill as documents are read)."""
    for cache in _ALL:
        cache.clear()
