"""Sampling profiles (py-spy) of a client on the suite's scenarios, summarised as text.

    ./benchmarks/run.sh profile [--duration 20] [--clients core-llms,raw-aiohttp]
                                [--server asyncio-raw|uvloop-web] [--scenarios c64,stream-c32]

For each client and scenario (non-streamed at concurrency 64, streamed back to back at
concurrency 32) it starts a worker pinned to CPU 0, attaches ``py-spy record`` to it while the
worker runs that scenario against the chosen mock server, and writes
``benchmarks/profiles/<client>-<scenario>[-<server>].txt``: where CPU time went, by package, by
function (self time) and by core-llms function (inclusive time), by core-llms line (self time,
and inclusive time charged to the innermost core-llms line of each sample: what the work below
that line, in aiohttp, asyncio or json, costs), in shares and in µs per request (or chunk), and
``core-llms-vs-raw-<scenario>[-<server>].txt``: per function, what core-llms costs beyond raw
aiohttp.
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
from dataclasses import dataclass, field
from pathlib import Path

from .suite import PY, REPO, ROOT, SERVERS, STREAM_CHUNKS, MockServer, Worker
from .targets import PRIMARY_SERVER

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


@dataclass
class Profile:
    """Collapsed py-spy stacks, counted per function; ``per_op_us`` is the CPU per request (or per
    chunk) the worker measured in the same run, so shares can be read as microseconds."""

    total: int = 0
    self_time: collections.Counter[str] = field(default_factory=collections.Counter)
    groups: collections.Counter[str] = field(default_factory=collections.Counter)
    core_inclusive: collections.Counter[str] = field(default_factory=collections.Counter)
    #: self time of core-llms lines (the sample's leaf frame is in core-llms).
    core_lines: collections.Counter[str] = field(default_factory=collections.Counter)
    #: every sample charged to its innermost core-llms frame's line (callees included): what each
    #: line of core-llms costs with the aiohttp / asyncio / json work it calls.
    core_sites: collections.Counter[str] = field(default_factory=collections.Counter)
    per_op_us: float | None = None

    def us(self, count: int) -> float | None:
        return None if self.per_op_us is None or not self.total else count / self.total * self.per_op_us


def parse(raw: str, per_op_us: float | None = None) -> Profile:
    """Count py-spy's collapsed stacks (``frame;frame;... count`` per line)."""
    prof = Profile(per_op_us=per_op_us)
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        prof.total += count
        names = []
        lines = []
        for frame in stack.split(";"):
            m = _FRAME.match(frame)
            # --nonblocking sampling now and then reads a frame mid-update: keep it, unnamed.
            good = m is not None and frame.isprintable() and "/" in m["file"]
            name = f"{_short(m['file'])}:{m['func']}" if m and good else "<frame read mid-update>"
            names.append(name)
            lines.append(f"{name}:{m['line']}" if m and good and m["line"] else name)
        leaf = names[-1]
        prof.self_time[leaf] += count
        prof.groups[_group(leaf.rsplit(":", 1)[0])] += count
        for name in {n for n in names if n.startswith("core/llms/")}:
            prof.core_inclusive[name] += count
        if leaf.startswith("core/llms/"):
            prof.core_lines[lines[-1]] += count
        site = next((line for line in reversed(lines) if line.startswith("core/llms/")), None)
        if site is not None:
            prof.core_sites[site] += count
    return prof


