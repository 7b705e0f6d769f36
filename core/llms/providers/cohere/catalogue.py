"""What Cohere publishes about each model: limits, media, capabilities, parameter rules and
prices (USD: per 1M tokens for chat and embeddings, per 1K searches for rerank).

Limits are from docs.cohere.com/v2/docs/models; prices from cohere.com/pricing as listed on
:data:`PRICES_AS_OF` (they change: check the page). Command A Reasoning has no public
pay-as-you-go price (Cohere: "contact sales"), so its calls report no cost.
"""

from __future__ import annotations

from datetime import date

from ...interfaces.metadata import Capabilities, MediaType, ModelMetadata, ParameterRules, Pricing

__all__ = [
    "COHERE_CATALOGUE",
    "COHERE_GENERIC",
    "COHERE_MODELS",
    "EMBED_DIMENSIONS",
    "PRICES_AS_OF",
    "cohere_metadata",
]

#: the day the prices below were read from cohere.com/pricing.
PRICES_AS_OF = date(2025, 9, 1)

_TEXT: frozenset[MediaType] = frozenset({"text"})
_TEXT_IMAGE: frozenset[MediaType] = frozenset({"text", "image"})
_CHAT = Capabilities(tools=True, parallel_tools=True, json_schema=True, json_mode=True)
_REASONING = _CHAT.replace(reasoning=True)
_NO_CHAT = Capabilities(streaming=False, system_prompt=False)
#: Command R and R+ (08-2024) take no ``tool_choice`` (Command R7B and newer do).
_R_RULES = ParameterRules(unsupported=frozenset({"tool_choice"}))
_REASONING_RULES = ParameterRules(extra_allowed=frozenset({"thinking"}))


def _priced(**prices: float) -> Pricing:
    return Pricing(as_of=PRICES_AS_OF, **prices)


def _chat(
    name: str,
    family: str,
    context: int,
    max_output: int,
    pricing: Pricing,
    description: str,
    *,
    capabilities: Capabilities = _CHAT,
    rules: ParameterRules | None = None,
) -> ModelMetadata:
    return ModelMetadata(
        name=name,
        provider="cohere",
        family=family,
        context_window=context,
        max_output_tokens=max_output,
        input_media=_TEXT,
        output_media=_TEXT,
        capabilities=capabilities,
        parameters=rules or ParameterRules(),
        pricing=pricing,
        description=description,
    )


# fmt: off
_CHAT_MODELS: tuple[ModelMetadata, ...] = (
    _chat("command-a-03-2025", "command-a", 256_000, 8_000, _priced(input_per_1m=2.50, output_per_1m=10.00),
          "Cohere Command A (03-2025): tools, RAG with citations, structured output"),
    _chat("command-a-reasoning-08-2025", "command-a-reasoning", 256_000, 32_000, Pricing(as_of=PRICES_AS_OF),
          "Cohere Command A Reasoning (08-2025): thinking (thinking=), tools, RAG (no public price)",
          capabilities=_REASONING, rules=_REASONING_RULES),
    _chat("command-r-plus-08-2024", "command-r", 128_000, 4_000,
          _priced(input_per_1m=2.50, output_per_1m=10.00), "Cohere Command R+ (08-2024)", rules=_R_RULES),
    _chat("command-r-08-2024", "command-r", 128_000, 4_000,
          _priced(input_per_1m=0.15, output_per_1m=0.60), "Cohere Command R (08-2024)", rules=_R_RULES),
    _chat("command-r7b-12-2024", "command-r7b", 128_000, 4_000,
          _priced(input_per_1m=0.0375, output_per_1m=0.15), "Cohere Command R7B (12-2024)"),
)

#: the vector size of each embedding model (embed-v4.0 also takes output_dimension 256/512/1024).
EMBED_DIMENSIONS: dict[str, int] = {
    "embed-v4.0": 1536,
    "embed-english-v3.0": 1024,
    "embed-multilingual-v3.0": 1024,
}

_MEDIA_MODELS: tuple[ModelMetadata, ...] = (
    ModelMetadata(
        name="embed-v4.0", provider="cohere", family="embed-v4", context_window=128_000, max_output_tokens=1,
        input_media=_TEXT_IMAGE, output_media=frozenset({"embedding"}), capabilities=_NO_CHAT,
        pricing=_priced(input_per_1m=0.12),
        description="Cohere Embed v4 (1536 dimensions, or 256/512/1024; text and images)",
    ),
    ModelMetadata(
        name="embed-english-v3.0", provider="cohere", family="embed-v3", context_window=512,
        max_output_tokens=1,
        input_media=_TEXT_IMAGE, output_media=frozenset({"embedding"}), capabilities=_NO_CHAT,
        pricing=_priced(input_per_1m=0.10), description="Cohere Embed English v3 (1024 dimensions)",
    ),
    ModelMetadata(
        name="embed-multilingual-v3.0", provider="cohere", family="embed-v3", context_window=512,
        max_output_tokens=1, input_media=_TEXT_IMAGE, output_media=frozenset({"embedding"}),
        capabilities=_NO_CHAT, pricing=_priced(input_per_1m=0.10),
        description="Cohere Embed Multilingual v3 (1024 dimensions)",
    ),
    ModelMetadata(
        name="rerank-v3.5", provider="cohere", family="rerank-v3", context_window=4_096, max_output_tokens=1,
        input_media=_TEXT, output_media=frozenset({"rerank"}), capabilities=_NO_CHAT,
        pricing=_priced(per_1k_searches=2.00), description="Cohere Rerank 3.5 (multilingual)",
    ),
    ModelMetadata(
        name="rerank-english-v3.0", provider="cohere", family="rerank-v3", context_window=4_096,
        max_output_tokens=1, input_media=_TEXT, output_media=frozenset({"rerank"}), capabilities=_NO_CHAT,
        pricing=_priced(per_1k_searches=2.00), description="Cohere Rerank English 3.0",
    ),
)
# fmt: on

COHERE_CATALOGUE: dict[str, ModelMetadata] = {meta.name: meta for meta in (*_CHAT_MODELS, *_MEDIA_MODELS)}
#: the catalogue rows of the ``cohere`` provider.
COHERE_MODELS: tuple[ModelMetadata, ...] = tuple(COHERE_CATALOGUE.values())
#: a model name Cohere serves that is not in the catalogue (and matches no catalogue name's
#: prefix): a chat model with generous limits, the server enforcing the real ones; no price.
COHERE_GENERIC = ModelMetadata(
    name="*",
    provider="cohere",
    context_window=256_000,
    max_output_tokens=32_000,
    input_media=_TEXT_IMAGE,
    capabilities=_CHAT.replace(vision=True),
    parameters=ParameterRules(extra_allowed=frozenset({"thinking"})),
    description="a Cohere chat model outside the built-in catalogue",
)


def cohere_metadata(name: str) -> ModelMetadata:
    """The catalogue entry of a Cohere model (``KeyError`` for a name not in it)."""
    return COHERE_CATALOGUE[name]
