"""What Anthropic publishes about each Claude model: limits, media, capabilities and prices (USD
per 1M tokens: input / cache read / output, and cache write — the 5-minute write, 1.25 times the
input price; a one-hour write is billed at twice the input price, see
:func:`~..dialects.anthropic_messages.parsing.costing`).

Each row's name is Anthropic's model alias; the dated snapshot is sent on the wire (``wire_name``)
and is an alias of the row, as is Anthropic's own alias where it differs (``claude-sonnet-4-0``).
"""

from __future__ import annotations

from datetime import date

from ...interfaces.metadata import Capabilities, MediaType, ModelMetadata, ParameterRules, Pricing

__all__ = ["ANTHROPIC_CATALOGUE", "ANTHROPIC_GENERIC", "ANTHROPIC_MODELS", "PRICES_AS_OF"]

#: the day the prices below were read from Anthropic's published price list.
PRICES_AS_OF = date(2025, 10, 16)

_MEDIA_IN: frozenset[MediaType] = frozenset({"text", "image", "pdf"})
_CLAUDE = Capabilities(tools=True, parallel_tools=True, json_schema=True, vision=True, pdf=True)
_THINKING = _CLAUDE.replace(reasoning=True)
#: Anthropic's temperature is 0..1; ``max_tokens`` is sent as it is (and always: it is required).
_RULES = ParameterRules(temperature_range=(0.0, 1.0))

#: name, family, snapshot date (the wire id is ``<name>-<date>``), context window, max output
#: tokens, extended thinking, USD per 1M tokens (input, cache read, cache write, output).
_Row = tuple[str, str, str, int, int, bool, tuple[float, float, float, float]]
# fmt: off
_ROWS: tuple[_Row, ...] = (
    ("claude-opus-4-1",   "claude-opus-4",   "20250805", 200_000, 32_000, True,  (15.00, 1.50, 18.75, 75.00)),
    ("claude-opus-4",     "claude-opus-4",   "20250514", 200_000, 32_000, True,  (15.00, 1.50, 18.75, 75.00)),
    ("claude-sonnet-4-5", "claude-sonnet-4", "20250929", 200_000, 64_000, True,  (3.00, 0.30, 3.75, 15.00)),
    ("claude-sonnet-4",   "claude-sonnet-4", "20250514", 200_000, 64_000, True,  (3.00, 0.30, 3.75, 15.00)),
    ("claude-3-7-sonnet", "claude-3-7",      "20250219", 200_000, 64_000, True,  (3.00, 0.30, 3.75, 15.00)),
    ("claude-haiku-4-5",  "claude-haiku-4",  "20251001", 200_000, 64_000, True,  (1.00, 0.10, 1.25, 5.00)),
    ("claude-3-5-haiku",  "claude-3-5",      "20241022", 200_000, 8_192,  False, (0.80, 0.08, 1.00, 4.00)),
)
# fmt: on


#: Anthropic's own alias of a model, where it is not the row's name.
_ANTHROPIC_ALIASES: dict[str, str] = {
    "claude-opus-4": "claude-opus-4-0",
    "claude-sonnet-4": "claude-sonnet-4-0",
    "claude-3-7-sonnet": "claude-3-7-sonnet-latest",
    "claude-3-5-haiku": "claude-3-5-haiku-latest",
}


def _metadata(row: _Row) -> ModelMetadata:
    name, family, day, context, max_output, thinks, prices = row
    snapshot = f"{name}-{day}"
    alias = _ANTHROPIC_ALIASES.get(name)
    input_price, read_price, write_price, output_price = prices
    return ModelMetadata(
        name=name,
        provider="anthropic",
        family=family,
        wire_name=snapshot,
        aliases=(snapshot, alias) if alias else (snapshot,),
        context_window=context,
        max_output_tokens=max_output,
        input_media=_MEDIA_IN,
        output_media=frozenset({"text"}),
        capabilities=_THINKING if thinks else _CLAUDE,
        parameters=_RULES,
        pricing=Pricing(
            input_per_1m=input_price,
            cached_input_per_1m=read_price,
            cache_write_input_per_1m=write_price,
            output_per_1m=output_price,
            as_of=PRICES_AS_OF,
        ),
        description=f"Anthropic {name}" + (" (extended thinking)" if thinks else ""),
    )


ANTHROPIC_CATALOGUE: dict[str, ModelMetadata] = {row[0]: _metadata(row) for row in _ROWS}
#: the catalogue rows of the ``anthropic`` provider.
ANTHROPIC_MODELS: tuple[ModelMetadata, ...] = tuple(ANTHROPIC_CATALOGUE.values())
#: a Claude model outside the catalogue (and matching no catalogue name's prefix): generous
#: limits, the server enforcing the real ones; no price.
ANTHROPIC_GENERIC = ModelMetadata(
    name="*",
    provider="anthropic",
    context_window=1_000_000,
    max_output_tokens=128_000,
    input_media=_MEDIA_IN,
    capabilities=_THINKING,
    parameters=_RULES,
    description="a Claude model outside the built-in catalogue",
)
