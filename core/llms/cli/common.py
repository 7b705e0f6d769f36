"""What the commands share: the usage error, the options every command takes, number formats."""

from __future__ import annotations

import argparse
import math
from typing import Any

__all__ = [
    "UsageError",
    "add_common_options",
    "decimal",
    "money",
    "non_negative_float",
    "non_negative_int",
    "positive_int",
    "usd",
]


class UsageError(Exception):
    """The command line is wrong (exit code 2); the message says what to write instead."""


def add_common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--color`` and ``--debug``: on the top parser with their defaults, on each command with
    none (so ``core-llms --color never models`` and ``core-llms models --color never`` agree)."""

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=default("auto"),
        help="ANSI colour and the terminal layout: auto (a terminal, unless NO_COLOR is set; "
        "FORCE_COLOR forces it), always, never (default auto)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="print the traceback of an error",
    )


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number >= 0 (``1000``, ``1_000``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text}")
    return value


def money(value: float | None) -> str:
    """A unit price for people: ``$0.40``, ``$0.075``, ``$15.00``; ``—`` when unknown."""
    if value is None:
        return "—"
    if round(value, 2) == value:
        return f"${value:,.2f}"
    return f"${value:,.6g}"


def usd(value: float) -> str:
    """An amount for people: ``$0.001140`` below a dollar (two significant digits below
    ``$0.00001``), ``$12.34`` above."""
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.00001:
        return f"${value:.6f}"
    return f"${value:.{1 - math.floor(math.log10(value))}f}"


def decimal(value: float) -> str:
    """A number for scripts: plain decimal notation, never an exponent (``0.00002``)."""
    text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
