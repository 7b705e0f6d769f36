"""How a model reports its calls to its observer (``BaseLLM`` inherits :class:`ObservedCalls`).

Without an observer (``self._observer is None``) a call costs one attribute test here. With one,
each call gets a :class:`~core.llms.interfaces.observer.CallInfo` (provider, model, operation,
parameters, messages, start time), the observer's ``on_request`` is called, and the call runs
with :data:`~core.llms.interfaces.observer.CURRENT_CALL` set, so the connector can report each
attempt and send the ``traceparent`` a tracing observer chose. A stream keeps it set until its
first chunk (attempts, retries and failover all happen before it) and records when that chunk
arrived (:attr:`CallInfo.first_chunk`).

Every escaping :class:`LLMError` gets ``provider`` / ``model`` (and, for a stream, where it
came from); a stream's :class:`StreamInterruptedError` gets the partial text and tool calls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ...interfaces.context import RequestContext, check_context
from ...interfaces.errors import CallCancelledError, LLMError, StreamInterruptedError
from ...interfaces.llm_interfaces import IConnector
from ...interfaces.messages import MessagesInput
from ...interfaces.observer import CURRENT_CALL, CallInfo, IObserver
from ...interfaces.types import LLMResponse, LLMStreamChunk, StreamAccumulator
from .redact import mask_with, redact_with

__all__ = ["ChatStreamSeen", "MediaStreamSeen", "ObservedCalls"]

_R = TypeVar("_R")
_I = TypeVar("_I")

logger = logging.getLogger("core.llms.models")

_NO_PARAMS: Mapping[str, Any] = {}


class ObservedCalls:
    """The observation helpers of :class:`~core.llms.providers.base.implementation.BaseLLM`."""

    _observer: IObserver | None
    _defaults: dict[str, Any]
    _connector: IConnector

    if TYPE_CHECKING:  # BaseLLM's, from its metadata

        @property
        def provider(self) -> str: ...

        @property
        def name(self) -> str: ...

    def _call_info(
        self,
        ctx: RequestContext | None,
        stream: bool,
        messages: MessagesInput | None = None,
        params: Mapping[str, Any] | None = None,
        operation: str = "chat",
    ) -> CallInfo | None:
        observer = self._observer
        if observer is None:
            return None
        merged = {**self._defaults, **params} if params else (self._defaults or _NO_PARAMS)
        address, port = getattr(self._connector, "primary_server", None) or (None, None)
        call = CallInfo(
            self.provider,
            self.name,
            ctx,
            stream,
            time.perf_counter(),
            operation=operation,
            params=merged,
            messages=messages,  # type: ignore[arg-type]  # as given: an observer normalises it if it needs to
            # the connector reports attempts only to an observer that wants them
            observer=observer if getattr(observer, "wants_attempts", True) else None,
            mask=self._mask_secrets,
            server_address=address,
            server_port=port,
        )
        self._notify("on_request", call)
        return call

    def _mask_secrets(self, text: str) -> str:
        return mask_with(self._connector, text)

    def _notify(self, event: str, *args: Any) -> None:
        try:
            getattr(self._observer, event)(*args)
        except Exception:  # an observer must never break a call
            logger.exception("observer %s failed", event)

    async def _observe_call(
        self,
        ctx: RequestContext | None,
        work: Coroutine[Any, Any, _R],
        messages: MessagesInput | None = None,
        params: Mapping[str, Any] | None = None,
        operation: str = "chat",
    ) -> _R:
        """Await ``work`` (a chat call, or a media call's ``operation``): fill provider/model on
        any :class:`LLMError` and mask in it every credential of the model's endpoints (a media
        module may build an error from text the server sent: a failed job's reason), then tell
        the observer."""
        try:
            check_context(ctx)
        except LLMError as exc:
            work.close()  # never awaited: close it so it does not warn
            exc.fill(provider=self.provider, model=self.name)
            raise
        call = self._call_info(ctx, False, messages, params, operation)
        token = CURRENT_CALL.set(call) if call is not None else None
        try:
            response = await work
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self.name)
            redact_with(self._connector, exc)
            if call is not None:
                self._end(call, "on_error", exc)
            raise
        except BaseException as unexpected:  # cancelled (or a bug): observers still see the call end
            if call is not None:
                self._end(call, "on_error", self._cancelled(cause=unexpected))
            raise
        finally:
            if token is not None:
                CURRENT_CALL.reset(token)
        if call is not None:
            self._end(call, "on_response", response)
        return response

    def _end(self, call: CallInfo, event: str, outcome: Any) -> None:
        """Tell the observer how ``call`` ended, then let go of its messages (a context captured
        while the call ran, by a timer say, may keep the ``CallInfo`` alive a while)."""
        self._notify(event, call, outcome)
        call.messages = None

    def _cancelled(self, partial_text: str = "", cause: BaseException | None = None) -> CallCancelledError:
        """What observers are told of a call that ended with no answer and no error of its own:
        cancelled, a stream not read to the end, or (``cause``) an exception that is not an
        :class:`LLMError` (a bug: named by type only, its text may hold anything)."""
        if cause is None or isinstance(cause, asyncio.CancelledError | GeneratorExit):
            message = "the call was cancelled, or its stream was not read to the end"
        else:
            message = f"the call ended with an unexpected {type(cause).__name__}"
        return CallCancelledError(
            message,
            provider=self.provider,
            model=self.name,
            partial_text=partial_text,
        )

    def _observe_stream(
        self,
        ctx: RequestContext | None,
        open_stream: Callable[[], AsyncIterator[LLMStreamChunk]],
        messages: MessagesInput | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[LLMStreamChunk]:
        """Yield the chunks of ``open_stream()`` through a :class:`StreamAccumulator`.

        ``open_stream`` is called on first iteration, so its validation errors surface there too.
        On :class:`StreamInterruptedError` the partial text and tool calls received so far are put
        on the error; every escaping :class:`LLMError` gets provider and model; the observer (if
        any) receives the accumulated answer or the error. The inner stream is closed when the
        caller stops early.
        """
        return self._observed_stream(ctx, open_stream, ChatStreamSeen(), messages, params, "chat")

    async def _observed_stream(
        self,
        ctx: RequestContext | None,
        open_stream: Callable[[], AsyncIterator[_I]],
        seen: ChatStreamSeen | MediaStreamSeen,
        messages: MessagesInput | None,
        params: Mapping[str, Any] | None,
        operation: str | None,
    ) -> AsyncIterator[_I]:
        """A stream (chat or media) as its caller and observers see it: ``ctx`` checked and
        ``open_stream()`` called on first iteration; with an observer (and an ``operation``),
        the call reported with :data:`CURRENT_CALL` set until the first item (attempts, retries
        and failover all happen before it), that item's time recorded, and its end reported:
        ``seen``'s answer, the error (filled by ``seen``), or :class:`CallCancelledError` when
        the caller stopped reading or the call was cancelled. The inner stream is closed when
        this one ends."""
        call = (
            self._call_info(ctx, True, messages, params, operation)
            if operation is not None and (ctx is None or isinstance(ctx, RequestContext))
            else None
        )
        token = CURRENT_CALL.set(call) if call is not None else None
        add: Callable[[Any], None] = seen.add
        items: AsyncIterator[_I] | None = None
        try:
            check_context(ctx)
            items = open_stream()
            async for item in items:
                if token is not None:
                    CURRENT_CALL.reset(token)
                    token = None
                    call.first_chunk = time.perf_counter()  # type: ignore[union-attr]
                add(item)
                try:
                    yield item
                except GeneratorExit:  # the caller stopped reading (aclose, or dropped the stream)
                    if call is not None:
                        self._end(call, "on_error", self._cancelled(seen.partial_text))
                    raise
        except LLMError as exc:
            seen.settle(self, exc)
            if call is not None:
                self._end(call, "on_error", exc)
            raise
        except (GeneratorExit, StopAsyncIteration):
            raise  # (reported above)
        except BaseException as unexpected:  # cancelled while waiting for an item
            if call is not None:
                self._end(call, "on_error", self._cancelled(seen.partial_text, cause=unexpected))
            raise
        finally:
            if token is not None:
                CURRENT_CALL.reset(token)
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                await aclose()
        if call is not None:
            self._end(call, "on_response", seen.answer(self))


class ChatStreamSeen:
    """What a chat stream has yielded so far: its accumulated answer."""

    __slots__ = ("acc", "add")

    def __init__(self) -> None:
        self.acc = StreamAccumulator()
        self.add = self.acc.add

    @property
    def partial_text(self) -> str:
        return self.acc.text

    def settle(self, llm: ObservedCalls, exc: LLMError) -> None:
        """Fill an escaping error: partial text and tool calls (a broken stream), provider,
        model, and the endpoint and request id the stream came from."""
        acc = self.acc
        if isinstance(exc, StreamInterruptedError):
            if not exc.partial_text:
                exc.partial_text = acc.text
            if not exc.partial_tool_calls:
                exc.partial_tool_calls = acc.tool_calls
        exc.fill(provider=llm.provider, model=llm.name, endpoint=acc.endpoint, request_id=acc.request_id)

    def answer(self, llm: ObservedCalls) -> LLMResponse:
        return self.acc.to_response(model=llm.name, provider=llm.provider)


class MediaStreamSeen:
    """What a media stream has yielded so far: its last item (the answer observers get)."""

    __slots__ = ("last",)

    #: a media stream has no text to report when it is cut short.
    partial_text = ""

    def __init__(self) -> None:
        self.last: Any = None

    def add(self, item: Any) -> None:
        self.last = item

    def settle(self, llm: ObservedCalls, exc: LLMError) -> None:
        """Fill an escaping error with provider and model and mask in it every credential of
        the model's endpoints (a media module may build an error from text the server sent)."""
        exc.fill(provider=llm.provider, model=llm.name)
        redact_with(llm._connector, exc)

    def answer(self, llm: ObservedCalls) -> Any:
        return self.last
