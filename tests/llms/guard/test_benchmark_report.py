"""The benchmark suite's arithmetic and its guard (benchmarks/report.py, benchmarks/targets.py).

The suite itself needs its own environment and minutes of quiet machine; what decides whether a
run passes — medians of per-round ratios, the 20% slack, the baseline rule, the background-CPU
note — is plain arithmetic and is checked here.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import report
from benchmarks.targets import REGRESSION_SLACK, TARGETS, TIMES, check


def _samples(raw: list[float], core: list[float]) -> dict[str, dict[str, list[float | None]]]:
    return {"cpu_us_c64": {"raw-aiohttp": list(raw), "core-llms": list(core)}}


def test_ratio_is_the_median_of_per_round_ratios_with_its_range() -> None:
    figs = report.figures(_samples([100, 200, 100], [110, 180, 150]))
    core = figs["cpu_us_c64"]["core-llms"]
    assert core["value"] == 150  # median of the values
    assert core["ratio"] == pytest.approx(1.1)  # median of 1.1, 0.9, 1.5 — not 150 / 100
    assert core["ratio_range"] == pytest.approx([0.9, 1.5])
    assert core["value_range"] == [110, 180]
    assert core["rounds"] == 3


def test_a_failed_round_is_left_out_of_values_and_ratios() -> None:
    figs = report.figures(_samples([100, 100, 100], [None, 120, 140]))  # type: ignore[list-item]
    core = figs["cpu_us_c64"]["core-llms"]
    assert core["rounds"] == 2
    assert core["ratio"] == pytest.approx(1.3)


def test_absolute_figures_have_no_ratio() -> None:
    figs = report.figures({"failover_open_extra_ms": {"core-llms": [0.01, 0.02, 0.03]}})
    entry = figs["failover_open_extra_ms"]["core-llms"]
    assert entry["ratio"] is None and entry["ratio_range"] is None
    assert entry["value"] == 0.02


def _all_met(scale: float) -> dict[str, dict[str, float | None]]:
    return {t.key: {"ratio": t.limit * scale, "value": t.limit * scale} for t in TARGETS}


def test_guard_passes_at_the_targets_and_fails_past_the_slack() -> None:
    at_targets = check(_all_met(1.0))
    assert all(v.meets_target and v.passed for v in at_targets)
    within_slack = check(_all_met(1.1))
    assert all(v.passed and not v.meets_target for v in within_slack)
    regressed = check(_all_met(REGRESSION_SLACK * 1.01))
    assert not any(v.passed for v in regressed if not v.target.unmet)
    # a target known to be unmet is reported, not failed (its note says why) ...
    unmet = [v for v in regressed if v.target.unmet]
    assert unmet and all(v.passed and not v.meets_target and "known unmet" in v.note for v in unmet)
    # ... except against a baseline, where getting worse still fails
    assert not any(v.passed for v in check(_all_met(REGRESSION_SLACK * 1.01), _all_met(1.0)))


def test_guard_fails_a_figure_that_was_not_measured() -> None:
    figures = _all_met(1.0)
    figures["cpu_us_c64"] = {"ratio": None, "value": None}
    verdicts = {v.target.key: v for v in check(figures)}
    assert not verdicts["cpu_us_c64"].passed and verdicts["cpu_us_c64"].note == "not measured"
    assert verdicts["cpu_us_c512"].passed


def test_guard_against_a_baseline_judges_ratios_relative_to_it() -> None:
    baseline = _all_met(0.5)
    now = _all_met(0.5 * REGRESSION_SLACK * 1.05)  # 26% worse than the baseline, still under target
    verdicts = {v.target.key: v for v in check(now, baseline)}
    assert not verdicts["cpu_us_c64"].passed  # a ratio: judged against the baseline
    assert verdicts["cpu_us_c64"].meets_target
    # an absolute sub-millisecond figure fails only when it is also above its target
    assert verdicts["failover_open_extra_ms"].passed


def test_background_cpu_subtracts_the_suites_own() -> None:
    assert report.background_cpu((100.0, 10.0), (160.0, 65.0)) == 5.0
    assert report.background_cpu((100.0, 10.0), (150.0, 65.0)) == 0.0  # never negative
    assert report.background_cpu(None, (1.0, 1.0)) is None


def test_cpu_snapshot_reads_the_machine_and_this_process() -> None:
    first = report.cpu_snapshot()
    if first is None:
        pytest.skip("no /proc/stat here")
    sum(i * i for i in range(200_000))  # burn a little CPU
    second = report.cpu_snapshot()
    assert second is not None
    assert second[1] > first[1] and second[0] >= first[0]


@pytest.mark.parametrize(
    ("other", "expected"),
    [(1.0, "a quiet machine"), (300.0, "other work was running"), (None, "load average")],
)
def test_background_note(other: float | None, expected: str) -> None:
    machine: dict[str, Any] = {
        "background_cpu_s": other,
        "cores": 2,
        "loadavg_start": [0.1, 0.1, 0.1],
        "loadavg_end": [1.0, 1.0, 1.0],
    }
    assert expected in report.background_note(machine, duration_s=600.0)


def test_markdown_shows_each_target_with_its_per_round_range() -> None:
    samples: dict[str, dict[str, list[float | None]]] = {
        t.key: {"raw-aiohttp": [100.0, 100.0], "core-llms": [90.0, 110.0]} for t in TARGETS if t.ratio
    }
    samples["failover_open_extra_ms"] = {"core-llms": [0.004, 0.006]}
    samples["failover_first_extra_ms"] = {"core-llms": [0.3, 0.5]}
    figs = report.figures(samples)
    verdicts = check(report.core_figures(figs))
    result = {
        "clients": ["raw-aiohttp", "core-llms"],
        "figures": figs,
        "verdicts": [report.verdict_dict(v) for v in verdicts],
    }
    text = report.markdown(result)
    x = TIMES
    assert f"| CPU per request, concurrency 64 | 1{x} | 0.90-1.10{x} | \u2264 1.15{x} | yes |" in text
    open_row = "| refused primary, breaker open: extra latency | 0.005 ms | 0.004-0.006 ms |"
    assert open_row in text


def test_the_import_check_finds_no_media_or_responses_code_after_import_and_create() -> None:
    """The benchmark suite's import measurement also reports which media / Responses API modules
    ``import core.llms`` + ``create_llm`` loaded (the suite fails when any); here, in a fresh
    process, as the suite runs it."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.oneshot", "import", "core-llms", "http://127.0.0.1:9/v1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["lazy_loaded"] == [] and answer["import_s"] > 0


def test_the_report_says_what_the_import_check_found() -> None:
    base = {"clients": [], "figures": {}, "verdicts": [], "import_check": {"ran": True, "lazy_loaded": []}}
    assert "loaded none of the media" in report.markdown(base)
    failed = {
        **base,
        "import_check": {"ran": True, "lazy_loaded": ["core.llms.providers.openai.media.images"]},
    }
    assert "import check FAILED" in report.markdown(failed)
