"""``completion`` / ``acompletion`` as LiteLLM takes and returns them, on core-llms models.

A call: the keywords sorted and the model object looked up (:mod:`.calls`), ``get_answer`` /
``stream_answer``, the answer dressed as OpenAI's objects (:mod:`.build`). Every error comes out
as LiteLLM's class for it (:mod:`.exceptions`), still a subclass of the core class. The blocking
calls run the same coroutine in the calling thread on its own loop, or (called inside a running
loop) on the worker loop of :func:`~.calls.sync_runner` (:func:`~.calls.blocking_run`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, NoReturn

from ..interfaces.errors import InvalidInputError, LLMError
from . import calls
from .build import StreamConverter, mock_chunks, mock_response, model_response, stream_chunk_builder
from .exceptions import BY_NAME, MockException, raise_compat
from .objects import ModelResponse, ModelResponseStream

__all__ = ["CustomStreamWrapper", "acompletion", "completion", "mock_completion", "stream_chunk_builder"]


async def acompletion(model: str, messages: Any = None, **kwargs: Any) -> Any:
    """LiteLLM's ``acompletion``: a :class:`~.objects.ModelResponse`; with ``stream=True`` a
    :class:`CustomStreamWrapper` to ``async for`` over (its first chunk has already arrived, so
    an error of the call is raised here, as LiteLLM does).

    Keywords: LiteLLM's (``temperature``, ``max_tokens`` / ``max_completion_tokens``, ``top_p``,
    ``stop``, ``tools``, ``tool_choice``, ``response_format`` (a dict or a pydantic class),
    ``seed``, ``n``, ``user``, ``reasoning_effort``, ``stream``, ``stream_options``, ``timeout``,
    ``num_retries``, ``fallbacks``, ``api_base``, ``api_key``, ``api_version``,
    ``extra_headers``, ``metadata``, ``drop_params``, ``mock_response`` …); any other keyword is a
    call parameter of the model, which refuses one it does not take
    (:class:`~.exceptions.UnsupportedParamsError`, unless ``drop_params``). See
    ``docs/litellm.md``.
    """
    return await _acompletion(calls.async_state(), model, messages, kwargs)


def completion(model: str, messages: Any = None, **kwargs: Any) -> Any:
    """LiteLLM's ``completion``: :func:`acompletion`, blocking; with ``stream=True`` a
    :class:`CustomStreamWrapper` to iterate with ``for``. Without a running event loop the call
    runs in this thread, on a loop of its own; inside one (Jupyter, an async handler) it runs on
    a worker loop and only this thread waits."""
    mock = kwargs.get("mock_response")
    if mock is not None:
        return _mocked(model, messages, kwargs, mock, asynchronous=False)
    if kwargs.get("stream"):
        chunks = calls.blocking_iterate(lambda state: _stream(state, model, messages, kwargs))
        try:
            first = next(chunks)
        except StopIteration:
            return CustomStreamWrapper(sync=chunks, pending=(), model=model)
        return CustomStreamWrapper(sync=chunks, pending=(first,), model=model)
    result: Any = calls.blocking_run(lambda state: _acompletion(state, model, messages, kwargs))
    return result


def mock_completion(model: str, messages: Any = None, **kwargs: Any) -> Any:
    """LiteLLM's ``mock_completion``: :func:`completion` with ``mock_response`` (default
    ``"This is a mock request"``); nothing is sent."""
    kwargs.setdefault("mock_response", "This is a mock request")
    return completion(model, messages, **kwargs)


async def _acompletion(state: calls.State, model: str, messages: Any, kwargs: dict[str, Any]) -> Any:
    mock = kwargs.get("mock_response")
    if mock is not None:
        delay = kwargs.get("mock_delay")
        if delay:
            await asyncio.sleep(float(delay))
        return _mocked(model, messages, kwargs, mock, asynchronous=True)
    structured = False
    try:
        call = calls.plan(state, model, messages, kwargs)
        structured = call.structured
        if call.stream:
            source = _stream(state, model, messages, kwargs, call)
            try:
                first = await source.__anext__()
            except StopAsyncIteration:
                return CustomStreamWrapper(agen=source, pending=(), model=model)
            return CustomStreamWrapper(agen=source, pending=(first,), model=model)
        if call.n == 1:
            answer = await call.llm.get_answer(call.messages, call.ctx, **call.params)
            return model_response(answer, call.served_by)
        several = await calls.answers(call)
        return model_response(several[0], call.served_by, several[1:])
    except LLMError as exc:
        raise_compat(exc, structured=structured)


async def _stream(
    state: calls.State,
    model: str,
    messages: Any,
    kwargs: dict[str, Any],
    call: calls.Plan | None = None,
) -> AsyncIterator[ModelResponseStream]:
    """The OpenAI chunks of one streamed call (errors as LiteLLM's classes). The chunk that
    finishes the answer is held until the stream ends, so it can carry the stream's usage and
    cost in ``_hidden_params``; with ``include_usage`` a usage chunk follows it."""
    structured = False
    upstream: AsyncIterator[Any] | None = None
    try:
        if call is None:
            call = calls.plan(state, model, messages, kwargs)
        structured = call.structured
        served = call.served_by  # (None with fallbacks: which model streams is not known up front)
        converter = StreamConverter(
            call.qualified.partition("/")[2], served, served.partition("/")[0] if served else None
        )
        upstream = call.llm.stream_answer(call.messages, call.ctx, **call.params)
        held: ModelResponseStream | None = None
        async for chunk in upstream:
            out = converter.convert(chunk)
            if out is None:
                continue
            if held is not None:
                yield held
                held = None
            if out.choices[0].finish_reason is not None:
                held = out
            else:
                yield out
        if held is not None:
            converter.hide_totals(held)
            yield held
        if call.include_usage:
            yield converter.usage_chunk()
    except LLMError as exc:
        raise_compat(exc, structured=structured)
    finally:
        close = getattr(upstream, "aclose", None)
        if close is not None:
            await close()


class CustomStreamWrapper:
    """A streamed completion (LiteLLM's class name): ``async for`` over the chunks of
    ``acompletion(stream=True)``, ``for`` over those of ``completion(stream=True)``. Each chunk
    is a :class:`~.objects.ModelResponseStream` (``chunk.choices[0].delta.content``); errors
    arrive as LiteLLM's classes. Leaving the loop early closes the provider's stream (at once
    with :meth:`aclose` / :meth:`close`)."""

    __slots__ = ("_agen", "_hidden_params", "_pending", "_sync", "model")

    def __init__(
        self,
        *,
        agen: AsyncIterator[ModelResponseStream] | None = None,
        sync: Iterator[ModelResponseStream] | None = None,
        pending: tuple[ModelResponseStream, ...] = (),
        model: str | None = None,
    ) -> None:
        self._agen = agen
        self._sync = sync
        self._pending = list(pending)
        self.model = model
        self._hidden_params: dict[str, Any] = {}

    def __aiter__(self) -> CustomStreamWrapper:
        if self._agen is None:
            raise InvalidInputError("this stream came from completion(): iterate it with a plain for")
        return self

    async def __anext__(self) -> ModelResponseStream:
        if self._pending:
            return self._pending.pop(0)
        if self._agen is None:
            raise StopAsyncIteration
        return await self._agen.__anext__()

    def __iter__(self) -> CustomStreamWrapper:
        if self._sync is None:
            raise InvalidInputError("this stream came from acompletion(): iterate it with async for")
        return self

    def __next__(self) -> ModelResponseStream:
        if self._pending:
            return self._pending.pop(0)
        if self._sync is None:
            raise StopIteration
        return next(self._sync)

    async def aclose(self) -> None:
        """Stop the stream and close the provider's connection for it."""
        self._pending.clear()
        close = getattr(self._agen, "aclose", None)
        if close is not None:
            await close()

    def close(self) -> None:
        """Stop a blocking stream and close the provider's connection for it."""
        self._pending.clear()
        close = getattr(self._sync, "close", None)
        if close is not None:
            close()

    def __repr__(self) -> str:
        kind = "async" if self._agen is not None else "sync"
        return f"CustomStreamWrapper({kind}, model={self.model!r})"


# -- mock_response -------------------------------------------------------------------------------


def _mocked(model: str, messages: Any, kwargs: dict[str, Any], mock: Any, *, asynchronous: bool) -> Any:
    """LiteLLM's ``mock_response``: a string is the answer (streamed in pieces with
    ``stream=True``), a :class:`ModelResponse` or a dict is returned as the answer, an exception
    is raised (ours as LiteLLM's class, any other as :class:`MockException`), and
    ``"litellm.<ErrorName>"`` raises that error. Nothing is sent; the model name is not looked up
    (the cost is set when the catalogue knows the model)."""
    if isinstance(mock, LLMError):
        raise_compat(mock)
    if isinstance(mock, BaseException):
        _raise_mock(
            MockException(
                getattr(mock, "status_code", 500),
                str(mock),
                getattr(mock, "llm_provider", "openai"),
                model,
            ),
            mock,
        )
    if isinstance(mock, str) and mock.startswith("litellm.") and mock[8:] in BY_NAME:
        name = mock[8:]
        error = BY_NAME[name](message=f"this is a mock {name}", model=model, llm_provider="openai")
        raise error
    if isinstance(mock, ModelResponse):
        return mock
    if isinstance(mock, dict):
        return ModelResponse(**mock)
    if not isinstance(mock, str):
        raise_compat(
            InvalidInputError(
                f"mock_response must be a string, a ModelResponse, a dict or an exception, "
                f"not {type(mock).__name__}"
            )
        )
    delay = kwargs.get("mock_delay")
    if delay and not asynchronous:
        time.sleep(float(delay))
    n = kwargs.get("n") or 1
    cost, qualified = _mock_cost(model, kwargs)
    if kwargs.get("stream"):
        options = kwargs.get("stream_options") or {}
        usage = bool(options.get("include_usage")) if isinstance(options, dict) else False
        chunks = mock_chunks(model, mock, include_usage=usage, cost=cost, qualified=qualified)
        if asynchronous:
            return CustomStreamWrapper(agen=_replay(chunks), model=model)
        return CustomStreamWrapper(sync=iter(chunks), model=model)
    return mock_response(
        model, mock, n=n, tool_calls=kwargs.get("mock_tool_calls"), cost=cost, qualified=qualified
    )


async def _replay(chunks: list[ModelResponseStream]) -> AsyncIterator[ModelResponseStream]:
    for chunk in chunks:
        yield chunk


def _raise_mock(error: LLMError, cause: BaseException) -> NoReturn:
    raise error from cause


def _mock_cost(model: str, kwargs: dict[str, Any]) -> tuple[float | None, str | None]:
    """The mocked usage's cost and the qualified name, when the catalogue knows the model."""
    from ..interfaces.types import Usage
    from .names import metadata_for

    try:
        meta = metadata_for(model, kwargs.get("custom_llm_provider"))
    except LLMError:
        return None, None
    pricing = meta.pricing
    cost = pricing.cost(Usage(10, 20)) if pricing.known else None
    return cost, meta.qualified_name
