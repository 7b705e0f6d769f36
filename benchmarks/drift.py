"""The drift check: does the CPU per request grow in a long-lived process?

    ./benchmarks/run.sh drift [--server uvloop-web] [--batches 5] [--n 2000] [--rounds 1]
                              [--tracemalloc] [--clients raw-aiohttp,core-llms]

(The suite runs it too, after its rounds: 5 batches in a full run, 3 with ``--quick``.)

One long-lived worker per client (``benchmarks/worker.py``, pinned to CPU 0) opens one client on
one event loop and keeps both for the whole check, as a service would. It then sends batches of
requests: a warm-up, ``batches`` batches of ``n`` requests at concurrency 64, one batch of ``n``
at concurrency 1, and ``batches`` more at concurrency 64. The clients' batches are interleaved
(batch *k* of raw aiohttp, batch *k* of core-llms, in an order that rotates), so the machine's
load moves both alike; nothing is garbage-collected by hand between batches.

For every batch the worker reports the CPU per request, what the garbage collector did during it
(collections per generation, µs per request spent collecting, via ``gc.callbacks``), the objects
it tracks per generation, the RSS, the timers on the loop, and every container (dict, list, set,
deque, weak collections, ``lru_cache``) reachable from the client, the event loop and the module
globals of core-llms, aiohttp and asyncio that grew by 8 entries or more since the first batch.
``--tracemalloc`` also lists where traced memory grew since the first batch (tracemalloc slows
every allocation: its CPU figures are not comparable with a run without it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from .targets import TIMES

RAW, CORE = "raw-aiohttp", "core-llms"
WARMUP_LABEL = "warm-up"


class _Worker(Protocol):
    ready: dict[str, Any]

    def ask(self, **cmd: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


def phases(batches: int, n: int) -> list[tuple[str, int, int]]:
    """``(label, concurrency, requests)`` of every batch, in order."""
    out = [(WARMUP_LABEL, 64, 256)]
    out += [(f"c64 #{i + 1}", 64, n) for i in range(batches)]
    out.append(("c1", 1, n))
    out += [(f"c64 after c1 #{i + 1}", 64, n) for i in range(batches)]
    return out


def _rotated(items: Sequence[str], by: int) -> list[str]:
    k = by % len(items) if items else 0
    return [*items[k:], *items[:k]]


def run(
    make_worker: Callable[[str], _Worker],
    clients: Sequence[str],
    url: str,
    *,
    batches: int,
    n: int,
    tracemalloc: bool = False,
    log: IO[str] = sys.stderr,
) -> dict[str, Any]:
    """Run the check once (one worker per client); returns its rows and :func:`summarise`."""
    workers: dict[str, _Worker] = {}
    rows: list[dict[str, Any]] = []
    missing: dict[str, str] = {}
    try:
        for client in clients:
            worker = make_worker(client)
            if not worker.ready.get("ready"):
                missing[client] = str(worker.ready.get("error", "worker failed to start"))
                worker.close()
                continue
            workers[client] = worker
            opened = worker.ask(op="drift_open", url=url, tracemalloc=tracemalloc)
            if "error" in opened:
                missing[client] = opened["error"]
                del workers[client]
                worker.close()
        plan = phases(batches, n)
        for index, (label, concurrency, count) in enumerate(plan):
            log.write(f"  drift batch {index + 1}/{len(plan)}: {label}\n")
            log.flush()
            for client in _rotated(list(workers), index):
                got = workers[client].ask(
                    op="drift_batch", concurrency=concurrency, n=count, label=label, max_seconds=120.0
                )
                rows.append({"client": client, "index": index, "label": label, **got})
        for worker in workers.values():
            worker.ask(op="drift_close")
    finally:
        for worker in workers.values():
            worker.close()
    return {
        "batches": batches,
        "n": n,
        "url": url,
        "tracemalloc": tracemalloc,
        "missing": missing,
        "rows": rows,
        "summary": summarise(rows),
    }


def _by_client(rows: list[dict[str, Any]]) -> dict[str, dict[int, dict[str, Any]]]:
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        if "cpu_us" in row:
            out.setdefault(row["client"], {})[row["index"]] = row
    return out


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per client: CPU per request of the first and last concurrency-64 batch and its change,
    the medians before and after the concurrency-1 phase, the garbage collector's share, the
    tracked objects first and last; and the core-llms / raw aiohttp ratio per batch."""
    by_client = _by_client(rows)
    summary: dict[str, Any] = {"clients": {}, "ratios": []}
    for client, batches in by_client.items():
        c64 = [r for _, r in sorted(batches.items()) if r["concurrency"] == 64 and r["label"] != WARMUP_LABEL]
        if not c64:
            continue
        before = [r["cpu_us"] for r in c64 if "after" not in r["label"]]
        after = [r["cpu_us"] for r in c64 if "after" in r["label"]]
        first, last = c64[0], c64[-1]
        summary["clients"][client] = {
            "c64_first_us": first["cpu_us"],
            "c64_last_us": last["cpu_us"],
            "c64_change": last["cpu_us"] / first["cpu_us"] - 1.0,
            "c64_median_before_c1_us": statistics.median(before) if before else None,
            "c64_median_after_c1_us": statistics.median(after) if after else None,
            "gc_us_per_request_median": statistics.median(r["gc_us_per_request"] for r in c64),
            "gc_full_collections": sum(r["gc_collections"][2] for r in c64),
            "tracked_first": sum(first["gc_tracked"]),
            "tracked_last": sum(last["gc_tracked"]),
            "rss_first_mb": first.get("rss_mb"),
            "rss_last_mb": last.get("rss_mb"),
            "containers_grown": last.get("containers_grown", {}),
        }
    raw, core = by_client.get(RAW, {}), by_client.get(CORE, {})
    for index in sorted(set(raw) & set(core)):
        if raw[index]["label"] == WARMUP_LABEL:
            continue
        summary["ratios"].append(
            {"label": raw[index]["label"], "ratio": core[index]["cpu_us"] / raw[index]["cpu_us"]}
        )
    c64_ratios = [r["ratio"] for r in summary["ratios"] if r["label"].startswith("c64")]
    summary["c64_ratio_median"] = statistics.median(c64_ratios) if c64_ratios else None
    summary["c64_ratio_first"] = c64_ratios[0] if c64_ratios else None
    summary["c64_ratio_last"] = c64_ratios[-1] if c64_ratios else None
    return summary


