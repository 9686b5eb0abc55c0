"""OpenTelemetry: spans and metrics of real calls, read back from the SDK's memory.

Each test gives the hook its own providers (the SDK's in-memory exporter and metric
reader), so nothing global is set but by :func:`aioxmlrpc.otel.instrument` itself,
which the instrument test undoes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from aioxmlrpc import AsyncServerProxy, ConnectionRefused, Fault, MultiCall, RetryPolicy, otel
from aioxmlrpc.codec import RequestParser, encode_fault, encode_response

XML = "text/xml"


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def hook(self, **options: Any) -> otel.OpenTelemetryHook:
        return otel.OpenTelemetryHook(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **options
        )

    def metrics(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = list(metric.data.data_points)
        return found


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def rpc(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        parser = RequestParser()
        parser.feed(await request.read())
        name, params = parser.close()
        if name == "fail":
            return web.Response(body=encode_fault(Fault(4, "boom")), content_type=XML)
        if name == "system.multicall":
            results: list[object] = []
            calls: list[dict[str, Any]] = params[0]  # type: ignore[assignment]
            for call in calls:
                if call["methodName"] == "fail":
                    results.append({"faultCode": 4, "faultString": "boom"})
                else:
                    results.append([1])
            return web.Response(body=encode_response(results), content_type=XML)
        return web.Response(body=encode_response([name, *params]), content_type=XML)

    app = web.Application()
    app.router.add_post("/RPC2", rpc)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/RPC2", seen
    finally:
        await runner.cleanup()


async def test_a_call_is_one_client_span_named_after_its_method(
    telemetry: Telemetry, server: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = server
    async with AsyncServerProxy(url, hooks=[telemetry.hook()]) as proxy:
        assert await proxy.user.get(7) == ["user.get", 7]
    [span] = telemetry.spans.get_finished_spans()
    assert span.name == "user.get"
    assert span.kind is SpanKind.CLIENT
    attributes: dict[str, Any] = dict(span.attributes or {})
    assert attributes["rpc.system"] == "xmlrpc"
    assert attributes["rpc.method"] == "user.get"
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["server.port"] == int(url.split(":")[2].split("/")[0])
    assert int(attributes["rpc.request.size"]) > 100
    assert int(attributes["rpc.response.size"]) > 100
    assert span.status.status_code is StatusCode.UNSET
    assert "traceparent" not in seen[0]  # propagation is opt in
    points = telemetry.metrics()
    [duration] = points["rpc.client.call.duration"]
    assert duration.count == 1
    assert dict(duration.attributes)["rpc.method"] == "user.get"
    assert points["rpc.client.request.size"][0].sum > 100


async def test_a_fault_sets_the_status_code_and_error_type(
    telemetry: Telemetry, server: tuple[str, list[dict[str, str]]]
) -> None:
    async with AsyncServerProxy(server[0], hooks=[telemetry.hook()]) as proxy:
        with pytest.raises(Fault):
            await proxy.fail()
    [span] = telemetry.spans.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes["rpc.response.status_code"] == "4"
    assert attributes["error.type"] == "4"
    assert span.status.status_code is StatusCode.ERROR
    [duration] = telemetry.metrics()["rpc.client.call.duration"]
    assert dict(duration.attributes)["error.type"] == "4"


async def test_retries_are_events_of_one_span_and_errors_set_error_type(
    telemetry: Telemetry,
) -> None:
    policy = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.01)
    hook = telemetry.hook()
    async with AsyncServerProxy("http://127.0.0.1:9/RPC2", hooks=[hook], retry=policy) as proxy:
        with pytest.raises(ConnectionRefused):
            await proxy.ping()
    [span] = telemetry.spans.get_finished_spans()
    assert [event.name for event in span.events if event.name == "retry"] == ["retry", "retry"]
    assert dict(span.attributes or {})["error.type"] == "aioxmlrpc.ConnectionRefused"
    assert any(event.name == "exception" for event in span.events)


async def test_a_multicall_is_one_span_with_its_items_and_faulted_items(
    telemetry: Telemetry, server: tuple[str, list[dict[str, str]]]
) -> None:
    async with AsyncServerProxy(server[0], hooks=[telemetry.hook()]) as proxy:
        multicall = MultiCall(proxy)
        multicall.ok()
        multicall.fail()
        multicall.ok()
        assert len(await multicall(return_exceptions=True)) == 3
    [span] = telemetry.spans.get_finished_spans()
    assert span.name == "system.multicall"
    assert dict(span.attributes or {})["rpc.xmlrpc.multicall.items"] == 3
    faults = [dict(event.attributes or {}) for event in span.events if event.name == "fault"]
    assert faults == [{"index": 1, "rpc.response.status_code": "4"}]


async def test_method_names_past_the_list_become_other(
    telemetry: Telemetry, server: tuple[str, list[dict[str, str]]]
) -> None:
    async with AsyncServerProxy(server[0], hooks=[telemetry.hook(methods={"a"})]) as proxy:
        await proxy.a()
        await proxy.b()
    names = sorted(span.name for span in telemetry.spans.get_finished_spans())
    assert names == ["_OTHER", "a"]
    methods = {
        dict(p.attributes)["rpc.method"] for p in telemetry.metrics()["rpc.client.call.duration"]
    }
    assert methods == {"a", "_OTHER"}


async def test_traceparent_is_sent_when_asked_and_links_to_the_callers_span(
    telemetry: Telemetry, server: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = server
    tracer = telemetry.tracer_provider.get_tracer("test")
    async with AsyncServerProxy(url, hooks=[telemetry.hook(propagate=True)]) as proxy:
        with tracer.start_as_current_span("caller") as parent:
            await proxy.x()
    child = next(s for s in telemetry.spans.get_finished_spans() if s.name == "x")
    assert child.parent is not None
    assert child.parent.span_id == parent.get_span_context().span_id
    traceparent = seen[0]["traceparent"]
    assert traceparent.split("-")[1] == f"{child.context.trace_id:032x}"
    assert traceparent.split("-")[2] == f"{child.context.span_id:016x}"


async def test_instrument_covers_every_proxy_until_uninstrument(
    telemetry: Telemetry, server: tuple[str, list[dict[str, str]]]
) -> None:
    async with AsyncServerProxy(server[0]) as proxy:
        otel.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        )
        try:
            await proxy.before()  # a proxy made before instrument() is covered too
        finally:
            otel.uninstrument()
        await proxy.after()
    assert [span.name for span in telemetry.spans.get_finished_spans()] == ["before"]
    assert trace.get_tracer_provider() is not telemetry.tracer_provider  # nothing global set


def test_the_core_never_imports_opentelemetry() -> None:
    code = (
        "import sys, aioxmlrpc, aioxmlrpc.hooks; aioxmlrpc.AsyncServerProxy; aioxmlrpc.RetryPolicy;"
        "print(any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
