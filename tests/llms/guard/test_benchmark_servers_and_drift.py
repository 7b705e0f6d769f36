"""The benchmark suite's per-server figures, its CPU targets and the drift check's arithmetic
(benchmarks/targets.py, benchmarks/report.py, benchmarks/drift.py).

The suite measures the CPU per request against two mock servers (its own raw-asyncio one and an
aiohttp.web app on uvloop) and ends with a drift check; what the guard and the report make of
those figures is plain arithmetic, checked here without running anything.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import drift, report
from benchmarks.targets import (
    CPU_LEVELS,
    CPU_TARGET,
    FIGURE_BY_KEY,
    PRIMARY_SERVER,
    REGRESSION_SLACK,
    TARGETS,
    TIMES,
    check,
    cpu_key,
)


def test_cpu_keys_keep_the_primary_servers_names() -> None:
    assert cpu_key(64) == "cpu_us_c64"
    assert cpu_key(64, PRIMARY_SERVER) == "cpu_us_c64"
    assert cpu_key(512, "uvloop-web") == "cpu_us_c512@uvloop-web"
    for c in CPU_LEVELS:
        assert cpu_key(c, "uvloop-web") in FIGURE_BY_KEY


def test_cpu_targets_cover_every_concurrency_on_both_default_servers() -> None:
    limits = {t.key: t.limit for t in TARGETS}
    for server in (PRIMARY_SERVER, "uvloop-web"):
        for c in CPU_LEVELS:
            assert limits[cpu_key(c, server)] == CPU_TARGET == 1.15
    assert cpu_key(64, "uvloop-raw") not in limits  # measured on request only, never judged


def _all_met(scale: float) -> dict[str, dict[str, float | None]]:
    return {t.key: {"ratio": t.limit * scale, "value": t.limit * scale} for t in TARGETS}


def test_guard_allows_the_cpu_targets_plus_the_slack() -> None:
    figures = _all_met(1.0)
    figures[cpu_key(64, "uvloop-web")] = {"ratio": 1.3, "value": 150.0}  # above 1.15, within 20%
    verdict = next(v for v in check(figures) if v.target.key == cpu_key(64, "uvloop-web"))
    assert verdict.passed and not verdict.meets_target
    assert verdict.allowed == pytest.approx(CPU_TARGET * REGRESSION_SLACK)
    figures[cpu_key(64, "uvloop-web")] = {"ratio": 1.4, "value": 160.0}
    verdict = next(v for v in check(figures) if v.target.key == cpu_key(64, "uvloop-web"))
    assert not verdict.passed


def test_markdown_shows_the_tightened_cpu_targets_per_server() -> None:
    samples: dict[str, dict[str, list[float | None]]] = {
        t.key: {"raw-aiohttp": [100.0, 100.0], "core-llms": [90.0, 110.0]} for t in TARGETS if t.ratio
    }
    figs = report.figures(samples)
    result = {
        "clients": ["raw-aiohttp", "core-llms"],
        "figures": figs,
        "verdicts": [report.verdict_dict(v) for v in check(report.core_figures(figs))],
    }
    text = report.markdown(result)
    x = TIMES
    assert f"| CPU per request, concurrency 64 | 1{x} | 0.90-1.10{x} | \u2264 1.15{x} | yes |" in text
    label = "CPU per request, concurrency 512, aiohttp.web mock on uvloop"
    assert f"| {label} | 1{x} | 0.90-1.10{x} | \u2264 1.15{x} | yes |" in text


def test_targets_of_a_server_that_could_not_run_are_skipped_not_failed() -> None:
    figures = _all_met(1.0)
    skip = {cpu_key(c, "uvloop-web") for c in CPU_LEVELS}
    for key in skip:
        del figures[key]
    verdicts = check(figures, skip=skip)
    assert all(v.passed for v in verdicts)
    assert not {v.target.key for v in verdicts} & skip
    # without skip, a figure that was not measured fails the guard
    assert not all(v.passed for v in check(figures))


def _result_for(servers: list[str]) -> dict[str, Any]:
    samples: dict[str, dict[str, list[float | None]]] = {}
    for server in servers:
        for c in CPU_LEVELS:
            raw = [100.0, 100.0, 100.0]
            core = [110.0, 130.0, 120.0] if server == PRIMARY_SERVER else [140.0, 120.0, 150.0]
            samples[cpu_key(c, server)] = {"raw-aiohttp": raw, "core-llms": core}  # type: ignore[dict-item]
    figs = report.figures(samples)
    return {
        "clients": ["raw-aiohttp", "core-llms"],
        "servers": {s: {} for s in servers},
        "figures": figs,
        "verdicts": [],
    }


def test_server_table_has_a_ratio_per_server_and_concurrency() -> None:
    result = _result_for([PRIMARY_SERVER, "uvloop-web"])
    lines = report.server_table(result)
    assert lines[0].startswith("| CPU per request (µs) | asyncio-raw: raw aiohttp |")
    assert "uvloop-web: ratio (range)" in lines[0]
    x = TIMES
    row64 = next(line for line in lines if line.startswith("| concurrency 64 |"))
    assert f"| 100 | 120 | 1.20{x} (1.10-1.30) | 100 | 140 | 1.40{x} (1.20-1.50) |" in row64
    assert len([line for line in lines if line.startswith("| concurrency ")]) == len(CPU_LEVELS)
    assert "| concurrency 64 |" in report.markdown(result)


def test_server_table_is_empty_without_cpu_figures() -> None:
    assert report.server_table({"figures": {}, "servers": {PRIMARY_SERVER: {}}}) == []


def _row(client: str, index: int, label: str, concurrency: int, cpu_us: float) -> dict[str, Any]:
    return {
        "client": client,
        "index": index,
        "label": label,
        "concurrency": concurrency,
        "cpu_us": cpu_us,
        "gc_collections": [5, 1, 1 if client == "core-llms" and index == 2 else 0],
        "gc_us_per_request": 1.0,
        "gc_tracked": [100, 200, 30000 + index],
        "rss_mb": 40.0,
        "containers_grown": {},
    }


def _drift_rows() -> list[dict[str, Any]]:
    plan = drift.phases(batches=2, n=1000)
    assert [p[0] for p in plan] == ["warm-up", "c64 #1", "c64 #2", "c1", "c64 after c1 #1", "c64 after c1 #2"]
    raw_us = [300.0, 100.0, 100.0, 200.0, 100.0, 110.0]
    core_us = [900.0, 120.0, 125.0, 220.0, 130.0, 143.0]
    rows = []
    for index, (label, concurrency, _) in enumerate(plan):
        rows.append(_row("raw-aiohttp", index, label, concurrency, raw_us[index]))
        rows.append(_row("core-llms", index, label, concurrency, core_us[index]))
    return rows


def test_drift_summary_leaves_out_the_warm_up_and_compares_first_and_last_c64_batches() -> None:
    summary = drift.summarise(_drift_rows())
    core = summary["clients"]["core-llms"]
    assert core["c64_first_us"] == 120.0 and core["c64_last_us"] == 143.0
    assert core["c64_change"] == pytest.approx(143.0 / 120.0 - 1)
    assert core["c64_median_before_c1_us"] == pytest.approx(122.5)
    assert core["c64_median_after_c1_us"] == pytest.approx(136.5)
    assert core["gc_full_collections"] == 1
    assert core["tracked_first"] == 100 + 200 + 30001 and core["tracked_last"] == 100 + 200 + 30005
    labels = [r["label"] for r in summary["ratios"]]
    assert "warm-up" not in labels and "c1" in labels
    c64 = [r["ratio"] for r in summary["ratios"] if r["label"].startswith("c64")]
    assert c64 == pytest.approx([1.2, 1.25, 1.3, 1.3])
    assert summary["c64_ratio_median"] == pytest.approx(1.275)
    assert summary["c64_ratio_first"] == pytest.approx(1.2)
    assert summary["c64_ratio_last"] == pytest.approx(1.3)


def test_drift_markdown_has_a_row_per_batch_and_the_summary() -> None:
    rows = _drift_rows()
    result = {"server": "uvloop-web", "n": 1000, "rows": rows, "summary": drift.summarise(rows)}
    text = drift.markdown(result)
    assert f"| c64 after c1 #2 | 64 | 110.0 | 143.0 | 1.30{TIMES} |" in text
    assert "core-llms / raw aiohttp at concurrency 64: median 1.27" in text
    assert "- core-llms: no container reachable from the client" in text
