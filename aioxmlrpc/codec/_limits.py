"""Limits that bound what a parser accepts, and why the defaults are what they are.

- ``max_bytes`` (100 MiB): larger than any sane XML-RPC reply (supervisord log tails,
  Odoo attachments and Bugzilla dumps stay well under it) but small enough that a
  runaway or hostile server cannot exhaust a service's memory. Counted on the bytes the
  parser is fed, i.e. after HTTP decompression.
- ``max_depth`` (512): arrays and structs nested deeper than this are refused. Real
  payloads nest a handful of levels; the limit keeps the work per byte bounded and the
  results printable and re-marshallable without hitting Python's recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_RESPONSE_BYTES", "Limits"]

DEFAULT_MAX_RESPONSE_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_DEPTH = 512


@dataclass(frozen=True)
class Limits:
    """Bounds on a document a parser accepts.

    Attributes:
        max_bytes: The largest body, in bytes, before ``ResponseTooLarge`` is raised.
            ``None`` removes the bound (for trusted peers only).
        max_depth: The deepest nesting of arrays and structs before ``ResponseTooDeep``.
    """

    max_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH

    def __post_init__(self) -> None:
        """Refuse limits that cannot work."""
        if self.max_bytes is not None and self.max_bytes < 1:
            raise ValueError(f"max_bytes must be positive or None, not {self.max_bytes!r}")
        if self.max_depth < 1:
            raise ValueError(f"max_depth must be at least 1, not {self.max_depth!r}")
