"""The cost of observability (issue 15): CPU per request at concurrency 64 with the observers on,
against core-llms with none and raw aiohttp, in one run.

    python -m benchmarks.observability [--requests 20000] [--rounds 5]     the stage alone
    python -m benchmarks.observability measure VARIANT --url URL [--requests N]

Variants, each in a fresh process pinned to CPU 0 against the raw-asyncio mock server on CPU 1
(``benchmarks/mockserver.py``; the same non-streamed chat completion each time, 64 tasks):

* ``raw``: raw aiohttp (the workers of ``benchmarks/batch.py``) — the baseline;
* ``core``: ``llm.get_answer`` with no observer (nothing of :mod:`core.llms.observability`
  is imported: the process checks it);
* ``otel+metrics``: the same with ``observability.enable(otel=True, metrics=True)``: a span per
  call through the OpenTelemetry SDK (``TracerProvider`` + ``BatchSpanProcessor`` exporting to
  an exporter that drops the spans, so the export thread's CPU counts too), the GenAI metrics
  through a ``MeterProvider`` with a periodic reader, and the in-memory recorder;
* ``otel-sampled``: ``otel+metrics`` with the sampler a busy service would use,
  ``ParentBased(TraceIdRatioBased(0.1))``: one call in ten records a span (every call still
  records the metrics and sends a ``traceparent``);
* ``all``: ``otel+metrics`` plus Prometheus (a fresh ``CollectorRegistry``) and the call log
  (INFO records through the ``core.llms.calls`` logger to a handler that formats and drops them).

``measure`` prints one JSON line with ``cpu_us_per_request`` (user + system CPU of the whole
process over the timed requests, after a warm-up). The stage interleaves the variants round by
round (order rotated) and reports each round's ratio to ``raw`` (target for ``otel+metrics``:
at most 1.3 times).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
from collections.abc import Callable
from typing import Any

from ._proc import cpu_seconds
from .batch import CONCURRENCY, KEY, MODEL, _raw
from .entrypoints import interleaved, measure_module, stage_main
from .targets import TIMES

VARIANTS = ("raw", "core", "otel+metrics", "otel-sampled", "all")
WARMUP = 2000
REQUESTS = 20_000
TIMEOUT_S = 600


def _switch_on(variant: str) -> Any:
    """Enable the variant's observers (the SDK set up as a service would)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        MetricExporter,
        MetricExportResult,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from core.llms import observability

    class DropSpans(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    class DropMetrics(MetricExporter):
        def export(
            self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any
        ) -> MetricExportResult:
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            return None

    sampler = None
    if variant == "otel-sampled":
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        sampler = ParentBased(TraceIdRatioBased(0.1))
    tracer_provider = TracerProvider(sampler=sampler)
    tracer_provider.add_span_processor(BatchSpanProcessor(DropSpans()))
    reader = PeriodicExportingMetricReader(DropMetrics(), export_interval_millis=5_000)
    meter_provider = MeterProvider(metric_readers=[reader])
    extra: dict[str, Any] = {}
    if variant == "all":
        from prometheus_client import CollectorRegistry

        class Drop(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                self.format(record)

        calls = logging.getLogger("core.llms.calls")
        calls.setLevel(logging.INFO)
        calls.addHandler(Drop())
        calls.propagate = False
        extra = {"prometheus": True, "logs": True, "registry": CollectorRegistry()}
    return observability.enable(
        otel=True, metrics=True, tracer_provider=tracer_provider, meter_provider=meter_provider, **extra
    )


async def _core(url: str, n: int) -> None:
    from core.llms import create_llm

    llm = create_llm(f"openai/{MODEL}", endpoint=f"{url}/v1", api_key=KEY)
    left = iter(range(n))

    async def worker() -> None:
        for _ in left:
            answer = await llm.get_answer("hi")
            if not answer.text:
                raise RuntimeError("empty answer")

    async with llm:
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def measure(variant: str, url: str, requests: int, warmup: int = WARMUP) -> dict[str, Any]:
    """One variant's CPU per request in this process."""
    if variant != "raw" and variant != "core":
        _switch_on(variant)

    def run(n: int) -> None:
        asyncio.run(_raw(url, n, None) if variant == "raw" else _core(url, n))

    run(warmup)
    start = cpu_seconds()
    run(requests)
    cpu = cpu_seconds() - start
    loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry", "core.llms.observability")))
    if variant == "core" and loaded:
        raise RuntimeError(f"observability code was imported with no observer on: {loaded}")
    return {"cpu_us_per_request": cpu / requests * 1e6, "requests": requests}


def measure_in_process(variant: str, url: str, requests: int, cpu: int = 0) -> dict[str, Any]:
    """``measure`` in a fresh process pinned to ``cpu``: its JSON answer, or ``{"error": ...}``."""
    return measure_module("benchmarks.observability", variant, url, requests, cpu, TIMEOUT_S)


def run_stage(
    url: str, rounds: int, requests: int, say: Callable[[str], None]
) -> dict[str, list[dict[str, Any]]]:
    """Every variant, interleaved round by round: ``{variant: [answer per round]}``."""
    label = f"observability ({requests:,} requests)"
    return interleaved(VARIANTS, rounds, label, lambda v: measure_in_process(v, url, requests), say)


def summary(samples: dict[str, list[dict[str, Any]]]) -> str:
    """Per-round CPU per request and each variant's ratio to raw aiohttp."""
    others = VARIANTS[1:]
    lines = [
        "| round | raw aiohttp µs | " + " | ".join(f"{v} µs (ratio)" for v in others) + " |",
        "|---|---:|" + "---:|" * len(others),
    ]
    ratios: dict[str, list[float]] = {v: [] for v in others}
    for i, raw in enumerate(samples["raw"]):
        base = raw.get("cpu_us_per_request")
        cells = []
        for variant in others:
            value = samples[variant][i].get("cpu_us_per_request")
            if base and value:
                ratios[variant].append(value / base)
                cells.append(f"{value:.1f} ({value / base:.2f}{TIMES})")
            else:
                cells.append("—")
        lines.append(f"| {i + 1} | {base:.1f} | " + " | ".join(cells) + " |" if base else f"| {i + 1} | — |")
    medians = [
        f"{statistics.median(r):.2f}{TIMES} ({min(r):.2f}-{max(r):.2f})" if r else "—"
        for r in ratios.values()
    ]
    lines.append("| median | | " + " | ".join(medians) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    stage_main(
        argv,
        prog="benchmarks.observability",
        doc=__doc__ or "",
        variants=VARIANTS,
        rounds=5,
        requests=REQUESTS,
        measure=measure,
        run_stage=run_stage,
        summary=summary,
    )


if __name__ == "__main__":
    main()
