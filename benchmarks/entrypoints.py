"""CPU per request of core-llms' entry points against a direct ``get_answer`` (issue 13).

    python -m benchmarks.entrypoints serve --port P                       the mock server
    python -m benchmarks.entrypoints measure VARIANT --url URL [--requests N]
    python -m benchmarks.entrypoints [--rounds N] [--requests N]          the stage alone

The same non-streamed chat completion (``"hi"``, the mock server's fixed answer with usage),
sent sequentially (concurrency 1) through each entry point:

* ``direct``: ``create_llm("openai/gpt-4.1-mini", endpoint=..., api_key=...)`` and
  ``await llm.get_answer("hi")`` — the baseline;
* ``client-chat``: ``LLMClient(providers={"openai": {...}}, environ={}, default_model=...)``
  and ``await client.chat("hi")`` (routing, labels, the per-call guard);
* ``completion``: ``core.llms.compat.completion(model=..., messages=[...], api_base=...,
  api_key=...)`` from plain sync code: LiteLLM's blocking call, which runs the coroutine on the
  compat worker loop (another thread) and wraps the answer as a ``ModelResponse``;
* ``acompletion``: ``await core.llms.compat.acompletion(...)`` (informational).

``measure`` prints one JSON line: ``cpu_us_per_request`` (user + system CPU of the measuring
process, all its threads, over ``requests`` calls after a warm-up, divided by ``requests``).
The suite (``benchmarks/suite.py``) runs every variant in a fresh process pinned to CPU 0,
interleaved round by round, against the suite's raw-asyncio mock server on CPU 1, and reports
each variant's ratio to ``direct`` of the same round (targets: ``client.chat`` and
``completion`` at most 1.15 times). ``serve`` runs that mock server (``benchmarks/mockserver.py``, raw
flavour) alone; run without a subcommand, the module starts one and runs the stage by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._proc import cpu_seconds, pin
from .targets import TIMES

#: the variants; ``direct`` is the baseline every ratio is taken against.
VARIANTS = ("direct", "client-chat", "completion", "acompletion")
BASELINE = "direct"
#: variant -> the figure key its CPU per request is recorded under (the suite's samples).
FIGURE_KEYS = {
    "direct": "cpu_us_per_request_direct",
    "client-chat": "cpu_us_per_request_client_chat",
    "completion": "cpu_us_per_request_completion",
    "acompletion": "cpu_us_per_request_acompletion",
}
MODEL = "gpt-4.1-mini"
KEY = "bench-key-not-secret"
#: requests before timing: connections, imports, caches, the first-use paths.
WARMUP = 300
REQUESTS = 3000
#: the suite's requests per measurement: about this many per CPU-second of its plan's
#: ``target_cpu`` (a request costs ~250 µs here: 1.5 s -> 6,000; quick 0.35 s -> 1,400).
REQUESTS_PER_CPU_S = 4000
REPO = Path(__file__).resolve().parent.parent
#: wall-time cap of one ``measure`` process.
TIMEOUT_S = 180


def _check(text: Any, variant: str) -> None:
    if not isinstance(text, str) or not text.startswith("Hello!"):
        raise RuntimeError(f"{variant}: unexpected answer {text!r:.80}")


async def _measure_async(variant: str, url: str, requests: int, warmup: int) -> float:
    """CPU seconds of ``requests`` sequential calls of an async variant, after ``warmup``."""
    if variant == "direct":
        from core.llms import create_llm

        llm = create_llm(f"openai/{MODEL}", endpoint=f"{url}/v1", api_key=KEY)

        async def call() -> str:
            return (await llm.get_answer("hi")).text

        close = llm.aclose
    elif variant == "client-chat":
        from core.llms.client import LLMClient

        client = LLMClient(
            providers={"openai": {"endpoint": f"{url}/v1", "api_key": KEY}}, environ={}, default_model=MODEL
        )

        async def call() -> str:
            return (await client.chat("hi")).text

        close = client.aclose
    else:  # acompletion
        from core.llms import compat

        messages = [{"role": "user", "content": "hi"}]
        base = f"{url}/v1"

        async def call() -> str:
            answer = await compat.acompletion(model=MODEL, messages=messages, api_base=base, api_key=KEY)
            return str(answer.choices[0].message.content)

        close = compat.aclose  # the async calls' connections

    try:
        for _ in range(warmup):
            _check(await call(), variant)
        start = cpu_seconds()
        for _ in range(requests):
            await call()
        return cpu_seconds() - start
    finally:
        await close()


def _measure_sync(url: str, requests: int, warmup: int) -> float:
    """CPU seconds of ``requests`` sequential ``compat.completion`` calls from sync code."""
    from core.llms import compat

    messages = [{"role": "user", "content": "hi"}]
    base = f"{url}/v1"
    try:
        for _ in range(warmup):
            answer = compat.completion(model=MODEL, messages=messages, api_base=base, api_key=KEY)
            _check(answer.choices[0].message.content, "completion")
        start = cpu_seconds()
        for _ in range(requests):
            compat.completion(model=MODEL, messages=messages, api_base=base, api_key=KEY)
        return cpu_seconds() - start
    finally:
        compat.close()  # the blocking calls' connections and worker thread


def measure(variant: str, url: str, requests: int, warmup: int = WARMUP) -> dict[str, Any]:
    """One variant's CPU per request (µs) in this process."""
    if variant == "completion":
        cpu = _measure_sync(url, requests, warmup)
    else:
        cpu = asyncio.run(_measure_async(variant, url, requests, warmup))
    return {"cpu_us_per_request": cpu / requests * 1e6, "requests": requests, "warmup": warmup}


