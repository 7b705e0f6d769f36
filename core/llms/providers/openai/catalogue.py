"""What OpenAI publishes about each chat model: limits, media, capabilities, parameter rules and
prices (USD per 1M tokens: input / cached input / output). Azure OpenAI serves the same models,
so :func:`azure_metadata` reuses these entries with ``provider="azure"``.
"""

from __future__ import annotations

from datetime import date

from ...interfaces.metadata import Capabilities, MediaType, ModelMetadata, ParameterRules, Pricing

__all__ = [
    "AZURE_MODELS",
    "OPENAI_CATALOGUE",
    "OPENAI_GENERIC",
    "OPENAI_MODELS",
    "PRICES_AS_OF",
    "azure_metadata",
    "openai_metadata",
]

#: the day the prices below were entered from OpenAI's published price list (the catalogue's first commit).
PRICES_AS_OF = date(2026, 11, 22)

_MEDIA_IN: frozenset[MediaType] = frozenset({"text", "image", "pdf"})
_CHAT = Capabilities(tools=True, parallel_tools=True, json_schema=True, json_mode=True, vision=True, pdf=True)
_REASONING = Capabilities(
    tools=True, parallel_tools=True, json_schema=True, json_mode=True, vision=True, pdf=True, reasoning=True
)
#: Sampling controls reasoning models refuse; they take ``max_completion_tokens``.
_REASONING_UNSUPPORTED = frozenset(
    {
        "temperature",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "stop",
    }
)
_O_SERIES_RULES = ParameterRules(
    max_tokens_param="max_completion_tokens",
    unsupported=_REASONING_UNSUPPORTED,
    extra_allowed=frozenset({"reasoning_effort"}),
)
_GPT5_RULES = ParameterRules(
    max_tokens_param="max_completion_tokens",
    unsupported=_REASONING_UNSUPPORTED,
    extra_allowed=frozenset({"reasoning_effort", "verbosity"}),
)


#: Parameter rules by family (None: the Chat Completions defaults).
_RULES_BY_FAMILY: dict[str, ParameterRules | None] = {
    "gpt-4.1": None,
    "gpt-4o": None,
    "o-series": _O_SERIES_RULES,
    "gpt-5": _GPT5_RULES,
}

#: name, family, dated snapshot (alias), context window, max output tokens,
#: USD per 1M tokens (input, cached input, output).
_Row = tuple[str, str, str, int, int, tuple[float, float, float]]
# fmt: off
_ROWS: tuple[_Row, ...] = (
    ("gpt-4.1",      "gpt-4.1",  "gpt-4.1-2025-04-14",      1_047_576, 32_768,  (2.00, 0.50, 8.00)),
    ("gpt-4.1-mini", "gpt-4.1",  "gpt-4.1-mini-2025-04-14", 1_047_576, 32_768,  (0.40, 0.10, 1.60)),
    ("gpt-4.1-nano", "gpt-4.1",  "gpt-4.1-nano-2025-04-14", 1_047_576, 32_768,  (0.10, 0.025, 0.40)),
    ("gpt-4o",       "gpt-4o",   "gpt-4o-2024-08-06",       128_000,   16_384,  (2.50, 1.25, 10.00)),
    ("gpt-4o-mini",  "gpt-4o",   "gpt-4o-mini-2024-07-18",  128_000,   16_384,  (0.15, 0.075, 0.60)),
    ("o4-mini",      "o-series", "o4-mini-2025-04-16",      200_000,   100_000, (1.10, 0.275, 4.40)),
    ("o3",           "o-series", "o3-2025-04-16",           200_000,   100_000, (2.00, 0.50, 8.00)),
    ("gpt-5",        "gpt-5",    "gpt-5-2025-08-07",        400_000,   128_000, (1.25, 0.125, 10.00)),
    ("gpt-5-mini",   "gpt-5",    "gpt-5-mini-2025-08-07",   400_000,   128_000, (0.25, 0.025, 2.00)),
    ("gpt-5-nano",   "gpt-5",    "gpt-5-nano-2025-08-07",   400_000,   128_000, (0.05, 0.005, 0.40)),
)
# fmt: on


def _metadata(row: _Row) -> ModelMetadata:
    name, family, snapshot, context, max_output, (input_price, cached_price, output_price) = row
    rules = _RULES_BY_FAMILY[family]
    return ModelMetadata(
        name=name,
        provider="openai",
        family=family,
        aliases=(snapshot,),
        context_window=context,
        max_output_tokens=max_output,
        input_media=_MEDIA_IN,
        output_media=frozenset({"text"}),
        capabilities=_CHAT if rules is None else _REASONING,
        parameters=rules or ParameterRules(),
        pricing=Pricing(
            input_per_1m=input_price,
            cached_input_per_1m=cached_price,
            output_per_1m=output_price,
            as_of=PRICES_AS_OF,
        ),
        description=f"OpenAI {name}" + ("" if rules is None else " (reasoning model)"),
    )


OPENAI_CATALOGUE: dict[str, ModelMetadata] = {row[0]: _metadata(row) for row in _ROWS}
#: the catalogue rows of the ``openai`` provider.
OPENAI_MODELS: tuple[ModelMetadata, ...] = tuple(OPENAI_CATALOGUE.values())
#: a model name OpenAI serves that is not in the catalogue (and matches no catalogue name's
#: prefix): generous limits, the server enforcing the real ones; no price.
OPENAI_GENERIC = ModelMetadata(
    name="*",
    provider="openai",
    context_window=2_000_000,
    max_output_tokens=200_000,
    input_media=_MEDIA_IN,
    capabilities=_CHAT,
    description="an OpenAI model outside the built-in catalogue",
)


def openai_metadata(name: str) -> ModelMetadata:
    """The catalogue entry of an OpenAI model (``KeyError`` for a name not in it)."""
    return OPENAI_CATALOGUE[name]


def azure_metadata(name: str) -> ModelMetadata:
    """The same model as served by Azure OpenAI: the OpenAI entry with ``provider="azure"``."""
    return OPENAI_CATALOGUE[name].replace(provider="azure")


#: the catalogue rows of the ``azure`` provider: OpenAI's models, as Azure serves them.
AZURE_MODELS: tuple[ModelMetadata, ...] = tuple(m.replace(provider="azure") for m in OPENAI_MODELS)
