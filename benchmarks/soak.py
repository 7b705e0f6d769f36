"""Soak: many requests through a failover model while the endpoints misbehave at random.

Two in-process simulators (primary and backup) each inject a seeded random fault into a fraction
of the requests they receive (503, 429 with a short ``retry-after-ms``, 500, connections dropped
before the headers or after the first chunk, truncated streams, malformed JSON, error events,
short stalls, and stalls longer than the read timeout). ``concurrency`` workers send the
requests, about half of them streamed, through one ``create_llm(..., backups=[...])`` model.

Checked, and printed with the figures:

* no unhandled exception: every request ends in an answer or an ``LLMError`` subclass;
* none lost (each request id ends exactly once) and none duplicated (an id never ends twice, an
  answer never carries repeated or foreign content: each must be exactly the expected text);
* after ``aclose()`` the process's TCP sockets and open aiohttp sessions are back to their
  baseline (sockets are counted from ``/proc/self/fd`` and ``/proc/net/tcp{,6}``);
* RSS growth (``VmRSS``, measured after a warm-up) stays under the limit (50 MB).

Run::

    python benchmarks/soak.py --requests 100000            # the long soak (a few minutes)
    python benchmarks/soak.py --requests 2000 --provider azure

The exit status is 1 when a check fails. ``tests/llms/soak/`` imports this module.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextvars
import gc
import itertools
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from core.llms import create_llm
from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import AllEndpointsFailedError, LLMError, StreamInterruptedError
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.retry import RetryPolicy
from core.llms.simulator import Fault, RandomFaults, Simulator

__all__ = ["SOAK_FAULT_MIX", "SoakConfig", "SoakReport", "main", "run_soak"]

#: seconds without a byte before a read times out (the "long stall" fault exceeds it).
READ_TIMEOUT = 0.5
#: the injected faults, each drawn with equal probability.
SOAK_FAULT_MIX: tuple[tuple[str, Fault], ...] = (
    ("503", Fault(status=503)),
    ("429 retry-after-ms 5", Fault(status=429, retry_after_ms=5)),
    ("500", Fault(status=500)),
    ("drop before headers", Fault(drop="before_headers")),
    ("drop after first chunk", Fault(drop="after_first_chunk")),
    ("truncated stream/body", Fault(truncate_stream=True)),
    ("malformed JSON", Fault(malformed_json=True)),
    ("error event", Fault(error_event=True)),
    ("stall 50 ms", Fault(stall=0.05)),
    (f"stall {READ_TIMEOUT * 1.5:g} s (> read timeout)", Fault(stall=READ_TIMEOUT * 1.5)),
)
#: fast retries: the soak measures correctness under faults, not backoff sleeps.
SOAK_RETRY = RetryPolicy(max_retries=2, backoff_initial=0.005, backoff_max=0.02, max_retry_after=1.0)
MB = 1024 * 1024

# The endpoint indices each attempt of the current request went to (set per request).
_trail: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("soak_trail", default=None)


@dataclass(frozen=True)
class SoakConfig:
    """What to run. ``warmup``: requests sent before the starting RSS is read (default: 5 %,
    at least 200)."""

    requests: int = 2_000
    concurrency: int = 64
    fault_rate: float = 0.05
    stream_ratio: float = 0.5
    seed: int = 1
    provider: str = "openai"
    warmup: int | None = None
    rss_limit_mb: float = 50.0
    #: breaker settings of the model (short cooldown so breakers open and close during the run).
    failure_threshold: int = 3
    cooldown: float = 1.0

    def warmup_requests(self) -> int:
        if self.warmup is not None:
            return min(self.warmup, self.requests)
        return min(self.requests, max(200, self.requests // 20))


@dataclass
class SoakReport:
    """The figures of one soak run; :meth:`problems` lists the checks that failed."""

    config: SoakConfig
    requests: int = 0
    streams: int = 0
    answers: int = 0
    typed_errors: Counter[str] = field(default_factory=Counter)
    unhandled: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    duplicated: int = 0
    wrong_answers: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)
    http_attempts: list[int] = field(default_factory=list)
    retries: int = 0
    failovers: int = 0
    backup_first: int = 0
    peak_client_sockets: int = 0
    sockets_baseline: int | None = None
    sockets_after_close: int | None = None
    server_sockets_after_close: int | None = None
    sessions_baseline: int = 0
    sessions_open_during: int = 0
    sessions_after_close: int = 0
    rss_start: int = 0
    rss_end: int = 0
    seconds: float = 0.0
    #: seconds per request, by request id (preallocated so the harness adds nothing to the RSS).
    latencies: array.array[float] = field(default_factory=lambda: array.array("d"))

    @property
    def leaked_sockets(self) -> int | None:
        if self.sockets_after_close is None or self.sockets_baseline is None:
            return None
        return self.sockets_after_close - self.sockets_baseline

    @property
    def rss_growth(self) -> int:
        return self.rss_end - self.rss_start

    def problems(self) -> list[str]:
        """The failed checks, in words (empty when the soak passed)."""
        out = []
        ended = self.answers + sum(self.typed_errors.values()) + sum(self.unhandled.values())
        if self.unhandled:
            out.append(f"unhandled exceptions: {dict(self.unhandled)}")
        if self.lost:
            out.append(f"{self.lost} request(s) lost")
        if self.duplicated:
            out.append(f"{self.duplicated} request(s) duplicated")
        if self.wrong_answers:
            out.append(f"{self.wrong_answers} answer(s) with wrong content")
        if ended != self.requests:
            out.append(f"{ended} outcomes for {self.requests} requests")
        if self.leaked_sockets:
            out.append(f"{self.leaked_sockets} client socket(s) still open after aclose()")
        if self.server_sockets_after_close:
            out.append(f"{self.server_sockets_after_close} simulator connection(s) still open")
        if self.sessions_after_close != self.sessions_baseline:
            out.append(f"{self.sessions_after_close - self.sessions_baseline} aiohttp session(s) left open")
        if self.rss_growth > self.config.rss_limit_mb * MB:
            out.append(f"RSS grew {self.rss_growth / MB:.1f} MB (limit {self.config.rss_limit_mb:g} MB)")
        return out

    def table(self) -> str:
        """The figures as an aligned two-column table (Markdown)."""
        c = self.config
        lat = sorted(self.latencies)

        def pct(p: float) -> str:
            return f"{lat[min(len(lat) - 1, int(p * len(lat)))] * 1000:.1f} ms" if lat else "-"

        rows: list[tuple[str, str]] = [
            ("provider / model", f"{c.provider}/gpt-4.1-mini, primary + 1 backup (in-process simulators)"),
            (
                "requests (streamed / not)",
                f"{self.requests:,} ({self.streams:,} / {self.requests - self.streams:,})",
            ),
            ("concurrency", str(c.concurrency)),
            ("fault rate per HTTP request", f"{c.fault_rate:.0%} (seed {c.seed})"),
            ("HTTP attempts (primary / backup)", " / ".join(f"{n:,}" for n in self.http_attempts)),
            ("faults injected", f"{sum(self.faults_injected.values()):,}"),
        ]
        rows += [(f"  {kind}", f"{n:,}") for kind, n in sorted(self.faults_injected.items())]
        rows += [
            ("retries on the same endpoint", f"{self.retries:,}"),
            ("failovers to the backup", f"{self.failovers:,}"),
            ("calls sent to the backup first (primary breaker open)", f"{self.backup_first:,}"),
            ("answers (exact expected text)", f"{self.answers:,}"),
            ("typed errors", f"{sum(self.typed_errors.values()):,}"),
        ]
        rows += [(f"  {kind}", f"{n:,}") for kind, n in sorted(self.typed_errors.items())]
        rows += [
            ("unhandled exceptions", str(sum(self.unhandled.values()))),
            ("lost", str(self.lost)),
            ("duplicated", str(self.duplicated)),
            ("wrong answers", str(self.wrong_answers)),
            ("peak client TCP sockets", _opt(self.peak_client_sockets)),
            (
                "client TCP sockets before / after aclose()",
                f"{self.sockets_baseline} / {self.sockets_after_close}",
            ),
            ("leaked sockets", _opt(self.leaked_sockets)),
            (
                "open aiohttp sessions: baseline / during / after",
                (f"{self.sessions_baseline} / {self.sessions_open_during} / {self.sessions_after_close}"),
            ),
            ("RSS after warm-up / at end", f"{self.rss_start / MB:.1f} MB / {self.rss_end / MB:.1f} MB"),
            ("RSS growth", f"{self.rss_growth / MB:+.1f} MB (limit {c.rss_limit_mb:g} MB)"),
            ("latency p50 / p99 / max", f"{pct(0.5)} / {pct(0.99)} / {pct(1.0)}"),
            ("wall time", f"{self.seconds:.1f} s"),
            ("requests/s", f"{self.requests / self.seconds:,.0f}" if self.seconds else "-"),
        ]
        width = max(len(k) for k, _ in rows)
        lines = [f"| {'figure':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
        lines += [f"| {k:<{width}} | {v} |" for k, v in rows]
        return "\n".join(lines)


def _opt(value: int | None) -> str:
    return "n/a (no /proc)" if value is None else str(value)


# -- process resources ----------------------------------------------------------------------------


def rss_bytes() -> int:
    """The process's resident set size (``VmRSS``), 0 where ``/proc`` is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tcp_sockets(server_ports: set[int]) -> tuple[int, int] | None:
    """(client sockets connected to ``server_ports``, accepted connections on them) held by this
    process, from ``/proc``; None where ``/proc`` is missing."""
    try:
        inodes = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue  # closed meanwhile
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
        client = server = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as rows:
                next(rows)
                for row in rows:
                    cols = row.split()
                    if int(cols[9]) not in inodes or cols[3] == "0A":  # not ours, or listening
                        continue
                    local = int(cols[1].rsplit(":", 1)[1], 16)
                    remote = int(cols[2].rsplit(":", 1)[1], 16)
                    client += remote in server_ports
                    server += local in server_ports
        return client, server
    except OSError:
        return None


