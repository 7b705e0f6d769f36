"""Helpers for the OpenTelemetry observer's tests: SDK providers of the test's own (never the
global ones), and readers for what they collected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from observer_support import CANARY  # noqa: F401 (the test module imports it from here)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.llms.observability import Observability, enable
from core.llms.observability.otel import OTelObserver


@dataclass
class Telemetry:
    """An observer wired to in-memory SDK providers, registered with the plugin manager."""

    observer: OTelObserver
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    handle: Observability

    def spans(self) -> list[ReadableSpan]:
        """The finished spans, oldest first."""
        return list(self.exporter.get_finished_spans())

    def span(self) -> ReadableSpan:
        """The one finished span."""
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def metrics(self) -> dict[str, Any]:
        """Metric name -> its SDK metric (name, unit, data.data_points)."""
        data = self.reader.get_metrics_data()
        out: dict[str, Any] = {}
        if data is None:
            return out
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    out[metric.name] = metric
        return out

    def points(self, name: str) -> list[Any]:
        """The data points of metric ``name`` (none when it was not recorded)."""
        metric = self.metrics().get(name)
        return list(metric.data.data_points) if metric is not None else []


def make_telemetry(capture_content: bool | None = False) -> Telemetry:
    """A fresh observer on fresh SDK providers, registered (``handle.disable()`` to undo)."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    observer = OTelObserver(
        tracer_provider=tracer_provider, meter_provider=meter_provider, capture_content=capture_content
    )
    handle = enable(otel=observer)
    return Telemetry(observer, exporter, reader, tracer_provider, handle)


def exported_strings(telemetry: Telemetry) -> Iterator[str]:
    """Every string the providers hold: span names, attribute values and keys, event names and
    attributes, status descriptions, metric attributes."""
    for span in telemetry.spans():
        yield span.name
        if span.status.description:
            yield span.status.description
        yield from _strings(dict(span.attributes or {}))
        for event in span.events:
            yield event.name
            yield from _strings(dict(event.attributes or {}))
    for metric in telemetry.metrics().values():
        for point in metric.data.data_points:
            yield from _strings(dict(point.attributes or {}))


def _strings(attributes: dict[str, Any]) -> Iterator[str]:
    for key, value in attributes.items():
        yield key
        values = value if isinstance(value, tuple | list) else (value,)
        for item in values:
            yield str(item)


def fragments(secret: str, size: int = 8) -> list[str]:
    """Every ``size``-character piece of ``secret``."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]
