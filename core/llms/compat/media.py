"""LiteLLM's media calls — ``embedding``, ``image_generation``, ``speech``, ``transcription``
and their ``a``-prefixed async forms — on the core models' ``embed``, ``get_image``,
``get_audio`` and ``transcribe``.

Endpoint keywords (``api_key``, ``api_base``, ``api_version``, ``num_retries``,
``extra_headers`` …) choose the model object as for chat; ``timeout`` bounds the call;
``metadata`` labels it; every other keyword is a parameter of the media call, checked by the
model (:class:`~.exceptions.UnsupportedParamsError` names one it does not take).
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from ..interfaces.context import RequestContext
from ..interfaces.errors import InvalidInputError, LLMError
from ..interfaces.messages import AudioPart
from . import calls
from .build import usage_of
from .exceptions import UnsupportedParamsError, raise_compat
from .objects import (
    Embedding,
    EmbeddingResponse,
    ImageObject,
    ImageResponse,
    SpeechResponse,
    TranscriptionResponse,
    Usage,
)

__all__ = [
    "aembedding",
    "aimage_generation",
    "aspeech",
    "atranscription",
    "embedding",
    "image_generation",
    "speech",
    "transcription",
]

T = TypeVar("T")
Work = Callable[[calls.Target, dict[str, Any], RequestContext | None], Awaitable[T]]

#: LiteLLM's default image model is dall-e-2, which the catalogue does not have.
DEFAULT_IMAGE_MODEL = "dall-e-3"


async def _run(state: calls.State, model: Any, kwargs: dict[str, Any], work: Work[T]) -> T:
    try:
        calls._check_module_settings()
        endpoint, rest = calls.endpoint_kwargs(kwargs)
        params: dict[str, Any] = {}
        labels: dict[str, str] | None = None
        for key, value in rest.items():
            if key in calls.UNSUPPORTED_FEATURES:
                if value is not None and value is not False:
                    raise UnsupportedParamsError(f"{key}= is not supported by core.llms.compat")
            elif value is None:
                continue
            elif key in ("timeout", "request_timeout"):
                params["timeout"] = value
            elif key in ("metadata", "tags"):
                labels = calls._labels(labels, key, value)
            else:
                params[key] = value
        found = calls.target(state, model, endpoint, False)
        ctx = RequestContext(labels=labels) if labels else None
        return await work(found, params, ctx)
    except LLMError as exc:
        raise_compat(exc)


def _blocking(model: Any, kwargs: dict[str, Any], work: Work[T]) -> T:
    result: T = calls.blocking_run(lambda state: _run(state, model, kwargs, work))
    return result


def _hidden(target: calls.Target, cost: float | None, endpoint: str | None) -> dict[str, Any]:
    return {
        "response_cost": cost,
        "model": target.qualified,
        "custom_llm_provider": target.provider,
        "api_base": endpoint,
    }


# -- embeddings ----------------------------------------------------------------------------------


def _embed(input: Any) -> Work[EmbeddingResponse]:
    async def work(
        target: calls.Target, params: dict[str, Any], ctx: RequestContext | None
    ) -> EmbeddingResponse:
        fmt = params.pop("encoding_format", None)
        if fmt not in (None, "float", "base64"):
            raise InvalidInputError(f"encoding_format must be 'float' or 'base64', not {fmt!r:.40}")
        result = await target.llm.embed(input, ctx, **params)
        data = [
            Embedding(_base64(vector) if fmt == "base64" else vector, i)
            for i, vector in enumerate(result.vectors)
        ]
        tokens = result.usage.input_tokens if result.usage is not None else 0
        response = EmbeddingResponse(data, result.model, "list", Usage(tokens, 0, tokens))
        response._hidden_params = _hidden(target, result.cost, result.endpoint)
        return response

    return work


def _base64(vector: Sequence[float]) -> str:
    """A vector as OpenAI's base64 encoding (little-endian float32)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


async def aembedding(model: str, input: Any = None, **kwargs: Any) -> EmbeddingResponse:
    """LiteLLM's ``aembedding``: ``input`` (a string or a list of strings) as vectors.
    ``encoding_format="base64"`` gives OpenAI's base64 float32 strings; ``dimensions``, ``user``
    and the provider's own options (Cohere's ``input_type`` …) are passed on."""
    return await _run(calls.async_state(), model, kwargs, _embed(input))


def embedding(model: str, input: Any = None, **kwargs: Any) -> EmbeddingResponse:
    """LiteLLM's ``embedding``: :func:`aembedding`, blocking."""
    return _blocking(model, kwargs, _embed(input))


# -- images --------------------------------------------------------------------------------------


def _image(prompt: Any) -> Work[ImageResponse]:
    async def work(target: calls.Target, params: dict[str, Any], ctx: RequestContext | None) -> ImageResponse:
        result = await target.llm.get_image(prompt, ctx, **params)
        data = [
            ImageObject(
                base64.b64encode(image.data).decode() if image.data is not None else None,
                image.revised_prompt,
                image.url,
            )
            for image in result.images
        ]
        response = ImageResponse(None, data, usage_of(result.usage) if result.usage is not None else None)
        response._hidden_params = _hidden(target, result.cost, result.endpoint)
        return response

    return work


