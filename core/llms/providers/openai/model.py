"""``OpenAIModel``: the class OpenAI's and Azure OpenAI's models are made from.

It adds to the Chat Completions model (:class:`~..dialects.openai_chat.model.OpenAIChatModel`)
what these two providers serve beyond chat: the Responses API (chosen by the model's
``metadata.api`` or per call with ``api="responses"``), images, speech, transcription and
translation, video and embeddings. Each media method checks that the model produces that
output, then hands over to its module under :mod:`.media` — imported on first use, so a program
that only chats never loads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any, ClassVar, Literal

from ...interfaces.context import RequestContext
from ...interfaces.errors import InvalidInputError, UnsupportedOperationError
from ...interfaces.messages import MessagesInput
from ...interfaces.types import LLMResponse, LLMStreamChunk
from ..base.implementation import _FailingStream, failed_call
from ..dialects.openai_chat.model import OpenAIChatModel

__all__ = ["APIS", "OpenAIModel"]

Api = Literal["chat", "responses"]
#: the APIs a model of these providers can be called through (``api=``).
APIS: tuple[Api, ...] = ("chat", "responses")


def _check_api(api: Any, where: str) -> Api:
    if api not in APIS:
        raise InvalidInputError(f"{where} must be 'chat' or 'responses', not {api!r}")
    return api  # type: ignore[no-any-return]


_MEDIA = "core.llms.providers.openai.media"


class OpenAIModel(OpenAIChatModel):
    """An OpenAI or Azure OpenAI model: chat (Chat Completions or the Responses API) and, by its
    ``output_media``, ``get_image`` / ``stream_image``, ``get_audio`` / ``stream_audio``,
    ``transcribe`` / ``translate``, ``get_video`` / ``stream_video`` and ``embed`` (each served
    by its module under :mod:`.media`, see ``media_functions``).

    ``api="responses"`` (a call parameter, or in ``defaults``) sends a chat call through the
    Responses API; ``api="chat"`` through Chat Completions. Without it, the model's
    ``metadata.api`` decides (Chat Completions when empty).
    """

    media_functions: ClassVar[Mapping[str, str]] = {
        "get_image": f"{_MEDIA}.images:generate_image",
        "stream_image": f"{_MEDIA}.images:stream_image",
        "get_audio": f"{_MEDIA}.speech:speak",
        "stream_audio": f"{_MEDIA}.speech:stream_speech",
        "transcribe": f"{_MEDIA}.transcription:transcribe",
        "translate": f"{_MEDIA}.transcription:translate",
        "get_video": f"{_MEDIA}.video:generate_video",
        "stream_video": f"{_MEDIA}.video:stream_video",
        "embed": f"{_MEDIA}.embeddings:embed",
    }

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
            exc.fill(provider=self.provider, model=self.name)
            return failed_call(exc)
        if not responses:
            return OpenAIChatModel.get_answer(self, messages, ctx, **params)
        from ..dialects.openai_responses.calls import responses_answer

        return self._observe_call(ctx, responses_answer(self, messages, ctx, params), messages, params)

    def batch_request(self, messages: MessagesInput, params: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
        """The Chat Completions body of one Batch API line (see the dialect's ``batch_request``);
        a call that would go through the Responses API (``api="responses"``, or the model's
        default) raises :class:`UnsupportedOperationError`: batches are sent as Chat Completions."""
        if self._api != "chat" or "api" in params:
            params = dict(params)
            try:
                responses = self._responses_wanted(params)
            except InvalidInputError as exc:
                exc.fill(provider=self.provider, model=self.name)
                raise
            if responses:
                raise UnsupportedOperationError(
                    f"{self.name}: a batch is sent through Chat Completions, not the Responses API",
                    provider=self.provider,
                    model=self.name,
                    hint="pass api='chat' with each batch request (or drop api='responses')",
                )
        return super().batch_request(messages, params)

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

        return self._observe_stream(ctx, open_stream, messages, params)