def start_server(port: int = 0, cpu: int = 1) -> tuple[subprocess.Popen[str], str]:
    """``serve`` in a new process on ``port`` (0: any free one), pinned to ``cpu`` (-1: not
    pinned); returns the process and its base URL once it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.entrypoints", "serve", "--port", str(port), "--cpu", str(cpu)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    words = proc.stdout.readline().split()
    if len(words) != 3 or words[0] != "READY":
        proc.kill()
        proc.wait()
        raise RuntimeError(f"mock server did not start: {words}")
    return proc, f"http://127.0.0.1:{words[1]}"


def measure_command(
    variant: str, url: str, requests: int, *, cpu: int = 0, warmup: int = WARMUP
) -> list[str]:
    """The command line of ``measure`` (run it with :func:`measure_in_process`)."""
    return [
        *(sys.executable, "-m", "benchmarks.entrypoints", "measure", variant),
        *("--url", url, "--requests", str(requests), "--warmup", str(warmup), "--cpu", str(cpu)),
    ]


def parse_answer(returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    """A ``measure`` process's JSON answer, or ``{"error": <its last stderr line>}``."""
    lines = stdout.strip().splitlines()
    if returncode != 0 or not lines:
        tail = stderr.strip().splitlines()[-1:] or [f"exit {returncode}"]
        return {"error": tail[0]}
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


def answer_of(command: list[str], timeout: float) -> dict[str, Any]:
    """Run a stage's ``measure`` command line in the repository: its JSON answer, or
    ``{"error": ...}`` (also when it gives none within ``timeout`` seconds)."""
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer in {timeout} s"}
    return parse_answer(done.returncode, done.stdout, done.stderr)


def measure_module(
    module: str, variant: str, url: str, requests: int, cpu: int, timeout: float, warmup: int | None = None
) -> dict[str, Any]:
    """``python -m <module> measure VARIANT --url URL --requests N --cpu C [--warmup W]`` in a
    fresh process (a stage module's own measurement): its JSON answer, or ``{"error": ...}``."""
    command = [
        *(sys.executable, "-m", module, "measure", variant),
        *("--url", url, "--requests", str(requests), "--cpu", str(cpu)),
        *(("--warmup", str(warmup)) if warmup is not None else ()),
    ]
    return answer_of(command, timeout)


def interleaved(
    variants: Sequence[str],
    rounds: int,
    label: str,
    measure_one: Callable[[str], dict[str, Any]],
    say: Callable[[str], None],
) -> dict[str, list[dict[str, Any]]]:
    """``measure_one(variant)`` for every variant, round by round (order rotated each round):
    ``{variant: [answer per round]}``; a failed answer is said and kept."""
    samples: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for rnd in range(rounds):
        say(f"{label}, round {rnd + 1}/{rounds}")
        for variant in rotated(variants, rnd):
            got = measure_one(variant)
            if "error" in got:
                say(f"  {variant}: FAILED {got['error']}")
            samples[variant].append(got)
    return samples