def render(prof: Profile, title: str, unit: str, top: int = 35) -> str:
    """Where the time went: by package, by function (self), by core-llms function (inclusive)."""
    if not prof.total:
        return f"{title}\n\n(no samples)\n"

    def table(counter: collections.Counter[str], n: int) -> list[str]:
        rows = []
        for name, c in counter.most_common(n):
            us = prof.us(c)
            rows.append(f"  {100 * c / prof.total:5.1f}%  {'' if us is None else f'{us:7.2f}'}  {name}")
        return rows

    per_op = "" if prof.per_op_us is None else f"; measured CPU {prof.per_op_us:.2f} µs per {unit}"
    out = [
        title,
        f"samples: {prof.total} (only running threads: waiting in epoll is not counted){per_op}",
        f"columns: share of samples, µs per {unit} (share x measured CPU), function",
        "",
    ]
    out += ["self time by package / core-llms folder:", *table(prof.groups, 25), ""]
    out += [f"self time, top {top} functions:", *table(prof.self_time, top), ""]
    out += ["inclusive time, core-llms functions (time under each, callees included):"]
    out += table(prof.core_inclusive, top)
    if prof.core_lines:
        out += ["", "self time, core-llms lines (function:line):", *table(prof.core_lines, top)]
    if prof.core_sites:
        out += [
            "",
            "innermost core-llms line of each sample, callees included (what a line costs with the "
            "aiohttp / asyncio / json work below it):",
            *table(prof.core_sites, top),
        ]
    return "\n".join(out) + "\n"


def render_diff(core: Profile, raw: Profile, title: str, unit: str, top: int = 30) -> str:
    """Per-function self time in µs per operation, core-llms minus raw aiohttp: what core-llms adds,
    in its own code and in the aiohttp / asyncio work its way of calling them causes."""
    if core.per_op_us is None or raw.per_op_us is None:
        return f"{title}\n\n(no CPU figures to scale by)\n"
    names = set(core.self_time) | set(raw.self_time)
    rows = []
    for name in names:
        a, b = core.us(core.self_time[name]) or 0.0, raw.us(raw.self_time[name]) or 0.0
        rows.append((a - b, a, b, name))
    rows.sort(reverse=True)
    groups = set(core.groups) | set(raw.groups)
    by_group = sorted(((core.us(core.groups[g]) or 0.0) - (raw.us(raw.groups[g]) or 0.0), g) for g in groups)
    out = [
        title,
        f"CPU per {unit}: core-llms {core.per_op_us:.2f} µs, raw aiohttp {raw.per_op_us:.2f} µs, "
        f"difference {core.per_op_us - raw.per_op_us:+.2f} µs",
        "(each function's share of samples x its client's measured CPU; sampling noise is ~±0.5 µs;",
        " the clients ran one after the other, so on a busy machine the totals and the aiohttp /",
        " asyncio rows move with the load: the core-llms rows are the reliable part)",
        "",
        f"difference by package / core-llms folder (µs per {unit}):",
    ]
    out += [f"  {d:+8.2f}  {g}" for d, g in reversed(by_group) if abs(d) >= 0.05]
    out += ["", f"functions, self time (µs per {unit}):   diff  core-llms  raw-aiohttp"]
    out += [f"  {d:+8.2f} {a:9.2f} {b:9.2f}  {n}" for d, a, b, n in rows[:top]]
    out += ["", "functions that cost less in core-llms:"]
    out += [f"  {d:+8.2f} {a:9.2f} {b:9.2f}  {n}" for d, a, b, n in sorted(rows)[:10]]
    return "\n".join(out) + "\n"


def profile_scenario(
    client: str, op: dict[str, object], duration: float, py_spy: str, rate: int = 500
) -> tuple[str, dict[str, object]]:
    """Run ``op`` in a fresh worker with py-spy attached for ``duration`` seconds.

    Returns the collapsed stacks and the worker's answer (its measured CPU per operation)."""
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
            [
                py_spy,
                "record",
                "--pid",
                str(worker.proc.pid),
                "--duration",
                str(int(duration)),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(out),
                "--nonblocking",
                "--full-filenames",
            ],
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
    return text, answer


@dataclass
class _Import:
    name: str
    own_us: int
    cum_us: int
    children: list[_Import] = field(default_factory=list)


def _import_tree(stderr: str) -> list[_Import]:
    """The import tree from ``-X importtime`` output (printed children first, indented by depth)."""
    pending: dict[int, list[_Import]] = {}
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        depth = (len(m[3]) - 1) // 2
        node = _Import(m[4], int(m[1]), int(m[2]), pending.pop(depth + 1, []))
        pending.setdefault(depth, []).append(node)
    return pending.get(0, [])


