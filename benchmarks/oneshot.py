"""Fresh-process measurements of one client, pinned to CPU 0; prints one JSON line.

    python -m benchmarks.oneshot import CLIENT URL
    python -m benchmarks.oneshot cold_start CLIENT URL
    python -m benchmarks.oneshot rss CLIENT URL --streams 1000

* ``import``: seconds to import the client and make it (:func:`clients.import_and_create`),
  measured inside the process, so interpreter start-up (the same for everyone) is left out.
* ``cold_start``: seconds from before ``import asyncio`` to the first completed answer, in a
  fresh process: import the client and make it, start the event loop, send the first request
  and read its answer (session, connection and anything loaded on first use included) — what a
  serverless function or a CLI waits before its first answer. Also answers the two parts:
  ``create_s`` (imports and making the client, inside the new loop) and ``first_call_s`` (the
  first request alone, after the client was made). Closing the client is not timed.
* ``rss``: ``--streams`` concurrent streams against ``URL`` (a slow, paced stream route so they
  are all open at once); answers the peak resident set size (``ru_maxrss``) in MB and the RSS
  before the streams started.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import TYPE_CHECKING

from ._proc import pin, raise_fd_limit

if TYPE_CHECKING:
    from typing import Any


def _rss_now_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


#: core-llms code that only a media call (images, speech, transcription, video, embeddings), the
#: Responses API or another provider loads: ``import core.llms`` + ``create_llm("openai/...")``
#: must load none of it (built-in provider plugins are imported when first needed).
LAZY_MODULES = (
    "core.llms.interfaces.media",
    "core.llms.providers.openai.media",
    "core.llms.providers.dialects.openai_responses",
    "core.llms.providers.base.multipart",
    "core.llms.providers.base.raw_stream",
    *(
        f"core.llms.providers.{other}"
        for other in ("anthropic", "azure", "bedrock", "cohere", "gemini", "vertex")
    ),
    "core.llms.providers.dialects.anthropic_messages",
    "core.llms.providers.dialects.bedrock_converse",
    "core.llms.providers.dialects.cohere_v2",
    "core.llms.providers.dialects.gemini",
)


def loaded_lazy_modules() -> list[str]:
    """The modules of :data:`LAZY_MODULES` (or below them) this process has loaded."""
    return sorted(m for m in sys.modules if m.startswith(LAZY_MODULES))


def measure_import(client: str, url: str) -> dict[str, Any]:
    # asyncio and typing are not loaded yet: what the client's import pulls in is counted.
    started = time.perf_counter()
    from .clients import import_and_create

    import_and_create(client, url)
    elapsed = time.perf_counter() - started
    answer: dict[str, Any] = {"import_s": elapsed}
    if client == "core-llms":
        answer["lazy_loaded"] = loaded_lazy_modules()
    return answer


async def measure_first_call(client: str, url: str, process_started: float) -> dict[str, Any]:
    from .clients import open_client

    started = time.perf_counter()
    bench = await open_client(client, url)
    made = time.perf_counter()
    try:
        await bench.complete()
        done = time.perf_counter()
    finally:
        await bench.aclose()
    return {"cold_start_s": done - process_started, "create_s": made - started, "first_call_s": done - made}


async def measure_rss(client: str, url: str, streams: int) -> dict[str, Any]:
    import asyncio

    from .clients import open_client

    bench = await open_client(client, url, max_connections=streams)
    before = _rss_now_mb()
    started = time.perf_counter()
    try:
        results = await asyncio.gather(*(bench.stream() for _ in range(streams)), return_exceptions=True)
    finally:
        await bench.aclose()
    failures = [r for r in results if isinstance(r, BaseException)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    answer: dict[str, Any] = {
        "peak_rss_mb": peak,
        "rss_before_mb": before,
        "streams_ok": streams - len(failures),
        "wall_s": time.perf_counter() - started,
    }
    if failures:
        answer["error"] = f"{len(failures)} streams failed, e.g. {type(failures[0]).__name__}: {failures[0]}"
    return answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="fresh-process benchmark measurements")
    parser.add_argument("mode", choices=["import", "cold_start", "rss"])
    parser.add_argument("client")
    parser.add_argument("url")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args(argv)
    pin(args.cpu)
    raise_fd_limit()
    out = sys.stdout
    sys.stdout = sys.stderr  # library prints must not mix with the answer
    try:
        if args.mode == "import":
            answer = measure_import(args.client, args.url)  # before asyncio is imported
        else:
            started = time.perf_counter()  # cold start: the event loop's own import counts too
            import asyncio

            if args.mode == "cold_start":
                answer = asyncio.run(measure_first_call(args.client, args.url, started))
            else:
                answer = asyncio.run(measure_rss(args.client, args.url, args.streams))
    except ImportError as exc:
        answer = {"error": f"not installed: {exc}", "missing": True}
    out.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
