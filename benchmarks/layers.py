"""Where core-llms' extra CPU per request goes, layer by layer (a diagnostic, not part of the suite).

    ./benchmarks/run.sh layers [--server uvloop-web] [--rounds 5] [--concurrency 1,64,512]
                               [--target-cpu 0.6]

The same non-streamed request is sent through each layer of core-llms in turn, each variant in
its own process pinned to CPU 0 (a long-lived ``benchmarks.layers --child VARIANT``), interleaved
round by round in a rotating order, against one mock server on CPU 1:

* ``raw``: raw aiohttp, as ``benchmarks/clients.py`` writes it (``session.post`` +
  ``json.loads``);
* ``raw+args``: raw aiohttp called the way core-llms' connector calls it
  (``session.request(..., timeout=ClientTimeout(total=None, sock_connect=...), proxy=None,
  allow_redirects=False)``, ``resp.read()``, ``resp.release()``): what aiohttp costs differently
  for those arguments;
* ``connector``: ``Connector.send_once`` of the model's primary endpoint, with the request and
  its body made once (the transport: headers, timer, reading, JSON decoding, ``WireResponse``);
* ``failover``: ``FailoverConnector.send`` (adds serialising the payload, the deadline, the
  breaker, one more coroutine);
* ``model``: ``get_answer`` (adds checking the messages and parameters, building the payload,
  parsing the answer into an ``LLMResponse`` with usage and cost, two more coroutines).

The differences between consecutive layers (medians of per-round differences) say what each
layer adds, in µs per request. It uses package-internal names (``model.connector``,
``Connector.send_once``, ``model._prepare``): if they move, fix them here.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
from typing import Any

from ._proc import cpu_seconds, pin, raise_fd_limit
from .clients import API_KEY, MAX_TOKENS, MESSAGES, MODEL, RawAiohttp

VARIANTS = ("raw", "raw+args", "connector", "failover", "model")


async def _make(variant: str, url: str) -> tuple[Any, Any]:
    """``(operation, closer)`` for a variant: ``operation()`` sends one request."""
    if variant == "raw":
        raw = RawAiohttp(url, 100)
        return raw.complete, raw.aclose
    if variant == "raw+args":
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100), auto_decompress=True)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10.0)
        target = url + "/chat/completions"
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {API_KEY}",
        }

        async def raw_args() -> tuple[str, int]:
            body = json.dumps({"model": MODEL, "messages": MESSAGES, "max_tokens": MAX_TOKENS}).encode()
            resp = await session.request(
                "POST", target, data=body, headers=headers, timeout=timeout, proxy=None, allow_redirects=False
            )
            try:
                raw = await resp.read()
            finally:
                resp.release()
            data = json.loads(raw)
            return data["choices"][0]["message"]["content"], data["usage"]["total_tokens"]

        return raw_args, session.close
    from core.llms import create_llm

    llm: Any = create_llm(
        f"openai/{MODEL}", endpoint=url, api_key=API_KEY, backups=[{"endpoint": url + "/backup"}]
    )
    if variant == "model":

        async def model() -> Any:
            return await llm.get_answer(MESSAGES, max_tokens=MAX_TOKENS)

        return model, llm.aclose
    request, _ = llm._prepare(MESSAGES, {"max_tokens": MAX_TOKENS}, stream=False)
    failover = llm.connector
    if variant == "failover":

        async def via_failover() -> Any:
            return await failover.send(request, None)

        return via_failover, llm.aclose
    if variant == "connector":
        from core.llms.providers.base.connector import encode_json

        conn = failover.connectors[0]
        body = encode_json(request.payload)

        async def via_connector() -> Any:
            return await conn.send_once(request, body, None, None)

        return via_connector, llm.aclose
    raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")


async def _measure(variant: str, url: str, concurrency: int, target_cpu: float) -> dict[str, Any]:
    from .worker import run_lanes

    op, close = await _make(variant, url)
    try:
        warm = max(200, 2 * concurrency)
        c0 = cpu_seconds()
        await run_lanes(op, concurrency, warm, 30.0)
        per = (cpu_seconds() - c0) / warm
        n = max(2 * concurrency, min(50_000, int(target_cpu / per)))
        gc.collect()
        c0 = cpu_seconds()
        done = await run_lanes(op, concurrency, n, 30.0)
        cpu = cpu_seconds() - c0
    finally:
        await close()
    return {"cpu_us": cpu / done * 1e6, "n": done}


def child(variant: str) -> None:
    """The measuring process of one variant: one JSON command per line on stdin."""
    pin(0)
    raise_fd_limit()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("op") == "quit":
            return
        try:
            answer = asyncio.run(_measure(variant, cmd["url"], cmd["concurrency"], cmd["target_cpu"]))
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


def main(argv: list[str] | None = None) -> int:
    from .suite import PY, REPO, SERVERS, MockServer, rotated

    parser = argparse.ArgumentParser(description="core-llms' extra CPU per request, layer by layer")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--server", default="uvloop-web", choices=list(SERVERS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", default="64", help="comma-separated, e.g. 1,64,512")
    parser.add_argument("--target-cpu", type=float, default=0.6, help="CPU seconds per measurement")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    variants = [v for v in VARIANTS if v in args.variants.split(",")]
    levels = [int(c) for c in args.concurrency.split(",")]
    server = MockServer(args.server)
    pin(1)
    procs: dict[str, subprocess.Popen[str]] = {}
    samples: dict[int, dict[str, list[float]]] = {c: {v: [] for v in variants} for c in levels}
    try:
        for v in variants:
            procs[v] = subprocess.Popen(
                [PY, "-m", "benchmarks.layers", "--child", v],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert procs[v].stdout is not None
            procs[v].stdout.readline()
        for rnd in range(args.rounds):
            sys.stderr.write(f"round {rnd + 1}/{args.rounds}\n")
            for c in levels:
                for v in rotated(variants, rnd):
                    proc = procs[v]
                    assert proc.stdin is not None and proc.stdout is not None
                    cmd = {"url": server.url(), "concurrency": c, "target_cpu": args.target_cpu}
                    proc.stdin.write(json.dumps(cmd) + "\n")
                    proc.stdin.flush()
                    got = json.loads(proc.stdout.readline())
                    if "error" in got:
                        sys.stderr.write(f"  {v} c={c}: {got['error']}\n")
                        continue
                    samples[c][v].append(got["cpu_us"])
    finally:
        for proc in procs.values():
            if proc.stdin is not None:
                proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                proc.stdin.close()
            proc.wait(timeout=10)
        server.close()
    print(f"CPU per request by layer, mock server {args.server}, {args.rounds} interleaved rounds (µs)")
    for c in levels:
        print(f"\nconcurrency {c}:")
        print("| layer | median µs | range | added by the layer (median of per-round differences) |")
        print("|---|---:|---:|---:|")
        previous: list[float] | None = None
        for v in variants:
            values = samples[c][v]
            if not values:
                print(f"| {v} | failed | | |")
                continue
            added = "—"
            if previous:
                diffs = [a - b for a, b in zip(values, previous, strict=False)]
                added = f"{statistics.median(diffs):+.1f}"
            print(
                f"| {v} | {statistics.median(values):.1f} | {min(values):.0f}-{max(values):.0f} | {added} |"
            )
            previous = values
        raw, model = samples[c].get("raw"), samples[c].get("model")
        if raw and model:
            ratios = [m / r for m, r in zip(model, raw, strict=False)]
            print(
                f"\nmodel / raw: median {statistics.median(ratios):.2f}x "
                f"(rounds: {min(ratios):.2f}-{max(ratios):.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
