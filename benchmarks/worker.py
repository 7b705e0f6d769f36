"""A long-lived measuring process for one client, pinned to CPU 0, driven over stdin/stdout.

    python -m benchmarks.worker CLIENT [--cpu 0]

Reads one JSON command per line on stdin and answers one JSON line on the original stdout (the
library's own prints are sent to stderr). Commands (``op``):

* ``requests``: ``url``, ``concurrency``, ``target_cpu`` (seconds), ``min_n``, ``max_n``,
  ``max_seconds``, ``warmup`` — warm up (fills the pool), estimate the CPU cost per request from
  the warm-up, then time ``n`` requests so that they take about ``target_cpu`` of CPU. Answers
  ``cpu_us`` per request (user+sys of this process from ``getrusage``), ``wall_s``, ``n``.
* ``streams``: the same with streamed answers; ``events`` is the number of JSON events a stream
  carries, ``stagger`` (seconds) spreads the lanes' start times. Answers ``cpu_us_per_chunk``
  (CPU / (streams x events)), ``cpu_us_per_stream``, ``ttfc_ms`` (median time to the first
  chunk with text), ``n``.
* ``failover``: core-llms only; ``url`` (live), ``dead_url`` (refused), ``fresh`` (fresh models
  per case), ``n`` (warm requests per case). Answers the extra latency of a refused primary, the
  first time and once its breaker is open.
* ``sample``: one answer and one stream, to show in the report that every client did the work.
* ``quit``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from ._proc import cpu_seconds, pin, raise_fd_limit
from .clients import API_KEY, MAX_TOKENS, MESSAGES, MODEL, open_client


async def run_lanes(
    op: Callable[[], Awaitable[Any]],
    concurrency: int,
    n: int,
    max_seconds: float,
    on_result: Any = None,
    stagger: float = 0.0,
) -> int:
    """Run ``op`` ``n`` times, ``concurrency`` at a time (stops issuing after ``max_seconds``).

    ``stagger``: lane *i* starts ``i * stagger`` seconds late, so that long operations of equal
    length (paced streams) do not start and end in lock-step bursts.
    """
    issued = done = 0
    stop_at = time.perf_counter() + max_seconds

    async def lane(index: int) -> None:
        nonlocal issued, done
        if stagger:
            await asyncio.sleep(index * stagger)
        while issued < n and time.perf_counter() < stop_at:
            issued += 1
            result = await op()
            if on_result is not None:
                on_result(result)
            done += 1

    await asyncio.gather(*(lane(i) for i in range(concurrency)))
    return done


def _size(cmd: dict[str, Any], warm_cpu: float, warm_n: int) -> int:
    per = warm_cpu / max(warm_n, 1)
    n = int(cmd["target_cpu"] / per) if per > 0 else int(cmd["max_n"])
    return max(int(cmd["min_n"]), min(int(cmd["max_n"]), n))


async def measure_requests(name: str, cmd: dict[str, Any]) -> dict[str, Any]:
    client = await open_client(name, cmd["url"], max_connections=cmd.get("max_connections", 100))
    try:
        c = cmd["concurrency"]
        warm_n = max(cmd["warmup"], 2 * c)
        c0 = cpu_seconds()
        await run_lanes(client.complete, c, warm_n, cmd["max_seconds"])
        n = _size(cmd, cpu_seconds() - c0, warm_n)
        gc.collect()
        w0, c0 = time.perf_counter(), cpu_seconds()
        done = await run_lanes(client.complete, c, n, cmd["max_seconds"])
        cpu, wall = cpu_seconds() - c0, time.perf_counter() - w0
    finally:
        await client.aclose()
    return {"cpu_us": cpu / done * 1e6, "wall_s": wall, "n": done, "rps": done / wall}


async def measure_streams(name: str, cmd: dict[str, Any]) -> dict[str, Any]:
    client = await open_client(name, cmd["url"], max_connections=cmd.get("max_connections", 100))
    ttfc: list[float] = []

    def keep(result: tuple[int, float | None, int]) -> None:
        count, first, _ = result
        if first is None or count == 0:
            raise RuntimeError(f"{name}: a stream yielded no text")
        ttfc.append(first)

    try:
        c, stagger = cmd["concurrency"], cmd.get("stagger", 0.0)
        warm_n = max(cmd["warmup"], c)
        c0 = cpu_seconds()
        await run_lanes(client.stream, c, warm_n, cmd["max_seconds"], stagger=stagger)
        n = _size(cmd, cpu_seconds() - c0, warm_n)
        gc.collect()
        ttfc.clear()
        w0, c0 = time.perf_counter(), cpu_seconds()
        done = await run_lanes(client.stream, c, n, cmd["max_seconds"], keep, stagger)
        cpu, wall = cpu_seconds() - c0, time.perf_counter() - w0
    finally:
        await client.aclose()
    return {
        "cpu_us_per_chunk": cpu / (done * cmd["events"]) * 1e6,
        "cpu_us_per_stream": cpu / done * 1e6,
        "ttfc_ms": statistics.median(ttfc) * 1e3,
        "wall_s": wall,
        "n": done,
    }


async def _first_latency(url: str, dead_url: str | None) -> float:
    """Latency of the first request of a freshly made core-llms model (primary dead or not)."""
    from core.llms import create_llm

    primary, backup = (dead_url, url) if dead_url else (url, url + "/backup")
    llm = create_llm(
        f"openai/{MODEL}", endpoint=primary, api_key=API_KEY, backups=[{"endpoint": backup}], cooldown=600.0
    )
    try:
        started = time.perf_counter()
        await llm.get_answer(MESSAGES, max_tokens=MAX_TOKENS)
        return time.perf_counter() - started
    finally:
        await llm.aclose()


async def measure_failover(name: str, cmd: dict[str, Any]) -> dict[str, Any]:
    """Extra latency of a refused primary for core-llms: first discovery, then breaker open."""
    if name != "core-llms":
        return {"skipped": "no failover in this client"}
    from core.llms import create_llm
    from core.llms.providers.base.failover import FailoverConnector

    url, dead = cmd["url"], cmd["dead_url"]
    await _first_latency(url, None)  # lazy imports and the first session out of the way
    healthy_first, dead_first = [], []
    for _ in range(cmd["fresh"]):
        healthy_first.append(await _first_latency(url, None))
        dead_first.append(await _first_latency(url, dead))
    healthy = create_llm(
        f"openai/{MODEL}", endpoint=url, api_key=API_KEY, backups=[{"endpoint": url + "/backup"}]
    )
    dead_llm = create_llm(
        f"openai/{MODEL}", endpoint=dead, api_key=API_KEY, backups=[{"endpoint": url}], cooldown=600.0
    )
    warm_healthy, warm_dead = [], []
    try:
        for _ in range(5):  # opens the dead primary's breaker (threshold 3) and warms both pools
            await dead_llm.get_answer(MESSAGES, max_tokens=MAX_TOKENS)
            await healthy.get_answer(MESSAGES, max_tokens=MAX_TOKENS)
        connector = dead_llm.connector
        assert isinstance(connector, FailoverConnector)
        state = connector.breaker(connector.endpoints[0]).state
        for _ in range(cmd["n"]):
            t0 = time.perf_counter()
            await healthy.get_answer(MESSAGES, max_tokens=MAX_TOKENS)
            t1 = time.perf_counter()
            await dead_llm.get_answer(MESSAGES, max_tokens=MAX_TOKENS)
            t2 = time.perf_counter()
            warm_healthy.append(t1 - t0)
            warm_dead.append(t2 - t1)
    finally:
        await healthy.aclose()
        await dead_llm.aclose()
    med = statistics.median
    return {
        "first_healthy_ms": med(healthy_first) * 1e3,
        "first_dead_ms": med(dead_first) * 1e3,
        "first_extra_ms": (med(dead_first) - med(healthy_first)) * 1e3,
        "open_healthy_ms": med(warm_healthy) * 1e3,
        "open_dead_ms": med(warm_dead) * 1e3,
        "open_extra_ms": (med(warm_dead) - med(warm_healthy)) * 1e3,
        "breaker_state": state,
    }


async def sample(name: str, cmd: dict[str, Any]) -> dict[str, Any]:
    client = await open_client(name, cmd["url"])
    try:
        text, tokens = await client.complete()
        count, _, stream_tokens = await client.stream()
    finally:
        await client.aclose()
    return {"text": text[:40], "tokens": tokens, "stream_text_chunks": count, "stream_tokens": stream_tokens}


_OPS = {
    "requests": measure_requests,
    "streams": measure_streams,
    "failover": measure_failover,
    "sample": sample,
}


def serve(name: str, commands: TextIO, answers: TextIO) -> None:
    for line in commands:
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            return
        try:
            result = asyncio.run(_OPS[cmd["op"]](name, cmd))
        except Exception as exc:  # reported to the orchestrator, which marks the figure failed
            result = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(result) + "\n")
        answers.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="benchmark worker for one client")
    parser.add_argument("client")
    parser.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args(argv)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # library prints must not reach the pipe
    pinned = pin(args.cpu)
    raise_fd_limit()
    try:
        from .clients import import_and_create

        import_and_create(args.client, "http://127.0.0.1:1/v1")
        ready: dict[str, Any] = {"ready": True, "pinned": pinned}
    except ImportError as exc:
        ready = {"ready": False, "error": f"not installed: {exc}"}
    answers.write(json.dumps(ready) + "\n")
    answers.flush()
    if ready["ready"]:
        serve(args.client, sys.stdin, answers)


if __name__ == "__main__":
    main()
