"""The ``core-llms`` command: its parser, the dispatch to the commands, errors and exit codes.

Exit codes: 0 done, 1 the command failed (a typed error: its message and hint on stderr, no
traceback unless ``--debug``), 2 a usage error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from ..interfaces.errors import LLMError
from .chat import add_chat_parser
from .common import UsageError, add_common_options
from .cost import add_cost_parser
from .models import add_models_parser, add_providers_parser
from .simulator import add_simulator_parser, run_simulator
from .term import BOLD, DIM, RED, YELLOW, Terminal, stderr_terminal, stdout_terminal

__all__ = ["build_parser", "main"]

PROG = "core-llms"

_EPILOG = """\
examples:
  core-llms chat "Name three rivers." -m gpt-4.1-mini
  core-llms models --capability vision --sort price
  core-llms cost openai/gpt-4.1-mini --input-tokens 12000 --output-tokens 800
  core-llms simulator --port 8000

Output is for people on a terminal (colour, columns fitted to the width) and plain when piped
(tab-separated, no escape codes); --json gives machine-readable output. See docs/cli.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``core-llms`` and its commands."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="core-llms: chat with a model, browse the model catalogue, price a call, "
        "run the simulator.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    add_common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_chat_parser(sub)
    add_models_parser(sub)
    add_providers_parser(sub)
    add_cost_parser(sub)
    add_simulator_parser(sub)
    return parser


def _command_index(argv: Sequence[str]) -> int | None:
    """Where the command word is in ``argv`` (past the global options), if anywhere."""
    skip = False
    for i, word in enumerate(argv):
        if skip:
            skip = False
        elif word == "--color":
            skip = True
        elif not word.startswith("-"):
            return i
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``core-llms`` with ``argv`` (default: the process's arguments); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    at = _command_index(args_list)
    if at is not None and args_list[at] == "simulator":
        return run_simulator(args_list[at + 1 :])
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 2
    err = stderr_terminal(args.color)
    try:
        code: int = args.run(args)
        return code
    except UsageError as exc:
        err.write(f"{PROG} {args.command}: error: {exc}")
        return 2
    except LLMError as exc:
        if args.debug:
            traceback.print_exception(exc, file=sys.stderr)
        _report(err, exc)
        if getattr(args, "json", False):
            stdout_terminal("never").json({"error": _error_record(exc)})
        return 1
    except KeyboardInterrupt:
        err.write(err.style("interrupted", DIM), flush=True)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except Exception as exc:  # not ours to explain: say what it was, the traceback on --debug
        if args.debug:
            traceback.print_exception(exc, file=sys.stderr)
        err.write(f"{err.style('error:', BOLD, RED)} unexpected {type(exc).__name__}: {exc}")
        if not args.debug:
            err.write(err.style("(run with --debug for the traceback)", DIM))
        return 1


def _report(err: Terminal, exc: LLMError) -> None:
    err.write(f"{err.style('error:', BOLD, RED)} {type(exc).__name__}: {exc.message}")
    where = ", ".join(
        f"{name}={value}"
        for name in ("provider", "model", "endpoint", "status", "request_id")
        if (value := getattr(exc, name)) is not None
    )
    if where:
        err.write(err.style(f"  ({where})", DIM))
    if exc.hint:
        err.write(f"  {err.style('hint:', YELLOW)} {exc.hint}")
    err.stream.flush()


def _error_record(exc: LLMError) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": exc.message,
        "hint": exc.hint,
        "provider": exc.provider,
        "model": exc.model,
        "status": exc.status,
        "request_id": exc.request_id,
    }


def _silence_stdout() -> None:
    """After a closed pipe (``core-llms models | head``): send the rest of stdout, and the
    flush at exit, to /dev/null so Python does not report the broken pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
