"""FallbackLLM rules with fake models: the default rule, ``on`` validation, aggregation, lifecycle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.llms.fallback import AllModelsFailedError, FallbackLLM, should_fall_back
from core.llms.interfaces import (
    ILLM,
    AllEndpointsFailedError,
    APIConnectionError,
    AttemptRecord,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    ConflictError,
    ContentFilterError,
    ContextWindowExceededError,
    InvalidInputError,
    LLMError,
    LLMStreamChunk,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestContext,
    RequestTimeoutError,
    ResponseParsingError,
    ResponseTooLargeError,
    ServiceUnavailableError,
    StreamInterruptedError,
    UnsupportedOperationError,
)

from .support import Answering, Failing


def all_endpoints(*errors: LLMError | None) -> AllEndpointsFailedError:
    attempts = [AttemptRecord(f"https://e{i}", 1, e, skipped=e is None) for i, e in enumerate(errors)]
    return AllEndpointsFailedError("all endpoints failed", attempts=attempts)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (APIConnectionError("refused"), True),
        (RequestTimeoutError("slow"), True),
        (ServiceUnavailableError("503", status=503), True),
        (RateLimitError("429", status=429), True),
        (AuthenticationError("401", status=401), True),
        (PermissionDeniedError("403", status=403), True),
        (NotFoundError("404", status=404), True),
        (ContextWindowExceededError("too long"), True),
        (all_endpoints(ServiceUnavailableError("503"), APIConnectionError("refused")), True),
        (all_endpoints(None, RateLimitError("429")), True),  # a skipped endpoint counts as down
        (all_endpoints(ServiceUnavailableError("503"), BadRequestError("400")), False),
        (AllModelsFailedError("all", models=["a"], errors=[RequestTimeoutError("t")]), True),
        (BadRequestError("400", status=400), False),
        (ContentFilterError("filtered"), False),
        (InvalidInputError("bad input"), False),
        (UnsupportedOperationError("no images"), False),
        (ConfigurationError("closed"), False),
        (ConflictError("409"), False),
        (BudgetExceededError("budget"), False),
        (ResponseParsingError("garbage"), False),
        (ResponseTooLargeError("huge"), False),
        (StreamInterruptedError("cut"), False),
        (LLMError("plain"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, LLMError) else str(v),
)
def test_the_default_rule(error: LLMError, expected: bool) -> None:
    assert should_fall_back(error) is expected


@pytest.mark.parametrize(
    ("on", "message"),
    [
        ("RateLimitError", "must be a callable (LLMError) -> bool, an LLMError subclass or a tuple"),
        (42, "not int"),
        ((), "is empty: no error would ever move on"),
        ([], "is empty"),
        (ValueError, "class ValueError is not an LLMError subclass"),
        ((RateLimitError, TimeoutError), "item TimeoutError is not an LLMError subclass"),
        ((RateLimitError, "x"), "item 'x' (str) is not an LLMError subclass"),
        (RateLimitError("429"), "not RateLimitError"),
    ],
)
def test_bad_on_values_raise_configuration_error(on: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"FallbackLLM\(on=\.\.\.\)") as caught:
        FallbackLLM(Answering(), on=on)
    assert message in str(caught.value)
    assert not isinstance(caught.value, TypeError)


def test_an_async_predicate_is_refused() -> None:
    async def predicate(error: LLMError) -> bool:
        return True

    class AsyncCallable:
        async def __call__(self, error: LLMError) -> bool:
            return True

    for on in (predicate, AsyncCallable()):
        with pytest.raises(ConfigurationError, match="not an async one"):
            FallbackLLM(Answering(), on=on)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ((object(),), r"primary \(object\) is not an ILLM"),
        ((Answering(), "openai/gpt-4o"), r"fallbacks\[0\] \(str\) is not an ILLM"),
        ((Answering(), Answering(), None), r"fallbacks\[1\] \(NoneType\) is not an ILLM"),
        ((Answering(), Answering), r"fallbacks\[0\] \(the class Answering\) is not an ILLM"),
    ],
)
def test_non_models_raise_configuration_error(models: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        FallbackLLM(*models)


def test_a_model_name_instead_of_a_model_gets_a_hint() -> None:
    with pytest.raises(ConfigurationError) as caught:
        FallbackLLM(Answering(), "openai/gpt-4o")  # type: ignore[arg-type]
    assert caught.value.hint == "pass create_llm('openai/gpt-4o'), not the name"


def test_identity_repr_and_protocol() -> None:
    a, b = Answering(name="a"), Failing(RateLimitError("x"), name="b")
    llm = FallbackLLM(a, b, a)
    assert isinstance(llm, ILLM)
    assert llm.models == (a, b, a)
    assert llm.labels == ("fake/a", "fake/b", "fake/a#2")
    assert repr(llm) == "FallbackLLM(Failing(a), Failing(b), Failing(a))"
    assert repr(FallbackLLM(a, on=(RateLimitError, APIConnectionError))) == (
        "FallbackLLM(Failing(a), on=(RateLimitError, APIConnectionError))"
    )
    assert repr(FallbackLLM(a, on=RateLimitError)) == "FallbackLLM(Failing(a), on=RateLimitError)"


async def test_models_are_tried_in_order_and_the_first_answer_wins() -> None:
    first = Failing(ServiceUnavailableError("503"), "first")
    second = Failing(RateLimitError("429"), "second")
    third, fourth = Answering("third answer", "third"), Answering("fourth answer", "fourth")
    llm = FallbackLLM(first, second, third, fourth)
    assert (await llm.get_answer("hi")).text == "third answer"
    assert [c.text async for c in llm.stream_answer("hi")] == ["third", "answer"]
    assert [m.calls for m in (first, second, third, fourth)] == [2, 2, 2, 0]


async def test_a_non_eligible_error_is_the_same_object_and_stops_the_chain() -> None:
    error = BadRequestError("400", status=400)
    fallback = Answering()
    llm = FallbackLLM(Failing(ServiceUnavailableError("503")), Failing(error), fallback)
    for call in (llm.get_answer("hi"), _drain(llm.stream_answer("hi"))):
        with pytest.raises(BadRequestError) as caught:
            await call
        assert caught.value is error
    assert fallback.calls == 0


async def test_errors_that_are_not_llm_errors_propagate_unchanged() -> None:
    class Broken(Answering):
        async def get_answer(self, messages: Any, ctx: RequestContext | None = None, **params: Any) -> Any:
            raise KeyError("bug")

    fallback = Answering()
    with pytest.raises(KeyError):
        await FallbackLLM(Broken(), fallback).get_answer("hi")
    assert fallback.calls == 0


async def test_a_single_model_raises_its_own_error_like_a_single_endpoint() -> None:
    error = ServiceUnavailableError("503")
    with pytest.raises(ServiceUnavailableError) as caught:
        await FallbackLLM(Failing(error)).get_answer("hi")
    assert caught.value is error


async def test_custom_on_callable_sees_each_error_and_decides() -> None:
    seen: list[str] = []

    def on(error: LLMError) -> bool:
        seen.append(type(error).__name__)
        return isinstance(error, BadRequestError)  # the opposite of the default

    llm = FallbackLLM(Failing(BadRequestError("400")), Failing(ServiceUnavailableError("503")), on=on)
    with pytest.raises(ServiceUnavailableError):
        await llm.get_answer("hi")
    assert seen == ["BadRequestError", "ServiceUnavailableError"]


async def test_a_predicate_returning_an_awaitable_is_a_configuration_error() -> None:
    async def later() -> bool:
        return True

    llm = FallbackLLM(Failing(RateLimitError("429")), Answering(), on=lambda e: later())  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigurationError, match="returned an awaitable") as caught:
        await llm.get_answer("hi")
    assert isinstance(caught.value.__cause__, RateLimitError)


async def test_nested_fallbacks_move_on_when_the_inner_chain_failed() -> None:
    inner = FallbackLLM(Failing(ServiceUnavailableError("503"), "a"), Failing(APIConnectionError("x"), "b"))
    outer = FallbackLLM(inner, Answering("from c", "c"))
    assert (await outer.get_answer("hi")).text == "from c"
    assert outer.labels == ("FallbackLLM", "fake/c")


async def test_one_shot_message_iterables_are_reused_for_every_model() -> None:
    received: list[Any] = []

    class Recording(Answering):
        async def get_answer(self, messages: Any, ctx: RequestContext | None = None, **params: Any) -> Any:
            received.append(list(messages))
            return await super().get_answer(messages, ctx, **params)

    class FailingRecording(Recording):
        async def get_answer(self, messages: Any, ctx: RequestContext | None = None, **params: Any) -> Any:
            await super().get_answer(messages, ctx, **params)
            raise RateLimitError("429")

    messages = ({"role": "user", "content": "hi"} for _ in range(1))
    await FallbackLLM(FailingRecording(), Recording()).get_answer(messages)  # type: ignore[arg-type]
    assert received == [[{"role": "user", "content": "hi"}]] * 2


async def test_deadline_and_timeout_parameter() -> None:
    class Slow(Failing):
        async def get_answer(self, messages: Any, ctx: RequestContext | None = None, **params: Any) -> Any:
            self.calls += 1
            self.ctx, self.params = ctx, params
            await asyncio.sleep(0.1)
            raise ServiceUnavailableError("503")

    slow, fallback = Slow(LLMError("-")), Answering()
    llm = FallbackLLM(slow, fallback)
    with pytest.raises(RequestTimeoutError) as caught:
        await llm.get_answer("hi", timeout=0.05)
    assert isinstance(caught.value.__cause__, ServiceUnavailableError)
    assert slow.params == {"timeout": 0.05}  # passed on as it was
    assert slow.ctx is not None and slow.ctx.deadline is not None
    assert fallback.calls == 0
    ctx = RequestContext(deadline=time.monotonic() + 100, tenant="t")
    assert (await llm.get_answer("hi", ctx, timeout=5)).text == "fake answer"
    assert slow.ctx is not None and slow.ctx.tenant == "t" and slow.ctx.deadline < ctx.deadline  # type: ignore[operator]
    assert (await llm.get_answer("hi", ctx)).text == "fake answer"
    assert slow.ctx is ctx  # no timeout=: the caller's context is passed as it is


async def test_stream_errors_after_the_first_chunk_are_not_failed_over() -> None:
    class Breaks(Failing):
        async def stream_answer(
            self, messages: Any, ctx: RequestContext | None = None, **params: Any
        ) -> AsyncIterator[LLMStreamChunk]:
            yield LLMStreamChunk(text="partial")
            raise ServiceUnavailableError("503 in the middle")  # eligible, but too late

    fallback = Answering()
    chunks: list[str] = []
    with pytest.raises(ServiceUnavailableError, match="503 in the middle"):
        async for chunk in FallbackLLM(Breaks(LLMError("-")), fallback).stream_answer("hi"):
            chunks.append(chunk.text)
    assert chunks == ["partial"] and fallback.calls == 0


async def test_an_empty_stream_is_an_answer() -> None:
    empty, fallback = Answering(""), Answering()
    assert [c async for c in FallbackLLM(empty, fallback).stream_answer("hi")] == []
    assert fallback.calls == 0


async def test_aclose_closes_each_model_once_even_when_one_fails() -> None:
    class BadClose(Answering):
        async def aclose(self) -> None:
            await super().aclose()
            raise RuntimeError("close failed")

    a, b, c = Answering(name="a"), BadClose(name="b"), Answering(name="c")
    no_aclose = _NoAclose()
    llm = FallbackLLM(a, b, a, no_aclose, c)
    with pytest.raises(RuntimeError, match="close failed"):
        await llm.aclose()
    assert (a.closes, b.closes, c.closes) == (1, 1, 1)
    async with FallbackLLM(a, c) as same:
        assert isinstance(same, FallbackLLM)
    assert (a.closes, c.closes) == (2, 2)


class _NoAclose:
    async def get_answer(self, messages: Any, ctx: RequestContext | None = None, **params: Any) -> Any:
        raise AssertionError("not called")

    def stream_answer(self, messages: Any, ctx: RequestContext | None = None, **params: Any) -> Any:
        raise AssertionError("not called")


async def _drain(stream: AsyncIterator[LLMStreamChunk]) -> list[LLMStreamChunk]:
    return [c async for c in stream]
