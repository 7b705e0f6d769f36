"""``core-llms chat``: one prompt to one model, the answer streamed to stdout.

Credentials come from the environment exactly as the library reads them
(:meth:`LLMClient.from_env <core.llms.client.LLMClient.from_env>`: ``OPENAI_API_KEY``,
``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY`` …). ``--endpoint URL`` points the model's provider at
another server and ``--api-key-env NAME`` takes its key from another variable. A key is never
accepted on the command line: arguments are visible to other users (``ps``) and kept in shell
history.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..interfaces.errors import ResponseParsingError
from .common import UsageError, add_common_options, non_negative_float, positive_int, usd
from .term import DIM, Terminal, stderr_terminal, stdout_terminal

if TYPE_CHECKING:
    from ..client import LLMClient
    from ..interfaces.types import LLMResponse

__all__ = ["add_chat_parser"]

_EPILOG = """\
examples:
  core-llms chat "Name three rivers." -m gpt-4.1-mini
  echo "Summarise this" | core-llms chat -m claude-sonnet-4-5 --system "Be brief."
  core-llms chat "hi" -m openai/gpt-4.1-mini --endpoint http://127.0.0.1:8000/v1 --api-key-env SIM_KEY
  core-llms chat "hi" -m ollama/llama3.2 --json

Credentials are read from the environment as the library reads them (OPENAI_API_KEY,
OPENAI_BASE_URL, ANTHROPIC_API_KEY ... see `core-llms providers`). The answer goes to stdout as it
arrives; a summary (model, tokens, cost, latency) goes to stderr on a terminal or with --verbose.
Exit codes: 0 answered, 1 the call failed (the error and a hint on stderr), 2 a usage error,
130 interrupted (Ctrl-C).
"""

_KEY_REFUSED = (
    "--api-key is refused: a key on the command line is visible in `ps` and kept in your shell "
    "history. Put it in the provider's variable (OPENAI_API_KEY, ANTHROPIC_API_KEY ...: see "
    "`core-llms providers`), or in any variable named with --api-key-env NAME"
)


class _RefuseKey(argparse.Action):
    """``--api-key``: refused at once, without echoing the value."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(_KEY_REFUSED)