async def aimage_generation(prompt: str, model: str | None = None, **kwargs: Any) -> ImageResponse:
    """LiteLLM's ``aimage_generation``: images from ``prompt`` (``n``, ``size``, ``quality``,
    ``style``, ``response_format`` ``"url"`` / ``"b64_json"`` …). Without ``model``,
    ``dall-e-3`` (LiteLLM's default, dall-e-2, is not in the catalogue)."""
    return await _run(calls.async_state(), model or DEFAULT_IMAGE_MODEL, kwargs, _image(prompt))


def image_generation(prompt: str, model: str | None = None, **kwargs: Any) -> ImageResponse:
    """LiteLLM's ``image_generation``: :func:`aimage_generation`, blocking."""
    return _blocking(model or DEFAULT_IMAGE_MODEL, kwargs, _image(prompt))


# -- speech --------------------------------------------------------------------------------------


def _speak(text: Any, voice: Any) -> Work[SpeechResponse]:
    async def work(
        target: calls.Target, params: dict[str, Any], ctx: RequestContext | None
    ) -> SpeechResponse:
        if voice is not None:
            params["voice"] = voice
        result = await target.llm.get_audio(text, ctx, **params)
        response = SpeechResponse(result.data, result.media_type)
        response._hidden_params = _hidden(target, result.cost, result.endpoint)
        return response

    return work


async def aspeech(model: str, input: Any = None, voice: Any = None, **kwargs: Any) -> SpeechResponse:
    """LiteLLM's ``aspeech``: ``input`` spoken (``voice``, ``response_format``, ``speed``,
    ``instructions``); the audio is ``.content`` of the result, which also has the OpenAI
    SDK's ``write_to_file`` / ``stream_to_file``."""
    return await _run(calls.async_state(), model, kwargs, _speak(input, voice))


def speech(model: str, input: Any = None, voice: Any = None, **kwargs: Any) -> SpeechResponse:
    """LiteLLM's ``speech``: :func:`aspeech`, blocking."""
    return _blocking(model, kwargs, _speak(input, voice))


# -- transcription -------------------------------------------------------------------------------


def _audio_input(file: Any) -> Any:
    """LiteLLM's ``file`` (bytes, a path, an open binary file, or ``(filename, bytes)``) as what
    ``transcribe`` takes: bytes, a path or an :class:`AudioPart` (the format from the name)."""
    name: str | None = None
    data: Any = file
    if isinstance(file, tuple) and len(file) >= 2:
        name, data = file[0], file[1]
    elif hasattr(file, "read"):
        name = getattr(file, "name", None)
        data = file.read()
    if isinstance(data, str | os.PathLike) and not isinstance(file, tuple):
        return data
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise InvalidInputError(
            f"file must be bytes, a path, an open binary file or (filename, bytes), not {type(file).__name__}"
        )
    ext = os.path.splitext(str(name))[1].lstrip(".").lower() if isinstance(name, str | os.PathLike) else ""
    return AudioPart(data, ext) if ext else data


def _transcribe(file: Any) -> Work[TranscriptionResponse]:
    async def work(
        target: calls.Target, params: dict[str, Any], ctx: RequestContext | None
    ) -> TranscriptionResponse:
        granularities = params.pop("timestamp_granularities", None)
        if granularities is not None:
            params["timestamps"] = (
                list(granularities) if not isinstance(granularities, str) else granularities
            )
        result = await target.llm.transcribe(_audio_input(file), ctx, **params)
        verbose = params.get("response_format") == "verbose_json" or granularities is not None
        response = TranscriptionResponse(result.text)
        if verbose:
            response.task = "transcribe"
            response.language = result.language
            response.duration = result.duration_seconds
            response.segments = [
                {"id": s.id, "start": s.start, "end": s.end, "text": s.text} for s in result.segments
            ]
            response.words = [{"word": w.word, "start": w.start, "end": w.end} for w in result.words] or None
        response._hidden_params = _hidden(target, result.cost, result.endpoint)
        return response

    return work


async def atranscription(model: str, file: Any = None, **kwargs: Any) -> TranscriptionResponse:
    """LiteLLM's ``atranscription``: ``file`` turned into text (``language``, ``prompt``,
    ``temperature``, ``response_format``, ``timestamp_granularities``); with
    ``response_format="verbose_json"`` the result also has ``language``, ``duration``,
    ``segments`` and ``words``."""
    return await _run(calls.async_state(), model, kwargs, _transcribe(file))


def transcription(model: str, file: Any = None, **kwargs: Any) -> TranscriptionResponse:
    """LiteLLM's ``transcription``: :func:`atranscription`, blocking."""
    return _blocking(model, kwargs, _transcribe(file))
