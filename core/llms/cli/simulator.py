"""``core-llms simulator``: the built-in fake provider server (``python -m core.llms.simulator``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

__all__ = ["add_simulator_parser", "run_simulator"]


def add_simulator_parser(sub: Any) -> None:
    """Register ``simulator`` (for the command list; its arguments are the simulator's own)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "simulator",
        help="run the built-in fake provider server (see `core-llms simulator --help`)",
        description="Run core.llms.simulator until Ctrl-C; every argument is the simulator's.",
        add_help=False,
    )
    parser.add_argument("args", nargs=argparse.REMAINDER)


def run_simulator(argv: Sequence[str]) -> int:
    """Run the simulator's own command line with ``argv`` (``--port 0 --flavor groq`` …)."""
    from ..simulator.__main__ import main

    try:
        return main(list(argv))
    except SystemExit as exc:  # its --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 2
