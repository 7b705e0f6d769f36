"""``python -m core.llms.simulator``: run the simulator until Ctrl-C or SIGTERM.

Prints the URL once listening (``--port 0`` picks a free port), e.g.::

    core-llms simulator listening on http://127.0.0.1:8000
      OpenAI base URL: http://127.0.0.1:8000/v1
      Azure endpoint:  http://127.0.0.1:8000
      Other hosts:     http://127.0.0.1:8000/<any prefix> (flavor openai)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from .hosts import FLAVORS
from .server import Simulator

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.llms.simulator",
        description="Fake OpenAI / OpenAI-compatible / Azure OpenAI server for tests and examples.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port to bind; 0 picks a free one (default 8000)"
    )
    parser.add_argument(
        "--api-key-env",
        metavar="VAR",
        default=None,
        help="name of an environment variable holding the only API key to accept (default: accept any key)",
    )
    parser.add_argument("--context-chars", type=int, default=400_000, help="prompt size limit in characters")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between stream events")
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="fraction of requests (0..1) that get a random fault from the default mix (default 0)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the random faults")
    parser.add_argument(
        "--flavor",
        choices=sorted(FLAVORS),
        default="openai",
        help="OpenAI-compatible host whose quirks the non-Azure routes play (default openai: none)",
    )
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--auth-header",
        metavar="NAME",
        default="Authorization",
        help="header carrying the key on the non-Azure routes (default Authorization: Bearer <key>; "
        "any other header carries the bare key)",
    )
    auth.add_argument(
        "--no-auth", action="store_true", help="keyless server: the non-Azure routes accept every request"
    )
    return parser


async def _serve(sim: Simulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows' proactor loop
            loop.add_signal_handler(sig, stop.set)
    async with sim:
        print(f"core-llms simulator listening on {sim.url}", flush=True)
        print(f"  OpenAI base URL: {sim.url}/v1", flush=True)
        print(f"  Azure endpoint:  {sim.url}", flush=True)
        print(f"  Other hosts:     {sim.url}/<any prefix> (flavor {sim.flavor.name})", flush=True)
        await stop.wait()
    print("core-llms simulator stopped", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m core.llms.simulator`` and the ``core-llms-simulator`` script."""
    args = _parser().parse_args(argv)
    api_key = None
    if args.api_key_env is not None:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            print(f"error: environment variable {args.api_key_env} is not set or empty", file=sys.stderr)
            return 2
    try:
        sim = Simulator(
            args.host,
            args.port,
            api_key,
            context_chars=args.context_chars,
            chunk_delay=args.chunk_delay,
            fault_rate=args.fault_rate,
            seed=args.seed,
            auth_header=None if args.no_auth else args.auth_header,
            flavor=args.flavor,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(sim))
    return 0


if __name__ == "__main__":
    sys.exit(main())
