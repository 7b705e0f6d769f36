"""The figures the suite reports and the issue's targets for core-llms, with the guard's check."""

from __future__ import annotations

from dataclasses import dataclass

#: allowed slack before the guard fails: a target "regresses" when a figure exceeds it by 20%.
REGRESSION_SLACK = 1.2
#: the multiplication sign written after ratios.
TIMES = "\u00d7"


#: the mock server every figure is measured against (benchmarks/mockserver.py, raw asyncio).
PRIMARY_SERVER = "asyncio-raw"
#: the other mock servers the CPU per request is measured against too, with their labels:
#: ``uvloop-web`` is measured by default, ``uvloop-raw`` on request (``--servers``).
OTHER_SERVERS: dict[str, str] = {
    "uvloop-web": "aiohttp.web mock on uvloop",
    "uvloop-raw": "raw mock on uvloop",
}
#: the concurrencies of the CPU-per-request figures.
CPU_LEVELS = (1, 64, 512)


def cpu_key(concurrency: int, server: str = PRIMARY_SERVER) -> str:
    """The figure key of CPU per request at ``concurrency`` against ``server``: ``cpu_us_c64``
    for the primary mock server, ``cpu_us_c64@uvloop-web`` for another."""
    key = f"cpu_us_c{concurrency}"
    return key if server == PRIMARY_SERVER else f"{key}@{server}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One reported figure: ``key`` in the result JSON, a label and its unit.

    Its ratio is to raw aiohttp's same figure of the same round, unless ``baseline`` names
    another figure: then to that figure of the same client and round (``versus`` says what it
    is, in words, for the targets)."""

    key: str
    label: str
    unit: str
    digits: int = 0
    baseline: str | None = None
    versus: str = ""


#: the entry points' CPU per request (benchmarks/entrypoints.py; issue 13): the same request
#: sent sequentially through ``client.chat``, LiteLLM's ``completion`` / ``acompletion``, each a
#: ratio to a direct ``llm.get_answer`` of the same round (not to raw aiohttp).
ENTRY_BASELINE = "cpu_us_per_request_direct"
ENTRY_FIGURES: tuple[Figure, ...] = (
    Figure(ENTRY_BASELINE, "CPU per request, direct `llm.get_answer`, concurrency 1", "µs", 1),
    *(
        Figure(
            key,
            f"CPU per request, {call}, concurrency 1",
            "µs",
            1,
            baseline=ENTRY_BASELINE,
            versus="direct get_answer",
        )
        for key, call in (
            ("cpu_us_per_request_client_chat", "`client.chat`"),
            ("cpu_us_per_request_completion", "compat `completion()` from sync code"),
            ("cpu_us_per_request_acompletion", "compat `acompletion()`"),
        )
    ),
)

FIGURES: tuple[Figure, ...] = (
    Figure("import_ms", "import + create client", "ms", 1),
    Figure("cold_start_ms", "cold start to first answer (import, create, first call)", "ms", 1),
    Figure("first_call_ms", "first call alone, fresh process (informational)", "ms", 2),
    Figure("cpu_us_c1", "CPU per request, concurrency 1", "µs"),
    Figure("cpu_us_c64", "CPU per request, concurrency 64", "µs"),
    Figure("cpu_us_c512", "CPU per request, concurrency 512", "µs"),
    *(
        Figure(cpu_key(c, server), f"CPU per request, concurrency {c}, {label}", "µs")
        for server, label in OTHER_SERVERS.items()
        for c in CPU_LEVELS
    ),
    Figure("cpu_us_per_chunk", "CPU per streamed chunk, concurrency 32", "µs", 2),
    Figure("ttfc_ms", "time to first chunk, concurrency 32 (paced)", "ms", 2),
    Figure("cpu_us_per_chunk_paced", "CPU per streamed chunk, concurrency 32 (paced)", "µs", 2),
    Figure("peak_rss_mb", "peak RSS, 1,000 concurrent streams", "MB", 1),
    Figure(
        "cpu_us_per_chunk_anthropic",
        "CPU per streamed chunk, Anthropic Messages (SSE), concurrency 16",
        "µs",
        2,
    ),
    Figure(
        "cpu_us_per_chunk_gemini",
        "CPU per streamed chunk, Gemini streamGenerateContent (SSE), concurrency 16",
        "µs",
        2,
    ),
    Figure(
        "cpu_us_per_chunk_bedrock",
        "CPU per streamed chunk, Bedrock ConverseStream (baseline: botocore's parser), concurrency 16",
        "µs",
        2,
    ),
    #: issue 14: 100,000 requests through RequestManager (benchmarks/batch.py)
    Figure("cpu_us_batch", "CPU per request, 100,000 requests through the batch path, c=64", "µs", 1),
    Figure(
        "cpu_us_batch_cache_hit",
        "CPU per request, batch path, every request a cache hit",
        "µs",
        1,
        baseline="cpu_us_batch",
        versus="a request sent by the batch path",
    ),
    Figure("peak_rss_mb_batch", "peak RSS, 100,000 requests through the batch path", "MB", 1),
    #: issue 15: observability on (benchmarks/observability.py)
    Figure("cpu_us_observed", "CPU per request, c=64, OpenTelemetry + metrics + recorder on", "µs", 1),
    Figure("cpu_us_observed_all", "CPU per request, c=64, every observer on (+ Prometheus, logs)", "µs", 1),
    Figure(
        "cpu_us_observed_floor",
        "CPU per request, c=64, raw aiohttp sending the same OpenTelemetry span and metrics by hand "
        "(the SDK's floor; no core-llms code)",
        "µs",
        1,
    ),
    Figure(
        "cpu_us_observed_floor_min",
        "CPU per request, c=64, raw aiohttp sending by hand only what the GenAI conventions require "
        "(span + duration and token histograms; informational)",
        "µs",
        1,
    ),
    Figure(
        "cpu_us_observed_vs_floor",
        "CPU per request, c=64, OpenTelemetry + metrics + recorder on",
        "µs",
        1,
        baseline="cpu_us_observed_floor",
        versus="raw aiohttp sending the same telemetry by hand",
    ),
    Figure("failover_first_extra_ms", "refused primary, first time: extra latency", "ms", 3),
    Figure("failover_open_extra_ms", "refused primary, breaker open: extra latency", "ms", 3),
    *ENTRY_FIGURES,
)

FIGURE_BY_KEY = {f.key: f for f in FIGURES}


@dataclass(frozen=True, slots=True)
class Target:
    """core-llms must keep ``key`` at or under ``limit``: a ratio (to raw aiohttp, or to the
    figure's ``baseline``), or absolute."""

    key: str
    limit: float
    ratio: bool = True
    #: why a target is known not to be met yet (the guard then reports it without failing: only a
    #: guard against a baseline, ``--baseline``, can catch it getting worse).
    unmet: str = ""

    def describe(self) -> str:
        figure = FIGURE_BY_KEY[self.key]
        if not self.ratio:
            return f"≤ {self.limit:g} {figure.unit}"
        return f"≤ {self.limit:g}{TIMES}" + (f" {figure.versus}" if figure.baseline else "")


#: the CPU per request target at every concurrency, against both default mock servers (the
#: issue on the outside harness: 1.15x at c=1, 64 and 512, on the suite's raw-asyncio mock and
#: on a uvloop-based one; it was 1.3x at c=64 and 512 on the raw-asyncio mock only).
CPU_TARGET = 1.15
#: ``client.chat`` and ``completion()`` against a direct ``get_answer`` (issue 13).
ENTRY_TARGET = 1.15

#: issue 4, "Targets" (ratios to raw aiohttp in the same run). "first completed call <= 1.3x" is
#: judged as cold start to first answer (import + create + first call in a fresh process): a
#: client that loads its HTTP stack on first use moves cost from the import to the first call,
#: and only the sum is what a serverless function or a CLI waits for. The first call alone is
#: still reported (informational).
TARGETS: tuple[Target, ...] = (
    Target("import_ms", 1.0),
    Target("cold_start_ms", 1.3),
    *(
        Target(cpu_key(c, server), CPU_TARGET)
        for server in (PRIMARY_SERVER, "uvloop-web")
        for c in CPU_LEVELS
    ),
    Target("cpu_us_per_chunk", 1.5),
    Target("ttfc_ms", 1.2),
    Target("peak_rss_mb", 1.5),
    #: the native dialects' streams against a baseline reading the same bytes (benchmarks/dialects.py)
    Target("cpu_us_per_chunk_anthropic", 1.5),
    Target("cpu_us_per_chunk_gemini", 1.5),
    Target("cpu_us_per_chunk_bedrock", 1.5),
    #: issue 13: the client and LiteLLM's sync call cost at most 1.15x a direct get_answer
    Target("cpu_us_per_request_client_chat", ENTRY_TARGET),
    Target("cpu_us_per_request_completion", ENTRY_TARGET),
    #: issue 14: the batch path's CPU per request at most 1.3x raw aiohttp doing the same work
    Target("cpu_us_batch", 1.3),
    #: issue 15: with OpenTelemetry and the metrics on, at most 1.3x raw aiohttp (same run)
    Target(
        "cpu_us_observed",
        1.3,
        unmet="below the SDK's floor: raw aiohttp sending the same telemetry by hand is ~2x raw aiohttp "
        "(cpu_us_observed_floor; docs/observability.md)",
    ),
    #: what core-llms adds to that telemetry: at most 1.3x a raw client sending it by hand
    Target("cpu_us_observed_vs_floor", 1.3),
    Target("failover_first_extra_ms", 5.0, ratio=False),
    Target("failover_open_extra_ms", 0.1, ratio=False),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's view of one target: the measured figure, the target, and the limit applied."""

    target: Target
    measured: float | None
    allowed: float
    meets_target: bool
    passed: bool
    note: str = ""


def check(
    figures: dict[str, dict[str, float | None]],
    baseline: dict[str, dict[str, float | None]] | None = None,
    skip: frozenset[str] | set[str] = frozenset(),
) -> list[Verdict]:
    """Judge core-llms against every target (``figures[key]`` holds ``ratio`` and ``value``).

    Without ``baseline`` a figure fails the guard when it exceeds its target by more than
    :data:`REGRESSION_SLACK` (20%). With ``baseline`` (the same mapping from an earlier run) the
    guard asks "did this change make things worse?": a ratio fails when it is more than 20% above
    the baseline's; an absolute figure (sub-millisecond, noisy) only when it is also above its
    target. ``meets_target`` always says whether the target itself is met. Targets whose key is
    in ``skip`` (figures of a mock server that could not run, e.g. uvloop missing) are left out.
    """
    verdicts = []
    for target in TARGETS:
        if target.key in skip:
            continue
        entry = figures.get(target.key, {})
        measured = entry.get("ratio") if target.ratio else entry.get("value")
        allowed = target.limit * REGRESSION_SLACK
        note = ""
        if baseline is not None:
            before = baseline.get(target.key, {})
            old = before.get("ratio") if target.ratio else before.get("value")
            if old is not None:
                relative = old * REGRESSION_SLACK
                allowed = relative if target.ratio else max(relative, target.limit)
                note = f"baseline {old:.3g}"
        if measured is None:
            verdicts.append(Verdict(target, None, allowed, False, False, "not measured"))
            continue
        passed = measured <= allowed
        if not passed and target.unmet and baseline is None:
            passed, note = True, f"known unmet: {target.unmet}"
        verdicts.append(Verdict(target, measured, allowed, measured <= target.limit, passed, note))
    return verdicts
