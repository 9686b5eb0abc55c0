"""Introspection: what ``system.methodSignature`` and ``system.methodHelp`` answer.

Rules:

- A signature is ``[return type, parameter types...]`` in XML-RPC's type names, read from
  the function's type hints: ``def add(a: int, b: int) -> int`` gives
  ``[["int", "int", "int"]]``.
- Parameters with defaults give one signature per arity (XML-RPC has no optional
  parameters): ``def f(a: int, b: int = 0) -> int`` gives ``[["int", "int"], ["int",
  "int", "int"]]``. A union gives one signature per member (``int | None`` is ``int`` or
  ``nil``), up to :data:`MAX_SIGNATURES` in all.
- ``object`` and ``Any`` are ``"any"``: XML-RPC has no name for "any value".
- A missing hint, ``*args``, ``**kwargs``, keyword-only parameters or a type with no
  XML-RPC counterpart make the answer the string ``"signatures not supported"``, as the
  standard library answers for every method.
- Help is the docstring, cleaned as :func:`inspect.getdoc` does (the standard library's
  ``pydoc.getdoc`` without its fallback to comments), or ``""``.
"""

from __future__ import annotations

import collections.abc
import datetime
import decimal
import inspect
import itertools
import types
import typing
from collections.abc import Callable, Iterator
from xmlrpc.client import Binary, DateTime

__all__ = [
    "MAX_SIGNATURES",
    "NOT_SUPPORTED",
    "list_public_methods",
    "method_help",
    "method_signature",
    "resolve_dotted_attribute",
]

NOT_SUPPORTED = "signatures not supported"
MAX_SIGNATURES = 32

# Exact classes first; subclasses (a user's dict subclass) are looked up along the MRO.
_NAMES: dict[object, str] = {
    bool: "boolean",
    int: "int",
    float: "double",
    decimal.Decimal: "double",
    str: "string",
    bytes: "base64",
    bytearray: "base64",
    Binary: "base64",
    datetime.datetime: "dateTime.iso8601",
    DateTime: "dateTime.iso8601",
    list: "array",
    tuple: "array",
    dict: "struct",
    type(None): "nil",
    None: "nil",
    object: "any",
    typing.Any: "any",
    collections.abc.Sequence: "array",
    collections.abc.MutableSequence: "array",
    collections.abc.Iterable: "array",
    collections.abc.Collection: "array",
    collections.abc.Mapping: "struct",
    collections.abc.MutableMapping: "struct",
}


class _Unsupported(Exception):
    """A hint with no XML-RPC name."""


def _names(hint: object) -> list[str]:
    """The XML-RPC names a hint stands for (several for a union)."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        names: list[str] = []
        for member in typing.get_args(hint):
            for name in _names(member):
                if name not in names:
                    names.append(name)
        return names
    if origin is typing.Annotated:
        return _names(typing.get_args(hint)[0])
    if origin is typing.Literal:
        literal: list[str] = []
        for value in typing.get_args(hint):
            literal += [name for name in _names(type(value)) if name not in literal]
        return literal
    if origin is not None:
        hint = origin  # list[int] is an array, dict[str, int] a struct
    try:
        found = _NAMES.get(hint)
    except TypeError:  # an unhashable hint
        found = None
    if found is not None:
        return [found]
    if isinstance(hint, type):
        for base in hint.__mro__[1:]:
            if base is object:
                break
            if base in _NAMES:
                return [_NAMES[base]]
    raise _Unsupported(hint)


def _unwrap(function: Callable[..., object]) -> Callable[..., object]:
    unwrapped: Callable[..., object] = inspect.unwrap(function)
    return unwrapped


def method_signature(function: Callable[..., object]) -> list[list[str]] | str:
    """Return ``function``'s XML-RPC signatures, or :data:`NOT_SUPPORTED`."""
    try:
        signature = inspect.signature(function)
        hints = typing.get_type_hints(_unwrap(function), include_extras=True)
    except (TypeError, ValueError, NameError, AttributeError):
        return NOT_SUPPORTED
    try:
        if signature.return_annotation is inspect.Signature.empty:
            raise _Unsupported("return")
        returns = _names(hints.get("return", signature.return_annotation))
        required: list[list[str]] = []
        optional: list[list[str]] = []
        for parameter in signature.parameters.values():
            if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                raise _Unsupported(parameter)
            if parameter.annotation is inspect.Parameter.empty:
                raise _Unsupported(parameter)
            names = _names(hints.get(parameter.name, parameter.annotation))
            (required if parameter.default is parameter.empty else optional).append(names)
    except _Unsupported:
        return NOT_SUPPORTED
    signatures: list[list[str]] = []
    for count in range(len(optional) + 1):
        for combination in _product([returns, *required, *optional[:count]]):
            signatures.append(combination)
            if len(signatures) >= MAX_SIGNATURES:
                return signatures
    return signatures


def _product(choices: list[list[str]]) -> Iterator[list[str]]:
    for combination in itertools.product(*choices):
        yield list(combination)


def method_help(function: Callable[..., object]) -> str:
    """Return ``function``'s docstring, cleaned, or ``""``."""
    return inspect.getdoc(function) or ""


def list_public_methods(obj: object) -> list[str]:
    """The names of ``obj``'s public callable attributes, as the standard library lists."""
    return [
        name for name in dir(obj) if not name.startswith("_") and callable(getattr(obj, name, None))
    ]


def resolve_dotted_attribute(obj: object, name: str, allow_dotted_names: bool) -> object:
    """Resolve ``a.b.c`` on ``obj``; no part may start with ``_``.

    Raises:
        AttributeError: A part is private or missing.
    """
    parts = name.split(".") if allow_dotted_names else [name]
    for part in parts:
        if part.startswith("_"):
            raise AttributeError(f"attempt to access private attribute {part!r}")
        obj = getattr(obj, part)
    return obj
