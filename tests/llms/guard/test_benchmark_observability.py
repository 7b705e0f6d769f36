"""The benchmark suite's observability stage (benchmarks/observability.py; issue 15).

Every variant runs a few requests in its own process against the stage's mock server, as the
suite runs them: the hand-instrumented floors (``raw+otel``, ``raw+otel-min``) must really drive
the OpenTelemetry SDK, and ``core`` must load nothing of the observability code. The suite's
figures for the stage and their targets are checked without running anything.
"""

from __future__ import annotations

from benchmarks import entrypoints, observability
from benchmarks.targets import FIGURE_BY_KEY, TARGETS


def test_every_variant_runs_in_its_own_process() -> None:
    server, url = entrypoints.start_server(cpu=-1)
    try:
        answers = {
            variant: observability.measure_in_process(variant, url, 30, cpu=-1, warmup=5)
            for variant in observability.VARIANTS
        }
    finally:
        server.terminate()
        server.communicate(timeout=10)  # (closes its stdout pipe)
    for variant, answer in answers.items():
        assert "error" not in answer, (variant, answer)
        assert answer["requests"] == 30 and answer["cpu_us_per_request"] > 0, (variant, answer)


def test_the_hand_instrumented_floor_sends_what_core_llms_sends() -> None:
    """``raw+otel`` carries the same span and metric attributes as the OTel observer's defaults
    (``raw+otel-min`` only the conventions' required ones)."""
    full, minimal = observability._HandInstrumented(), observability._HandInstrumented(minimal=True)
    for hand in (full, minimal):
        hand._attributes("http://127.0.0.1:8080")
    required = {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model"}
    assert set(minimal.start_attrs) == required
    assert set(minimal.labels[0]) == required
    assert set(full.start_attrs) == required | {"gen_ai.system", "server.address", "server.port"}
    assert set(full.labels[0]) == required | {"gen_ai.response.model", "server.address", "server.port"}
    assert full.labels[1]["gen_ai.token.type"] == "input" and full.labels[2]["gen_ai.token.type"] == "output"


def test_the_floor_figures_and_their_target() -> None:
    versus = FIGURE_BY_KEY["cpu_us_observed_vs_floor"]
    assert versus.baseline == "cpu_us_observed_floor"
    limits = {t.key: t for t in TARGETS}
    assert limits["cpu_us_observed_vs_floor"].limit == 1.3 and not limits["cpu_us_observed_vs_floor"].unmet
    assert limits["cpu_us_observed"].unmet  # below the SDK's own floor (docs/observability.md)
    assert "cpu_us_observed_floor_min" in FIGURE_BY_KEY and "cpu_us_observed_floor_min" not in limits
