"""Command line: ``python -m core.llms.cli models [--provider P] [--markdown]``.

``models --markdown`` prints the model catalogue that ``docs/models.md`` holds (a test keeps the
two equal), built from whatever the registry knows: built-in providers and installed plugins.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .interfaces.metadata import ModelMetadata
from .registry import ModelRegistry, default_registry

__all__ = ["catalogue_markdown", "main"]

_CAPS = (
    ("tools", "tools"),
    ("parallel_tools", "parallel tools"),
    ("json_schema", "JSON schema"),
    ("vision", "vision"),
    ("audio_in", "audio in"),
    ("pdf", "PDF"),
    ("reasoning", "reasoning"),
)


def _price(value: float | None) -> str:
    return "—" if value is None else f"${value:g}"


def _row(m: ModelMetadata) -> str:
    caps = ", ".join(label for attr, label in _CAPS if getattr(m.capabilities, attr)) or "text only"
    rules = m.parameters
    notes = [f"sends `{rules.max_tokens_param}`"] if rules.max_tokens_param != "max_tokens" else []
    if rules.unsupported:
        notes.append("no " + ", ".join(f"`{p}`" for p in sorted(rules.unsupported)))
    if rules.extra_allowed:
        notes.append("also " + ", ".join(f"`{p}`" for p in sorted(rules.extra_allowed)))
    p = m.pricing
    price = (
        "no price"
        if not p.known
        else (
            f"{_price(p.input_per_1m)} / {_price(p.cached_input_per_1m)} / {_price(p.output_per_1m)}"
            + (f" ({p.as_of.isoformat()})" if p.as_of is not None else "")
        )
    )
    return (
        f"| `{m.qualified_name}` | {m.context_window:,} | {m.max_output_tokens:,} | "
        f"{', '.join(sorted(m.input_media))} | {caps} | {price} | {'; '.join(notes) or '—'} |"
    )


def catalogue_markdown(registry: ModelRegistry | None = None) -> str:
    """The model catalogue as a markdown document, one table per provider."""
    reg = registry or default_registry()
    lines = [
        "# Model catalogue",
        "",
        "Generated from the registry by `python -m core.llms.cli models --markdown`; a test keeps",
        "this page equal to that output. Prices are USD per 1M tokens: input / cached input /",
        "output, with the day they were entered (prices change: check the provider's page).",
        "Parameter notes come from each model's `ParameterRules`.",
    ]
    for spec in sorted(reg.providers(), key=lambda s: s.name):
        models = sorted(reg.models(spec.name), key=lambda m: m.name)
        lines += ["", f"## {spec.name}", ""]
        if spec.description:
            lines += [spec.description, ""]
        if spec.generic is not None:
            lines += [
                f"Any other `{spec.name}/<model>` name is served too and sent as given: with the limits of "
                "the catalogue model its name starts with, if any, else generic ones; no price.",
                "",
            ]
        lines += [
            "| model | context | max output | input | capabilities | price | parameters |",
            "|---|---|---|---|---|---|---|",
            *(_row(m) for m in models),
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.llms.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser("models", help="list the models the registry knows")
    models.add_argument("--provider", help="only this provider")
    models.add_argument("--markdown", action="store_true", help="print the catalogue page")
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(catalogue_markdown())
        return 0
    for m in default_registry().models(args.provider):
        print(f"{m.qualified_name:40} context={m.context_window:>9,}  max_output={m.max_output_tokens:>7,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
