"""Turning per-round samples into figures, ratios, tables, the docs page and the plot."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .clients import CLIENTS
from .targets import (
    CPU_LEVELS,
    ENTRY_BASELINE,
    ENTRY_FIGURES,
    FIGURE_BY_KEY,
    FIGURES,
    PRIMARY_SERVER,
    TARGETS,
    TIMES,
    Verdict,
    cpu_key,
)

RAW = "raw-aiohttp"
PLOT_NAME = "benchmarks-cpu-per-request.png"


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_snapshot() -> tuple[float, float] | None:
    """``(busy, own)`` CPU seconds so far: the whole machine's (``/proc/stat``: every state but
    idle and iowait) and this process's plus its waited-for children's. Two snapshots tell how
    much CPU *other* processes took while the suite ran; None without ``/proc``."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is already inside user)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        own += usage.ru_utime + usage.ru_stime
    return busy / os.sysconf("SC_CLK_TCK"), own


def background_cpu(start: tuple[float, float] | None, end: tuple[float, float] | None) -> float | None:
    """CPU seconds that processes other than the suite's used between two :func:`cpu_snapshot` calls."""
    if start is None or end is None:
        return None
    return round(max(0.0, (end[0] - start[0]) - (end[1] - start[1])), 1)


def background_note(machine: dict[str, Any], duration_s: float) -> str:
    """One line on how busy the rest of the machine was during the run."""
    other = machine.get("background_cpu_s")
    if other is None:
        return f"load average {machine['loadavg_start']} → {machine.get('loadavg_end')}"
    share = other / max(duration_s * (machine.get("cores") or 1), 1e-9)
    verdict = "a quiet machine" if share < 0.02 else "other work was running: figures are noisier"
    return (
        f"other processes used {other:,.1f} CPU-seconds during the run ({share:.1%} of the "
        f"machine; {verdict})"
    )


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if commit and dirty:
            commit += " + uncommitted changes"
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit or None,
        "loadavg_start": loadavg(),
        "versions": {
            d: _version(d)
            for d in ("core-llms", "aiohttp", "pydantic", "openai", "litellm", "httpx", "orjson")
        },
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def figures(samples: dict[str, dict[str, list[float | None]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{figure: {client: {"value", "ratio", "rounds"}}}``.

    ``value`` is the median over rounds; ``ratio`` the median over rounds of the client's figure
    divided by raw aiohttp's from the same round, ``ratio_range`` the lowest and highest of those
    per-round ratios (both None for figures raw aiohttp has not got), ``value_range`` the same
    for the figure itself. A figure with a ``baseline`` (the entry points) is divided by that
    figure of the same client and round instead.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for key, by_client in samples.items():
        figure = FIGURE_BY_KEY.get(key)
        baseline = figure.baseline if figure is not None else None
        raw = by_client.get(RAW, [])
        out[key] = {}
        for client, series in by_client.items():
            values = [v for v in series if v is not None]
            under = samples.get(baseline, {}).get(client, []) if baseline else raw
            pairs = zip(series, under, strict=False)
            ratios = [v / r for v, r in pairs if v is not None and r is not None and r > 0]
            has_ratio = key in _RATIO_KEYS and bool(ratios)
            out[key][client] = {
                "value": _median(values),
                "ratio": _median(ratios) if has_ratio else None,
                "ratio_range": [min(ratios), max(ratios)] if has_ratio else None,
                "value_range": [min(values), max(values)] if values else None,
                "rounds": len(values),
            }
    return out


_RATIO_KEYS = {f.key for f in FIGURES if not f.key.startswith("failover_") and f.key != ENTRY_BASELINE}
_ENTRY_KEYS = {f.key for f in ENTRY_FIGURES}


def core_figures(figs: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, float | None]]:
    """core-llms' ``{figure: {"value", "ratio"}}``, what the guard checks."""
    return {key: dict(by_client.get("core-llms", {})) for key, by_client in figs.items()}


def load_figures(path: Path) -> dict[str, dict[str, float | None]]:
    """core-llms' figures from an earlier results JSON (the guard's ``--baseline``)."""
    result = json.loads(Path(path).read_text())
    return core_figures(result["figures"])


def verdict_dict(v: Verdict) -> dict[str, Any]:
    return {
        "figure": v.target.key,
        "target": v.target.describe(),
        "measured": v.measured,
        "allowed": v.allowed,
        "meets_target": v.meets_target,
        "passed_guard": v.passed,
        "note": v.note,
    }


def _cell(entry: dict[str, Any] | None, digits: int) -> str:
    if not entry or entry.get("value") is None:
        return "failed" if entry else "n/a"
    text = f"{entry['value']:,.{digits}f}"
    if entry.get("ratio") is not None:
        text += f" ({entry['ratio']:.2f}{TIMES})"
    return text


def _import_check_note(result: dict[str, Any]) -> list[str]:
    check = result.get("import_check")
    if not check or not check.get("ran"):
        return []
    loaded = check.get("lazy_loaded") or []
    if loaded:
        return [f"- import check FAILED: `import core.llms` + `create_llm` loaded {', '.join(loaded)}"]
    return [
        "- import check: `import core.llms` + `create_llm` loaded none of the media (images, speech, "
        "transcription, video, embeddings), Responses API or other providers' code"
    ]


def markdown(result: dict[str, Any]) -> str:
    """The results table (a row per figure, a column per client) and the targets table."""
    clients = [c for c in CLIENTS if c in result["clients"]]
    figs = result["figures"]
    missing = result.get("missing") or {}
    head = "| figure | " + " | ".join(clients) + " |"
    lines = [head, "|---|" + "---:|" * len(clients)]
    for fig in FIGURES:
        if fig.key not in figs or fig.key in _ENTRY_KEYS:  # (their own table)
            continue
        row = ["missing" if c in missing else _cell(figs[fig.key].get(c), fig.digits) for c in clients]
        lines.append(f"| {fig.label} ({fig.unit}) | " + " | ".join(row) + " |")
    lines.append("")
    lines += [f"- not measured: {why}" for why in result.get("skipped", {}).values()]
    lines += [f"- {c}: missing ({why})" for c, why in missing.items()]
    lines += [
        f"- mock server {s}: could not run ({why})"
        for s, why in (result.get("missing_servers") or {}).items()
    ]
    lines += _rss_notes(result)
    lines += _import_check_note(result)
    lines += ["", *server_table(result)]
    entries = entry_table(result)
    lines += ["", *entries] if entries else []
    if result.get("drift") and result["drift"].get("rows"):
        from . import drift

        lines += ["", drift.markdown(result["drift"])]
    lines += [
        "",
        "| core-llms target | measured | per-round range | target | met |",
        "|---|---:|---:|---:|:---:|",
    ]
    labels = {f.key: f.label for f in FIGURES}
    for v in result["verdicts"]:
        unit = TIMES if TIMES in v["target"] else " " + FIGURE_BY_KEY[v["figure"]].unit
        measured = "—" if v["measured"] is None else f"{v['measured']:.3g}{unit}"
        spread = _spread(figs.get(v["figure"], {}).get("core-llms"), unit)
        met = "yes" if v["meets_target"] else "no"
        label = labels.get(v["figure"], v["figure"])
        lines.append(f"| {label} | {measured} | {spread} | {v['target']} | {met} |")
    return "\n".join(lines)


def server_table(result: dict[str, Any]) -> list[str]:
    """CPU per request by mock server: per concurrency, raw aiohttp's and core-llms' medians and
    core-llms' ratio (median of the per-round ratios, with their range), one column group per
    server."""
    servers = list(result.get("servers") or [PRIMARY_SERVER])
    figs = result["figures"]
    if not any(cpu_key(c, s) in figs for s in servers for c in CPU_LEVELS):
        return []
    head = "| CPU per request (µs) | " + " | ".join(
        f"{s}: raw aiohttp | {s}: core-llms | {s}: ratio (range)" for s in servers
    )
    lines = [head + " |", "|---|" + "---:|---:|---:|" * len(servers)]
    for c in CPU_LEVELS:
        cells = []
        for server in servers:
            by_client = figs.get(cpu_key(c, server), {})
            raw, core = by_client.get(RAW) or {}, by_client.get("core-llms") or {}
            cells.append(f"{raw['value']:,.0f}" if raw.get("value") is not None else "—")
            cells.append(f"{core['value']:,.0f}" if core.get("value") is not None else "—")
            if core.get("ratio") is not None:
                low, high = core["ratio_range"]
                cells.append(f"{core['ratio']:.2f}{TIMES} ({low:.2f}-{high:.2f})")
            else:
                cells.append("—")
        lines.append(f"| concurrency {c} | " + " | ".join(cells) + " |")
    return lines


def entry_table(result: dict[str, Any]) -> list[str]:
    """The entry points (``benchmarks/entrypoints.py``): core-llms' CPU per request at
    concurrency 1 through each entry point, and its ratio to a direct ``get_answer`` of the same
    round (median of the per-round ratios, with their range)."""
    figs = result["figures"]
    if not any(f.key in figs for f in ENTRY_FIGURES):
        return []
    lines = [
        "| entry point (same request, concurrency 1) | CPU per request (µs) "
        "| ratio to direct `get_answer` (range) |",
        "|---|---:|---:|",
    ]
    for fig in ENTRY_FIGURES:
        entry = figs.get(fig.key, {}).get("core-llms") or {}
        value = f"{entry['value']:,.1f}" if entry.get("value") is not None else "—"
        ratio = "baseline" if fig.key == ENTRY_BASELINE else "—"
        if entry.get("ratio") is not None:
            low, high = entry["ratio_range"]
            ratio = f"{entry['ratio']:.2f}{TIMES} ({low:.2f}-{high:.2f})"
        name = fig.label.removeprefix("CPU per request, ").removesuffix(", concurrency 1")
        lines.append(f"| {name} | {value} | {ratio} |")
    return lines


def _spread(entry: dict[str, Any] | None, unit: str) -> str:
    """``low-high`` of core-llms' per-round ratios (or, for absolute figures, values)."""
    if not entry:
        return "—"
    if entry.get("ratio_range"):
        low, high = entry["ratio_range"]
        return f"{low:.2f}-{high:.2f}{unit}"
    if entry.get("value_range"):
        low, high = entry["value_range"]
        return f"{low:.3g}-{high:.3g}{unit}"
    return "—"


def _rss_notes(result: dict[str, Any]) -> list[str]:
    """A note for each client that never had all the streams of the RSS figure open at once."""
    wanted = result.get("settings", {}).get("rss_streams")
    notes = []
    for client, rounds in result.get("details", {}).get("peak_rss_mb", {}).items():
        peaks = [r.get("server_peak_open_streams") for r in rounds if r.get("server_peak_open_streams")]
        if wanted and peaks and max(peaks) < wanted:
            notes.append(
                f"- {client}: at most {max(peaks):,} of the {wanted:,} streams were open at once "
                "(its connection limit), so its peak RSS is for fewer concurrent streams"
            )
    return notes


def guard_summary(verdicts: list[Verdict], with_baseline: bool) -> str:
    against = "the baseline + 20%" if with_baseline else "the targets + 20%"
    lines = [f"guard (against {against}):"]
    for v in verdicts:
        measured = "not measured" if v.measured is None else f"{v.measured:.3g}"
        status = "ok  " if v.passed else "FAIL"
        lines.append(f"  {status} {v.target.key:<30} {measured:>12}  allowed ≤ {v.allowed:.3g}  {v.note}")
    failed = sum(not v.passed for v in verdicts)
    lines.append("guard: " + (f"{failed} figure(s) regressed" if failed else "all figures within bounds"))
    return "\n".join(lines)


def write_results(result: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = result["timestamp"].replace(":", "").replace("-", "")
    json_path = folder / f"{stamp}-{result['mode']}.json"
    md_path = json_path.with_suffix(".md")
    json_path.write_text(json.dumps(result, indent=1) + "\n")
    md_path.write_text(markdown(result) + "\n")
    return json_path, md_path


def plot(result: dict[str, Any], path: Path) -> bool:
    """CPU µs per request by concurrency, one line per client (log scale). False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    levels = [1, 64, 512]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for client in [c for c in CLIENTS if c in result["clients"]]:
        ys = [result["figures"].get(f"cpu_us_c{c}", {}).get(client, {}).get("value") for c in levels]
        points = [(x, y) for x, y in zip(levels, ys, strict=True) if y is not None]
        if points:
            ax.plot([str(p[0]) for p in points], [p[1] for p in points], marker="o", label=client)
    ax.set_yscale("log")
    ax.set_xlabel("concurrent requests")
    ax.set_ylabel("client CPU per request (µs, log scale)")
    ax.set_title("Client CPU per non-streamed request (lower is better)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def write_docs(result: dict[str, Any], docs: Path) -> None:
    """Rewrite ``docs/benchmarks.md`` (and its plot) from a full run."""
    has_plot = plot(result, docs / PLOT_NAME)
    m = result["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    targets = ", ".join(f"{t.key} {t.describe()}" for t in TARGETS)
    text = _DOC.format(
        timestamp=result["timestamp"],
        command=result["command"].strip(),
        duration=result["duration_s"],
        cpu=m["cpu"],
        cores=m["cores"],
        memory=m["memory_gib"],
        kernel=m["kernel"],
        python=m["python"],
        commit=m.get("commit") or "?",
        background=background_note(m, result["duration_s"]),
        versions=versions,
        table=markdown(result),
        plot=f"![CPU per request by concurrency]({PLOT_NAME})"
        if has_plot
        else "(matplotlib missing: no plot)",
        targets=targets,
        rounds=result["plan"]["rounds"],
        TIMES=TIMES,
    )
    (docs / "benchmarks.md").write_text(text)


_DOC = """# Benchmarks

<!-- Generated by `./benchmarks/run.sh` (benchmarks/report.py): edit that, not this page. -->

core-llms against raw aiohttp (the floor: the same requests written by hand), the OpenAI SDK
(`AsyncOpenAI`) and LiteLLM (`acompletion`), all in the same run against minimal
OpenAI-compatible mock servers: the suite's own raw-asyncio one (every figure) and an aiohttp.web
app on uvloop (CPU per request). How the suite works, and the guard: `benchmarks/README.md`.

## Latest full run

- when: {timestamp} (took {duration} s), commit {commit}
- command: `{command}`
- machine: {cpu}, {cores} cores, {memory} GiB, Linux {kernel}, Python {python};
  {background}
- versions: {versions}
- client pinned to CPU 0, mock server to CPU 1; medians over {rounds} interleaved rounds

Each cell: the median figure, and in brackets its ratio to raw aiohttp (median of the per-round
ratios, so it need not equal the quotient of the two medians). Lower is better everywhere. The
targets table also shows the lowest and highest per-round ratio: on this kind of shared virtual
machine single rounds move by ±20% or more, which is why the suite judges medians of
interleaved rounds.

{table}

{plot}

## What the figures mean

- **import + create client**: in a fresh process, the time to import the client and make it
  (raw aiohttp: `import aiohttp`; core-llms: `import core.llms` + `create_llm(...)`; OpenAI:
  `AsyncOpenAI(...)`; LiteLLM: `import litellm`). Interpreter start-up is left out. No client
  opens a connection here; core-llms does not even import aiohttp or pydantic until they are
  needed (its first call loads aiohttp). The same processes check that core-llms loaded none of
  its media code (images, speech, transcription, video, embeddings) or the Responses API: the
  suite fails when it did (the "import check" line under the results).
- **cold start to first answer**: in a fresh process, from before `import asyncio` to the
  first completed answer: import, make the client, start the event loop, send the first request
  and read it (session, connection and anything loaded on first use). What a serverless
  function or a CLI waits for; the target "first completed call ≤ 1.3{TIMES}" is judged on this
  figure, since a client that loads its HTTP stack lazily moves cost from the import to the
  first call and only the sum is felt.
- **first call alone** (informational): the first request of that same process, timed from
  after the client was made (so it includes whatever the client loads on first use, for
  core-llms aiohttp's import).
- All packages import from bytecode: the suite byte-compiles `core/` first, as installing a
  wheel does (pip compiled aiohttp and the peers at install).
- **CPU per request**: user + system CPU of the client process (`getrusage`) over N
  non-streamed requests at the given concurrency, divided by N, after a warm-up that fills the
  connection pool. raw aiohttp and core-llms use pools of 100 connections (both defaults); the
  peers keep their own defaults.
- **CPU per streamed chunk**: the same over streams of 100 content chunks (103 JSON events
  each: role, content, finish, usage), 32 streams at a time, divided by the number of events;
  the server sends the events back to back, so a client reads many events per socket read.
- **paced** streams: 20 content chunks 10 ms apart (a fast model), 32 at a time, so each event
  arrives on its own. **Time to first chunk**: median, per stream, from the call to the first
  chunk with text (the server sends it with the response head). CPU per chunk of these streams
  includes one event-loop wake-up per event. The floor reads a stream line by line
  (`async for line in resp.content`, aiohttp's `readline`), as most hand-written clients do;
  core-llms decodes each network read as a whole, which is why it can come out below 1.0{TIMES}.
- **peak RSS**: `ru_maxrss` of a fresh process that runs 1,000 streams at once (each ~1 s long,
  so all are open together; the server checks the peak of open streams).
- **refused primary**: core-llms with a primary whose port refuses connections and a live
  backup; extra latency over a healthy primary, for a freshly made model (first discovery) and
  once the primary's breaker is open. The peers have no failover (n/a).
- **100,000 requests through the batch path** (issue 14; `benchmarks/batch.py`): the same
  non-streamed request 100,000 times (10,000 in the quick guard), 64 at a time, each variant in
  a fresh process pinned to CPU 0 after a 2,000-request warm-up: raw aiohttp (64 tasks sharing a
  session, posting and decoding the JSON answer) against `RequestManager.as_completed` over a
  lazy generator (target ≤ 1.3{TIMES} raw aiohttp of the same round); the cache-hit figure
  sends nothing (a warm `MemoryCache` answers every request) and its ratio is to the live batch
  request. Peak RSS is the process's `ru_maxrss` after the whole run (`benchmarks/batch.py`
  alone also prints the RSS at 10, 50 and 100 % of the requests: flat means bounded memory).
- **observability** (issue 15; `benchmarks/observability.py`): `llm.get_answer` at concurrency 64
  with `observability.enable(otel=True, metrics=True)` (a span per call through the OpenTelemetry
  SDK's `BatchSpanProcessor` to an exporter that drops spans, the GenAI metrics through a
  periodic reader, and the in-memory recorder) and with every observer on (plus Prometheus and
  INFO call-log records formatted by a handler that drops them), each in a fresh process pinned
  to CPU 0 (the export threads' CPU counts), against raw aiohttp of the same round. Two floors
  run no core-llms code: raw aiohttp sending by hand, through the same SDK set-up, the same span,
  attempt event, `traceparent` and histogram records (the SDK's floor), or only what the GenAI
  conventions require (informational). Targets: with OpenTelemetry and metrics on, ≤ 1.3{TIMES} raw
  aiohttp (issue 15; known unmet: the SDK's floor alone is ~2{TIMES}) and ≤ 1.3{TIMES} the SDK's floor
  (what core-llms adds). Figures of a stage run alone, and where the time goes:
  [observability.md](observability.md#what-it-costs). With no observer on, nothing of
  `core.llms.observability` is imported (the stage checks it).
- **entry points** (issue 13; `benchmarks/entrypoints.py`): core-llms alone, the same
  non-streamed request sent one at a time through a direct `llm.get_answer` (the baseline),
  `LLMClient.chat`, the LiteLLM-compatible `core.llms.compat.completion()` called from plain sync
  code (it runs the call on a worker thread's event loop: the CPU of both threads counts) and
  `acompletion()`. Each in a fresh process pinned to CPU 0, interleaved round by round against
  the raw-asyncio mock server; each ratio is to the direct `get_answer` of the same round, not
  to raw aiohttp (targets: `client.chat` and `completion()` ≤ 1.15{TIMES}).

- **mock servers**: `asyncio-raw` is the suite's own HTTP/1.1 server on a raw `asyncio.Protocol`;
  `uvloop-web` an `aiohttp.web` app on uvloop serving the same bytes (an independent server
  implementation, like the outside harnesses'). Both pinned to CPU 1; the CPU per request is
  measured against both, interleaved, and each has its own ratios.

Where core-llms spends its CPU: `benchmarks/profiles/` (py-spy, `./benchmarks/run.sh profile`).

Targets for core-llms (issues 4 and 13; ratios to raw aiohttp unless a unit or another baseline is
given): {targets}.
"""


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.report RESULT.json``: rewrite docs/benchmarks.md from a full run."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("result", type=Path)
    args = parser.parse_args(argv)
    result = json.loads(args.result.read_text())
    write_docs(result, Path(__file__).resolve().parent.parent / "docs")


if __name__ == "__main__":
    main()
