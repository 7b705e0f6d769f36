"""The benchmark suite's entry-point stage (benchmarks/entrypoints.py; issue 13): ``client.chat``,
LiteLLM's ``completion()`` and ``acompletion()`` against a direct ``get_answer``.

Its figures are ratios to the direct ``get_answer`` of the same round, not to raw aiohttp: the
arithmetic and the report are checked here without running anything, and the stage's ``measure``
runs a few requests of every variant against its own mock server (fresh processes, as the suite
runs them).
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from benchmarks import entrypoints, report
from benchmarks.targets import ENTRY_BASELINE, ENTRY_TARGET, FIGURE_BY_KEY, TARGETS, TIMES, check

CHAT, COMPLETION, ACOMPLETION = (
    entrypoints.FIGURE_KEYS[v] for v in ("client-chat", "completion", "acompletion")
)


def test_every_variant_has_a_figure_and_the_baseline_is_direct() -> None:
    assert entrypoints.FIGURE_KEYS[entrypoints.BASELINE] == ENTRY_BASELINE
    assert set(entrypoints.FIGURE_KEYS) == set(entrypoints.VARIANTS)
    for key in entrypoints.FIGURE_KEYS.values():
        assert key in FIGURE_BY_KEY
    for key in (CHAT, COMPLETION, ACOMPLETION):
        assert FIGURE_BY_KEY[key].baseline == ENTRY_BASELINE
    assert FIGURE_BY_KEY[ENTRY_BASELINE].baseline is None


def test_client_chat_and_completion_are_judged_against_direct_get_answer() -> None:
    limits = {t.key: t for t in TARGETS}
    for key in (CHAT, COMPLETION):
        assert limits[key].limit == ENTRY_TARGET == 1.15 and limits[key].ratio
        assert limits[key].describe() == f"\u2264 1.15{TIMES} direct get_answer"
    assert ACOMPLETION not in limits and ENTRY_BASELINE not in limits  # informational


def _samples() -> dict[str, dict[str, list[float | None]]]:
    return {
        ENTRY_BASELINE: {"core-llms": [200.0, 250.0, 220.0]},
        CHAT: {"core-llms": [210.0, 250.0, 242.0]},
        COMPLETION: {"core-llms": [260.0, None, 286.0]},
        ACOMPLETION: {"core-llms": [220.0, 275.0, 231.0]},
        # raw aiohttp's CPU per request is not what the entry points are divided by
        "cpu_us_c1": {"raw-aiohttp": [100.0, 100.0, 100.0], "core-llms": [110.0, 110.0, 110.0]},
    }


def test_entry_ratios_are_to_direct_of_the_same_round() -> None:
    figs = report.figures(_samples())
    chat = figs[CHAT]["core-llms"]
    assert chat["ratio"] == pytest.approx(1.05)  # median of 1.05, 1.0, 1.1
    assert chat["ratio_range"] == pytest.approx([1.0, 1.1])
    completion = figs[COMPLETION]["core-llms"]
    assert completion["ratio"] == pytest.approx(1.3) and completion["rounds"] == 2  # a failed round
    assert figs[ENTRY_BASELINE]["core-llms"]["ratio"] is None
    assert figs[ENTRY_BASELINE]["core-llms"]["value"] == 220.0
    assert figs["cpu_us_c1"]["core-llms"]["ratio"] == pytest.approx(1.1)  # unchanged


def test_entry_points_have_their_own_table_and_targets_rows() -> None:
    figs = report.figures(_samples())
    verdicts = {v.target.key: v for v in check(report.core_figures(figs))}
    assert verdicts[CHAT].meets_target and verdicts[CHAT].passed
    # 1.3: above the target, within the guard's 20% slack
    assert not verdicts[COMPLETION].meets_target and verdicts[COMPLETION].passed
    result: dict[str, Any] = {
        "clients": ["raw-aiohttp", "core-llms"],
        "figures": figs,
        "verdicts": [report.verdict_dict(v) for v in verdicts.values()],
    }
    text = report.markdown(result)
    x = TIMES
    assert "| entry point (same request, concurrency 1) | CPU per request (µs) |" in text
    assert "| direct `llm.get_answer` | 220.0 | baseline |" in text
    assert f"| `client.chat` | 242.0 | 1.05{x} (1.00-1.10) |" in text
    assert f"| compat `acompletion()` | 231.0 | 1.10{x} (1.05-1.10) |" in text
    assert f"| compat `completion()` from sync code | 273.0 | 1.30{x} (1.30-1.30) |" in text
    label = FIGURE_BY_KEY[CHAT].label
    assert f"| {label} | 1.05{x} | 1.00-1.10{x} | \u2264 1.15{x} direct get_answer | yes |" in text
    # not rows of the per-client results table (raw aiohttp has no such figure)
    assert f"| {label} (µs) |" not in text
    assert report.entry_table({"figures": {}}) == []


def test_the_stage_measures_every_variant_against_its_server() -> None:
    """A few requests per variant, each in its own process, as the suite runs them."""
    server, url = entrypoints.start_server(cpu=-1)
    try:
        procs = {
            variant: subprocess.Popen(
                entrypoints.measure_command(variant, url, 20, cpu=-1, warmup=3),
                cwd=entrypoints.REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for variant in entrypoints.VARIANTS
        }
        answers = {}
        for variant, proc in procs.items():
            try:
                out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            answers[variant] = entrypoints.parse_answer(proc.returncode, out, err)
    finally:
        server.terminate()
        server.communicate(timeout=10)  # (closes its stdout pipe)
    for variant, answer in answers.items():
        assert "error" not in answer, (variant, answer)
        assert answer["requests"] == 20 and answer["cpu_us_per_request"] > 0
