"""The dispatcher: registration, calls, faults, introspection and ``system.multicall``.

No sockets here: bytes (or a method name and parameters) in, response bytes out, so the
same dispatcher serves aiohttp, a test, or another transport. Rules, as a demanding
client expects them (``xmlrpc.server.SimpleXMLRPCDispatcher``'s, where it has one):

- Registration is the standard library's: ``register_function`` (also a decorator,
  returning the function), ``register_instance`` with ``allow_dotted_names`` and the
  instance's ``_dispatch``, ``_listMethods`` and ``_methodHelp`` hooks. Coroutine
  functions are awaited; plain ones run inline, or in a thread when registered with
  ``in_thread=True``.
- Faults (the codes of xmlrpc-epi's fault interoperability spec, as ``xmlrpc.client``
  names them): ``METHOD_NOT_FOUND`` (-32601) for an unknown method,
  ``INVALID_METHOD_PARAMS`` (-32602) when the parameters do not bind to the function's
  signature, ``NOT_WELLFORMED_ERROR`` (-32700) for a body that does not parse (DTDs and
  entities included), ``INVALID_XMLRPC`` (-32600) for XML that is not a ``methodCall``
  or is over a limit, ``INTERNAL_ERROR`` (-32603) for a failure of the server itself.
- An exception a method raises is fault 1, ``"<class 'RuntimeError'>:message"``, as
  the standard library writes it; so is a return value that cannot be marshalled. A
  :class:`~aioxmlrpc.Fault` the method raises is sent as it is. Tracebacks are added to
  the fault string only with ``debug=True``.
- ``BaseException`` (``CancelledError``, ``KeyboardInterrupt``, ``SystemExit``) is never
  turned into a fault: it propagates, so a cancelled call stays cancelled.
- ``system.multicall`` runs its calls in order, one at a time (``multicall_concurrency``
  allows more), answers each with ``[result]`` or a fault struct, refuses more than
  ``max_multicall_calls`` calls as a whole, and refuses nested ``system.multicall``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import traceback
from collections.abc import Callable
from typing import Any, TypeVar, overload
from xmlrpc.client import (
    INTERNAL_ERROR,
    INVALID_METHOD_PARAMS,
    INVALID_XMLRPC,
    METHOD_NOT_FOUND,
    NOT_WELLFORMED_ERROR,
)

from .._exceptions import (
    Fault,
    InvalidResponse,
    MalformedXML,
    ResponseError,
    ResponseTooDeep,
    ResponseTooLarge,
    UnsafeXML,
)
from .._types import Value
from ..codec import DEFAULT_MAX_DEPTH, Limits, RequestParser, encode_fault, encode_response, loads
from ._introspect import (
    NOT_SUPPORTED,
    list_public_methods,
    method_help,
    method_signature,
    resolve_dotted_attribute,
)

__all__ = [
    "DEFAULT_MAX_MULTICALL_CALLS",
    "DEFAULT_MAX_REQUEST_BYTES",
    "XMLRPCDispatcher",
    "parse_error_fault",
]

logger = logging.getLogger("aioxmlrpc.server")

#: The largest request body accepted by default, in bytes, after decompression.
DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: The most calls one ``system.multicall`` may carry by default.
DEFAULT_MAX_MULTICALL_CALLS = 10_000

F = TypeVar("F", bound=Callable[..., Any])

_CAPABILITIES: dict[str, dict[str, object]] = {
    "xmlrpc": {"specUrl": "http://www.xmlrpc.com/spec", "specVersion": 1},
    "faults_interop": {
        "specUrl": "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php",
        "specVersion": 20010516,
    },
    "introspection": {
        "specUrl": "http://xmlrpc-c.sourceforge.net/introspection.html",
        "specVersion": 1,
    },
}
_MULTICALL_CAPABILITY = {
    "specUrl": "https://web.archive.org/web/20060624230303/"
    "http://www.xmlrpc.com/discuss/msgReader$1208?mode=topic",
    "specVersion": 1,
}
_NIL_CAPABILITY = {"specUrl": "http://ontosys.com/xml-rpc/extensions.php", "specVersion": 20010306}


def parse_error_fault(exc: ResponseError) -> Fault:
    """The fault answering a request body the parser refused."""
    if isinstance(exc, (MalformedXML, UnsafeXML)):
        return Fault(NOT_WELLFORMED_ERROR, f"parse error: {exc}")
    if isinstance(exc, (InvalidResponse, ResponseTooDeep, ResponseTooLarge)):
        return Fault(INVALID_XMLRPC, f"invalid XML-RPC request: {exc}")
    return Fault(INVALID_XMLRPC, f"invalid XML-RPC request: {exc}")  # pragma: no cover


class XMLRPCDispatcher:
    """Registers functions and answers XML-RPC calls, as ``SimpleXMLRPCDispatcher`` does.

    Coroutine functions and plain functions can be registered alike; the calls are made
    with :meth:`dispatch_body` (a whole request body) or :meth:`call` (a parsed one). Mount
    it on aiohttp with [make_app][aioxmlrpc.server.make_app] or
    [serve][aioxmlrpc.server.serve].

    Args:
        allow_none: Marshal ``None`` as ``<nil/>`` in responses.
        encoding: The encoding of responses (default UTF-8). Requests are read in
            whatever encoding they declare.
        use_builtin_types: Pass base64 parameters as ``bytes`` and dates as ``datetime``.
        use_datetime: Pass dates as ``datetime`` (base64 stays ``Binary``).
        allow_i8: Marshal integers beyond 32 bits (within 64) as ``<i8>``.
        max_multicall_calls: The most calls one ``system.multicall`` may carry.
        multicall_concurrency: How many calls of a ``system.multicall`` may run at once
            (1, the default, runs them in order, as the standard library does).
        debug: Add the traceback to the fault string of a method's exception.
    """

    def __init__(
        self,
        allow_none: bool = False,
        encoding: str | None = None,
        use_builtin_types: bool = False,
        *,
        use_datetime: bool = False,
        allow_i8: bool = False,
        max_multicall_calls: int = DEFAULT_MAX_MULTICALL_CALLS,
        multicall_concurrency: int = 1,
        debug: bool = False,
    ) -> None:
        """Make an empty dispatcher."""
        if max_multicall_calls < 1:
            raise ValueError(f"max_multicall_calls must be at least 1, not {max_multicall_calls}")
        if multicall_concurrency < 1:
            raise ValueError(
                f"multicall_concurrency must be at least 1, not {multicall_concurrency}"
            )
        self.funcs: dict[str, Callable[..., Any]] = {}
        self.instance: object | None = None
        self.allow_dotted_names = False
        self.allow_none = allow_none
        self.encoding = encoding
        self.use_builtin_types = use_builtin_types
        self.use_datetime = use_datetime
        self.allow_i8 = allow_i8
        self.max_multicall_calls = max_multicall_calls
        self.multicall_concurrency = multicall_concurrency
        self.debug = debug
        self._in_thread: set[str] = set()
        self._instance_in_thread = False

    # -- registration --------------------------------------------------------------------

    @overload
    def register_function(
        self, function: F, name: str | None = None, *, in_thread: bool = False
    ) -> F: ...

    @overload
    def register_function(
        self, function: None = None, name: str | None = None, *, in_thread: bool = False
    ) -> Callable[[F], F]: ...

    def register_function(
        self, function: F | None = None, name: str | None = None, *, in_thread: bool = False
    ) -> F | Callable[[F], F]:
        """Register ``function`` under ``name`` (default: its ``__name__``); return it.

        Usable as a decorator, bare (``@dispatcher.register_function``) or with arguments
        (``@dispatcher.register_function(name="system.echo")``).

        Args:
            function: A coroutine function or a plain callable.
            name: The XML-RPC method name.
            in_thread: Run a plain function in a worker thread (``asyncio.to_thread``)
                instead of in the event loop.
        """
        if function is None:
            return functools.partial(self.register_function, name=name, in_thread=in_thread)
        key = function.__name__ if name is None else name
        self.funcs[key] = function
        if in_thread:
            self._in_thread.add(key)
        else:
            self._in_thread.discard(key)
        return function

    def register_instance(
        self, instance: object, allow_dotted_names: bool = False, *, in_thread: bool = False
    ) -> None:
        """Serve ``instance``'s public methods (replacing any instance registered before).

        If the instance has a ``_dispatch(method, params)`` method, every call that no
        registered function answers goes to it (its result may be awaitable). Otherwise
        the method is looked up on the instance; names starting with ``_`` are never
        served. With ``allow_dotted_names``, ``a.b`` resolves attributes in turn: only
        for instances whose whole attribute graph may be reached by any client.

        Args:
            instance: The object.
            allow_dotted_names: Resolve dotted method names through attributes.
            in_thread: Run its plain methods in a worker thread.
        """
        self.instance = instance
        self.allow_dotted_names = allow_dotted_names
        self._instance_in_thread = in_thread

    def register_introspection_functions(self) -> None:
        """Register ``system.listMethods``, ``methodSignature``, ``methodHelp``, ``getCapabilities``."""  # noqa: E501
        self.funcs.update(
            {
                "system.listMethods": self.system_listMethods,
                "system.methodSignature": self.system_methodSignature,
                "system.methodHelp": self.system_methodHelp,
                "system.getCapabilities": self.system_getCapabilities,
            }
        )

    def register_multicall_functions(self) -> None:
        """Register ``system.multicall``."""
        self.funcs["system.multicall"] = self.system_multicall

    # -- introspection -------------------------------------------------------------------

    def system_listMethods(self) -> list[str]:
        """Return the names of the methods the server offers, sorted."""
        methods = set(self.funcs)
        instance = self.instance
        if instance is not None:
            listed = getattr(instance, "_listMethods", None)
            if listed is not None:
                methods.update(listed())
            elif not hasattr(instance, "_dispatch"):
                methods.update(list_public_methods(instance))
        return sorted(methods)

    def system_methodSignature(self, method_name: str) -> list[list[str]] | str:
        """Return a method's signatures, ``[[return type, parameter types...], ...]``.

        Read from the method's type hints; ``"signatures not supported"`` where hints are
        missing or cannot be said in XML-RPC's types.
        """
        hook = getattr(self.instance, "_methodSignature", None)
        if method_name not in self.funcs and hook is not None:
            result: list[list[str]] | str = hook(method_name)
            return result
        function = self._introspected(method_name)
        if function is None:
            return NOT_SUPPORTED
        return method_signature(function)

    def system_methodHelp(self, method_name: str) -> str:
        """Return a method's documentation string."""
        hook = getattr(self.instance, "_methodHelp", None)
        if method_name not in self.funcs and hook is not None:
            return str(hook(method_name))
        function = self._introspected(method_name)
        return "" if function is None else method_help(function)

    def system_getCapabilities(self) -> dict[str, dict[str, object]]:
        """Return the specifications the server follows (xmlrpc-c's ``getCapabilities``)."""
        capabilities = dict(_CAPABILITIES)
        if "system.multicall" in self.funcs:
            capabilities["system.multicall"] = _MULTICALL_CAPABILITY
        if self.allow_none:
            capabilities["nil"] = _NIL_CAPABILITY
        return capabilities

    def _introspected(self, method_name: str) -> Callable[..., Any] | None:
        """The function behind ``method_name``; ``None`` behind a ``_dispatch`` hook.

        Raises:
            Fault: METHOD_NOT_FOUND, for a name the server does not offer.
        """
        function = self.funcs.get(method_name)
        if function is not None:
            return function
        instance = self.instance
        if instance is not None:
            if hasattr(instance, "_dispatch"):
                return None
            try:
                found = resolve_dotted_attribute(instance, method_name, self.allow_dotted_names)
            except AttributeError:
                pass
            else:
                if callable(found):
                    return found
        raise Fault(METHOD_NOT_FOUND, f'method "{method_name}" is not supported')

    # -- multicall -----------------------------------------------------------------------

    async def system_multicall(self, call_list: list[dict[str, Value]]) -> list[Value]:
        """Run several calls in one request; return ``[result]`` or a fault struct for each.

        ``call_list`` holds ``{"methodName": name, "params": [...]}`` structs.
        """
        if not isinstance(call_list, list):
            raise Fault(INVALID_METHOD_PARAMS, "system.multicall takes an array of calls")
        if len(call_list) > self.max_multicall_calls:
            raise Fault(
                INVALID_XMLRPC,
                f"system.multicall of {len(call_list)} calls exceeds "
                f"{self.max_multicall_calls} (max_multicall_calls)",
            )
        if self.multicall_concurrency == 1 or len(call_list) < 2:
            return [await self._multicall_one(call) for call in call_list]
        semaphore = asyncio.Semaphore(self.multicall_concurrency)

        async def bounded(call: Value) -> Value:
            async with semaphore:
                return await self._multicall_one(call)

        tasks = [asyncio.ensure_future(bounded(call)) for call in call_list]
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()  # only a BaseException leaves calls running

    async def _multicall_one(self, call: Value) -> Value:
        if not isinstance(call, dict):
            return _fault_struct(
                INVALID_XMLRPC, "system.multicall: each call must be a struct, not an array"
            )
        name = call.get("methodName")
        params = call.get("params", [])
        if not isinstance(name, str) or not isinstance(params, list):
            return _fault_struct(
                INVALID_XMLRPC,
                "system.multicall: each call needs a methodName string and a params array",
            )
        if name == "system.multicall":
            return _fault_struct(INVALID_XMLRPC, "system.multicall cannot be nested")
        try:
            return [await self._dispatch(name, tuple(params))]
        except Fault as fault:
            return _fault_struct(fault.faultCode, fault.faultString)
        except Exception as exc:
            failed = self._exception_fault(name, exc)
            return _fault_struct(failed.faultCode, failed.faultString)

    # -- calls ---------------------------------------------------------------------------

    def request_parser(self, limits: Limits | None = None) -> RequestParser:
        """A parser for one request body, with this dispatcher's options."""
        return RequestParser(
            use_datetime=self.use_datetime,
            use_builtin_types=self.use_builtin_types,
            limits=limits or _DEFAULT_LIMITS,
        )

    def parse_body(
        self, body: bytes, limits: Limits | None = None
    ) -> tuple[str, tuple[Value, ...]]:
        """Parse a whole request body: ``(method_name, params)``.

        Raises:
            ResponseError: A subclass saying why the body is refused.
        """
        limits = limits or _DEFAULT_LIMITS
        if limits.max_depth == DEFAULT_MAX_DEPTH and (
            limits.max_bytes is None or len(body) <= limits.max_bytes
        ):
            # The codec's loads() reads a whole body in one pass, where RequestParser
            # takes two (feed, then close); its limits are the defaults, checked above.
            try:
                params, method = loads(
                    body, use_datetime=self.use_datetime, use_builtin_types=self.use_builtin_types
                )
            except Fault:
                method = None
            if method is None:
                raise InvalidResponse("expected <methodCall>, found <methodResponse>")
            return method, params
        parser = self.request_parser(limits)
        parser.feed(body)
        return parser.close()

    async def dispatch_body(self, body: bytes, limits: Limits | None = None) -> bytes:
        """Answer a whole request body with a whole response body (a fault included)."""
        try:
            method, params = self.parse_body(body, limits)
        except ResponseError as exc:
            return self.fault_response(parse_error_fault(exc))
        return await self.call(method, params)

    async def call(self, method: str, params: tuple[Value, ...]) -> bytes:
        """Call ``method`` with ``params``; return the response body (a fault included)."""
        try:
            try:
                result = await self._dispatch(method, params)
            except Fault as fault:
                return self.fault_response(fault)
            except Exception as exc:
                return self.fault_response(self._exception_fault(method, exc))
            try:
                return self._marshal(result)
            except Exception as exc:  # the stdlib's answer to a value it cannot marshal
                return self.fault_response(self._exception_fault(method, exc))
        except Exception:  # pragma: no cover - a bug of ours, never the method's
            logger.exception("internal error answering %r", method)
            return self.fault_response(Fault(INTERNAL_ERROR, "internal error"))

    def _marshal(self, result: object) -> bytes:
        """The response body carrying ``result`` (a hook for subclasses)."""
        return encode_response(
            result, encoding=self.encoding, allow_none=self.allow_none, allow_i8=self.allow_i8
        )

    def fault_response(self, fault: Fault) -> bytes:
        """The response body carrying ``fault``."""
        try:
            return encode_fault(fault, encoding=self.encoding)
        except Exception:  # a fault string XML cannot carry, a code that is not an int
            logger.exception("cannot marshal %r", fault)
            return encode_fault(
                Fault(INTERNAL_ERROR, "internal error: cannot marshal the fault"),
                encoding=self.encoding,
            )

    def _exception_fault(self, method: str, exc: Exception) -> Fault:
        logger.debug("method %r raised", method, exc_info=exc)
        text = f"{type(exc)}:{exc}"
        if self.debug:
            text += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return Fault(1, text)

    async def _dispatch(self, method: str, params: tuple[Value, ...]) -> Any:
        """Find ``method`` and call it; the standard library's lookup order.

        Raises:
            Fault: METHOD_NOT_FOUND or INVALID_METHOD_PARAMS, or the method's own.
            Exception: Whatever the method raised.
        """
        function = self.funcs.get(method)
        if function is not None:
            threaded = method in self._in_thread
        else:
            instance = self.instance
            if instance is None:
                raise Fault(METHOD_NOT_FOUND, f'method "{method}" is not supported')
            hook = getattr(instance, "_dispatch", None)
            if hook is not None:
                if self._instance_in_thread:
                    return await asyncio.to_thread(hook, method, params)
                result = hook(method, params)
                return (await result) if inspect.isawaitable(result) else result
            try:
                found = resolve_dotted_attribute(instance, method, self.allow_dotted_names)
            except AttributeError:
                found = None
            if found is None or not callable(found):
                raise Fault(METHOD_NOT_FOUND, f'method "{method}" is not supported')
            function = found
            threaded = self._instance_in_thread
        if threaded:
            _check_binding(method, function, params)
            return await asyncio.to_thread(function, *params)
        try:
            result = function(*params)
        except TypeError as exc:
            # Raised by the call itself (no frame of the function's below ours): the
            # parameters do not fit the signature.
            if exc.__traceback__ is not None and exc.__traceback__.tb_next is None:
                raise Fault(INVALID_METHOD_PARAMS, f"{method}: {exc}") from None
            raise
        if type(result) not in _VALUE_TYPES and inspect.isawaitable(result):
            result = await result
        return result


_DEFAULT_LIMITS = Limits(max_bytes=DEFAULT_MAX_REQUEST_BYTES)
# What plain methods return, and never awaitable: a set lookup instead of the ABC check
# in inspect.isawaitable().
_VALUE_TYPES = frozenset({bool, int, float, str, bytes, list, tuple, dict, type(None)})


def _check_binding(method: str, function: Callable[..., object], params: tuple[Value, ...]) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a builtin without a signature: the call will tell
    try:
        signature.bind(*params)
    except TypeError as exc:
        raise Fault(INVALID_METHOD_PARAMS, f"{method}: {exc}") from None


def _fault_struct(code: int, text: str) -> dict[str, Value]:
    return {"faultCode": code, "faultString": text}
