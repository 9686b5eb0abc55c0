"""OpenTelemetry for XML-RPC calls: a span per call, named after its method, and metrics.

Needs the ``otel`` extra (``pip install aioxmlrpc[otel]``, the OpenTelemetry API); the
rest of the package never imports it. Turn it on for every proxy, as OpenTelemetry's own
instrumentors do::

    from aioxmlrpc import otel

    otel.instrument()        # every proxy, existing and future
    ...
    otel.uninstrument()

or for one proxy, as a hook: ``AsyncServerProxy(url, hooks=[otel.OpenTelemetryHook()])``.

Each logical call is one ``CLIENT`` span (retries are events inside it), named after the
XML-RPC method: ``rpc.system`` is ``xmlrpc``, ``rpc.method`` the method, and
``server.address``/``server.port`` where the call went. A Fault sets
``rpc.response.status_code`` to its code and ``error.type`` to it too; another failure
sets ``error.type`` to the exception's class. A MultiCall is one span with
``rpc.xmlrpc.multicall.items`` and an event per faulted item. Metrics: the
``rpc.client.call.duration`` histogram (seconds) and ``rpc.client.request.size`` and
``rpc.client.response.size`` (bytes). The full mapping is in the observability guide.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import hooks
from ._exceptions import Fault
from ._version import __version__
from .hooks import CallInfo, Hook

__all__ = ["OpenTelemetryHook", "instrument", "uninstrument"]

#: Distinct method names a hook uses for span names and metric attributes when no list
#: is given; past them, ``_OTHER`` (method names come from the wire, and may not be few).
MAX_METHOD_NAMES = 256
OTHER = "_OTHER"


class OpenTelemetryHook(Hook):
    """Spans and metrics for the calls it sees (see the module docstring).

    Args:
        tracer_provider: Where spans go; the global provider by default.
        meter_provider: Where metrics go; the global provider by default.
        methods: The method names to use as span names and metric attributes; others
            become ``_OTHER`` (``rpc.method`` on the span keeps the real name). By
            default the first 256 distinct names seen, then ``_OTHER``.
        propagate: Send the W3C ``traceparent`` (and the global propagator's other
            headers) with each request. Off by default: it tells the server about your
            traces.
    """

    def __init__(
        self,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        methods: Collection[str] | None = None,
        propagate: bool = False,
    ) -> None:
        """Make the tracer, the meter and its instruments."""
        self._tracer = trace.get_tracer("aioxmlrpc", __version__, tracer_provider)
        meter = metrics.get_meter("aioxmlrpc", __version__, meter_provider)
        self._duration = meter.create_histogram(
            "rpc.client.call.duration", unit="s", description="Duration of XML-RPC calls"
        )
        self._request_size = meter.create_histogram(
            "rpc.client.request.size", unit="By", description="Size of XML-RPC request bodies"
        )
        self._response_size = meter.create_histogram(
            "rpc.client.response.size", unit="By", description="Size of XML-RPC reply bodies"
        )
        self._methods = frozenset(methods) if methods is not None else None
        self._seen: set[str] = set()
        self._propagate = propagate

    def _name(self, method: str) -> str:
        if self._methods is not None:
            return method if method in self._methods else OTHER
        if method in self._seen:
            return method
        if len(self._seen) < MAX_METHOD_NAMES:
            self._seen.add(method)
            return method
        return OTHER

    def on_request(self, call: CallInfo) -> None:
        """Start the call's span on its first attempt; propagate its context if asked."""
        span = call.state.get(self)
        if span is None:
            name = self._name(call.method)
            attributes: dict[str, Any] = {
                "rpc.system": "xmlrpc",
                "rpc.method": call.method,
                "rpc.request.size": call.request_size,
                **_server(call.url),
            }
            if call.items is not None:
                attributes["rpc.xmlrpc.multicall.items"] = call.items
            span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
            call.state[self] = span
        if self._propagate:
            propagate.inject(call.headers, context=trace.set_span_in_context(span))

    def on_retry(self, call: CallInfo, error: BaseException, delay: float) -> None:
        """Record the failed attempt as an event of the call's span."""
        span = call.state.get(self)
        if span is not None:
            span.add_event(
                "retry",
                {"attempt": call.attempt, "error.type": _error_type(error), "delay": delay},
            )

    def on_response(self, call: CallInfo, result: Any) -> None:
        """End the span; for a MultiCall, an event per faulted item."""
        span = call.state.pop(self, None)
        if span is None:
            return
        if call.items is not None and isinstance(result, list):
            for index, item in enumerate(result):
                if isinstance(item, dict) and "faultCode" in item:
                    span.add_event(
                        "fault",
                        {"index": index, "rpc.response.status_code": str(item["faultCode"])},
                    )
        self._end(call, span, None)

    def on_fault(self, call: CallInfo, fault: Fault) -> None:
        """End the span with the fault's code."""
        span = call.state.pop(self, None)
        if span is not None:
            code = str(fault.faultCode)
            span.set_attribute("rpc.response.status_code", code)
            span.set_status(Status(StatusCode.ERROR, str(fault.faultString)[:200]))
            self._end(call, span, code)

    def on_error(self, call: CallInfo, error: BaseException) -> None:
        """End the span with the error's type."""
        span = call.state.pop(self, None)
        if span is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            self._end(call, span, _error_type(error))

    def _end(self, call: CallInfo, span: Any, error_type: str | None) -> None:
        if call.response_size is not None:
            span.set_attribute("rpc.response.size", call.response_size)
        if error_type is not None:
            span.set_attribute("error.type", error_type)
        span.end()
        attributes: dict[str, Any] = {
            "rpc.system": "xmlrpc",
            "rpc.method": self._name(call.method),
            **_server(call.url),
        }
        if error_type is not None:
            attributes["error.type"] = error_type
        self._duration.record(call.elapsed, attributes)
        self._request_size.record(call.request_size, attributes)
        if call.response_size is not None:
            self._response_size.record(call.response_size, attributes)


def _server(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    attributes: dict[str, Any] = {}
    if parts.hostname:
        attributes["server.address"] = parts.hostname
    if parts.port is not None:
        attributes["server.port"] = parts.port
    elif parts.scheme in ("http", "https"):
        attributes["server.port"] = 443 if parts.scheme == "https" else 80
    return attributes


def _error_type(error: BaseException) -> str:
    if isinstance(error, Fault):
        return str(error.faultCode)
    cls = type(error)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    if module.startswith("aioxmlrpc."):
        module = "aioxmlrpc"  # the public name: aioxmlrpc.ConnectionRefused
    return f"{module}.{cls.__qualname__}"


_installed: OpenTelemetryHook | None = None


def instrument(**options: Any) -> OpenTelemetryHook:
    """Trace and measure the calls of every proxy; ``options`` as :class:`OpenTelemetryHook`.

    Calling it again replaces the hook installed before.
    """
    global _installed
    uninstrument()
    _installed = OpenTelemetryHook(**options)
    hooks.install(_installed)
    return _installed


def uninstrument() -> None:
    """Undo :func:`instrument`; spans already started still end."""
    global _installed
    if _installed is not None:
        hooks.uninstall(_installed)
        _installed = None
