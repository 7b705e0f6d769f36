"""The class of Bedrock's catalogue rows: :class:`BedrockModel`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any, ClassVar

from ...interfaces.context import RequestContext
from ...interfaces.errors import InvalidInputError, UnsupportedOperationError
from ...interfaces.messages import MessagesInput
from ...interfaces.types import LLMResponse, LLMStreamChunk
from ..base.implementation import _FailingStream, failed_call
from ..dialects.bedrock_converse.model import BedrockConverseModel

__all__ = ["BEDROCK_APIS", "BedrockModel"]

_MEDIA = "core.llms.providers.bedrock.media"
#: the APIs a Bedrock chat call can go through (``api=``): the Converse API (every chat model),
#: or ``InvokeModel`` with the model's native payload (Claude: Anthropic's Messages body).
BEDROCK_APIS = ("converse", "invoke")


class BedrockModel(BedrockConverseModel):
    """A model on Amazon Bedrock: chat through the Converse API (see
    :class:`~core.llms.providers.dialects.bedrock_converse.model.BedrockConverseModel`) or, for
    Claude with ``api="invoke"``, through ``InvokeModel`` / ``InvokeModelWithResponseStream``
    with Anthropic's native payload (:mod:`.anthropic_invoke`: the same answers and chunks); and,
    by its ``output_media``, ``embed`` (Titan, Cohere Embed), ``get_image`` (Nova Canvas, Titan
    Image) and ``get_video`` / ``stream_video`` (Nova Reel), served by :mod:`.media`.
    """

    media_functions: ClassVar[Mapping[str, str]] = {
        "embed": f"{_MEDIA}.embeddings:embed",
        "get_image": f"{_MEDIA}.images:generate_image",
        "stream_image": f"{_MEDIA}.images:stream_image",
        "get_video": f"{_MEDIA}.video:generate_video",
        "stream_video": f"{_MEDIA}.video:stream_video",
    }

    def _invoke_wanted(self, params: dict[str, Any]) -> bool:
        """Does this call go through InvokeModel? (Takes ``api`` out of ``params``.)"""
        api = params.pop("api", "converse")
        if api not in BEDROCK_APIS:
            raise InvalidInputError(f"api= must be 'converse' or 'invoke', not {api!r}")
        if api == "invoke" and "claude" not in f"{self.metadata.family} {self.metadata.model_id}".lower():
            raise UnsupportedOperationError(
                f"{self.name}: api='invoke' takes Claude models only (Anthropic's native payload)",
                provider=self.provider,
                model=self.name,
                hint="call it through the Converse API (the default)",
            )
        return bool(api == "invoke")

    def get_answer(  # returns the coroutine: no extra await layer on the usual call
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> Coroutine[Any, Any, LLMResponse]:
        """Send ``messages`` and return the whole answer (``api="invoke"``: InvokeModel)."""
        if not params or "api" not in params:
            return BedrockConverseModel.get_answer(self, messages, ctx, **params)
        try:
            invoke = self._invoke_wanted(params)
        except (InvalidInputError, UnsupportedOperationError) as exc:
            exc.fill(provider=self.provider, model=self.name)
            return failed_call(exc)
        if not invoke:
            return BedrockConverseModel.get_answer(self, messages, ctx, **params)
        from .anthropic_invoke import invoke_answer

        return self._observe_call(ctx, invoke_answer(self, messages, ctx, params), messages, params)

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced (``api="invoke"``:
        InvokeModelWithResponseStream)."""
        if not params or "api" not in params:
            return BedrockConverseModel.stream_answer(self, messages, ctx, **params)
        try:
            invoke = self._invoke_wanted(params)
        except (InvalidInputError, UnsupportedOperationError) as exc:
            exc.fill(provider=self.provider, model=self.name)
            return _FailingStream(exc)
        if not invoke:
            return BedrockConverseModel.stream_answer(self, messages, ctx, **params)

        def open_stream() -> AsyncIterator[LLMStreamChunk]:
            from .anthropic_invoke import invoke_stream

            return invoke_stream(self, messages, ctx, params)

        return self._observe_stream(ctx, open_stream, messages, params)
