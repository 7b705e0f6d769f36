"""FallbackLLM end to end: a failing OpenAI model falls back to an Azure model, through the
simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest

from core.llms.fallback import AllModelsFailedError, FallbackLLM
from core.llms.interfaces import (
    ILLM,
    AllEndpointsFailedError,
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    RateLimitError,
    RequestContext,
    RequestTimeoutError,
    ServiceUnavailableError,
    StreamInterruptedError,
)
from core.llms.simulator import Fault, Simulator

from .support import ANSWER, Tracking, azure_model, openai_model


async def test_get_answer_falls_back_from_a_failing_provider_to_another(
    dead: Simulator, sim: Simulator
) -> None:
    async with FallbackLLM(openai_model(dead.url), azure_model(sim.url)) as llm:
        assert isinstance(llm, ILLM)
        answer = await llm.get_answer("hello")
    assert (answer.text, answer.provider) == (ANSWER, "azure")
    assert answer.endpoint is not None and answer.endpoint.startswith(sim.url)
    assert (dead.request_count, sim.request_count) == (1, 1)


async def test_connection_refused_falls_back(refused_url: str, sim: Simulator) -> None:
    async with FallbackLLM(openai_model(refused_url), azure_model(sim.url)) as llm:
        answer = await llm.get_answer("hello")
    assert (answer.text, answer.provider) == (ANSWER, "azure")


async def test_a_healthy_primary_serves_and_the_fallback_is_not_called(sim: Simulator) -> None:
    async with Simulator() as other:
        async with FallbackLLM(openai_model(sim.url), azure_model(other.url)) as llm:
            answer = await llm.get_answer("hello")
            chunks = [c async for c in llm.stream_answer("hello")]
        assert other.request_count == 0
    assert answer.provider == "openai"
    assert "".join(c.text for c in chunks) == ANSWER
    assert sim.request_count == 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=503),
        Fault(status=429),
        Fault(drop="before_first_chunk"),
        Fault(truncate_stream=True, at="before_first_chunk"),
        Fault(error_event=True, at="before_first_chunk"),
    ],
    ids=["503", "429", "drop", "truncated", "error-event"],
)
async def test_stream_falls_back_before_the_first_chunk(fault: Fault, sim: Simulator) -> None:
    async with Simulator() as failing:
        failing.set_default_fault(fault)
        async with FallbackLLM(openai_model(failing.url), azure_model(sim.url)) as llm:
            chunks = [c async for c in llm.stream_answer("hello")]
        assert failing.request_count == 1
    assert "".join(c.text for c in chunks) == ANSWER
    assert chunks[0].endpoint is not None and chunks[0].endpoint.startswith(sim.url)
    assert sim.request_count == 1


async def test_no_fallback_after_the_first_chunk(sim: Simulator) -> None:
    async with Simulator() as primary_sim:
        primary_sim.enqueue(Fault(drop="after_first_chunk"))
        async with FallbackLLM(openai_model(primary_sim.url), azure_model(sim.url)) as llm:
            received: list[str] = []
            with pytest.raises(StreamInterruptedError) as caught:
                async for chunk in llm.stream_answer("hello"):
                    received.append(chunk.text)
    assert caught.value.provider == "openai"
    assert received and "".join(received) == caught.value.partial_text
    assert ANSWER.startswith(caught.value.partial_text) and caught.value.partial_text != ANSWER
    assert isinstance(caught.value.cause, APIConnectionError)
    assert sim.request_count == 0  # the fallback was never called


@pytest.mark.parametrize("stream", [False, True], ids=["get_answer", "stream_answer"])
async def test_a_bad_request_is_raised_at_once_without_trying_the_fallback(
    stream: bool, sim: Simulator
) -> None:
    async with Simulator() as primary_sim:
        primary_sim.set_default_fault(Fault(status=400))
        async with FallbackLLM(openai_model(primary_sim.url), azure_model(sim.url)) as llm:
            with pytest.raises(BadRequestError) as caught:
                if stream:
                    [c async for c in llm.stream_answer("hello")]
                else:
                    await llm.get_answer("hello")
    assert type(caught.value) is BadRequestError
    assert (caught.value.status, caught.value.provider) == (400, "openai")
    assert sim.request_count == 0


async def test_a_rejected_key_falls_back_and_warns(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    async with Simulator(api_key="the-right-key") as primary_sim:  # our key "k" is refused: 401
        llm = FallbackLLM(openai_model(primary_sim.url), azure_model(sim.url))
        async with llm:
            with caplog.at_level(logging.INFO, logger="core.llms.fallback"):
                answer = await llm.get_answer("hello")
    assert answer.provider == "azure"
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "openai/gpt-4.1-mini failed (AuthenticationError, status 401): falling back to azure/gpt-4o-mini"
    )


@pytest.mark.parametrize("stream", [False, True], ids=["get_answer", "stream_answer"])
async def test_when_every_model_fails_the_error_keeps_each_models_error(
    stream: bool, dead: Simulator, refused_url: str
) -> None:
    async with FallbackLLM(openai_model(dead.url), azure_model(refused_url)) as llm:
        with pytest.raises(AllModelsFailedError) as caught:
            if stream:
                [c async for c in llm.stream_answer("hello")]
            else:
                await llm.get_answer("hello")
    error = caught.value
    assert isinstance(error, AllEndpointsFailedError)
    assert error.models == ("openai/gpt-4.1-mini", "azure/gpt-4o-mini")
    assert [type(e) for e in error.errors] == [ServiceUnavailableError, APIConnectionError]
    assert [(a.endpoint, a.attempt, a.error) for a in error.attempts] == [
        ("openai/gpt-4.1-mini", 1, error.errors[0]),
        ("azure/gpt-4o-mini", 1, error.errors[1]),
    ]
    assert (error.errors[0].status, error.errors[0].provider, error.errors[1].provider) == (
        503,
        "openai",
        "azure",
    )
    assert error.__cause__ is error.errors[1] is error.last_error
    assert str(error).startswith("all 2 models failed: openai/gpt-4.1-mini (try 1): ServiceUnavailableError")
    assert dead.request_count == 1


async def test_on_classes_unwrap_an_inner_all_endpoints_failed_error(
    dead: Simulator, refused_url: str, sim: Simulator
) -> None:
    """The primary has a backup endpoint: it gives up with AllEndpointsFailedError (503, refused)."""
    primary = openai_model(dead.url, backups=[{"endpoint": f"{refused_url}/v1"}])
    async with FallbackLLM(primary, azure_model(sim.url), on=(ServiceUnavailableError,)) as llm:
        with pytest.raises(AllEndpointsFailedError) as caught:
            await llm.get_answer("hello")  # the refused backup is not a ServiceUnavailableError
        assert type(caught.value) is AllEndpointsFailedError
        assert sim.request_count == 0
    llm = FallbackLLM(
        openai_model(dead.url, backups=[{"endpoint": f"{refused_url}/v1"}]),
        azure_model(sim.url),
        on=(ServiceUnavailableError, APIConnectionError),
    )
    async with llm:
        assert (await llm.get_answer("hello")).provider == "azure"  # every attempt matched
    async with FallbackLLM(
        openai_model(dead.url, backups=[{"endpoint": f"{refused_url}/v1"}]), azure_model(sim.url)
    ) as llm:
        assert (await llm.get_answer("hello")).provider == "azure"  # the default rule unwraps too


async def test_on_tuple_and_callable_through_the_simulator(sim: Simulator) -> None:
    async with Simulator() as primary_sim:
        primary_sim.set_default_fault(Fault(status=503))
        async with FallbackLLM(
            openai_model(primary_sim.url), azure_model(sim.url), on=(RateLimitError,)
        ) as llm:
            with pytest.raises(ServiceUnavailableError):
                await llm.get_answer("hello")
        assert sim.request_count == 0

        seen: list[int | None] = []

        def only_503(error: object) -> bool:
            seen.append(getattr(error, "status", None))
            return getattr(error, "status", None) == 503

        async with FallbackLLM(openai_model(primary_sim.url), azure_model(sim.url), on=only_503) as llm:
            assert (await llm.get_answer("hello")).provider == "azure"
            primary_sim.set_default_fault(Fault(status=429))
            with pytest.raises(RateLimitError):
                await llm.get_answer("hello")
    assert seen == [503, 429]
    assert sim.request_count == 1


async def test_the_inner_stream_is_closed_when_the_caller_stops_early(sim: Simulator) -> None:
    primary = Tracking(openai_model(sim.url))
    async with FallbackLLM(primary, azure_model(sim.url)) as llm:
        async with contextlib.aclosing(llm.stream_answer("hello")) as stream:
            async for chunk in stream:
                assert chunk.text
                break
        assert (primary.streams_opened, primary.streams_closed) == (1, 1)
        await primary.inner.aclose()


async def test_the_inner_stream_is_closed_on_cancellation_and_on_error(sim: Simulator) -> None:
    async with Simulator() as primary_sim:
        primary = Tracking(openai_model(primary_sim.url))
        fallback = Tracking(azure_model(sim.url))
        async with FallbackLLM(primary, fallback) as llm:
            primary_sim.enqueue(Fault(stall=5.0))  # stalls after the first chunk
            first = asyncio.Event()

            async def consume() -> None:
                async for _ in llm.stream_answer("hello"):
                    first.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(first.wait(), 2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (primary.streams_opened, primary.streams_closed) == (1, 1)

            primary_sim.enqueue(Fault(status=503))  # fails before the first chunk: closed, then fallback
            assert "".join([c.text async for c in llm.stream_answer("hello")]) == ANSWER
            assert (primary.streams_opened, primary.streams_closed) == (2, 2)
            assert (fallback.streams_opened, fallback.streams_closed) == (1, 1)
            await primary.inner.aclose()
            await fallback.inner.aclose()


async def test_aclose_closes_every_model(dead: Simulator, sim: Simulator) -> None:
    primary, fallback = openai_model(dead.url), azure_model(sim.url)
    llm = FallbackLLM(primary, fallback)
    assert (await llm.get_answer("hello")).provider == "azure"  # both opened a session
    await llm.aclose()
    assert primary.closed and fallback.closed
    await llm.aclose()  # idempotent


async def test_the_deadline_stops_the_chain(sim: Simulator) -> None:
    async with Simulator() as slow:
        slow.set_default_fault(Fault(delay=2.0))
        async with FallbackLLM(openai_model(slow.url), azure_model(sim.url)) as llm:
            started = time.monotonic()
            with pytest.raises(RequestTimeoutError) as caught:
                await llm.get_answer("hello", RequestContext.with_timeout(0.3))
            assert time.monotonic() - started < 1.0
            assert isinstance(caught.value.__cause__, RequestTimeoutError)
            assert str(caught.value).startswith(
                "deadline exceeded after trying openai/gpt-4.1-mini (RequestTimeoutError)"
            )
            with pytest.raises(RequestTimeoutError):  # the call parameter timeout= bounds the chain too
                [c async for c in llm.stream_answer("hello", timeout=0.3)]
            assert time.monotonic() - started < 2.0
            with pytest.raises(RequestTimeoutError, match="deadline exceeded before any model"):
                await llm.get_answer("hello", RequestContext(deadline=time.monotonic() - 1))
        assert slow.request_count == 2
    assert sim.request_count == 0


async def test_authentication_errors_are_typed_as_such_in_the_aggregate() -> None:
    async with Simulator(api_key="right") as a, Simulator(api_key="right") as b:
        llm = FallbackLLM(openai_model(a.url), azure_model(b.url))
        async with llm:
            with pytest.raises(AllModelsFailedError) as caught:
                await llm.get_answer("hello")
    assert [type(e) for e in caught.value.errors] == [AuthenticationError, AuthenticationError]
    assert "'k'" not in str(caught.value)


async def test_concurrent_calls_share_no_state(sim: Simulator) -> None:
    async with Simulator() as primary_sim:
        primary_sim.enqueue(*[Fault(status=503)] * 10)  # the first 10 requests fail, the rest are served
        async with FallbackLLM(openai_model(primary_sim.url), azure_model(sim.url)) as llm:
            answers = await asyncio.gather(*(llm.get_answer(f"hello {i}") for i in range(20)))
    assert [a.text for a in answers] == [f"Simulated answer to: hello {i}" for i in range(20)]
    assert sorted(a.provider for a in answers) == ["azure"] * 10 + ["openai"] * 10
    assert (primary_sim.request_count, sim.request_count) == (20, 10)
