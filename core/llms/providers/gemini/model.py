"""``GeminiModel``: the class the Gemini API's and Vertex AI's models are made from: chat
(:class:`~..dialects.gemini.model.GeminiChatModel`) and, by a row's ``output_media``, Imagen
images, Gemini TTS speech, Veo video and embeddings (:mod:`.media`, imported on first use)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..dialects.gemini.model import GeminiChatModel

__all__ = ["GeminiModel"]

_MEDIA = "core.llms.providers.gemini.media"


class GeminiModel(GeminiChatModel):
    """A Gemini model on the Gemini API (``gemini/``) or Vertex AI (``vertex/``)."""

    media_functions: ClassVar[Mapping[str, str]] = {
        "get_image": f"{_MEDIA}.images:generate_image",
        "get_audio": f"{_MEDIA}.speech:speak",
        "stream_audio": f"{_MEDIA}.speech:stream_speech",
        "get_video": f"{_MEDIA}.video:generate_video",
        "stream_video": f"{_MEDIA}.video:stream_video",
        "embed": f"{_MEDIA}.embeddings:embed",
    }
