"""What AWS publishes about the Bedrock models served here: limits, media, capabilities, parameter
rules and on-demand prices (USD, per 1M tokens; per image; per second of video), as Bedrock
names them.

Each row's ``name`` is a friendly name (``bedrock/claude-sonnet-4``); its ``wire_name`` is the
Bedrock model id (``anthropic.claude-sonnet-4-20250514-v1:0``), which is also an alias, so
``bedrock/anthropic.claude-sonnet-4-20250514-v1:0`` names the same model.

Cross-region inference profiles (``us.anthropic.claude-sonnet-4-20250514-v1:0``,
``eu.…``, ``apac.…``, ``global.…``): a profile id given as the model name is served as an open
name (sent as given; the catalogue model's limits when the profile registry rule finds it, no
price); or keep the catalogue name and let each endpoint add its geography's prefix
(``cross_region=``, see :class:`~.settings.BedrockSettings`). The models in
:data:`PROFILE_ONLY` are served by Bedrock only through inference profiles: each endpoint adds
its geography's prefix to them unless told otherwise.
"""

from __future__ import annotations

from datetime import date

from ...interfaces.metadata import Capabilities, MediaType, ModelMetadata, ParameterRules, Pricing

__all__ = [
    "BEDROCK_GENERIC",
    "BEDROCK_MODELS",
    "CHAT_MODELS",
    "MEDIA_MODELS",
    "PRICES_AS_OF",
    "PROFILE_ONLY",
]

#: the day the prices below were read from https://aws.amazon.com/bedrock/pricing/ (on-demand,
#: US East (N. Virginia); in-region or geographic cross-region profiles).
PRICES_AS_OF = date(2026, 12, 5)
_PROVIDER = "bedrock"

_TEXT: frozenset[MediaType] = frozenset({"text"})
_TEXT_DOCS: frozenset[MediaType] = frozenset({"text", "pdf"})
_CLAUDE_IN: frozenset[MediaType] = frozenset({"text", "image", "pdf"})
_NOVA_IN: frozenset[MediaType] = frozenset({"text", "image", "pdf", "video"})

#: Converse: tools (one or more calls per turn), structured output through a forced tool.
_TOOLS = Capabilities(tools=True, parallel_tools=True)
_CLAUDE = Capabilities(tools=True, parallel_tools=True, vision=True, pdf=True)
_CLAUDE_REASONING = _CLAUDE.replace(reasoning=True)
_NOVA = Capabilities(tools=True, vision=True, pdf=True)
_NO_CHAT = Capabilities(streaming=False, system_prompt=False)

#: Converse takes temperature 0..1 (every model's sampler is scaled to it).
_RULES_0_1 = ParameterRules(temperature_range=(0.0, 1.0))
#: a model that does not reason refuses the reasoning parameters (Bedrock would answer 400).
_NO_REASONING = _RULES_0_1.replace(unsupported=frozenset({"reasoning_effort", "thinking"}))
#: gpt-oss reasons at an effort (``reasoning_effort``), not with a thinking budget.
_GPT_OSS_RULES = _RULES_0_1.replace(unsupported=frozenset({"thinking"}))


def _prices(
    input_: float, output: float, cached: float | None = None, written: float | None = None
) -> Pricing:
    """Per 1M tokens: input, output, cache reads and cache writes (None: as input)."""
    return Pricing(
        input_per_1m=input_,
        output_per_1m=output,
        cached_input_per_1m=cached,
        cache_write_input_per_1m=written,
        as_of=PRICES_AS_OF,
    )


def _chat(
    name: str,
    model_id: str,
    family: str,
    *,
    context: int,
    max_output: int,
    media: frozenset[MediaType],
    caps: Capabilities,
    pricing: Pricing,
    description: str,
    aliases: tuple[str, ...] = (),
    rules: ParameterRules | None = None,
) -> ModelMetadata:
    return ModelMetadata(
        name=name,
        provider=_PROVIDER,
        family=family,
        wire_name=model_id,
        aliases=(model_id, *aliases),
        context_window=context,
        max_output_tokens=max_output,
        input_media=media,
        output_media=_TEXT,
        capabilities=caps,
        parameters=rules or (_RULES_0_1 if caps.reasoning else _NO_REASONING),
        pricing=pricing,
        description=description,
    )


