"""The catalogue pages: ``core-llms models --markdown`` (``docs/models.md``) and
``core-llms providers --markdown`` (``docs/providers.md``); tests keep each page equal to this
output, built from whatever the registry knows: built-in providers and installed plugins.
"""

from __future__ import annotations

from ..interfaces.metadata import ModelMetadata
from ..registry import ModelRegistry, default_registry

__all__ = ["catalogue_markdown", "providers_markdown"]

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
    chat = m.supports_output("text")
    caps = ", ".join(label for attr, label in _CAPS if getattr(m.capabilities, attr)) or (
        "text only" if chat else "—"
    )
    rules = m.parameters
    notes = [f"sends `{rules.max_tokens_param}`"] if rules.max_tokens_param != "max_tokens" else []
    if rules.unsupported:
        notes.append("no " + ", ".join(f"`{p}`" for p in sorted(rules.unsupported)))
    if rules.extra_allowed:
        notes.append("also " + ", ".join(f"`{p}`" for p in sorted(rules.extra_allowed)))
    if m.api:
        notes.append(f"called through the {m.api} API")
    return (
        f"| `{m.qualified_name}` | {m.context_window:,} | {f'{m.max_output_tokens:,}' if chat else '—'} | "
        f"{', '.join(sorted(m.input_media))} | {', '.join(sorted(m.output_media))} | {caps} | "
        f"{_price_text(m)} | {'; '.join(notes) or '—'} |"
    )


#: the unit prices of media, as (Pricing field, unit shown after the price).
_UNIT_PRICES = (
    ("per_image", "image"),
    ("per_1m_characters", "1M characters"),
    ("per_audio_second", "second of audio"),
    ("per_video_second", "second of video"),
    ("per_1k_searches", "1K searches"),
)


def _price_text(m: ModelMetadata) -> str:
    p = m.pricing
    parts = []
    if p.known:
        parts.append(
            f"{_price(p.input_per_1m)} / {_price(p.cached_input_per_1m)} / {_price(p.output_per_1m)}"
        )
    parts += [f"{_price(getattr(p, name))} per {unit}" for name, unit in _UNIT_PRICES if getattr(p, name)]
    if not parts:
        return "no price"
    return "; ".join(parts) + (f" ({p.as_of.isoformat()})" if p.as_of is not None else "")


def catalogue_markdown(registry: ModelRegistry | None = None) -> str:
    """The model catalogue as a markdown document, one table per provider."""
    reg = registry or default_registry()
    lines = [
        "# Model catalogue",
        "",
        "Generated from the registry by `python -m core.llms.cli models --markdown`; a test keeps",
        "this page equal to that output. Prices are USD per 1M tokens: input / cached input /",
        "output, and for media per unit (image, 1M characters, second of audio or video), with the",
        "day they were entered (prices change: check the provider's page). The output column says",
        "which methods a model serves: text `get_answer` / `stream_answer`, image `get_image`,",
        "audio `get_audio`, transcription `transcribe` / `translate`, video `get_video`, embedding `embed`.",
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
            "| model | context | max output | input | output | capabilities | price | parameters |",
            "|---|---|---|---|---|---|---|---|",
            *(_row(m) for m in models),
        ]
    return "\n".join(lines) + "\n"


def providers_markdown(registry: ModelRegistry | None = None) -> str:
    """Every provider: its dialect, endpoint, credentials, own settings and quirks (markdown)."""
    reg = registry or default_registry()
    lines = [
        "# Providers",
        "",
        "Generated from the registry by `python -m core.llms.cli providers --markdown`; a test keeps",
        "this page equal to that output. Each provider is a profile (data) on a wire dialect: see",
        "[architecture.md](architecture.md). The models of each are in [models.md](models.md).",
        "",
        "| provider | dialect | default endpoint | key (env) | endpoint (env) | own settings (env) "
        "| models |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in reg.providers():
        key = " / ".join(f"`{e}`" for e in p.api_key_env) or "—"
        if not p.requires_api_key:
            key += " (optional: keyless)"
        settings = ", ".join(
            f"`{name}`"
            + (f" ({' / '.join(f'`{e}`' for e in p.settings_env[name])})" if name in p.settings_env else "")
            + (" (required)" if name in p.required_settings and name != p.model_setting else "")
            for name in p.setting_names
        )
        count = len(reg.models(p.name))
        models = f"{count} in the catalogue" + (", any other name" if p.generic is not None else "")
        default = f"`{p.default_endpoint}`" if p.default_endpoint else "none: give one"
        endpoint_env = " / ".join(f"`{e}`" for e in p.endpoint_env) or "—"
        cells = (f"`{p.name}`", f"`{p.dialect}`", default, key, endpoint_env, settings or "—", models)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Notes", ""]
    for p in reg.providers():
        note = p.description + (f". {p.notes[0].upper()}{p.notes[1:]}." if p.notes else ".")
        if p.model_setting:
            note += f" `{p.name}/<name>` fills `{p.model_setting}` when none is given."
        lines.append(f"- **`{p.name}`**: {note}")
    return "\n".join(lines) + "\n"
