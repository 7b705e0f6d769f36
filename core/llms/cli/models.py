"""``core-llms models`` (the catalogue, filtered) and ``core-llms providers``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import Any, get_args

from ..interfaces.metadata import Capabilities, MediaType, ModelMetadata
from ..interfaces.provider import ProviderProfile
from ..registry import default_registry
from .common import UsageError, add_common_options, decimal, money, non_negative_float
from .term import BLUE, CYAN, DIM, GREEN, MAGENTA, RED, YELLOW, Cell, Column, Terminal, stdout_terminal

__all__ = ["CAPABILITIES", "add_models_parser", "add_providers_parser", "filter_models", "model_record"]

#: the capabilities shown and filtered on (``Capabilities`` fields; ``streaming`` and
#: ``system_prompt``, which nearly every model has, are left out of the table).
CAPABILITIES: tuple[str, ...] = tuple(
    f.name for f in fields(Capabilities) if f.name not in ("streaming", "system_prompt")
)
_FILTER_CAPABILITIES = tuple(f.name for f in fields(Capabilities))
#: the capabilities the terminal table shows, and their labels there.
_TABLE_CAPABILITIES = (
    ("tools", "tools"),
    ("json_schema", "json"),
    ("vision", "vision"),
    ("pdf", "pdf"),
    ("audio_in", "audio"),
    ("reasoning", "reasoning"),
)
_COLORS = {
    "tools": CYAN,
    "parallel_tools": CYAN,
    "json_schema": BLUE,
    "json_mode": BLUE,
    "vision": MAGENTA,
    "pdf": RED,
    "audio_in": GREEN,
    "reasoning": YELLOW,
}
_OUTPUTS: tuple[str, ...] = tuple(get_args(MediaType))

_MODELS_EPILOG = """\
examples:
  core-llms models --provider openai
  core-llms models --capability vision --capability tools --sort price
  core-llms models --output embedding --json
  core-llms models --search sonnet --max-input-price 5
  core-llms models | cut -f1            # piped: tab-separated, a header row first
  core-llms models --markdown > docs/models.md
"""


def add_models_parser(sub: Any) -> None:
    """Register ``models``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "models",
        help="the model catalogue: context, prices, capabilities (filterable)",
        description="List the models the registry knows (built-in providers and installed plugins), "
        "with context window, maximum output, USD prices per 1M tokens and capabilities. "
        "Filters narrow the list: a model must pass every one given.",
        epilog=_MODELS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--provider", metavar="P", help="only the models of this provider")
    parser.add_argument(
        "--capability",
        action="append",
        default=[],
        metavar="CAP",
        help=f"only models with this capability; repeat or separate with commas for several "
        f"(all must hold): {', '.join(_FILTER_CAPABILITIES)}",
    )
    parser.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="MEDIA",
        help=f"only models producing this output; repeat or separate with commas: {', '.join(_OUTPUTS)}",
    )
    parser.add_argument(
        "--search", metavar="TEXT", help="only models whose name, alias, family or description contains TEXT"
    )
    parser.add_argument(
        "--max-input-price",
        type=non_negative_float,
        metavar="USD",
        help="only models with a known input price of at most USD per 1M tokens",
    )
    parser.add_argument(
        "--sort",
        choices=("name", "price", "context"),
        default="name",
        help="name (default), price (input price, lowest first; unpriced last), context (largest first)",
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="a JSON list of the models")
    form.add_argument(
        "--markdown",
        action="store_true",
        help="the whole catalogue page (docs/models.md, one table per provider); takes no filter",
    )
    add_common_options(parser, top=False)
    parser.set_defaults(run=run_models)


