"""The Gemini API's and Vertex AI's media rows: Imagen (images), Gemini TTS (speech), Veo (video)
and embeddings, served by :mod:`.media` (``GeminiModel.media_functions``). Prices per image, per
second of video, or per 1M tokens / characters, as Google publishes them."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...interfaces.metadata import Capabilities, MediaType, ModelMetadata, Pricing

__all__ = ["GEMINI_MEDIA_MODELS", "ROWS", "VERTEX_MEDIA_MODELS", "VERTEX_ONLY_ROWS", "VERTEX_PRICES"]

PRICES_AS_OF = date(2026, 12, 5)
_NO_CHAT = Capabilities(streaming=False, system_prompt=False)
_TEXT: frozenset[MediaType] = frozenset({"text"})


def _row(
    name: str,
    family: str,
    window: int,
    output: MediaType,
    pricing: Pricing,
    inputs: frozenset[Any] = _TEXT,
    provider: str = "gemini",
    **kw: Any,
) -> ModelMetadata:
    return ModelMetadata(
        name=name,
        provider=provider,
        family=family,
        context_window=window,
        max_output_tokens=kw.pop("max_output_tokens", 1),
        input_media=inputs,
        output_media=frozenset({output}),
        capabilities=kw.pop("capabilities", _NO_CHAT),
        pricing=pricing,
        **kw,
    )


def _per(**prices: float) -> Pricing:
    return Pricing(as_of=PRICES_AS_OF, **prices)


# fmt: off
#: the Gemini API's media rows (Vertex AI: the same with provider="vertex", plus VERTEX_ONLY_ROWS).
ROWS: dict[str, ModelMetadata] = {
    m.name: m
    for m in (
        _row("imagen-4.0-generate-001", "imagen-4", 480, "image", _per(per_image=0.04),
             description="Google Imagen 4 image generation"),
        _row("imagen-4.0-fast-generate-001", "imagen-4", 480, "image", _per(per_image=0.02),
             description="Google Imagen 4 Fast image generation"),
        _row("imagen-4.0-ultra-generate-001", "imagen-4", 480, "image", _per(per_image=0.06),
             description="Google Imagen 4 Ultra image generation (one image a request)"),
        _row("imagen-3.0-generate-002", "imagen-3", 480, "image", _per(per_image=0.03),
             description="Google Imagen 3 image generation"),
        _row("gemini-2.5-flash-preview-tts", "gemini-2.5-tts", 8_192, "audio",
             _per(input_per_1m=0.50, output_per_1m=10.00), max_output_tokens=16_384,
             capabilities=Capabilities(system_prompt=False),
             description="Google Gemini 2.5 Flash text to speech (30 voices, two-speaker dialogue)"),
        _row("gemini-2.5-pro-preview-tts", "gemini-2.5-tts", 8_192, "audio",
             _per(input_per_1m=1.00, output_per_1m=20.00), max_output_tokens=16_384,
             capabilities=Capabilities(system_prompt=False),
             description="Google Gemini 2.5 Pro text to speech (30 voices, two-speaker dialogue)"),
        _row("veo-3.0-generate-001", "veo-3", 1_024, "video", _per(per_video_second=0.40),
             inputs=frozenset({"text", "image"}), description="Google Veo 3 video generation (with audio)"),
        _row("veo-3.0-fast-generate-001", "veo-3", 1_024, "video", _per(per_video_second=0.15),
             inputs=frozenset({"text", "image"}), description="Google Veo 3 Fast video generation"),
        _row("veo-2.0-generate-001", "veo-2", 1_024, "video", _per(per_video_second=0.35),
             inputs=frozenset({"text", "image"}), description="Google Veo 2 video generation"),
        _row("gemini-embedding-001", "gemini-embedding", 2_048, "embedding", _per(input_per_1m=0.15),
             description="Google gemini-embedding-001 (3072 dimensions)"),
    )
}
#: Vertex AI's own prices where they differ, and its text embedding models.
VERTEX_PRICES: dict[str, Pricing] = {
    "imagen-3.0-generate-002": _per(per_image=0.04),
    "veo-2.0-generate-001": _per(per_video_second=0.50),
}
VERTEX_ONLY_ROWS: dict[str, ModelMetadata] = {
    m.name: m
    for m in (
        _row("text-embedding-005", "text-embedding", 2_048, "embedding", _per(per_1m_characters=0.025),
             provider="vertex", description="Google text-embedding-005 (768 dimensions)"),
        _row("text-multilingual-embedding-002", "text-embedding", 2_048, "embedding",
             _per(per_1m_characters=0.025), provider="vertex",
             description="Google text-multilingual-embedding-002 (768 dimensions)"),
    )
}
# fmt: on


#: the Gemini API's media rows.
GEMINI_MEDIA_MODELS: tuple[ModelMetadata, ...] = tuple(ROWS.values())
#: Vertex AI's: the same models at its prices, and its own text embedding models.
VERTEX_MEDIA_MODELS: tuple[ModelMetadata, ...] = (
    *(m.replace(provider="vertex", pricing=VERTEX_PRICES.get(m.name, m.pricing)) for m in ROWS.values()),
    *VERTEX_ONLY_ROWS.values(),
)
