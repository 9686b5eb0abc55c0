"""The codec's one cache primitive: bounded in bytes, forgetting by generation.

Every process-wide cache of the codec goes through :class:`Cache`. The rules:

- **Bounded in bytes.** Each entry is added with an estimate of the memory it keeps
  alive. New entries join the *young* generation; once the young generation holds half
  the budget, the *old* generation is dropped and the young one becomes old. So a cache
  never keeps more than its budget, and an entry lives for at least half a budget's
  worth of later insertions. A flood of new entries can only push older ones out, never
  grow the cache, and what it pushed out is itself forgotten two generations later.
- **Fair.** A cache may judge its entries as they age out (``keep``). Those still in use
  move to a *protected* part with its own half of the budget and its own generations,
  which only entries that proved useful can enter. The plans use it: the plans of the
  replies a program keeps reading survive any flood of one-off shapes, which only ever
  churns the other half.
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

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


Entry: TypeAlias = "tuple[dict[Any, Any], Any, int]"  # (table, key, estimated size)


class _Generations:
    """Entries within a budget, in two generations: the young half ages the old one out."""

    __slots__ = ("budget", "old", "old_size", "young", "young_size")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.young: list[Entry] = []
        self.old: list[Entry] = []
        self.young_size = 0
        self.old_size = 0

    def add(self, entry: Entry, keep: Callable[[Entry], bool] | None = None) -> list[Entry]:
        """Add ``entry``; return the entries that aged out (those ``keep`` refused)."""
        aged: list[Entry] = []
        if self.young_size + entry[2] > self.budget // 2:
            aged, self.old, self.old_size = self.old, self.young, self.young_size
            self.young, self.young_size = [], 0
            if keep is not None:
                # What is still in use starts again as young, within half of that half.
                dropped = []
                for old in aged:
                    if self.young_size + old[2] <= self.budget // 4 and keep(old):
                        self.young.append(old)
                        self.young_size += old[2]
                    else:
                        dropped.append(old)
                aged = dropped
        self.young.append(entry)
        self.young_size += entry[2]
        return aged

    def clear(self) -> None:
        """Forget every entry, in every table."""
        for table, key, _ in self.old + self.young:
            table.pop(key, None)
        self.young, self.old = [], []
        self.young_size = self.old_size = 0

    @property
    def entries(self) -> int:
        return len(self.old) + len(self.young)

    @property
    def size(self) -> int:
        return self.old_size + self.young_size


class Cache(Generic[K, V]):
    """Entries in one or more tables, bounded in estimated bytes, evicted by generation.

    Args:
        name: Shown in :class:`CacheStats`.
        max_size: The budget, in estimated bytes.
        keep: Judges an entry as it ages out: True if it was used since it was made (or
            last judged). Such entries move to the protected half of the budget, where
            only entries kept this way compete for room.
    """

    def __init__(self, name: str, max_size: int, keep: Callable[[V], bool] | None = None) -> None:
        """Make an empty cache with its own default table (for :meth:`get`/:meth:`put`)."""
        if max_size < 4:
            raise ValueError(f"max_size must be at least 4, not {max_size!r}")
        self.name = name
        self.max_size = max_size
        self._keep = keep
        self._lock = threading.Lock()  # bookkeeping only: lookups never take it
        self._new = _Generations(max_size if keep is None else max_size // 2)
        self._protected = None if keep is None else _Generations(max_size // 2)
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

        ``size`` is the estimated bytes the entry keeps alive; an entry larger than a
        quarter of the budget of the part it joins is not kept at all.
        """
        if size > self._new.budget // 4:
            return
        with self._lock:
            if key in table:
                return  # another thread compiled it too
            table[key] = value
            self._added += 1
            aged = self._new.add((table, key, size))
            if aged and self._protected is not None and self._keep is not None:
                aged = self._promote(aged, self._protected, self._keep)
            for old_table, old_key, _ in aged:
                old_table.pop(old_key, None)
            self._evicted += len(aged)

    @staticmethod
    def _promote(
        aged: list[Entry], protected: _Generations, judge: Callable[[Any], bool]
    ) -> list[Entry]:
        """Move the aged entries still in use to the protected part; return the rest."""

        def in_use(entry: Entry) -> bool:
            value = entry[0].get(entry[1])
            return value is not None and judge(value)

        dropped = []
        for entry in aged:
            if in_use(entry):
                dropped += protected.add(entry, keep=in_use)
            else:
                dropped.append(entry)
        return dropped

    def clear(self) -> None:
        """Forget every entry, in every table."""
        with self._lock:
            self._new.clear()
            if self._protected is not None:
                self._protected.clear()
            self._added = self._evicted = 0

    def stats(self) -> CacheStats:
        """Return a snapshot of the cache's size and activity."""
        with self._lock:
            parts = [self._new] if self._protected is None else [self._new, self._protected]
            return CacheStats(
                name=self.name,
                entries=sum(part.entries for part in parts),
                size=sum(part.size for part in parts),
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