# fmt: off
CHAT_MODELS: tuple[ModelMetadata, ...] = (
    _chat("claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0", "claude",
          context=200_000, max_output=64_000, media=_CLAUDE_IN, caps=_CLAUDE_REASONING,
          pricing=_prices(3.00, 15.00, 0.30, 3.75),
          description="Anthropic Claude Sonnet 4.5 on Bedrock (extended thinking)"),
    _chat("claude-sonnet-4", "anthropic.claude-sonnet-4-20250514-v1:0", "claude",
          context=200_000, max_output=64_000, media=_CLAUDE_IN, caps=_CLAUDE_REASONING,
          pricing=_prices(3.00, 15.00, 0.30, 3.75),
          description="Anthropic Claude Sonnet 4 on Bedrock (extended thinking)"),
    _chat("claude-3-7-sonnet", "anthropic.claude-3-7-sonnet-20250219-v1:0", "claude",
          context=200_000, max_output=64_000, media=_CLAUDE_IN, caps=_CLAUDE_REASONING,
          pricing=_prices(3.00, 15.00, 0.30, 3.75),
          description="Anthropic Claude 3.7 Sonnet on Bedrock (extended thinking)"),
    _chat("claude-haiku-4-5", "anthropic.claude-haiku-4-5-20251001-v1:0", "claude",
          context=200_000, max_output=64_000, media=_CLAUDE_IN, caps=_CLAUDE_REASONING,
          pricing=_prices(1.00, 5.00, 0.10, 1.25),
          description="Anthropic Claude Haiku 4.5 on Bedrock (extended thinking)"),
    _chat("claude-3-5-haiku", "anthropic.claude-3-5-haiku-20241022-v1:0", "claude",
          context=200_000, max_output=8_192, media=_TEXT_DOCS, caps=_CLAUDE.replace(vision=False),
          pricing=_prices(0.80, 4.00, 0.08, 1.00),
          description="Anthropic Claude 3.5 Haiku on Bedrock (text and documents)"),
    _chat("nova-premier", "amazon.nova-premier-v1:0", "nova",
          context=1_000_000, max_output=32_000, media=_NOVA_IN, caps=_NOVA,
          pricing=_prices(2.50, 12.50, 0.625),
          description="Amazon Nova Premier (text, images, documents, video)"),
    _chat("nova-pro", "amazon.nova-pro-v1:0", "nova",
          context=300_000, max_output=10_000, media=_NOVA_IN, caps=_NOVA,
          pricing=_prices(0.80, 3.20, 0.20),
          description="Amazon Nova Pro (text, images, documents, video)"),
    _chat("nova-lite", "amazon.nova-lite-v1:0", "nova",
          context=300_000, max_output=10_000, media=_NOVA_IN, caps=_NOVA,
          pricing=_prices(0.06, 0.24, 0.015),
          description="Amazon Nova Lite (text, images, documents, video)"),
    _chat("nova-micro", "amazon.nova-micro-v1:0", "nova",
          context=128_000, max_output=10_000, media=_TEXT, caps=_TOOLS.replace(parallel_tools=False),
          pricing=_prices(0.035, 0.14, 0.00875),
          description="Amazon Nova Micro (text only)"),
    _chat("llama3-3-70b", "meta.llama3-3-70b-instruct-v1:0", "llama",
          context=128_000, max_output=8_192, media=_TEXT, caps=_TOOLS.replace(parallel_tools=False),
          pricing=_prices(0.72, 0.72),
          description="Meta Llama 3.3 70B Instruct on Bedrock"),
    _chat("mistral-large", "mistral.mistral-large-2407-v1:0", "mistral",
          context=128_000, max_output=8_192, media=_TEXT_DOCS, caps=_TOOLS.replace(pdf=True),
          pricing=_prices(3.00, 9.00),
          description="Mistral Large 2 (24.07) on Bedrock"),
    _chat("command-r-plus", "cohere.command-r-plus-v1:0", "command",
          context=128_000, max_output=4_096, media=_TEXT_DOCS, caps=_TOOLS.replace(pdf=True),
          pricing=_prices(3.00, 15.00),
          description="Cohere Command R+ on Bedrock"),
    _chat("gpt-oss-120b", "openai.gpt-oss-120b-1:0", "gpt-oss",
          context=128_000, max_output=32_768, media=_TEXT, caps=_TOOLS.replace(reasoning=True),
          pricing=_prices(0.15, 0.60), rules=_GPT_OSS_RULES,
          description="OpenAI gpt-oss-120b (open weights) on Bedrock"),
    _chat("gpt-oss-20b", "openai.gpt-oss-20b-1:0", "gpt-oss",
          context=128_000, max_output=32_768, media=_TEXT, caps=_TOOLS.replace(reasoning=True),
          pricing=_prices(0.07, 0.30), rules=_GPT_OSS_RULES,
          description="OpenAI gpt-oss-20b (open weights) on Bedrock"),
)


