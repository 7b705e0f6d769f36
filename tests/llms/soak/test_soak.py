"""The soak (``benchmarks/soak.py``): a short run in the default suite, the long one behind the
``soak`` marker (``pytest -m soak``). Every request ends once, in an answer or a typed error;
nothing leaks; the figures table is printed (``-s`` shows it)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest


def _check(report: Any, requests: int) -> None:
    print()
    print(report.table())
    assert report.problems() == []
    assert report.requests == requests
    assert report.answers + sum(report.typed_errors.values()) == requests
    assert report.lost == report.duplicated == report.wrong_answers == 0
    assert not report.unhandled
    assert report.sessions_after_close == report.sessions_baseline
    if report.sockets_baseline is not None:  # /proc is there
        assert report.leaked_sockets == 0 and report.server_sockets_after_close == 0


async def test_short_soak_openai(soak: ModuleType) -> None:
    report = await soak.run_soak(soak.SoakConfig(requests=2_000, concurrency=64, seed=11))
    _check(report, 2_000)
    assert 800 < report.streams < 1_200  # about half streamed
    injected = sum(report.faults_injected.values())
    assert 40 < injected < 220  # ~5 % of ~2,050 HTTP attempts
    assert len(+report.faults_injected) >= 7  # most kinds of fault occurred
    assert report.failovers > 0 and report.retries > 0
    assert report.answers > 0.95 * 2_000
    assert report.rss_growth < 50 * soak.MB


async def test_short_soak_azure(soak: ModuleType) -> None:
    report = await soak.run_soak(soak.SoakConfig(requests=1_000, concurrency=32, seed=12, provider="azure"))
    _check(report, 1_000)
    assert report.failovers > 0


def test_the_checks_catch_each_kind_of_failure(soak: ModuleType) -> None:
    config = soak.SoakConfig(requests=10)
    clean = soak.SoakReport(config, requests=10, answers=10, sockets_baseline=0, sockets_after_close=0)
    assert clean.problems() == []
    broken = [
        soak.SoakReport(config, requests=10, answers=9, lost=1),
        soak.SoakReport(config, requests=10, answers=10, duplicated=1),
        soak.SoakReport(config, requests=10, answers=9, wrong_answers=1),
        soak.SoakReport(config, requests=10, answers=9, unhandled={"KeyError: 'x'": 1}),
        soak.SoakReport(config, requests=10, answers=10, sockets_baseline=0, sockets_after_close=2),
        soak.SoakReport(config, requests=10, answers=10, server_sockets_after_close=1),
        soak.SoakReport(config, requests=10, answers=10, sessions_after_close=1),
        soak.SoakReport(config, requests=10, answers=10, rss_start=0, rss_end=51 * soak.MB),
        soak.SoakReport(config, requests=10, answers=8),  # outcomes do not add up
    ]
    for report in broken:
        assert len(report.problems()) >= 1, report


@pytest.mark.soak
async def test_long_soak_100k(soak: ModuleType) -> None:
    report = await soak.run_soak(soak.SoakConfig(requests=100_000, concurrency=64, seed=1))
    _check(report, 100_000)
    assert report.rss_growth < 50 * soak.MB
