"""What a fake server or a memory transport was asked: one :class:`Call` per request."""

from __future__ import annotations

from typing import NamedTuple

from .._types import Value

__all__ = ["Call"]


class Call(NamedTuple):
    """One request as the server parsed it: the method name and its parameters.

    A tuple, so that a test can compare it to a plain one:
    ``assert server.calls == [("add", (1, 2))]``. A ``system.multicall`` is one call, with
    its list of ``{"methodName": ..., "params": [...]}`` structs as the one parameter.
    """

    method: str
    params: tuple[Value, ...]