def import_profile(client: str, min_ms: float = 2.0) -> str:
    """Where the import of ``client`` (and making it) spends its time, from ``-X importtime``."""
    code = f"from benchmarks.clients import import_and_create; import_and_create({client!r}, 'http://127.0.0.1:1/v1')"
    done = subprocess.run([PY, "-X", "importtime", "-c", code], cwd=REPO, capture_output=True, text=True)
    roots = _import_tree(done.stderr)
    total = sum(r.cum_us for r in roots)
    out = [
        f"{client}: import + create, python -X importtime (which inflates times; read the shares)",
        f"all imports of the process, interpreter start-up included: {total / 1000:.1f} ms",
        "",
        f"tree (cumulative ms, self ms), imports of {min_ms:g} ms or more, heaviest first:",
    ]

    def walk(node: _Import, depth: int) -> None:
        out.append(f"  {node.cum_us / 1000:7.1f} {node.own_us / 1000:6.1f}  {'  ' * depth}{node.name}")
        for child in sorted(node.children, key=lambda c: -c.cum_us):
            if child.cum_us >= min_ms * 1000:
                walk(child, depth + 1)

    for root in sorted(roots, key=lambda r: -r.cum_us):
        if root.cum_us >= min_ms * 1000:
            walk(root, 0)
    flat: list[_Import] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        flat.append(node)
        stack.extend(node.children)
    out += ["", "heaviest modules by their own time (ms):"]
    out += [f"  {n.own_us / 1000:6.1f}  {n.name}" for n in sorted(flat, key=lambda n: -n.own_us)[:20]]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="py-spy profiles of the benchmark scenarios")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per profile")
    parser.add_argument("--clients", default="core-llms,raw-aiohttp")
    parser.add_argument("--server", default=PRIMARY_SERVER, choices=list(SERVERS), help="the mock server")
    parser.add_argument("--scenarios", default="c64,stream-c32", help="c64 and/or stream-c32")
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy", path=str(Path(PY).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("py-spy is not installed in the benchmark environment", file=sys.stderr)
        return 2
    PROFILES.mkdir(exist_ok=True)
    server = MockServer(args.server)
    suffix = "" if args.server == PRIMARY_SERVER else f"-{args.server}"
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
    wanted = args.scenarios.split(",")
    scenarios = {name: op for name, op in scenarios.items() if name in wanted}
    units = {"c64": ("request", "cpu_us"), "stream-c32": ("chunk", "cpu_us_per_chunk")}
    try:
        profiles: dict[tuple[str, str], Profile] = {}
        for client in args.clients.split(","):
            (PROFILES / f"{client}-import.txt").write_text(import_profile(client))
            for name, op in scenarios.items():
                unit, key = units[name]
                raw, answer = profile_scenario(client, op, args.duration, py_spy, args.rate)
                per_op = answer.get(key)
                prof = profiles[client, name] = parse(
                    raw, float(per_op) if isinstance(per_op, float) else None
                )
                title = (
                    f"{client}, scenario {name}, mock server {args.server}: "
                    f"py-spy, {args.duration:g} s at {args.rate} Hz"
                )
                path = PROFILES / f"{client}-{name}{suffix}.txt"
                path.write_text(render(prof, title, unit))
                print(f"wrote {path}", file=sys.stderr)
        for name in scenarios:
            core, floor = profiles.get(("core-llms", name)), profiles.get(("raw-aiohttp", name))
            if core is not None and floor is not None:
                path = PROFILES / f"core-llms-vs-raw-{name}{suffix}.txt"
                title = f"core-llms minus raw aiohttp, scenario {name}, mock server {args.server}"
                path.write_text(render_diff(core, floor, title, units[name][0]))
                print(f"wrote {path}", file=sys.stderr)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
