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
* the drift check (see ``benchmarks/drift.py``): one client kept open on one event loop across
  commands, as a long-lived service holds it. ``drift_open`` (``url``, ``tracemalloc``) opens
  it; ``drift_batch`` (``concurrency``, ``n``, ``max_seconds``, ``label``) sends ``n`` requests
  and answers ``cpu_us`` per request with the garbage collector's work during the batch
  (collections per generation, seconds spent collecting, objects it tracks), the RSS, the sizes
  of the containers reachable from the client and from the modules of core-llms, aiohttp and
  asyncio, and (with ``tracemalloc``) where memory grew since the first batch;
  ``drift_close`` closes it.
* ``quit``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import statistics
import sys
import time
import weakref
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


class GcMeter:
    """``gc.callbacks`` hook: collections per generation, objects collected, seconds spent."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.collected = 0
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started
        self.collections[info["generation"]] += 1
        self.collected += info["collected"]

    def snapshot(self) -> tuple[list[int], int, float]:
        return list(self.collections), self.collected, self.seconds


#: container types whose length the drift check follows.
_SIZED = (
    dict,
    list,
    set,
    collections.deque,
    weakref.WeakSet,
    weakref.WeakKeyDictionary,
    weakref.WeakValueDictionary,
)
#: modules whose globals (and classes) the drift check inspects for growing containers.
_MODULE_PREFIXES = ("core.llms", "aiohttp", "asyncio", "logging", "json", "warnings", "multidict", "yarl")


def _children(obj: Any) -> list[tuple[str, Any]]:
    """Named references of ``obj`` worth following: attributes, dict values, a few items."""
    if isinstance(obj, dict):
        return [(f"[{k!r}]" if isinstance(k, str | int) else "[?]", v) for k, v in list(obj.items())[:64]]
    if isinstance(obj, list | tuple | collections.deque):
        return [(f"[{i}]", v) for i, v in enumerate(list(obj)[:8])]
    if isinstance(obj, set | frozenset):
        return [("{}", v) for v in list(obj)[:4]]
    out: list[tuple[str, Any]] = []
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        out += [(f".{k}", v) for k, v in attrs.items()]
    for cls in type(obj).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if isinstance(slot, str) and hasattr(obj, slot):
                out.append((f".{slot}", getattr(obj, slot)))
    return out


def _walk(root: Any, name: str, sizes: dict[str, int], seen: set[int], depth: int) -> None:
    """Record ``len`` of every container reachable from ``root`` within ``depth`` references."""
    if id(root) in seen or isinstance(root, str | bytes | int | float | type(None) | type(len)):
        return
    seen.add(id(root))
    if isinstance(root, _SIZED):
        sizes[name] = len(root)
    if callable(getattr(root, "cache_info", None)):  # functools.lru_cache
        sizes[name + ".cache_info().currsize"] = root.cache_info().currsize or 0
    if depth <= 0 or isinstance(root, type(sys)) or (callable(root) and not hasattr(root, "__dict__")):
        return
    for child_name, child in _children(root):
        _walk(child, name + child_name, sizes, seen, depth - 1)


def container_sizes(client: Any, loop: asyncio.AbstractEventLoop) -> dict[str, int]:
    """Lengths of the containers reachable from the client (6 references deep), the event loop,
    and the globals (and class attributes) of the modules of core-llms, aiohttp and asyncio."""
    sizes: dict[str, int] = {}
    seen: set[int] = set()
    _walk(client, "client", sizes, seen, 6)
    _walk(loop, "loop", sizes, seen, 2)
    for modname, module in list(sys.modules.items()):
        if not modname.startswith(_MODULE_PREFIXES):
            continue
        for key, value in list(vars(module).items()):
            if isinstance(value, type) and value.__module__ == modname:
                for attr, member in list(vars(value).items()):
                    if isinstance(member, _SIZED) or callable(getattr(member, "cache_info", None)):
                        _walk(member, f"{modname}.{key}.{attr}", sizes, seen, 1)
            elif not isinstance(value, type(sys)):
                _walk(value, f"{modname}.{key}", sizes, seen, 2)
    return sizes


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


class DriftSession:
    """One client on one event loop, kept across commands (the drift check)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.client: Any = None
        self.meter = GcMeter()
        self.first_sizes: dict[str, int] | None = None
        self.last_sizes: dict[str, int] = {}
        self.rises: dict[str, int] = {}
        self.first_trace: Any = None
        self.batches = 0

    def run(self, name: str, cmd: dict[str, Any]) -> dict[str, Any]:
        match cmd["op"]:
            case "drift_open":
                self.loop = asyncio.new_event_loop()
                self.client = self.loop.run_until_complete(
                    open_client(name, cmd["url"], max_connections=cmd.get("max_connections", 100))
                )
                if cmd.get("tracemalloc"):
                    import tracemalloc

                    tracemalloc.start(int(cmd.get("frames", 8)))
                gc.callbacks.append(self.meter)
                return {"open": True, "gc_threshold": gc.get_threshold()}
            case "drift_batch":
                assert self.loop is not None, "drift_open first"
                return self.loop.run_until_complete(self.batch(cmd))
            case "drift_close":
                if self.meter in gc.callbacks:
                    gc.callbacks.remove(self.meter)
                if self.loop is not None:
                    if self.client is not None:
                        self.loop.run_until_complete(self.client.aclose())
                    self.loop.close()
                self.loop = self.client = None
                return {"closed": True}
        raise ValueError(f"unknown drift op {cmd['op']}")

    async def batch(self, cmd: dict[str, Any]) -> dict[str, Any]:
        gc0, collected0, gc_s0 = self.meter.snapshot()
        w0, c0 = time.perf_counter(), cpu_seconds()
        done = await run_lanes(
            self.client.complete, cmd["concurrency"], cmd["n"], cmd.get("max_seconds", 60.0)
        )
        cpu, wall = cpu_seconds() - c0, time.perf_counter() - w0
        gc1, collected1, gc_s1 = self.meter.snapshot()
        self.batches += 1
        loop = asyncio.get_running_loop()
        answer: dict[str, Any] = {
            "label": cmd.get("label"),
            "concurrency": cmd["concurrency"],
            "n": done,
            "cpu_us": cpu / done * 1e6,
            "wall_s": wall,
            "gc_collections": [b - a for a, b in zip(gc0, gc1, strict=True)],
            "gc_collected": collected1 - collected0,
            "gc_us_per_request": (gc_s1 - gc_s0) / done * 1e6,
            "gc_tracked": [len(gc.get_objects(generation)) for generation in range(3)],
            "rss_mb": _rss_mb(),
            "loop_scheduled": len(getattr(loop, "_scheduled", ())),
        }
        sizes = container_sizes(self.client, loop)
        if self.first_sizes is None:
            self.first_sizes = sizes
            self.last_sizes = sizes
            self.rises = {}
        first, previous = self.first_sizes, self.last_sizes
        for key, size in sizes.items():  # batches in which each container grew
            if size > previous.get(key, size):
                self.rises[key] = self.rises.get(key, 0) + 1
        self.last_sizes = sizes
        # grown: by 8 entries or more since the first batch, and in most batches since (a timer
        # heap or a pool that merely fluctuates is left out)
        steps = max(self.batches - 1, 1)
        grown = {
            k: [first[k], v]
            for k, v in sizes.items()
            if k in first and v - first[k] >= 8 and self.rises.get(k, 0) * 2 >= steps
        }
        new = {k: v for k, v in sizes.items() if k not in first and v >= 8}
        answer["containers_grown"] = dict(sorted(grown.items(), key=lambda kv: kv[1][0] - kv[1][1])[:20])
        answer["containers_new"] = dict(sorted(new.items(), key=lambda kv: -kv[1])[:10])
        answer["containers_followed"] = len(sizes)
        import tracemalloc

        if tracemalloc.is_tracing():
            snap = tracemalloc.take_snapshot().filter_traces(
                (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__))
            )
            if self.first_trace is None:
                self.first_trace = snap
            stats = snap.compare_to(self.first_trace, "traceback")
            answer["tracemalloc_grown"] = [
                {
                    "size_kib": round(st.size_diff / 1024, 1),
                    "count": st.count_diff,
                    "where": [f"{f.filename}:{f.lineno}" for f in st.traceback][:8],
                }
                for st in stats[:10]
                if st.size_diff > 0
            ]
            answer["tracemalloc_kib"] = round(tracemalloc.get_traced_memory()[0] / 1024, 1)
        return answer


_DRIFT = DriftSession()

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
            if cmd["op"].startswith("drift_"):
                result = _DRIFT.run(name, cmd)
            else:
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
