"""Sampling profiles (py-spy) of a client on the suite's scenarios, summarised as text.

    ./benchmarks/run.sh profile [--duration 20] [--clients core-llms,raw-aiohttp]

For each client and scenario (non-streamed at concurrency 64, streamed back to back at
concurrency 32) it starts a worker pinned to CPU 0, attaches ``py-spy record`` to it while the
worker runs that scenario, and writes ``benchmarks/profiles/<client>-<scenario>.txt``: where CPU
time went, by package, by function (self time) and by core-llms function (inclusive time).
py-spy samples only threads that are running, so time spent waiting in ``epoll`` is not counted.
It also writes ``<client>-import.txt`` from ``python -X importtime`` (the slowest imports).
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from .suite import PY, REPO, ROOT, STREAM_CHUNKS, MockServer, Worker

PROFILES = ROOT / "profiles"
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def _short(path: str) -> str:
    """A readable location: ``core/llms/...``, ``aiohttp/...``, ``asyncio/...``."""
    for marker in ("/site-packages/", "/lib/python3."):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3." else tail
    return path[len(str(REPO)) + 1 :] if path.startswith(str(REPO)) else path


def _group(location: str) -> str:
    if location.startswith("core/llms/"):
        return "core-llms: " + "/".join(location.split("/")[2:-1] or ["(top)"])
    if location.startswith("benchmarks/"):
        return "benchmark driver"
    top = location.split("/", 1)[0].removesuffix(".py")
    return top or "?"


def summarise(raw: str, title: str, top: int = 35) -> str:
    """Text summary of py-spy's collapsed stacks (``frame;frame;... count`` per line)."""
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    groups: collections.Counter[str] = collections.Counter()
    core_inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names = []
        for frame in stack.split(";"):
            m = _FRAME.match(frame)
            names.append(f"{_short(m['file'])}:{m['func']}" if m else frame)
        leaf = names[-1]
        self_time[leaf] += count
        groups[_group(leaf.rsplit(":", 1)[0])] += count
        for name in set(names):
            inclusive[name] += count
            if name.startswith("core/llms/"):
                core_inclusive[name] += count
    if not total:
        return f"{title}\n\n(no samples)\n"

    def table(counter: collections.Counter[str], n: int) -> list[str]:
        return [f"  {100 * c / total:5.1f}%  {name}" for name, c in counter.most_common(n)]

    out = [title, f"samples: {total} (only running threads; waiting in epoll is not counted)", ""]
    out += ["self time by package / core-llms folder:", *table(groups, 25), ""]
    out += [f"self time, top {top} functions:", *table(self_time, top), ""]
    out += ["inclusive time, core-llms functions (time under each, callees included):"]
    out += table(core_inclusive, top)
    return "\n".join(out) + "\n"


def profile_scenario(client: str, op: dict[str, object], duration: float, py_spy: str) -> str:
    """Run ``op`` in a fresh worker with py-spy attached for ``duration`` seconds; collapsed stacks."""
    worker = Worker(client)
    if not worker.ready.get("ready"):
        raise RuntimeError(f"{client}: {worker.ready}")
    out = PROFILES / f".{client}.raw"
    answer: dict[str, object] = {}

    def drive() -> None:
        answer.update(worker.ask(**op))

    try:
        thread = threading.Thread(target=drive)
        thread.start()
        subprocess.run(
            [py_spy, "record", "--pid", str(worker.proc.pid), "--duration", str(int(duration)),
             "--rate", "500", "--format", "raw", "--output", str(out), "--nonblocking",
             "--full-filenames"],
            check=True,
            capture_output=True,
        )
        thread.join()
    finally:
        worker.close()
    text = out.read_text()
    out.unlink()
    if "error" in answer:
        raise RuntimeError(f"{client}: {answer['error']}")
    return text


def import_profile(client: str, top: int = 30) -> str:
    """The slowest imports (cumulative) of importing and making ``client``, from -X importtime."""
    code = (
        "from benchmarks.clients import import_and_create; "
        f"import_and_create({client!r}, 'http://127.0.0.1:1/v1')"
    )
    done = subprocess.run([PY, "-X", "importtime", "-c", code], cwd=REPO, capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m[2]), int(m[1]), len(m[3]) // 2, m[4]))
    top_level = sum(r[0] for r in rows if r[2] == 0)
    rows.sort(reverse=True)
    out = [f"{client}: import + create, python -X importtime (µs; cumulative includes sub-imports)",
           f"sum of top-level imports: {top_level / 1000:.1f} ms", "", "  cumulative    self  module"]
    out += [f"  {cum / 1000:8.1f}ms {own / 1000:6.1f}ms  {'  ' * depth}{name}" for cum, own, depth, name in rows[:top]]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="py-spy profiles of the benchmark scenarios")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per profile")
    parser.add_argument("--clients", default="core-llms,raw-aiohttp")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy", path=str(Path(PY).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("py-spy is not installed in the benchmark environment", file=sys.stderr)
        return 2
    PROFILES.mkdir(exist_ok=True)
    server = MockServer()
    long_run = {"target_cpu": 1e9, "min_n": 1, "max_n": 10**9, "max_seconds": args.duration + 3}
    scenarios = {
        "c64": {"op": "requests", "url": server.url(), "concurrency": 64, "warmup": 128, **long_run},
        "stream-c32": {
            "op": "streams",
            "url": server.url(f"k{STREAM_CHUNKS}-i0"),
            "concurrency": 32,
            "events": STREAM_CHUNKS + 3,
            "warmup": 32,
            **long_run,
        },
    }
    try:
        for client in args.clients.split(","):
            (PROFILES / f"{client}-import.txt").write_text(import_profile(client))
            for name, op in scenarios.items():
                raw = profile_scenario(client, op, args.duration, py_spy)
                title = f"{client}, scenario {name}: py-spy, {args.duration:g} s at 500 Hz"
                path = PROFILES / f"{client}-{name}.txt"
                path.write_text(summarise(raw, title))
                print(f"wrote {path}", file=sys.stderr)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
