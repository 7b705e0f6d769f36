"""``core-llms cost``: what a call would cost, from the catalogue's prices.

The figures are :meth:`Pricing.cost <core.llms.interfaces.metadata.Pricing.cost>` of a
:class:`~core.llms.interfaces.types.Usage` — the rule ``BaseLLM.cost`` applies to every answer
(cached input tokens at the cached price where the model has one) — so they equal
``response.cost`` for the same token counts.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..interfaces.metadata import ModelMetadata, Pricing
from ..interfaces.types import Usage
from ..registry import default_registry
from .common import UsageError, add_common_options, decimal, money, non_negative_int, usd
from .term import BOLD, DIM, Cell, Column, stdout_terminal

__all__ = ["add_cost_parser", "cost_breakdown"]

_EPILOG = """\
examples:
  core-llms cost openai/gpt-4.1-mini --input-tokens 12000 --output-tokens 800
  core-llms cost claude-sonnet-4-5 --input-tokens 50000 --cached-tokens 40000 --output-tokens 2000
  core-llms cost gpt-4o-mini --prompt "Summarise the French revolution." --output-tokens 500
  cat report.txt | core-llms cost openai/gpt-4.1 --prompt - --output-tokens 1000 --json

A bare model name is routed as `core-llms chat` routes it (a provider whose credentials are
set first, else the model's maker); the output names the model priced.
--prompt estimates the input tokens as the library does before a call (about 4 characters a
token, plus a few per message): a guess, not the provider's tokenizer.
"""

#: per-unit prices, for a model priced by something else than tokens.
_UNIT_PRICES = (
    ("per_image", "image"),
    ("per_1m_characters", "1M characters"),
    ("per_audio_second", "second of audio"),
    ("per_video_second", "second of video"),
    ("per_1k_searches", "1K searches"),
)


def add_cost_parser(sub: Any) -> None:
    """Register ``cost``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "cost",
        help="what a call would cost (USD), from the catalogue's prices",
        description="Price a call from token counts, or from a prompt's estimated tokens, with the "
        "model's catalogue prices (USD per 1M tokens). A model without token prices is reported "
        "(exit code 1).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("model", metavar="MODEL", help="a model name: provider/model, or a bare name")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--input-tokens", type=non_negative_int, metavar="N", help="prompt tokens")
    given.add_argument(
        "--prompt", metavar="TEXT", help="a prompt whose tokens are estimated ('-' reads it from stdin)"
    )
    parser.add_argument(
        "--output-tokens", type=non_negative_int, required=True, metavar="M", help="answer tokens"
    )
    parser.add_argument(
        "--cached-tokens",
        type=non_negative_int,
        default=0,
        metavar="C",
        help="how many of the input tokens are read from the provider's prompt cache (default 0)",
    )
    parser.add_argument("--json", action="store_true", help="the figures as a JSON object")
    add_common_options(parser, top=False)
    parser.set_defaults(run=run_cost)


def cost_breakdown(pricing: Pricing, usage: Usage) -> dict[str, float]:
    """The cost of ``usage`` in parts (``input``, ``cached_input``, ``output``) and ``total``,
    each from :meth:`Pricing.cost` (the parts add up to the total)."""
    total = pricing.cost(usage)
    prompt = pricing.cost(
        Usage(input_tokens=usage.input_tokens, cached_input_tokens=usage.cached_input_tokens)
    )
    cached = usage.cached_input_tokens
    cached_cost = pricing.cost(Usage(input_tokens=cached, cached_input_tokens=cached)) if cached else 0.0
    if pricing.cached_input_per_1m is None:
        cached_cost = 0.0  # (no cached price: those tokens are billed as input)
    return {
        "input": prompt - cached_cost,
        "cached_input": cached_cost,
        "output": pricing.cost(Usage(output_tokens=usage.output_tokens)),
        "total": total,
    }


