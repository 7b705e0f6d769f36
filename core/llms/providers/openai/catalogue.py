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
    ("o3-mini",      "o-series", "o3-mini-2025-01-31",      200_000,   100_000, (1.10, 0.55, 4.40)),
    ("gpt-5",        "gpt-5",    "gpt-5-2025-08-07",        400_000,   128_000, (1.25, 0.125, 10.00)),
    ("gpt-5-mini",   "gpt-5",    "gpt-5-mini-2025-08-07",   400_000,   128_000, (0.25, 0.025, 2.00)),
    ("gpt-5-nano",   "gpt-5",    "gpt-5-nano-2025-08-07",   400_000,   128_000, (0.05, 0.005, 0.40)),
)
# fmt: on


#: chat models that read text only (no images or files).
_TEXT_ONLY = frozenset({"o3-mini"})


def _metadata(row: _Row) -> ModelMetadata:
    name, family, snapshot, context, max_output, (input_price, cached_price, output_price) = row
    rules = _RULES_BY_FAMILY[family]
    text_only = name in _TEXT_ONLY
    caps = _CHAT if rules is None else _REASONING
    return ModelMetadata(
        name=name,
        provider="openai",
        family=family,
        aliases=(snapshot,),
        context_window=context,
        max_output_tokens=max_output,
        input_media=frozenset({"text"}) if text_only else _MEDIA_IN,
        output_media=frozenset({"text"}),
        capabilities=caps.replace(vision=False, pdf=False) if text_only else caps,
        parameters=rules or ParameterRules(),
        pricing=Pricing(
            input_per_1m=input_price,
            cached_input_per_1m=cached_price,
            output_per_1m=output_price,
            as_of=PRICES_AS_OF,
        ),
        description=f"OpenAI {name}" + ("" if rules is None else " (reasoning model)"),
    )


def _priced(**prices: float) -> Pricing:
    return Pricing(as_of=PRICES_AS_OF, **prices)


