"""``OpenAIModel``: the class OpenAI's and Azure OpenAI's models are made from.

It adds to the Chat Completions model (:class:`~..dialects.openai_chat.model.OpenAIChatModel`)
what these two providers serve beyond chat: the Responses API (chosen by the model's
``metadata.api`` or per call with ``api="responses"``), images, speech, transcription and
translation, video and embeddings. Each media method checks that the model produces that
output, then hands over to its module under :mod:`.media` — imported on first use, so a program
that only chats never loads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ...interfaces.context import RequestContext
from ...interfaces.errors import InvalidInputError
from ...interfaces.messages import MessagesInput
from ...interfaces.metadata import MediaType
from ...interfaces.types import LLMResponse, LLMStreamChunk
from ..base.implementation import _FailingStream
from ..dialects.openai_chat.model import OpenAIChatModel

if TYPE_CHECKING:
    from ...interfaces.media import (
        EmbeddingResponse,
        LLMAudioChunk,
        LLMAudioResponse,
        LLMImageChunk,
        LLMImageResponse,
        LLMVideoChunk,
        LLMVideoResponse,
        Transcription,
    )

__all__ = ["APIS", "OpenAIModel"]

Api = Literal["chat", "responses"]
#: the APIs a model of these providers can be called through (``api=``).
APIS: tuple[Api, ...] = ("chat", "responses")


def _check_api(api: Any, where: str) -> Api:
    if api not in APIS:
        raise InvalidInputError(f"{where} must be 'chat' or 'responses', not {api!r}")
    return api  # type: ignore[no-any-return]


class OpenAIModel(OpenAIChatModel):
    """An OpenAI or Azure OpenAI model: chat (Chat Completions or the Responses API) and, by its
    ``output_media``, ``get_image`` / ``stream_image``, ``get_audio`` / ``stream_audio``,
    ``transcribe`` / ``translate``, ``get_video`` / ``stream_video`` and ``embed``.

    ``api="responses"`` (a call parameter, or in ``defaults``) sends a chat call through the
    Responses API; ``api="chat"`` through Chat Completions. Without it, the model's
    ``metadata.api`` decides (Chat Completions when empty).
    """

    def __init__(self, *args: Any, defaults: Any = None, **kwargs: Any) -> None:
        defaults = dict(defaults or {})
        api = defaults.pop("api", None)
        self._api: Api = _check_api(api if api is not None else (self.metadata.api or "chat"), "api")
        #: defaults only the Responses API takes (``reasoning_summary``, ``include`` …).
        self._responses_defaults: dict[str, Any] = self._take_responses_defaults(defaults)
        super().__init__(*args, defaults=defaults, **kwargs)

    def _take_responses_defaults(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """Take the Responses-only parameters out of ``defaults`` (checked); refused unless
        the model's calls go through the Responses API (a chat call would lose them)."""
        if "max_output_tokens" in defaults:  # the Responses API's name for max_tokens
            if "max_tokens" in defaults or "max_completion_tokens" in defaults:
                raise InvalidInputError("pass only one of 'max_output_tokens' and 'max_tokens' in defaults")
            defaults["max_tokens"] = defaults.pop("max_output_tokens")
        known = self._known_parameters | set(self.parameter_aliases)
        if all(name in known for name in defaults):
            return {}  # (the usual case: the Responses dialect is not even imported)
        from ..dialects.openai_responses.parameters import RESPONSES_ONLY_PARAMETERS, check_own_parameter

        own = {k: defaults.pop(k) for k in list(defaults) if k in RESPONSES_ONLY_PARAMETERS}
        if own and self._api != "responses":
            raise InvalidInputError(
                f"defaults {sorted(own)} only apply to the Responses API, and {self.name} is called "
                "through Chat Completions",
                hint="add api='responses' to the defaults, or pass these parameters per call",
            )
        for name, value in own.items():
            if value is not None:
                check_own_parameter(name, value)
        return {k: v for k, v in own.items() if v is not None}

    def _check_defaults(self) -> None:
        if self.metadata.supports_output("text"):
            super()._check_defaults()
        # a media model's defaults are checked by its media call, against that call's parameters

    # -- chat: Chat Completions or the Responses API ---------------------------------------------

    def _responses_wanted(self, params: dict[str, Any]) -> bool:
        """Does this call go through the Responses API? (Takes ``api`` out of ``params``.)"""
        api = params.pop("api", None)
        if api is None:
            return self._api == "responses"
        return _check_api(api, "api=") == "responses"

    def get_answer(  # returns the coroutine: no extra await layer
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> Coroutine[Any, Any, LLMResponse]:
        """Send ``messages`` and return the whole answer (``api=`` chooses the API)."""
        if self._api == "chat" and (not params or "api" not in params):
            return OpenAIChatModel.get_answer(self, messages, ctx, **params)
        try:
            responses = self._responses_wanted(params)
        except InvalidInputError as exc:
            return self._media_call(ctx, _raise(exc))
        if not responses:
            return OpenAIChatModel.get_answer(self, messages, ctx, **params)
        from ..dialects.openai_responses.calls import responses_answer

        return self._observe_call(ctx, responses_answer(self, messages, ctx, params))

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced (``api=`` chooses the API)."""
        if self._api == "chat" and (not params or "api" not in params):
            return OpenAIChatModel.stream_answer(self, messages, ctx, **params)
        try:
            responses = self._responses_wanted(params)
        except InvalidInputError as exc:
            exc.fill(provider=self.provider, model=self.name)
            return _FailingStream(exc)
        if not responses:
            return OpenAIChatModel.stream_answer(self, messages, ctx, **params)

        def open_stream() -> AsyncIterator[LLMStreamChunk]:
            from ..dialects.openai_responses.calls import responses_stream

            return responses_stream(self, messages, ctx, params)

        return self._observe_stream(ctx, open_stream)

    # -- media --------------------------------------------------------------------------------

    def _produces(self, media: MediaType, method: str) -> None:
        if not self.metadata.supports_output(media):
            raise self._unsupported_output(media, method)

    async def get_image(
        self, prompt: str, ctx: RequestContext | None = None, **params: Any
    ) -> LLMImageResponse:
        """Generate images from ``prompt`` (dall-e-3, gpt-image-1): see :mod:`.media.images`."""
        self._produces("image", "get_image")
        from .media.images import generate_image

        return await self._media_call(ctx, generate_image(self, prompt, ctx, params))

    def stream_image(
        self, prompt: str, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMImageChunk]:
        """Generate an image, yielding partial images as they are refined (gpt-image-1)."""

        def open_stream() -> AsyncIterator[LLMImageChunk]:
            self._produces("image", "stream_image")
            from .media.images import stream_image

            return stream_image(self, prompt, ctx, params)

        return self._media_stream(ctx, open_stream)

    async def get_audio(
        self, text: str, ctx: RequestContext | None = None, **params: Any
    ) -> LLMAudioResponse:
        """Speak ``text`` (tts-1, tts-1-hd, gpt-4o-mini-tts): see :mod:`.media.speech`."""
        self._produces("audio", "get_audio")
        from .media.speech import speak

        return await self._media_call(ctx, speak(self, text, ctx, params))

    def stream_audio(
        self, text: str, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMAudioChunk]:
        """Speak ``text``, yielding audio bytes as they arrive (playable as they come)."""

        def open_stream() -> AsyncIterator[LLMAudioChunk]:
            self._produces("audio", "stream_audio")
            from .media.speech import stream_speech

            return stream_speech(self, text, ctx, params)

        return self._media_stream(ctx, open_stream)

    async def transcribe(self, audio: Any, ctx: RequestContext | None = None, **params: Any) -> Transcription:
        """Speech to text (whisper-1, gpt-4o-transcribe): see :mod:`.media.transcription`."""
        self._produces("transcription", "transcribe")
        from .media.transcription import transcribe

        return await self._media_call(ctx, transcribe(self, audio, ctx, params, translate=False))

    async def translate(self, audio: Any, ctx: RequestContext | None = None, **params: Any) -> Transcription:
        """Speech in any language to English text (whisper-1)."""
        self._produces("transcription", "translate")
        from .media.transcription import transcribe

        return await self._media_call(ctx, transcribe(self, audio, ctx, params, translate=True))

    async def get_video(
        self, prompt: str, ctx: RequestContext | None = None, **params: Any
    ) -> LLMVideoResponse:
        """Generate a video (sora-2): create the job, poll it, download it. See :mod:`.media.video`."""
        self._produces("video", "get_video")
        from .media.video import generate_video

        return await self._media_call(ctx, generate_video(self, prompt, ctx, params))

    def stream_video(
        self, prompt: str, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMVideoChunk]:
        """Generate a video, yielding the job's progress; the final chunk carries the video."""

        def open_stream() -> AsyncIterator[LLMVideoChunk]:
            self._produces("video", "stream_video")
            from .media.video import stream_video

            return stream_video(self, prompt, ctx, params)

        return self._media_stream(ctx, open_stream)

    async def embed(
        self, texts: str | Sequence[str], ctx: RequestContext | None = None, **params: Any
    ) -> EmbeddingResponse:
        """Embed ``texts`` (text-embedding-3-small/-large, ada-002): see :mod:`.media.embeddings`."""
        self._produces("embedding", "embed")
        from .media.embeddings import embed

        return await self._media_call(ctx, embed(self, texts, ctx, params))


async def _raise(error: Exception) -> Any:
    raise error
