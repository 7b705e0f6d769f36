"""Runs the benchmark suite: mock servers, interleaved clients, medians, report, guard.

    python -m benchmarks.suite [--quick] [--rounds N] [--clients a,b,...] [--servers a,b]
                               [--baseline FILE] [--no-drift]

(``benchmarks/run.sh`` makes the environment and calls this.) The mock servers run pinned to
CPU 1, every measuring process to CPU 0, this orchestrator on CPU 1 (it only waits). Two mock
servers by default (``SERVERS``): the suite's own raw-asyncio one (every figure) and an
aiohttp.web app on uvloop (CPU per request at concurrency 1, 64, 512). Clients run
interleaved: each round measures every figure for every client (and server), in an order that
rotates from round to round, and a figure is the median over rounds; its ratio to raw aiohttp is
the median of the per-round ratios. A drift check (``benchmarks/drift.py``) follows: batches of
requests in one long-lived process per client, to see whether the cost per request grows.
The entry points (``benchmarks/entrypoints.py``: ``client.chat``, LiteLLM's ``completion()``)
are judged against a direct ``get_answer`` of the same round instead of raw aiohttp.
Results go to ``benchmarks/results/<timestamp>.json`` and ``.md``; a full run also rewrites
``docs/benchmarks.md`` and its plot. ``--quick`` (raw aiohttp and core-llms, 5 rounds of smaller
measurements, about two minutes) exits 1 when a target regresses by more than 20%.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from . import drift, report
from ._proc import pin
from .clients import CLIENTS
from .targets import CPU_LEVELS, OTHER_SERVERS, PRIMARY_SERVER, check, cpu_key

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
PY = sys.executable

STREAM_CHUNKS = 100  # content chunks per stream; a stream carries STREAM_CHUNKS + 3 JSON events
#: paced streams (time to first chunk): 20 content chunks, 10 ms apart, like a fast model.
PACED_CHUNKS, PACED_INTERVAL_MS = 20, 10
PACED_STREAM_S = (PACED_CHUNKS + 2) * PACED_INTERVAL_MS / 1000  # how long one paced stream lasts
RSS_STREAMS = 1000
RSS_ROUTE = "k20-i50"  # 20 content chunks, 50 ms apart: every stream stays open ~1 s

#: the mock server flavours: name -> (``mockserver --impl``, ``--loop``). The primary one
#: (``targets.PRIMARY_SERVER``) serves every figure; the others the CPU per request only.
SERVERS: dict[str, tuple[str, str]] = {
    PRIMARY_SERVER: ("raw", "asyncio"),
    "uvloop-web": ("web", "uvloop"),
    "uvloop-raw": ("raw", "uvloop"),
}
DEFAULT_SERVERS = (PRIMARY_SERVER, "uvloop-web")
assert set(SERVERS) == {PRIMARY_SERVER, *OTHER_SERVERS}


@dataclass(frozen=True)
class Plan:
    """How much to measure."""

    rounds: int
    import_rounds: int
    cold_start_rounds: int
    rss_rounds: int
    target_cpu: float  # CPU seconds per measurement, per client and round
    max_seconds: float  # wall-time cap of one measurement
    failover_fresh: int
    failover_n: int
    paced_max_n: int  # paced streams last ~0.2 s each: cap their number
    drift_batches: int  # concurrency-64 batches before and after the concurrency-1 phase
    drift_n: int  # requests per drift batch
    cpu_warmup: int  # requests before timing a CPU per request figure (at least 2 x concurrency)


#: CPU per request is timed after 2,000 requests on the client (at least 2 x concurrency): the
#: drift check shows raw aiohttp's cost per request falling by 10-20% over its first few thousand
#: requests on a new session, core-llms' much less, so a short warm-up understates the ratio a
#: long-lived service sees (it was 200 requests, or 2 x concurrency).
CPU_WARMUP = 2000

FULL = Plan(5, 7, 7, 3, 1.5, 25.0, 20, 300, 960, 5, 2000, CPU_WARMUP)
QUICK = Plan(5, 5, 5, 1, 0.35, 8.0, 10, 150, 320, 3, 2000, CPU_WARMUP)


class Worker:
    """One ``benchmarks.worker`` process (one client, pinned to CPU 0)."""

    def __init__(self, client: str) -> None:
        self.client = client
        self.proc = subprocess.Popen(
            [PY, "-m", "benchmarks.worker", client, "--cpu", "0"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.ready: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:  # the worker died (its stderr is not kept: rerun it by hand to see why)
            return {"ready": False, "error": f"worker exited with {self.proc.wait()}"}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, **cmd: Any) -> dict[str, Any]:
        """Send one command; a worker that died answers ``{"error": ...}`` from then on."""
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(cmd) + "\n")
            stdin.flush()
        except (BrokenPipeError, ValueError):
            return {"error": f"worker exited with {self.proc.wait()}"}
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self.ask(op="quit")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ServerMissing(RuntimeError):
    """A mock server flavour that cannot run here (uvloop not installed)."""


class MockServer:
    """A mock server process (pinned to CPU 1) of one flavour (see ``SERVERS``)."""

    def __init__(self, flavour: str = PRIMARY_SERVER) -> None:
        self.flavour = flavour
        impl, loop = SERVERS[flavour]
        self.proc = subprocess.Popen(
            [PY, "-m", "benchmarks.mockserver", "--cpu", "1", "--impl", impl, "--loop", loop],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        words = line.split()
        if words[:1] == ["MISSING"]:
            self.proc.wait()
            raise ServerMissing(line.strip())
        if len(words) != 3 or words[0] != "READY":
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"mock server {flavour} did not start: {words}")
        self.port, self.dead_port = int(words[1]), int(words[2])

    def url(self, route: str | None = None) -> str:
        prefix = f"/{route}" if route else ""
        return f"http://127.0.0.1:{self.port}{prefix}/v1"

    @property
    def dead_url(self) -> str:
        return f"http://127.0.0.1:{self.dead_port}/v1"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stats", timeout=10) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
            return answer

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def precompile() -> bool:
    """Byte-compile core-llms' sources, as installing its wheel would. aiohttp and the peers were
    compiled by pip at install; a checkout has no bytecode until a run writes it, and none at all
    under ``PYTHONDONTWRITEBYTECODE=1``, in which case every fresh process would compile
    core-llms from source and its import figures would measure the compiler."""
    import compileall

    return bool(compileall.compile_dir(REPO / "core", quiet=1))


def rotated(items: Sequence[str], by: int) -> list[str]:
    k = by % len(items) if items else 0
    return [*items[k:], *items[:k]]


def oneshot(mode: str, client: str, url: str, *extra: str) -> dict[str, Any]:
    """Run ``benchmarks.oneshot`` in a fresh process; also records its wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [PY, "-m", "benchmarks.oneshot", mode, client, url, "--cpu", "0", *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return {"error": tail[0]}
    answer: dict[str, Any] = json.loads(lines[-1])
    answer["process_wall_s"] = wall
    return answer


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _dialect_measure(dialect: str, variant: str, url: str, streams: str) -> dict[str, Any]:
    """One ``benchmarks.dialects measure`` in a fresh process pinned to CPU 0."""
    done = subprocess.run(
        [PY, "-m", "benchmarks.dialects", "measure", dialect, variant, "--url", url, "--streams", streams],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return {"error": tail[0]}
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


class Run:
    """One run of the suite: collects per-round samples of every figure for every client."""

    def __init__(self, plan: Plan, clients: list[str], servers: dict[str, MockServer], log: IO[str]) -> None:
        self.plan = plan
        self.clients = clients
        self.servers = servers  # the primary first
        self.server = servers[PRIMARY_SERVER]
        self.log = log
        self.samples: dict[str, dict[str, list[float | None]]] = {}
        self.details: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.missing: dict[str, str] = {}
        #: media / Responses API modules ``import core.llms`` + ``create_llm`` loaded (must be none).
        self.import_check: set[str] = set()

    def record(self, key: str, client: str, rnd: int, value: float | None, detail: dict[str, Any]) -> None:
        series = self.samples.setdefault(key, {}).setdefault(client, [])
        series.extend([None] * (rnd + 1 - len(series)))
        series[rnd] = value
        self.details.setdefault(key, {}).setdefault(client, []).append({"round": rnd, **detail})
        if value is None:
            self.say(f"  {key} {client}: FAILED {detail.get('error')}")

    def say(self, text: str) -> None:
        self.log.write(text + "\n")
        self.log.flush()

    def fresh_processes(self) -> None:
        url = self.server.url()
        for rnd in range(self.plan.import_rounds):
            self.say(f"import, round {rnd + 1}/{self.plan.import_rounds}")
            for client in rotated(self.clients, rnd):
                got = oneshot("import", client, url)
                if got.get("missing"):
                    self.missing[client] = got["error"]
                value = got["import_s"] * 1e3 if "import_s" in got else None
                self.record("import_ms", client, rnd, value, got)
                if "lazy_loaded" in got:
                    self.import_check.update(got["lazy_loaded"])
        for rnd in range(self.plan.cold_start_rounds):
            self.say(f"cold start to first answer, round {rnd + 1}/{self.plan.cold_start_rounds}")
            for client in rotated(self.available(), rnd):
                got = oneshot("cold_start", client, url)
                for key in ("cold_start", "first_call"):
                    value = got[f"{key}_s"] * 1e3 if f"{key}_s" in got else None
                    self.record(f"{key}_ms", client, rnd, value, got)
        rss_url = self.server.url(RSS_ROUTE)
        for rnd in range(self.plan.rss_rounds):
            self.say(f"peak RSS with {RSS_STREAMS} streams, round {rnd + 1}/{self.plan.rss_rounds}")
            for client in rotated(self.available(), rnd):
                self.server.stats()  # resets the peak
                got = oneshot("rss", client, rss_url, "--streams", str(RSS_STREAMS))
                got["server_peak_open_streams"] = self.server.stats()["peak_open_streams"]
                ok = "peak_rss_mb" in got and "error" not in got
                self.record("peak_rss_mb", client, rnd, got["peak_rss_mb"] if ok else None, got)

    def dialect_streams(self) -> None:
        """CPU per streamed chunk of the native dialects (``benchmarks/dialects.py``): each
        dialect's baseline (raw aiohttp decoding the same stream; for Bedrock, botocore's own
        event-stream parser) and core-llms, interleaved round by round, each in a fresh process
        pinned to CPU 0, against one stream server on CPU 1."""
        if "core-llms" not in self.available() or report.RAW not in self.clients:
            return
        from .dialects import DIALECTS

        port = _free_port()
        server = subprocess.Popen(
            [PY, "-m", "benchmarks.dialects", "serve", "--port", str(port), "--cpu", "1"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        streams = str(max(50, int(self.plan.target_cpu * 200)))
        try:
            _wait_for_port(port)
            for rnd in range(self.plan.rounds):
                self.say(f"native dialect streams, round {rnd + 1}/{self.plan.rounds}")
                for dialect in DIALECTS:
                    for variant in rotated(("raw", "core-llms"), rnd):
                        got = _dialect_measure(dialect, variant, url, streams)
                        client = report.RAW if variant == "raw" else "core-llms"
                        value = got.get("cpu_us_per_chunk")
                        self.record(f"cpu_us_per_chunk_{dialect}", client, rnd, value, got)
        finally:
            server.terminate()
            server.wait(timeout=10)

    def entry_points(self) -> None:
        """CPU per request of core-llms' entry points (``benchmarks/entrypoints.py``): a direct
        ``get_answer`` (the baseline), ``client.chat``, LiteLLM's sync ``completion()`` and
        ``acompletion()``, interleaved round by round (order rotated), each in a fresh process
        pinned to CPU 0, against the primary mock server (CPU 1). Recorded as core-llms' figures;
        their ratios are to the direct ``get_answer`` of the same round."""
        if "core-llms" not in self.available():
            return
        from . import entrypoints

        url = f"http://127.0.0.1:{self.server.port}"
        requests = max(500, int(self.plan.target_cpu * entrypoints.REQUESTS_PER_CPU_S))
        for rnd in range(self.plan.rounds):
            self.say(f"entry points, round {rnd + 1}/{self.plan.rounds}")
            for variant in rotated(entrypoints.VARIANTS, rnd):
                got = entrypoints.measure_in_process(variant, url, requests)
                key = entrypoints.FIGURE_KEYS[variant]
                self.record(key, "core-llms", rnd, got.get("cpu_us_per_request"), got)

    def batch_path(self) -> None:
        """100,000 requests through ``RequestManager`` (``benchmarks/batch.py``; 10,000 in the
        quick guard) against raw aiohttp doing the same work, and the same through a warm cache,
        each in a fresh process pinned to CPU 0, interleaved round by round (at most 3 rounds)."""
        if "core-llms" not in self.available():
            return
        from . import batch

        url = f"http://127.0.0.1:{self.server.port}"
        requests = batch.REQUESTS if self.plan.target_cpu >= FULL.target_cpu else batch.REQUESTS // 10
        rounds = min(3, self.plan.rounds)
        for rnd in range(rounds):
            self.say(f"batch path ({requests:,} requests), round {rnd + 1}/{rounds}")
            for variant in rotated(batch.VARIANTS, rnd):
                got = batch.measure_in_process(variant, url, requests)
                client = report.RAW if variant == "raw" else "core-llms"
                key = "cpu_us_batch_cache_hit" if variant == "cache-hit" else "cpu_us_batch"
                self.record(key, client, rnd, got.get("cpu_us_per_request"), got)
                if variant != "cache-hit":
                    self.record("peak_rss_mb_batch", client, rnd, got.get("peak_rss_mb"), got)

    def observability_path(self) -> None:
        """CPU per request at concurrency 64 with the observers on (``benchmarks/observability.py``)
        against raw aiohttp, each in a fresh process pinned to CPU 0, interleaved round by round."""
        if "core-llms" not in self.available():
            return
        from . import observability

        url = f"http://127.0.0.1:{self.server.port}"
        requests = max(2000, int(self.plan.target_cpu * 4000))
        keys = {
            "otel+metrics": ("cpu_us_observed", "cpu_us_observed_vs_floor"),
            "all": ("cpu_us_observed_all",),
            "raw+otel": ("cpu_us_observed_floor",),
            "raw+otel-min": ("cpu_us_observed_floor_min",),
        }
        # raw aiohttp is the baseline of every figure but the one against the floor
        keys["raw"] = tuple(k for ks in keys.values() for k in ks if k != "cpu_us_observed_vs_floor")
        for rnd in range(self.plan.rounds):
            self.say(f"observability ({requests:,} requests), round {rnd + 1}/{self.plan.rounds}")
            for variant in rotated(tuple(keys), rnd):
                got = observability.measure_in_process(variant, url, requests)
                client = report.RAW if variant == "raw" else "core-llms"
                for key in keys[variant]:
                    self.record(key, client, rnd, got.get("cpu_us_per_request"), got)

    def available(self) -> list[str]:
        return [c for c in self.clients if c not in self.missing]

    def workers(self) -> dict[str, Any]:
        """Every figure measured in the long-lived workers, round by round."""
        plan = self.plan
        workers: dict[str, Worker] = {}
        samples: dict[str, Any] = {}
        try:
            for client in self.available():
                worker = Worker(client)
                if not worker.ready.get("ready"):
                    self.missing[client] = worker.ready.get("error", "worker failed to start")
                    worker.close()
                    continue
                workers[client] = worker
                samples[client] = worker.ask(op="sample", url=self.server.url())
            for rnd in range(plan.rounds):
                self.say(f"in-process figures, round {rnd + 1}/{plan.rounds}")
                for concurrency in CPU_LEVELS:
                    for flavour in rotated(list(self.servers), rnd):
                        for client in rotated(list(workers), rnd):
                            got = workers[client].ask(
                                op="requests",
                                url=self.servers[flavour].url(),
                                concurrency=concurrency,
                                target_cpu=plan.target_cpu,
                                min_n=max(200, 2 * concurrency),
                                max_n=50_000,
                                max_seconds=plan.max_seconds,
                                warmup=max(plan.cpu_warmup, 2 * concurrency),
                            )
                            key = cpu_key(concurrency, flavour)
                            self.record(key, client, rnd, got.get("cpu_us"), got)
                for client in rotated(list(workers), rnd):
                    got = workers[client].ask(
                        op="streams",
                        url=self.server.url(f"k{STREAM_CHUNKS}-i0"),
                        concurrency=32,
                        events=STREAM_CHUNKS + 3,
                        target_cpu=plan.target_cpu,
                        min_n=64,
                        max_n=5_000,
                        max_seconds=plan.max_seconds,
                        warmup=32,
                    )
                    self.record("cpu_us_per_chunk", client, rnd, got.get("cpu_us_per_chunk"), got)
                for client in rotated(list(workers), rnd):
                    got = workers[client].ask(
                        op="streams",
                        url=self.server.url(f"k{PACED_CHUNKS}-i{PACED_INTERVAL_MS}"),
                        concurrency=32,
                        events=PACED_CHUNKS + 3,
                        stagger=PACED_STREAM_S / 32,
                        target_cpu=plan.target_cpu,
                        min_n=256,  # a median time to first chunk needs a few hundred streams
                        max_n=plan.paced_max_n,
                        max_seconds=plan.max_seconds,
                        warmup=32,
                    )
                    self.record("ttfc_ms", client, rnd, got.get("ttfc_ms"), got)
                    self.record("cpu_us_per_chunk_paced", client, rnd, got.get("cpu_us_per_chunk"), got)
                if "core-llms" in workers:
                    got = workers["core-llms"].ask(
                        op="failover",
                        url=self.server.url(),
                        dead_url=self.server.dead_url,
                        fresh=plan.failover_fresh,
                        n=plan.failover_n,
                    )
                    self.record("failover_first_extra_ms", "core-llms", rnd, got.get("first_extra_ms"), got)
                    self.record("failover_open_extra_ms", "core-llms", rnd, got.get("open_extra_ms"), got)
        finally:
            for worker in workers.values():
                worker.close()
        return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="core-llms benchmark suite (see benchmarks/README.md)")
    parser.add_argument("--quick", action="store_true", help="the guard: raw aiohttp + core-llms, ~2 min")
    parser.add_argument("--rounds", type=int, help="rounds of the in-process figures")
    parser.add_argument("--clients", help=f"comma-separated subset of {','.join(CLIENTS)}")
    parser.add_argument(
        "--servers",
        help=f"mock servers, comma-separated, from {','.join(SERVERS)} "
        f"(default: {','.join(DEFAULT_SERVERS)}); {PRIMARY_SERVER} is always used",
    )
    parser.add_argument("--no-drift", action="store_true", help="skip the drift check")
    parser.add_argument("--baseline", type=Path, help="a results JSON to compare against (guard)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = Plan(**{**asdict(plan), "rounds": args.rounds})
    default = ["raw-aiohttp", "core-llms"] if args.quick else list(CLIENTS)
    clients = args.clients.split(",") if args.clients else default
    unknown = sorted(set(clients) - set(CLIENTS))
    if unknown or "raw-aiohttp" not in clients:
        parser.error(f"clients must include raw-aiohttp and come from {CLIENTS}; unknown: {unknown}")
    clients = [c for c in CLIENTS if c in clients]
    wanted = args.servers.split(",") if args.servers else list(DEFAULT_SERVERS)
    if sorted(set(wanted) - set(SERVERS)):
        parser.error(
            f"servers must come from {','.join(SERVERS)}; unknown: {sorted(set(wanted) - set(SERVERS))}"
        )
    flavours = [f for f in SERVERS if f in wanted or f == PRIMARY_SERVER]
    baseline = report.load_figures(args.baseline) if args.baseline else None

    started = time.time()
    if not precompile():
        sys.stderr.write("benchmarks: byte-compiling core/ failed: import figures will include compiling\n")
    machine = report.machine_info()
    cpu_at_start = report.cpu_snapshot()
    log = sys.stderr
    servers: dict[str, MockServer] = {}
    missing_servers: dict[str, str] = {}
    drift_result: dict[str, Any] | None = None
    try:
        for flavour in flavours:
            try:
                servers[flavour] = MockServer(flavour)
            except ServerMissing as exc:
                if flavour == PRIMARY_SERVER:
                    raise
                missing_servers[flavour] = str(exc)
                log.write(f"benchmarks: mock server {flavour} cannot run ({exc}): its figures are skipped\n")
        pinned = pin(1)
        run = Run(plan, clients, servers, log)
        run.fresh_processes()
        samples = run.workers()
        run.dialect_streams()
        run.entry_points()
        run.batch_path()
        run.observability_path()
        if not args.no_drift:
            drift_server = "uvloop-web" if "uvloop-web" in servers else PRIMARY_SERVER
            log.write(f"drift check: one long-lived process per client, mock server {drift_server}\n")
            drift_result = drift.run(
                Worker,
                [c for c in ("raw-aiohttp", "core-llms") if c in run.available()],
                servers[drift_server].url(),
                batches=plan.drift_batches,
                n=plan.drift_n,
                log=log,
            )
            drift_result["server"] = drift_server
    finally:
        for server in servers.values():
            server.close()
    machine["loadavg_end"] = report.loadavg()
    machine["background_cpu_s"] = report.background_cpu(cpu_at_start, report.cpu_snapshot())
    machine["orchestrator_pinned"] = pinned
    figures = report.figures(run.samples)
    skip = {cpu_key(c, f) for f in missing_servers for c in CPU_LEVELS}
    verdicts = check(report.core_figures(figures), baseline, skip)
    result = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "mode": "quick" if args.quick else "full",
        "command": " ".join(["./benchmarks/run.sh", *(argv if argv is not None else sys.argv[1:])]),
        "duration_s": round(time.time() - started, 1),
        "machine": machine,
        "plan": asdict(plan),
        "settings": {
            "stream_chunks": STREAM_CHUNKS,
            "stream_events": STREAM_CHUNKS + 3,
            "paced_chunks": PACED_CHUNKS,
            "paced_interval_ms": PACED_INTERVAL_MS,
            "rss_streams": RSS_STREAMS,
            "rss_route": RSS_ROUTE,
        },
        "clients": clients,
        "servers": {name: {"impl": SERVERS[name][0], "loop": SERVERS[name][1]} for name in servers},
        "missing_servers": missing_servers,
        "missing": run.missing,
        "sample_answers": samples,
        "samples": run.samples,
        "details": run.details,
        "figures": figures,
        "verdicts": [report.verdict_dict(v) for v in verdicts],
        "import_check": {"lazy_loaded": sorted(run.import_check), "ran": plan.import_rounds > 0},
        "drift": drift_result,
        "skipped": {},
    }
    paths = report.write_results(result, ROOT / "results")
    log.write(f"\nresults: {paths[0]}\n\n{report.markdown(result)}\n")
    log.write(report.background_note(machine, result["duration_s"]) + "\n")
    if not args.quick and not args.no_docs:
        report.write_docs(result, REPO / "docs")
        log.write(f"docs: {REPO / 'docs' / 'benchmarks.md'}\n")
    failed = [v for v in verdicts if not v.passed]
    if run.import_check:
        log.write(f"import check FAILED: import core.llms + create_llm loaded {sorted(run.import_check)}\n")
        return 1
    if args.quick:
        log.write(report.guard_summary(verdicts, baseline is not None) + "\n")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