# fmt: off
_TEXT: frozenset[MediaType] = frozenset({"text"})
_NO_CHAT = Capabilities(streaming=False, system_prompt=False)
#: the models that make images, speech, transcripts, video and embeddings. Prices: per image
#: (dall-e-3: standard 1024x1024; the images module scales by size and quality), per 1M input
#: characters (tts-1*), per second of audio or video, or per 1M tokens where the model reports
#: usage (gpt-image-1, gpt-4o-mini-tts, gpt-4o-transcribe, embeddings).
_MEDIA_MODELS: tuple[ModelMetadata, ...] = (
    ModelMetadata(
        name="gpt-4o-audio-preview", provider="openai", family="gpt-4o-audio",
        aliases=("gpt-4o-audio-preview-2024-12-17",), context_window=128_000, max_output_tokens=16_384,
        input_media=frozenset({"text", "audio"}),
        capabilities=_CHAT.replace(vision=False, pdf=False, audio_in=True),
        pricing=_priced(input_per_1m=2.50, output_per_1m=10.00),
        description="OpenAI gpt-4o-audio-preview: chat with audio input",
    ),
    ModelMetadata(
        name="dall-e-3", provider="openai", family="dall-e", context_window=4_000, max_output_tokens=1,
        input_media=_TEXT, output_media=frozenset({"image"}), capabilities=_NO_CHAT,
        pricing=_priced(per_image=0.04), description="OpenAI DALL-E 3 image generation",
    ),
    ModelMetadata(
        name="gpt-image-1", provider="openai", family="gpt-image", context_window=32_000, max_output_tokens=1,
        input_media=frozenset({"text", "image"}), output_media=frozenset({"image"}), capabilities=_NO_CHAT,
        pricing=_priced(input_per_1m=5.00, cached_input_per_1m=1.25, output_per_1m=40.00),
        description="OpenAI GPT Image 1: generation, edits, partial images while streaming",
    ),
    ModelMetadata(
        name="tts-1", provider="openai", family="tts", context_window=4_096, max_output_tokens=1,
        input_media=_TEXT, output_media=frozenset({"audio"}), capabilities=_NO_CHAT,
        pricing=_priced(per_1m_characters=15.00), description="OpenAI TTS-1 text to speech",
    ),
    ModelMetadata(
        name="tts-1-hd", provider="openai", family="tts", context_window=4_096, max_output_tokens=1,
        input_media=_TEXT, output_media=frozenset({"audio"}), capabilities=_NO_CHAT,
        pricing=_priced(per_1m_characters=30.00), description="OpenAI TTS-1 HD text to speech",
    ),
    ModelMetadata(
        name="gpt-4o-mini-tts", provider="openai", family="gpt-4o-tts", context_window=2_000,
        max_output_tokens=1,
        input_media=_TEXT, output_media=frozenset({"audio"}), capabilities=_NO_CHAT,
        pricing=_priced(input_per_1m=0.60, output_per_1m=12.00),
        description="OpenAI gpt-4o-mini-tts: steerable text to speech (instructions)",
    ),
    ModelMetadata(
        name="whisper-1", provider="openai", family="whisper", context_window=1, max_output_tokens=1,
        input_media=frozenset({"audio"}), output_media=frozenset({"transcription"}), capabilities=_NO_CHAT,
        pricing=_priced(per_audio_second=0.0001), description="OpenAI Whisper: transcription and translation",
    ),
    ModelMetadata(
        name="gpt-4o-transcribe", provider="openai", family="gpt-4o-transcribe", context_window=16_000,
        max_output_tokens=2_000, input_media=frozenset({"audio"}), output_media=frozenset({"transcription"}),
        capabilities=_NO_CHAT, pricing=_priced(input_per_1m=6.00, output_per_1m=10.00),
        description="OpenAI gpt-4o-transcribe speech to text",
    ),
    ModelMetadata(
        name="gpt-4o-mini-transcribe", provider="openai", family="gpt-4o-transcribe", context_window=16_000,
        max_output_tokens=2_000, input_media=frozenset({"audio"}), output_media=frozenset({"transcription"}),
        capabilities=_NO_CHAT, pricing=_priced(input_per_1m=3.00, output_per_1m=5.00),
        description="OpenAI gpt-4o-mini-transcribe speech to text",
    ),
    ModelMetadata(
        name="sora-2", provider="openai", family="sora", context_window=10_000, max_output_tokens=1,
        input_media=frozenset({"text", "image"}), output_media=frozenset({"video"}), capabilities=_NO_CHAT,
        pricing=_priced(per_video_second=0.10), description="OpenAI Sora 2 video generation (720p)",
    ),
    ModelMetadata(
        name="sora-2-pro", provider="openai", family="sora", context_window=10_000, max_output_tokens=1,
        input_media=frozenset({"text", "image"}), output_media=frozenset({"video"}), capabilities=_NO_CHAT,
        pricing=_priced(per_video_second=0.30), description="OpenAI Sora 2 Pro video generation (720p price)",
    ),
    ModelMetadata(
        name="text-embedding-3-small", provider="openai", family="text-embedding-3", context_window=8_191,
        max_output_tokens=1, input_media=_TEXT, output_media=frozenset({"embedding"}), capabilities=_NO_CHAT,
        pricing=_priced(input_per_1m=0.02), description="OpenAI text-embedding-3-small (1536 dimensions)",
    ),
    ModelMetadata(
        name="text-embedding-3-large", provider="openai", family="text-embedding-3", context_window=8_191,
        max_output_tokens=1, input_media=_TEXT, output_media=frozenset({"embedding"}), capabilities=_NO_CHAT,
        pricing=_priced(input_per_1m=0.13), description="OpenAI text-embedding-3-large (3072 dimensions)",
    ),
    ModelMetadata(
        name="text-embedding-ada-002", provider="openai", family="text-embedding-ada", context_window=8_191,
        max_output_tokens=1, input_media=_TEXT, output_media=frozenset({"embedding"}), capabilities=_NO_CHAT,
        pricing=_priced(input_per_1m=0.10), description="OpenAI text-embedding-ada-002 (1536 dimensions)",
    ),
)
# fmt: on

OPENAI_CATALOGUE: dict[str, ModelMetadata] = {
    **{row[0]: _metadata(row) for row in _ROWS},
    **{meta.name: meta for meta in _MEDIA_MODELS},
}
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