def open_sessions() -> int:
    """aiohttp client sessions alive and not closed in this process."""
    return sum(1 for o in gc.get_objects() if isinstance(o, aiohttp.ClientSession) and not o.closed)


# -- the run --------------------------------------------------------------------------------------


def _model(config: SoakConfig, primary: Simulator, backup: Simulator) -> BaseLLM:
    common: dict[str, Any] = {
        "api_key": "sk-soak-not-a-real-key",
        "retry": SOAK_RETRY,
        "timeouts": {"connect": 2.0, "read": READ_TIMEOUT, "total": 30.0},
        "failure_threshold": config.failure_threshold,
        "cooldown": config.cooldown,
    }
    match config.provider:
        case "openai":
            return create_llm(
                "openai/gpt-4.1-mini",
                endpoint=f"{primary.url}/v1",
                backups=[{"endpoint": f"{backup.url}/v1"}],
                **common,
            )
        case "azure":
            return create_llm(
                "azure/gpt-4.1-mini",
                endpoint=primary.url,
                backups=[{"endpoint": backup.url}],
                deployment_name="soak",
                api_version="2024-10-21",
                **common,
            )
        case _:
            raise ValueError(f"provider must be 'openai' or 'azure', got {config.provider!r}")


def _count_attempts(llm: BaseLLM) -> None:
    """Make each endpoint's connector note its index in the current request's trail."""
    connector = llm.connector
    assert isinstance(connector, FailoverConnector)
    for index, conn in enumerate(connector.connectors):
        for name in ("send_once", "open_stream"):
            original = getattr(conn, name)

            async def counted(*args: Any, _original: Any = original, _index: int = index) -> Any:
                trail = _trail.get()
                if trail is not None:
                    trail.append(_index)
                return await _original(*args)

            setattr(conn, name, counted)