def _media(
    name: str, model_id: str, family: str, output: MediaType, *, context: int, pricing: Pricing,
    description: str, media: frozenset[MediaType] = _TEXT, max_output: int = 1,
) -> ModelMetadata:
    return ModelMetadata(
        name=name, provider=_PROVIDER, family=family, wire_name=model_id, aliases=(model_id,),
        context_window=context, max_output_tokens=max_output, input_media=media,
        output_media=frozenset({output}), capabilities=_NO_CHAT, pricing=pricing, description=description,
    )


#: embeddings (per 1M input tokens), images (per image: standard quality, 1024x1024) and video
#: (per second of video, 720p), served by the media modules.
MEDIA_MODELS: tuple[ModelMetadata, ...] = (
    _media("titan-embed-text-v2", "amazon.titan-embed-text-v2:0", "titan-embed", "embedding",
           context=8_192, pricing=_prices(0.02, 0.0),
           description="Amazon Titan Text Embeddings V2 (256, 512 or 1024 dimensions)"),
    _media("cohere-embed-english-v3", "cohere.embed-english-v3", "cohere-embed", "embedding",
           context=512, media=frozenset({"text", "image"}), pricing=_prices(0.10, 0.0),
           description="Cohere Embed English v3 on Bedrock"),
    _media("cohere-embed-multilingual-v3", "cohere.embed-multilingual-v3", "cohere-embed", "embedding",
           context=512, media=frozenset({"text", "image"}), pricing=_prices(0.10, 0.0),
           description="Cohere Embed Multilingual v3 on Bedrock"),
    _media("nova-canvas", "amazon.nova-canvas-v1:0", "nova-canvas", "image",
           context=1_024, media=frozenset({"text", "image"}),
           pricing=Pricing(per_image=0.04, as_of=PRICES_AS_OF),
           description="Amazon Nova Canvas image generation and editing"),
    _media("titan-image-generator-v2", "amazon.titan-image-generator-v2:0", "titan-image", "image",
           context=512, media=frozenset({"text", "image"}),
           pricing=Pricing(per_image=0.01, as_of=PRICES_AS_OF),
           description="Amazon Titan Image Generator v2"),
    _media("nova-reel", "amazon.nova-reel-v1:1", "nova-reel", "video",
           context=512, media=frozenset({"text", "image"}),
           pricing=Pricing(per_video_second=0.08, as_of=PRICES_AS_OF),
           description="Amazon Nova Reel video generation (asynchronous job, output to S3)"),
)
# fmt: on

#: every catalogue row of the ``bedrock`` provider.
BEDROCK_MODELS: tuple[ModelMetadata, ...] = CHAT_MODELS + MEDIA_MODELS

#: the model ids Bedrock serves on demand only through a cross-region inference profile (an
#: endpoint sends them with its geography's prefix, ``us.`` …, unless ``cross_region=False``).
PROFILE_ONLY: frozenset[str] = frozenset(
    {
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "amazon.nova-premier-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
    }
)

#: the template of a Bedrock model id outside the catalogue (``bedrock/<model id or ARN>``):
#: sent as given, no price; the limits are generous and Bedrock enforces the real ones.
BEDROCK_GENERIC = ModelMetadata(
    name="*",
    provider=_PROVIDER,
    family="bedrock",
    context_window=200_000,
    max_output_tokens=32_768,
    input_media=frozenset({"text", "image", "pdf"}),
    capabilities=Capabilities(tools=True, parallel_tools=True, vision=True, pdf=True),
    parameters=_RULES_0_1,
    description="a Bedrock model id, inference profile or ARN outside the catalogue",
)