def _gc_cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    g0, g1, g2 = row["gc_collections"]
    return f"{row['gc_us_per_request']:.1f} ({g0}/{g1}/{g2})"


def markdown(result: dict[str, Any]) -> str:
    """The per-batch table, the summary lines and the containers that grew."""
    by_client = _by_client(result["rows"])
    raw, core = by_client.get(RAW, {}), by_client.get(CORE, {})
    lines = [
        f"Drift check ({result.get('server', '?')} mock server): one long-lived process per client, "
        f"batches of {result['n']:,} requests, interleaved; no gc.collect() between batches.",
        "",
        "| batch | conc. | raw aiohttp µs | core-llms µs | ratio | raw gc µs/req (gen0/1/2) "
        "| core gc µs/req (gen0/1/2) | core tracked objects | core RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index in sorted(set(raw) | set(core)):
        r, c = raw.get(index), core.get(index)
        any_row = r or c
        assert any_row is not None
        ratio = f"{c['cpu_us'] / r['cpu_us']:.2f}{TIMES}" if r and c else "—"
        tracked = f"{sum(c['gc_tracked']):,}" if c else "—"
        rss = f"{c['rss_mb']:.1f}" if c and c.get("rss_mb") is not None else "—"
        lines.append(
            f"| {any_row['label']} | {any_row['concurrency']} | {r['cpu_us'] if r else float('nan'):.1f} "
            f"| {c['cpu_us'] if c else float('nan'):.1f} | {ratio} | {_gc_cell(r)} | {_gc_cell(c)} "
            f"| {tracked} | {rss} |"
        )
    summary = result["summary"]
    lines.append("")
    for client, s in summary["clients"].items():
        before, after = s["c64_median_before_c1_us"], s["c64_median_after_c1_us"]
        lines.append(
            f"- {client}: concurrency 64, first batch {s['c64_first_us']:.1f} µs, "
            f"last {s['c64_last_us']:.1f} µs "
            f"({s['c64_change']:+.1%}); median before the c=1 phase {before:.1f} µs, after it "
            f"{after:.1f} µs; garbage collector {s['gc_us_per_request_median']:.1f} µs per request "
            f"({s['gc_full_collections']} full collections); tracked objects "
            f"{s['tracked_first']:,} → {s['tracked_last']:,}"
        )
    if summary.get("c64_ratio_median") is not None:
        lines.append(
            f"- core-llms / raw aiohttp at concurrency 64: median {summary['c64_ratio_median']:.2f}{TIMES}, "
            f"first batch {summary['c64_ratio_first']:.2f}{TIMES}, "
            f"last {summary['c64_ratio_last']:.2f}{TIMES}"
        )
    for client, s in summary["clients"].items():
        grown = s.get("containers_grown") or {}
        if grown:
            lines.append(f"- {client}: containers that grew by 8 or more since the first batch:")
            lines += [f"  - `{name}`: {a:,} → {b:,}" for name, (a, b) in list(grown.items())[:12]]
        else:
            lines.append(f"- {client}: no container reachable from the client, the loop or the modules grew")
    for client in (RAW, CORE):
        rows = [r for r in result["rows"] if r["client"] == client and r.get("tracemalloc_grown")]
        if rows:
            last = rows[-1]
            lines.append(f"- {client}: tracemalloc, growth since the first batch (top entries):")
            for entry in last["tracemalloc_grown"][:6]:
                where = " ← ".join(entry["where"][:3])
                lines.append(f"  - {entry['size_kib']:+.1f} KiB, {entry['count']:+,} blocks: {where}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from .suite import ROOT, SERVERS, MockServer, Worker, pin

    parser = argparse.ArgumentParser(description="drift check: CPU per request over batches in one process")
    parser.add_argument("--server", default="uvloop-web", choices=list(SERVERS))
    parser.add_argument("--batches", type=int, default=5, help="concurrency-64 batches before and after c=1")
    parser.add_argument("--n", type=int, default=2000, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole check in fresh workers")
    parser.add_argument("--clients", default=f"{RAW},{CORE}")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations (slower)")
    args = parser.parse_args(argv)
    server = MockServer(args.server)
    pin(1)
    results = []
    try:
        for rnd in range(args.rounds):
            sys.stderr.write(f"drift check, round {rnd + 1}/{args.rounds}\n")
            result = run(
                Worker,
                args.clients.split(","),
                server.url(),
                batches=args.batches,
                n=args.n,
                tracemalloc=args.tracemalloc,
            )
            result["server"] = args.server
            results.append(result)
            print(markdown(result) + "\n", flush=True)
    finally:
        server.close()
    if len(results) > 1:
        medians = [r["summary"]["c64_ratio_median"] for r in results if r["summary"].get("c64_ratio_median")]
        print(
            f"core-llms / raw aiohttp at concurrency 64, per round: {', '.join(f'{m:.2f}' for m in medians)}"
        )
    folder = ROOT / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(folder / f"{time.strftime('%Y%m%dT%H%M%S')}-drift.json")
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