class _Run:
    """Shared state of the workers of one soak."""

    def __init__(self, config: SoakConfig, llm: BaseLLM, report: SoakReport) -> None:
        self.config = config
        self.llm = llm
        self.report = report
        rng = random.Random(config.seed)
        self.streamed = [rng.random() < config.stream_ratio for _ in range(config.requests)]
        self.outcomes: list[str | None] = [None] * config.requests
        report.latencies = array.array("d", bytes(8 * config.requests))

    async def worker(self, ids: itertools.count[int], stop: int) -> None:
        for rid in ids:
            if rid >= stop:
                return
            await self.one(rid)

    async def one(self, rid: int) -> None:
        report = self.report
        prompt = f"soak request {rid}"
        trail: list[int] = []
        _trail.set(trail)
        started = time.perf_counter()
        try:
            ctx = RequestContext.with_timeout(20.0)
            if self.streamed[rid]:
                parts = [c.text async for c in self.llm.stream_answer(prompt, ctx) if c.text]
                text = "".join(parts)
            else:
                text = (await self.llm.get_answer(prompt, ctx)).text
            outcome = "answer" if text == f"Simulated answer to: {prompt}" else "wrong"
        except LLMError as exc:
            outcome = sys.intern(_error_kind(exc))
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            outcome = "!CancelledError"  # a cancellation nobody asked for
        except Exception as exc:
            outcome = f"!{type(exc).__name__}: {exc}"
        report.latencies[rid] = time.perf_counter() - started
        _trail.set(None)
        if self.outcomes[rid] is not None:
            report.duplicated += 1
        self.outcomes[rid] = outcome
        for a, b in itertools.pairwise(trail):
            if a == b:
                report.retries += 1
            else:
                report.failovers += 1
        if trail and trail[0] != 0:
            report.backup_first += 1

    def tally(self) -> None:
        report = self.report
        report.requests = len(self.outcomes)
        report.streams = sum(self.streamed)
        for outcome in self.outcomes:
            match outcome:
                case None:
                    report.lost += 1
                case "answer":
                    report.answers += 1
                case "wrong":
                    report.wrong_answers += 1
                case str() if outcome.startswith("!"):
                    report.unhandled[outcome[1:]] += 1
                case _:
                    report.typed_errors[outcome] += 1


