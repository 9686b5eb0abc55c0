"""The test kit's errors.

They are not :class:`xmlrpc.client.Error` subclasses, on purpose: the code under test
often catches ``xmlrpc.client.Error`` (or ``aioxmlrpc.Error``) to handle a server's
failure, and a test's own mistake (a call the cassette does not hold) must not be handled
as one. The cassette also remembers each mismatch, so that the pytest plugin fails the
test even when the code under test swallowed the exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._types import Value

__all__ = ["CassetteError", "CassetteFormatError", "CassetteNotFound", "NoMatchingInteraction"]


class CassetteError(Exception):
    """Base class of the cassette errors."""


class CassetteFormatError(CassetteError, ValueError):
    """A cassette file that cannot be read: not JSON, an unknown version, a bad value."""


class CassetteNotFound(CassetteError, FileNotFoundError):
    """Replay was asked for, and the cassette file does not exist."""


class NoMatchingInteraction(CassetteError, LookupError):
    """A call that the cassette holds no interaction for.

    Attributes:
        method: The method called.
        params: Its parameters (secrets redacted, as they are matched).
        cassette: The cassette file's path.
    """

    def __init__(
        self, message: str, *, method: str, params: Sequence[Value], cassette: str
    ) -> None:
        """Record what was called, and where it was looked for."""
        super().__init__(message)
        self.method = method
        self.params = tuple(params)
        self.cassette = cassette
