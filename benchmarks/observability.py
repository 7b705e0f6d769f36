"""The cost of observability (issue 15): CPU per request at concurrency 64 with the observers on,
against core-llms with none and raw aiohttp, in one run.

    python -m benchmarks.observability [--requests 20000] [--rounds 5]     the stage alone
    python -m benchmarks.observability measure VARIANT --url URL [--requests N]

Variants, each in a fresh process pinned to CPU 0 against the raw-asyncio mock server on CPU 1
(``benchmarks/mockserver.py``; the same non-streamed chat completion each time, 64 tasks):

* ``raw``: raw aiohttp (the workers of ``benchmarks/batch.py``) — the baseline;
* ``raw+otel``: the same raw aiohttp workers sending, by hand, the telemetry ``otel+metrics``
  sends, through the same SDK set-up: one CLIENT span per request with the same attributes (at
  its start: operation, provider, ``gen_ai.system``, model, server address and port; at its end:
  response id and model, finish reasons, tokens), the same attempt event, a ``traceparent``
  header, and the same three histogram records with the same attributes. No core-llms code runs:
  this is the OpenTelemetry SDK's own floor, what any client pays for that telemetry;
* ``raw+otel-min``: the same with only what the GenAI conventions require of a successful call
  (operation, provider and request model on the span and on each histogram record; the token
  type on the token records), no event and no response attributes: the floor of any GenAI
  instrumentation on the Python SDK;
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
import time
from collections.abc import Callable
from typing import Any

from ._proc import cpu_seconds
from .batch import CONCURRENCY, KEY, MODEL, _raw
from .entrypoints import interleaved, measure_module, stage_main
from .targets import TIMES

VARIANTS = ("raw", "raw+otel", "raw+otel-min", "core", "otel+metrics", "otel-sampled", "all")
WARMUP = 2000
REQUESTS = 20_000
TIMEOUT_S = 600


def _sdk(variant: str) -> tuple[Any, Any]:
    """The OpenTelemetry SDK set up as a service would: (tracer provider, meter provider)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        MetricExporter,
        MetricExportResult,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

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
    return tracer_provider, MeterProvider(metric_readers=[reader])


def _switch_on(variant: str) -> Any:
    """Enable the variant's observers on the SDK of :func:`_sdk`."""
    from core.llms import observability

    tracer_provider, meter_provider = _sdk(variant)
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


class _HandInstrumented:
    """What a GenAI-instrumented raw client does per request with the OpenTelemetry SDK (the
    ``raw+otel`` variant; ``minimal``: ``raw+otel-min``): nothing cached but the attribute dicts
    that never change."""

    def __init__(self, minimal: bool = False) -> None:
        self.minimal = minimal
        from opentelemetry.trace import SpanKind

        tracer_provider, meter_provider = _sdk("raw+otel")
        self.tracer = tracer_provider.get_tracer("bench")
        meter = meter_provider.get_meter("bench")
        self.duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
        self.tokens = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
        self.kind = SpanKind.CLIENT
        self.start_attrs: dict[str, Any] = {}  # (set when the server's address is known)
        self.labels: tuple[dict[str, Any], ...] = ()

    def _attributes(self, url: str) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        server = {"server.address": parts.hostname, "server.port": parts.port}
        common = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}
        common["gen_ai.request.model"] = MODEL
        self.start_attrs = common if self.minimal else {**common, "gen_ai.system": "openai", **server}
        labels = common if self.minimal else {**common, "gen_ai.response.model": MODEL, **server}
        self.labels = (
            labels,
            {**labels, "gen_ai.token.type": "input"},
            {**labels, "gen_ai.token.type": "output"},
        )

    async def run(self, url: str, n: int) -> None:
        import aiohttp

        self._attributes(url)
        body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
        target = f"{url}/v1/chat/completions"
        name = f"chat {MODEL}"
        left = iter(range(n))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

            async def worker() -> None:
                for _ in left:
                    started = time.perf_counter()
                    span = self.tracer.start_span(name, kind=self.kind, attributes=self.start_attrs)
                    ids = span.get_span_context()
                    headers = {
                        "Authorization": f"Bearer {KEY}",
                        "traceparent": f"00-{ids.trace_id:032x}-{ids.span_id:016x}-{ids.trace_flags:02x}",
                    }
                    async with session.post(target, json=body, headers=headers) as response:
                        response.raise_for_status()
                        data = await response.json()
                    text = data["choices"][0]["message"]["content"]
                    if not text:
                        raise RuntimeError("empty answer")
                    usage = data["usage"]
                    if not self.minimal:
                        self._describe(span, data, target, response.status, started)
                    span.end()
                    self.duration.record(time.perf_counter() - started, self.labels[0])
                    self.tokens.record(usage["prompt_tokens"], self.labels[1])
                    self.tokens.record(usage["completion_tokens"], self.labels[2])

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

    @staticmethod
    def _describe(span: Any, data: Any, target: str, status: int, started: float) -> None:
        """The attempt event and the response attributes ``otel+metrics`` sends."""
        usage = data["usage"]
        span.add_event(
            "core_llms.attempt",
            {
                "core_llms.endpoint": target,
                "core_llms.attempt": 1,
                "core_llms.action": "done",
                "core_llms.breaker": "closed",
                "http.response.status_code": status,
                "core_llms.duration": time.perf_counter() - started,
            },
        )
        span.set_attributes(
            {
                "gen_ai.response.id": data["id"],
                "gen_ai.response.model": data["model"],
                "gen_ai.response.finish_reasons": (data["choices"][0]["finish_reason"],),
                "gen_ai.usage.input_tokens": usage["prompt_tokens"],
                "gen_ai.usage.output_tokens": usage["completion_tokens"],
            }
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
    hand = _HandInstrumented(minimal=variant == "raw+otel-min") if variant.startswith("raw+") else None
    if variant not in ("raw", "core") and hand is None:
        _switch_on(variant)

    def run(n: int) -> None:
        if variant == "raw":
            asyncio.run(_raw(url, n, None))
        elif hand is not None:
            asyncio.run(hand.run(url, n))
        else:
            asyncio.run(_core(url, n))

    run(warmup)
    start = cpu_seconds()
    run(requests)
    cpu = cpu_seconds() - start
    loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry", "core.llms.observability")))
    if variant == "core" and loaded:
        raise RuntimeError(f"observability code was imported with no observer on: {loaded}")
    return {"cpu_us_per_request": cpu / requests * 1e6, "requests": requests}


def measure_in_process(
    variant: str, url: str, requests: int, cpu: int = 0, warmup: int | None = None
) -> dict[str, Any]:
    """``measure`` in a fresh process pinned to ``cpu`` (-1: not pinned): its JSON answer, or
    ``{"error": ...}``."""
    return measure_module("benchmarks.observability", variant, url, requests, cpu, TIMEOUT_S, warmup)


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