def add_chat_parser(sub: Any) -> None:
    """Register ``chat``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "chat",
        help="send a prompt to a model; the answer streams to stdout",
        description="Send PROMPT (or stdin) to MODEL and stream the answer to stdout as it arrives.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "prompt", nargs="?", metavar="PROMPT", help="the prompt; read from stdin when absent or '-'"
    )
    parser.add_argument(
        "-m",
        "--model",
        required=True,
        metavar="MODEL",
        help="provider/model, or a bare name routed to a configured provider (gpt-4.1-mini)",
    )
    parser.add_argument("--provider", metavar="P", help="the provider serving a bare model name")
    parser.add_argument("-s", "--system", metavar="TEXT", help="a system message sent first")
    parser.add_argument(
        "-t", "--temperature", type=non_negative_float, metavar="T", help="sampling temperature"
    )
    parser.add_argument("--max-tokens", type=positive_int, metavar="N", help="at most N answer tokens")
    parser.add_argument("--timeout", type=non_negative_float, metavar="SECONDS", help="give up after SECONDS")
    parser.add_argument("--no-stream", action="store_true", help="wait for the whole answer, then print it")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (text, usage, cost, latency) at the end"
    )
    parser.add_argument(
        "--endpoint", metavar="URL", help="the server to call (e.g. http://127.0.0.1:8000/v1)"
    )
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="the environment variable holding the API key (default: the provider's own)",
    )
    parser.add_argument("--api-key", nargs="?", action=_RefuseKey, help=argparse.SUPPRESS)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="the summary, library logs and reasoning on stderr"
    )
    add_common_options(parser, top=False)
    parser.set_defaults(run=run_chat)


@dataclass(slots=True)
class _Outcome:
    response: LLMResponse
    latency: float
    first_token: float | None


def _read_prompt(args: argparse.Namespace, err: Terminal) -> str:
    if args.prompt is not None and args.prompt != "-":
        text: str = args.prompt
    else:
        if args.prompt is None and sys.stdin.isatty():
            err.write(err.style("(reading the prompt from stdin; end it with Ctrl-D)", DIM), flush=True)
        text = sys.stdin.read()
    if not text.strip():
        raise UsageError("the prompt is empty: give PROMPT or pipe one on stdin")
    return text


def _endpoint_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if args.api_key_env is not None:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise UsageError(
                f"--api-key-env: the environment variable {args.api_key_env} is not set or empty"
            )
        fields["api_key"] = key
    if args.endpoint is not None:
        fields["endpoint"] = args.endpoint
    return fields


def _client(args: argparse.Namespace) -> LLMClient:
    from ..client import LLMClient

    fields = _endpoint_fields(args)
    client = LLMClient.from_env()
    if fields:
        provider = client.resolve(args.model, args.provider).partition("/")[0]
        client = LLMClient.from_env(providers={provider: fields})
    return client


def run_chat(args: argparse.Namespace) -> int:
    """``core-llms chat``."""
    err = stderr_terminal(args.color)
    prompt = _read_prompt(args, err)
    client = _client(args)
    messages: list[Any] = [("user", prompt)]
    if args.system is not None:
        messages.insert(0, ("system", args.system))
    params: dict[str, Any] = {}
    if args.temperature is not None:
        params["temperature"] = args.temperature
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    if args.timeout is not None:
        params["timeout"] = args.timeout
    out = stdout_terminal(args.color)
    outcome = asyncio.run(_chat(client, args, messages, params, out, err))
    if args.json:
        out.json(_record(outcome))
    if args.verbose or (err.rich and not args.json):
        err.write(err.style(_summary(outcome), DIM), flush=True)
    return 0


async def _chat(
    client: LLMClient,
    args: argparse.Namespace,
    messages: list[Any],
    params: dict[str, Any],
    out: Terminal,
    err: Terminal,
) -> _Outcome:
    start = time.perf_counter()
    first: float | None = None
    printed = ""  # the end of what was written to stdout (for the last newline)
    thinking = False  # reasoning was written to stderr and its line is still open
    response: LLMResponse | None = None
    try:
        if args.no_stream:
            response = await client.chat(messages, model=args.model, provider=args.provider, **params)
            if not args.json:
                out.write(response.text, end="", flush=True)
                printed = response.text[-1:]
        else:
            stream = client.chat_stream(messages, model=args.model, provider=args.provider, **params)
            async for event in stream:
                if event.type == "chunk":
                    if first is None:
                        first = time.perf_counter() - start
                    if event.reasoning and args.verbose:
                        err.write(err.style(event.reasoning, DIM), end="", flush=True)
                        thinking = True
                    if event.delta and thinking:
                        err.write("", flush=True)
                        thinking = False
                    if event.delta and not args.json:
                        out.write(event.delta, end="", flush=True)
                        printed = event.delta[-1:]
                elif event.type == "log":
                    if args.verbose:
                        err.write(err.style(f"[{event.level.lower()}] {event.message}", DIM), flush=True)
                elif event.type == "usage":
                    response = event.response
    finally:
        if thinking:
            err.write("", flush=True)
        if printed and printed != "\n":
            out.write("", flush=True)  # end the answer's line, also before an error's message
        await client.aclose()
    if response is None:  # (chat_stream always ends with a usage event)
        raise ResponseParsingError("the stream ended without its usage event")
    return _Outcome(response, time.perf_counter() - start, first)


def _record(outcome: _Outcome) -> dict[str, Any]:
    r = outcome.response
    usage = r.usage
    return {
        "model": f"{r.provider}/{r.model}",
        "text": r.text,
        "reasoning": r.reasoning,
        "finish_reason": r.finish_reason,
        "usage": None
        if usage is None
        else {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
        },
        "cost_usd": r.cost,
        "latency_s": round(outcome.latency, 4),
        "first_token_s": None if outcome.first_token is None else round(outcome.first_token, 4),
        "tool_calls": [
            {"id": c.id, "name": c.function.name, "arguments": c.function.arguments} for c in r.tool_calls
        ],
        "request_id": r.request_id,
    }


def _summary(outcome: _Outcome) -> str:
    r = outcome.response
    parts = [f"{r.provider}/{r.model}"]
    if r.usage is not None:
        parts.append(f"{r.usage.input_tokens:,} in / {r.usage.output_tokens:,} out tokens")
    else:
        parts.append("tokens not reported")
    parts.append(usd(r.cost) if r.cost is not None else "cost unknown")
    latency = f"{outcome.latency:.2f}s"
    if outcome.first_token is not None:
        latency += f" (first token {outcome.first_token:.2f}s)"
    parts.append(latency)
    if r.finish_reason not in (None, "stop"):
        parts.append(f"stopped: {r.finish_reason}")
    return " · ".join(parts)