def add_providers_parser(sub: Any) -> None:
    """Register ``providers``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "providers",
        help="the providers: wire dialect, endpoint, credential variables, configured or not",
        description="List the providers the registry knows. 'configured' says whether this "
        "environment holds their credentials (only variable names are looked at).",
        epilog="examples:\n  core-llms providers\n  core-llms providers --json\n"
        "  core-llms providers --markdown > docs/providers.md\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="a JSON list of the providers")
    form.add_argument("--markdown", action="store_true", help="the providers page (docs/providers.md)")
    add_common_options(parser, top=False)
    parser.set_defaults(run=run_providers)


# -- models -----------------------------------------------------------------------------------


def _choices(values: Sequence[str], allowed: Sequence[str], option: str) -> list[str]:
    out: list[str] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if item not in allowed:
                raise UsageError(f"{option}: unknown value {item!r} (choose from {', '.join(allowed)})")
            out.append(item)
    return out


def filter_models(
    models: Sequence[ModelMetadata],
    *,
    capabilities: Sequence[str] = (),
    outputs: Sequence[str] = (),
    search: str | None = None,
    max_input_price: float | None = None,
) -> list[ModelMetadata]:
    """The models passing every filter given."""
    needle = search.casefold() if search else None
    out = []
    for m in models:
        if not all(getattr(m.capabilities, cap) for cap in capabilities):
            continue
        if not all(media in m.output_media for media in outputs):
            continue
        if needle is not None:
            haystack = " ".join((m.qualified_name, *m.aliases, m.family, m.description)).casefold()
            if needle not in haystack:
                continue
        if max_input_price is not None and (not m.pricing.known or m.pricing.input_per_1m > max_input_price):
            continue
        out.append(m)
    return out


def _sorted(models: list[ModelMetadata], key: str) -> list[ModelMetadata]:
    if key == "price":
        return sorted(
            models,
            key=lambda m: (
                not m.pricing.known,
                m.pricing.input_per_1m,
                m.pricing.output_per_1m,
                m.qualified_name,
            ),
        )
    if key == "context":
        return sorted(models, key=lambda m: (-m.context_window, m.qualified_name))
    return sorted(models, key=lambda m: m.qualified_name)


def model_record(m: ModelMetadata) -> dict[str, Any]:
    """A model as plain data (``models --json``)."""
    p = m.pricing
    pricing = {
        name: getattr(p, name)
        for name in (
            "input_per_1m",
            "cached_input_per_1m",
            "output_per_1m",
            "cache_write_input_per_1m",
            "per_image",
            "per_1m_characters",
            "per_audio_second",
            "per_video_second",
            "per_1k_searches",
        )
        if getattr(p, name) is not None
    }
    if not p.known:
        pricing.pop("input_per_1m", None)
        pricing.pop("output_per_1m", None)
    return {
        "name": m.qualified_name,
        "provider": m.provider,
        "model": m.name,
        "aliases": list(m.aliases),
        "family": m.family,
        "context_window": m.context_window,
        "max_output_tokens": m.max_output_tokens if m.supports_output("text") else None,
        "input_media": sorted(m.input_media),
        "output_media": sorted(m.output_media),
        "capabilities": [c for c in CAPABILITIES if getattr(m.capabilities, c)],
        "pricing": pricing or None,
        "prices_as_of": p.as_of.isoformat() if p.as_of is not None else None,
        "deprecation_date": m.deprecation_date.isoformat() if m.deprecation_date is not None else None,
    }


def run_models(args: argparse.Namespace) -> int:
    """``core-llms models``."""
    filters = (args.provider, args.capability, args.output, args.search, args.max_input_price)
    if args.markdown:
        if any(f for f in filters) or args.sort != "name":
            raise UsageError("--markdown prints the whole catalogue page; it takes no filter or --sort")
        from .markdown import catalogue_markdown

        sys.stdout.write(catalogue_markdown())
        return 0
    models = filter_models(
        default_registry().models(args.provider),
        capabilities=_choices(args.capability, _FILTER_CAPABILITIES, "--capability"),
        outputs=_choices(args.output, _OUTPUTS, "--output"),
        search=args.search,
        max_input_price=args.max_input_price,
    )
    models = _sorted(models, args.sort)
    out = stdout_terminal(args.color)
    if args.json:
        out.json([model_record(m) for m in models])
        return 0
    _models_table(out, models)
    if out.rich and not models:
        out.write(out.style("no model matches", DIM))
    return 0


def _models_table(out: Terminal, models: Sequence[ModelMetadata]) -> None:
    # on a terminal the outputs column is shown only when some model outputs more than text
    outputs = not out.rich or any(m.output_media != {"text"} for m in models)
    columns = [
        Column("model", shrink=24, floor=14),
        Column("context", right=True),
        Column("max out", right=True),
        Column("in $/1M", right=True),
        Column("out $/1M", right=True),
        *([Column("outputs", shrink=7, floor=5)] if outputs else []),
        Column("capabilities", shrink=12, floor=8),
    ]
    rows = [_model_row(out, m) for m in models]
    if not outputs:
        rows = [row[:5] + row[6:] for row in rows]
    out.table(columns, rows)


def _model_row(out: Terminal, m: ModelMetadata) -> list[Cell]:
    chat = m.supports_output("text")
    outputs = sorted(m.output_media)
    if not out.rich:
        p = m.pricing
        return [
            m.qualified_name,
            str(m.context_window),
            str(m.max_output_tokens) if chat else "",
            decimal(p.input_per_1m) if p.known else "",
            decimal(p.output_per_1m) if p.known else "",
            ",".join(outputs),
            ",".join(c for c in CAPABILITIES if getattr(m.capabilities, c)),
        ]
    dash: Cell = (("—", DIM),)
    caps: list[tuple[str, str]] = []
    for cap, label in _TABLE_CAPABILITIES:
        if getattr(m.capabilities, cap):
            if caps:
                caps.append((" ", ""))
            caps.append((label, _COLORS.get(cap, "")))
    return [
        m.qualified_name,
        f"{m.context_window:,}",
        f"{m.max_output_tokens:,}" if chat else dash,
        _price_cell(m.pricing.input_per_1m if m.pricing.known else None),
        _price_cell(m.pricing.output_per_1m if m.pricing.known else None),
        ((", ".join(outputs), "" if outputs == ["text"] else YELLOW),),
        tuple(caps) or dash,
    ]


def _price_cell(value: float | None) -> Cell:
    return (("—", DIM),) if value is None else money(value)


# -- providers --------------------------------------------------------------------------------


def run_providers(args: argparse.Namespace) -> int:
    """``core-llms providers``."""
    if args.markdown:
        from .markdown import providers_markdown

        sys.stdout.write(providers_markdown())
        return 0
    registry = default_registry()
    out = stdout_terminal(args.color)
    profiles = registry.providers()
    if args.json:
        out.json([_provider_record(p, len(registry.models(p.name))) for p in profiles])
        return 0
    columns = (
        Column("provider"),
        Column("dialect"),
        Column("configured"),
        Column("models", right=True),
        Column("key (env)", shrink=10, floor=6),
        Column("default endpoint", shrink=16, floor=8),
    )
    rows: list[list[Cell]] = []
    for p in profiles:
        configured = p.configured(os.environ)
        key = " / ".join(p.api_key_env)
        endpoint = p.default_endpoint or ""
        count = str(len(registry.models(p.name)))
        if out.rich:
            rows.append(
                [
                    p.name,
                    p.dialect,
                    (("yes", GREEN),) if configured else (("no", DIM),),
                    count,
                    key or (("—", DIM),),
                    endpoint or (("(give one)", DIM),),
                ]
            )
        else:
            rows.append([p.name, p.dialect, "yes" if configured else "no", count, key, endpoint])
    out.table(columns, rows)
    return 0


def _provider_record(p: ProviderProfile, models: int) -> dict[str, Any]:
    """A provider as plain data (``providers --json``)."""
    return {
        "name": p.name,
        "dialect": p.dialect,
        "default_endpoint": p.default_endpoint,
        "api_key_env": list(p.api_key_env),
        "endpoint_env": list(p.endpoint_env),
        "requires_api_key": p.requires_api_key,
        "configured": p.configured(os.environ),
        "models": models,
        "any_model_name": p.generic is not None,
    }