def _error_kind(exc: LLMError) -> str:
    """The error class, with the cause for the wrapping kinds."""
    name = type(exc).__name__
    inner: BaseException | None = None
    if isinstance(exc, AllEndpointsFailedError):
        inner = exc.last_error
    elif isinstance(exc, StreamInterruptedError):
        inner = exc.cause
    return f"{name} ({type(inner).__name__})" if inner is not None else name


async def _wait_until(check: Any, seconds: float = 2.0) -> None:
    """Let the loop run until ``check()`` is true or ``seconds`` pass (sockets close a tick late)."""
    end = time.monotonic() + seconds
    while not check() and time.monotonic() < end:
        await asyncio.sleep(0.01)


async def run_soak(config: SoakConfig) -> SoakReport:
    """Run one soak and return its figures (nothing is printed)."""
    report = SoakReport(config)
    gc.collect()
    report.sessions_baseline = open_sessions()
    kinds = [fault for _, fault in SOAK_FAULT_MIX]
    sims = [
        Simulator(max_recorded=0, fault_rate=config.fault_rate, fault_mix=kinds, seed=config.seed + i)
        for i in range(2)
    ]
    async with sims[0], sims[1]:
        ports = {sim.port for sim in sims}
        sockets = tcp_sockets(ports)
        report.sockets_baseline = None if sockets is None else sockets[0]
        llm = _model(config, sims[0], sims[1])
        _count_attempts(llm)
        run = _Run(config, llm, report)
        ids = itertools.count()
        warm = config.warmup_requests()

        async def sample() -> None:
            while True:
                now = tcp_sockets(ports)
                if now is not None:
                    report.peak_client_sockets = max(report.peak_client_sockets, now[0])
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        started = time.perf_counter()
        try:
            await asyncio.gather(*(run.worker(ids, warm) for _ in range(config.concurrency)))
            gc.collect()
            report.rss_start = rss_bytes()
            ids = itertools.count(warm)
            await asyncio.gather(*(run.worker(ids, config.requests) for _ in range(config.concurrency)))
            report.seconds = time.perf_counter() - started
            gc.collect()
            report.rss_end = rss_bytes()
            report.sessions_open_during = open_sessions()
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
            await llm.aclose()
        await _wait_until(lambda: (tcp_sockets(ports) or (0, 0))[0] == (report.sockets_baseline or 0))
        await _wait_until(lambda: all(sim.open_connections == 0 for sim in sims))
        after = tcp_sockets(ports)
        if after is not None:
            report.sockets_after_close, report.server_sockets_after_close = after
        run.tally()
        report.http_attempts = [sim.request_count for sim in sims]
        for sim in sims:
            generator = sim.fault_generator
            assert isinstance(generator, RandomFaults)
            for (label, _), n in zip(SOAK_FAULT_MIX, generator.counts, strict=True):
                report.faults_injected[label] += n
    del llm, run
    gc.collect()
    report.sessions_after_close = open_sessions()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/soak.py``: run, print the figures, exit 1 if a check failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=SoakConfig.requests)
    parser.add_argument("--concurrency", type=int, default=SoakConfig.concurrency)
    parser.add_argument("--fault-rate", type=float, default=SoakConfig.fault_rate)
    parser.add_argument("--stream-ratio", type=float, default=SoakConfig.stream_ratio)
    parser.add_argument("--seed", type=int, default=SoakConfig.seed)
    parser.add_argument("--provider", choices=("openai", "azure"), default=SoakConfig.provider)
    args = parser.parse_args(argv)
    config = SoakConfig(
        requests=args.requests,
        concurrency=args.concurrency,
        fault_rate=args.fault_rate,
        stream_ratio=args.stream_ratio,
        seed=args.seed,
        provider=args.provider,
    )
    report = asyncio.run(run_soak(config))
    print(report.table())
    problems = report.problems()
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    print("soak passed" if not problems else "soak FAILED", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
