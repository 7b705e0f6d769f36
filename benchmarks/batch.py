"""100,000 requests through the batch path (issue 14) against raw aiohttp doing the same work.

    python -m benchmarks.batch [--requests 100000] [--rounds 3]      the stage alone
    python -m benchmarks.batch measure VARIANT --url URL [--requests N]

Variants, each in a fresh process pinned to CPU 0 against the raw-asyncio mock server on CPU 1
(``benchmarks/mockserver.py``; the same non-streamed chat completion, ``"hi"``, each time):

* ``raw``: 64 asyncio tasks sharing one ``aiohttp.ClientSession``, each posting the request,
  decoding the JSON answer and keeping its text — the baseline;
* ``manager``: ``RequestManager(llm, concurrency=64, show_progress=False).as_completed(...)``
  over a lazy generator of the requests (results handed over as they finish, none kept);
* ``cache-hit``: the same through a warm :class:`~core.llms.batch.MemoryCache` (1,000 distinct
  prompts answered once, then every timed request is a hit: no call is made) — the cost of a
  hit per request.

``measure`` prints one JSON line: ``cpu_us_per_request`` (user + system CPU of the process over
the timed requests, after a warm-up of 2,000), ``peak_rss_mb`` (the process's maximum resident
set) and ``rss_mb`` at 10 %, 50 % and 100 % of the timed requests (flat means bounded memory).
The stage runs the variants interleaved, round by round (order rotated), and reports each
round's ratio of ``manager`` to ``raw`` (target: at most 1.3 times).
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
from collections.abc import Callable, Iterator
from typing import Any

from ._proc import cpu_seconds
from .entrypoints import interleaved, measure_module, stage_main
from .targets import TIMES

VARIANTS = ("raw", "manager", "cache-hit")
MODEL = "gpt-4.1-mini"
KEY = "bench-key-not-secret"
CONCURRENCY = 64
WARMUP = 2000
REQUESTS = 100_000
DISTINCT = 1000
TIMEOUT_S = 900


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Checkpoints:
    """RSS at 10 %, 50 % and 100 % of ``total`` requests."""

    def __init__(self, total: int) -> None:
        self.at = {max(1, total // 10): "10%", max(1, total // 2): "50%", total: "100%"}
        self.rss: dict[str, float] = {}

    def tick(self, done: int) -> None:
        label = self.at.get(done)
        if label is not None:
            self.rss[label] = round(_rss_mb(), 1)


async def _raw(url: str, n: int, checkpoints: _Checkpoints | None) -> None:
    import aiohttp

    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {KEY}"}
    target = f"{url}/v1/chat/completions"
    done = 0
    left = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def worker() -> None:
            nonlocal done
            for _ in left:
                async with session.post(target, json=body, headers=headers) as response:
                    response.raise_for_status()
                    data = await response.json()
                text = data["choices"][0]["message"]["content"]
                if not text:
                    raise RuntimeError("empty answer")
                done += 1
                if checkpoints is not None:
                    checkpoints.tick(done)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def _manager(url: str, n: int, checkpoints: _Checkpoints | None, *, cached: bool, cache: Any) -> None:
    from core.llms import create_llm
    from core.llms.batch import RequestManager

    llm = create_llm(f"openai/{MODEL}", endpoint=f"{url}/v1", api_key=KEY)
    prompts: Iterator[str] = (f"hi {i % DISTINCT}" if cached else "hi" for i in range(n))
    done = 0
    async with llm, RequestManager(llm, concurrency=CONCURRENCY, cache=cache, show_progress=False) as manager:
        async for result in manager.as_completed(prompts):
            if result.error is not None:
                raise result.error
            if cached and checkpoints is not None and not result.cached:  # (the warm-up fills the cache)
                raise RuntimeError("a cache-hit request was not a hit")
            done += 1
            if checkpoints is not None:
                checkpoints.tick(done)


def measure(variant: str, url: str, requests: int, warmup: int = WARMUP) -> dict[str, Any]:
    """One variant's CPU per request and memory in this process."""
    cache = None
    if variant == "cache-hit":
        from core.llms.batch import MemoryCache

        cache = MemoryCache(max_entries=DISTINCT * 2)

    def run(n: int, checkpoints: _Checkpoints | None) -> None:
        if variant == "raw":
            asyncio.run(_raw(url, n, checkpoints))
        else:
            asyncio.run(_manager(url, n, checkpoints, cached=variant == "cache-hit", cache=cache))

    run(max(warmup, DISTINCT if cache is not None else 0), None)  # a cache-hit warm-up fills the cache
    checkpoints = _Checkpoints(requests)
    start = cpu_seconds()
    run(requests, checkpoints)
    cpu = cpu_seconds() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cpu_us_per_request": cpu / requests * 1e6,
        "requests": requests,
        "peak_rss_mb": round(peak, 1),
        "rss_mb": checkpoints.rss,
    }


def measure_in_process(variant: str, url: str, requests: int, cpu: int = 0) -> dict[str, Any]:
    """``measure`` in a fresh process pinned to ``cpu``: its JSON answer, or ``{"error": ...}``."""
    return measure_module("benchmarks.batch", variant, url, requests, cpu, TIMEOUT_S)


def run_stage(
    url: str, rounds: int, requests: int, say: Callable[[str], None]
) -> dict[str, list[dict[str, Any]]]:
    """Every variant, interleaved round by round: ``{variant: [answer per round]}``."""
    label = f"batch path ({requests:,} requests)"
    return interleaved(VARIANTS, rounds, label, lambda v: measure_in_process(v, url, requests), say)


def summary(samples: dict[str, list[dict[str, Any]]]) -> str:
    """Per-round CPU per request, the manager's ratio to raw, and memory."""
    lines = [
        "| round | raw aiohttp µs | RequestManager µs (ratio) | cache hit µs "
        "| RSS MB at 10/50/100 % (manager) | peak RSS MB raw / manager |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    ratios = []
    for i, raw in enumerate(samples["raw"]):
        manager = samples["manager"][i]
        hit = samples["cache-hit"][i]
        r, m, h = (s.get("cpu_us_per_request") for s in (raw, manager, hit))
        ratio = m / r if r and m else None
        if ratio is not None:
            ratios.append(ratio)
        rss = manager.get("rss_mb") or {}
        lines.append(
            f"| {i + 1} | {_f(r)} | {_f(m)}"
            + (f" ({ratio:.2f}{TIMES})" if ratio else "")
            + f" | {_f(h)} | {' / '.join(str(rss.get(k, '—')) for k in ('10%', '50%', '100%'))}"
            + f" | {raw.get('peak_rss_mb', '—')} / {manager.get('peak_rss_mb', '—')} |"
        )
    if ratios:
        median = f"{statistics.median(ratios):.2f}{TIMES} ({min(ratios):.2f}-{max(ratios):.2f})"
        lines.append(f"| median | | {median} | | | |")
    return "\n".join(lines)


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def main(argv: list[str] | None = None) -> None:
    stage_main(
        argv,
        prog="benchmarks.batch",
        doc=__doc__ or "",
        variants=VARIANTS,
        rounds=3,
        requests=REQUESTS,
        measure=measure,
        run_stage=run_stage,
        summary=summary,
    )


if __name__ == "__main__":
    main()