def _unpriced(meta: ModelMetadata) -> str:
    p = meta.pricing
    units = [f"{money(getattr(p, name))} per {unit}" for name, unit in _UNIT_PRICES if getattr(p, name)]
    if units:
        return f"{meta.qualified_name} has no token prices (it is priced per unit: {'; '.join(units)})"
    return f"{meta.qualified_name} has no price in the catalogue"


def run_cost(args: argparse.Namespace) -> int:
    """``core-llms cost``."""
    from ..client import LLMClient

    registry = default_registry()
    meta = registry.metadata(LLMClient.from_env(registry=registry).resolve(args.model))
    estimated = args.prompt is not None
    if estimated:
        from ..budget import estimate_input_tokens
        from ..interfaces.messages import normalize_messages

        text = sys.stdin.read() if args.prompt == "-" else args.prompt
        input_tokens = estimate_input_tokens(normalize_messages(text))
    else:
        input_tokens = args.input_tokens
    if args.cached_tokens > input_tokens:
        raise UsageError(
            f"--cached-tokens ({args.cached_tokens}) is more than the input tokens ({input_tokens})"
        )
    out = stdout_terminal(args.color)
    pricing = meta.pricing
    if not pricing.known:
        message = _unpriced(meta)
        if args.json:
            out.json({"model": meta.qualified_name, "cost_usd": None, "error": message})
        print(f"error: {message}", file=sys.stderr)
        return 1
    usage = Usage(
        input_tokens=input_tokens, output_tokens=args.output_tokens, cached_input_tokens=args.cached_tokens
    )
    parts = cost_breakdown(pricing, usage)
    cached_price = pricing.cached_input_per_1m
    if args.json:
        out.json(
            {
                "model": meta.qualified_name,
                "input_tokens": input_tokens,
                "cached_input_tokens": args.cached_tokens,
                "output_tokens": args.output_tokens,
                "input_estimated": estimated,
                "prices_per_1m": {
                    "input": pricing.input_per_1m,
                    "cached_input": cached_price,
                    "output": pricing.output_per_1m,
                },
                "prices_as_of": pricing.as_of.isoformat() if pricing.as_of is not None else None,
                "cost_usd": parts["total"],
                "breakdown_usd": {k: v for k, v in parts.items() if k != "total"},
            }
        )
        return 0
    cached = args.cached_tokens if cached_price is not None else 0
    lines: list[tuple[str, int, float, float]] = [
        ("input", input_tokens - cached, pricing.input_per_1m, parts["input"])
    ]
    if cached:
        lines.append(("cached input", cached, cached_price or 0.0, parts["cached_input"]))
    lines.append(("output", args.output_tokens, pricing.output_per_1m, parts["output"]))
    if out.rich:
        as_of = f"  (prices of {pricing.as_of.isoformat()})" if pricing.as_of is not None else ""
        out.write(out.style(meta.qualified_name, BOLD) + out.style(as_of, DIM))
        if estimated:
            out.write(out.style(f"input tokens estimated from the prompt: ~{input_tokens:,}", DIM))
        if args.cached_tokens and cached_price is None:
            out.write(out.style("no cached-input price: cached tokens are billed as input", DIM))
        rows: list[list[Cell]] = [
            [name, f"{n:,}", money(price), usd(value)] for name, n, price, value in lines
        ]
        rows.append([(("total", BOLD),), f"{usage.total_tokens:,}", "", ((usd(parts["total"]), BOLD),)])
        header = ("", "tokens", "$/1M", "cost")
    else:
        rows = [
            [name.replace(" ", "_"), str(n), decimal(price), decimal(value)]
            for name, n, price, value in lines
        ]
        rows.append(["total", str(usage.total_tokens), "", decimal(parts["total"])])
        header = ("part", "tokens", "usd_per_1m", "usd")
    out.table([Column(header[0]), *(Column(h, right=True) for h in header[1:])], rows)
    return 0