def stage_main(
    argv: list[str] | None,
    *,
    prog: str,
    doc: str,
    variants: Sequence[str],
    rounds: int,
    requests: int,
    measure: Callable[..., dict[str, Any]],
    run_stage: Callable[[str, int, int, Callable[[str], None]], dict[str, list[dict[str, Any]]]],
    summary: Callable[[dict[str, list[dict[str, Any]]]], str],
) -> None:
    """The command line of a stage module (``benchmarks.batch``, ``benchmarks.observability``):
    ``measure VARIANT --url URL`` prints one variant's JSON answer from this process; without a
    command, the whole stage runs against a mock server and prints its table and samples."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--requests", type=int, default=requests)
    sub = parser.add_subparsers(dest="cmd")
    m = sub.add_parser("measure")
    m.add_argument("variant", choices=variants)
    m.add_argument("--url", required=True)
    m.add_argument("--requests", type=int, default=requests)
    m.add_argument("--cpu", type=int, default=0)
    m.add_argument("--warmup", type=int, help="requests before timing (default: the stage's own)")
    args = parser.parse_args(argv)
    if args.cmd == "measure":
        pin(args.cpu)
        extra = {} if args.warmup is None else {"warmup": args.warmup}
        answer = measure(args.variant, args.url.rstrip("/"), args.requests, **extra)
        sys.stdout.write(json.dumps(answer) + "\n")
        return
    pin(1)
    server, url = start_server()
    try:
        samples = run_stage(url, args.rounds, args.requests, lambda t: sys.stderr.write(t + "\n"))
    finally:
        server.terminate()
        server.communicate(timeout=10)
    sys.stdout.write(summary(samples) + "\n")
    sys.stdout.write(json.dumps(samples) + "\n")


def measure_in_process(variant: str, url: str, requests: int, cpu: int = 0) -> dict[str, Any]:
    """``measure`` in a fresh process pinned to ``cpu``: its JSON answer, or ``{"error": ...}``."""
    return answer_of(
        measure_command(variant, url, requests, cpu=cpu, warmup=min(WARMUP, requests)), TIMEOUT_S
    )


def rotated(items: Sequence[str], by: int) -> list[str]:
    k = by % len(items) if items else 0
    return [*items[k:], *items[:k]]


def run_stage(
    url: str, rounds: int, requests: int, say: Callable[[str], None]
) -> dict[str, list[float | None]]:
    """Every variant, interleaved round by round (order rotated): ``{variant: [µs per round]}``."""
    samples: dict[str, list[float | None]] = {v: [] for v in VARIANTS}
    for rnd in range(rounds):
        say(f"entry points, round {rnd + 1}/{rounds}")
        for variant in rotated(VARIANTS, rnd):
            got = measure_in_process(variant, url, requests)
            value = got.get("cpu_us_per_request")
            if value is None:
                say(f"  {variant}: FAILED {got.get('error')}")
            samples[variant].append(value)
    return samples


def summary(samples: dict[str, list[float | None]]) -> str:
    """Per-round µs and ratios to ``direct``, then the medians."""
    base = samples[BASELINE]
    lines = ["| round | " + " | ".join(VARIANTS) + " |", "|---|" + "---:|" * len(VARIANTS)]
    for i, b in enumerate(base):
        cells = []
        for variant in VARIANTS:
            v = samples[variant][i] if i < len(samples[variant]) else None
            if v is None:
                cells.append("failed")
            elif variant == BASELINE or b is None:
                cells.append(f"{v:.1f}")
            else:
                cells.append(f"{v:.1f} ({v / b:.3f}{TIMES})")
        lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    medians = []
    for variant in VARIANTS:
        values = [v for v in samples[variant] if v is not None]
        ratios = [v / b for v, b in zip(samples[variant], base, strict=False) if v is not None and b]
        text = f"{statistics.median(values):.1f}" if values else "—"
        if variant != BASELINE and ratios:
            text += f" ({statistics.median(ratios):.3f}{TIMES}, {min(ratios):.3f}-{max(ratios):.3f})"
        medians.append(text)
    lines.append("| median | " + " | ".join(medians) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.entrypoints", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the stage run alone")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="timed requests per measurement")
    sub = parser.add_subparsers(dest="cmd")
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--cpu", type=int, default=1)
    m = sub.add_parser("measure")
    m.add_argument("variant", choices=VARIANTS)
    m.add_argument("--url", required=True, help="the server's base URL (without /v1)")
    m.add_argument("--requests", type=int, default=REQUESTS)
    m.add_argument("--warmup", type=int, default=WARMUP)
    m.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        from . import mockserver

        mockserver.main(["--port", str(args.port), "--cpu", str(args.cpu)])
        return
    if args.cmd == "measure":
        pin(args.cpu)
        answer = measure(args.variant, args.url.rstrip("/"), args.requests, args.warmup)
        sys.stdout.write(json.dumps(answer) + "\n")
        return
    pin(1)  # the orchestrator only waits
    server, url = start_server()
    try:
        samples = run_stage(url, args.rounds, args.requests, lambda t: sys.stderr.write(t + "\n"))
    finally:
        server.terminate()
        server.communicate(timeout=10)
    sys.stdout.write(summary(samples) + "\n")


if __name__ == "__main__":
    main()
