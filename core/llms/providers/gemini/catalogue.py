"""What Google publishes about each Gemini chat model: limits, media, capabilities, parameter rules
and prices (USD per 1M tokens: input / cached input / output). Vertex AI serves the same models:
:data:`VERTEX_MODELS` are these rows with ``provider="vertex"`` (and Vertex AI's own price where it
differs).

Prices are those of the paid tier for prompts up to 200k tokens (Gemini 2.5 Pro bills a longer
prompt at $2.50 in / $15.00 out per 1M, which the cost here does not model); thinking tokens are
billed as output (see the dialect's usage mapping).
"""

from __future__ import annotations

from datetime import date

from ...interfaces.metadata import Capabilities, MediaType, ModelMetadata, ParameterRules, Pricing
from ..dialects.gemini.parameters import THINKING_PARAMETERS
from .media_catalogue import GEMINI_MEDIA_MODELS, VERTEX_MEDIA_MODELS

__all__ = [
    "GEMINI_CATALOGUE",
    "GEMINI_GENERIC",
    "GEMINI_MODELS",
    "PRICES_AS_OF",
    "VERTEX_GENERIC",
    "VERTEX_MODELS",
    "gemini_metadata",
]

#: the day the prices below were entered from Google's published price lists.
PRICES_AS_OF = date(2026, 12, 5)

_MEDIA_IN: frozenset[MediaType] = frozenset({"text", "image", "pdf", "audio", "video"})
_CHAT = Capabilities(
    tools=True, parallel_tools=True, json_schema=True, json_mode=True, vision=True, pdf=True, audio_in=True
)
_THINKING = _CHAT.replace(reasoning=True)
#: thinking models take the reasoning controls (``thinkingConfig``).
_THINKING_RULES = ParameterRules(extra_allowed=THINKING_PARAMETERS)

#: the stable version's alias (``<name>-001``), made per row.
_V001 = ("-001",)
#: name, family, thinks, alias suffixes, context window, max output tokens,
#: USD per 1M tokens (input, cached input or None, output).
_Row = tuple[str, str, bool, tuple[str, ...], int, int, tuple[float, float | None, float]]
# fmt: off
_ROWS: tuple[_Row, ...] = (
    ("gemini-2.5-pro",        "gemini-2.5", True,  (),      1_048_576, 65_536, (1.25, 0.125, 10.00)),
    ("gemini-2.5-flash",      "gemini-2.5", True,  (),      1_048_576, 65_536, (0.30, 0.03, 2.50)),
    ("gemini-2.5-flash-lite", "gemini-2.5", True,  (),      1_048_576, 65_536, (0.10, 0.01, 0.40)),
    ("gemini-2.0-flash",      "gemini-2.0", False, _V001,   1_048_576, 8_192,  (0.10, 0.025, 0.40)),
    ("gemini-2.0-flash-lite", "gemini-2.0", False, _V001,   1_048_576, 8_192,  (0.075, None, 0.30)),
)
#: Vertex AI's price where it differs from the Gemini API's (input, cached input, output).
_VERTEX_PRICES: dict[str, tuple[float, float | None, float]] = {
    "gemini-2.0-flash": (0.15, 0.0375, 0.60),
}
# fmt: on


def _pricing(prices: tuple[float, float | None, float]) -> Pricing:
    input_price, cached_price, output_price = prices
    return Pricing(
        input_per_1m=input_price,
        cached_input_per_1m=cached_price,
        output_per_1m=output_price,
        as_of=PRICES_AS_OF,
    )


def _metadata(row: _Row) -> ModelMetadata:
    name, family, thinks, suffixes, context, max_output, prices = row
    return ModelMetadata(
        name=name,
        provider="gemini",
        family=family,
        aliases=tuple(name + suffix for suffix in suffixes),
        context_window=context,
        max_output_tokens=max_output,
        input_media=_MEDIA_IN,
        output_media=frozenset({"text"}),
        capabilities=_THINKING if thinks else _CHAT,
        parameters=_THINKING_RULES if thinks else ParameterRules(),
        pricing=_pricing(prices),
        description=f"Google {name}" + (" (thinking model)" if thinks else ""),
    )


GEMINI_CATALOGUE: dict[str, ModelMetadata] = {row[0]: _metadata(row) for row in _ROWS}
#: the catalogue rows of the ``gemini`` provider (the Gemini API).
GEMINI_MODELS: tuple[ModelMetadata, ...] = (*GEMINI_CATALOGUE.values(), *GEMINI_MEDIA_MODELS)
#: a Gemini model not in the catalogue (and matching no catalogue name's prefix), such as
#: ``gemini-3-pro-preview``: a thinking model with generous limits, the server enforcing the
#: real ones; no price.
GEMINI_GENERIC = ModelMetadata(
    name="*",
    provider="gemini",
    context_window=1_048_576,
    max_output_tokens=65_536,
    input_media=_MEDIA_IN,
    capabilities=_THINKING,
    parameters=_THINKING_RULES,
    description="a Gemini model outside the built-in catalogue",
)


def gemini_metadata(name: str) -> ModelMetadata:
    """The catalogue entry of a Gemini model (``KeyError`` for a name not in it)."""
    return GEMINI_CATALOGUE[name]


def _vertex(meta: ModelMetadata) -> ModelMetadata:
    prices = _VERTEX_PRICES.get(meta.name)
    return meta.replace(provider="vertex", pricing=_pricing(prices) if prices else meta.pricing)


#: the catalogue rows of the ``vertex`` provider: the same models, as Vertex AI serves them.
VERTEX_MODELS: tuple[ModelMetadata, ...] = (
    *(_vertex(m) for m in GEMINI_CATALOGUE.values()),
    *VERTEX_MEDIA_MODELS,
)
VERTEX_GENERIC = GEMINI_GENERIC.replace(
    provider="vertex", description="a Gemini model on Vertex AI outside the built-in catalogue"
)
