"""CallGuard.watch over a fake stream of LLMStreamChunk: passing through and charging the final
usage, stopping mid-way (partial text kept, upstream closed), a consumer that stops early or never
starts, upstream errors, and the running cost."""

from __future__ import annotations

import asyncio
import gc
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.llms import (
    BudgetExceededError,
    InvalidInputError,
    LLMStreamChunk,
    Message,
    StreamInterruptedError,
    Usage,
    default_registry,
)
from core.llms.budget import Budget, CallGuard
from core.llms.interfaces.types import ToolCallDelta

META = default_registry().metadata("openai/gpt-4.1-mini")
IN, OUT = META.pricing.input_per_1m / 1e6, META.pricing.output_per_1m / 1e6
PROMPT = [Message.user("x" * 400)]  # 107 tokens


class Upstream:
    """A provider stream: yields ``chunks`` (raising an exception found among them), records how far
    it was read and whether it was closed."""

    def __init__(self, chunks: list[LLMStreamChunk | BaseException]) -> None:
        self.chunks = chunks
        self.sent = 0
        self.closed = False

    async def gen(self) -> AsyncIterator[LLMStreamChunk]:
        try:
            for item in self.chunks:
                if isinstance(item, BaseException):
                    raise item
                self.sent += 1
                yield item
        finally:
            self.closed = True


def words(n: int, word: str = "abcd ") -> list[LLMStreamChunk | BaseException]:
    return [LLMStreamChunk(text=word) for _ in range(n)]


def guard_for(params: dict[str, Any], **limits: Any) -> CallGuard:
    guard = CallGuard.open(META, PROMPT, params, **limits)
    assert guard is not None
    return guard


async def test_a_stream_within_its_limits_passes_and_is_charged_its_final_usage() -> None:
    budget = Budget(tokens=10_000, cost_usd=1.0)
    guard = guard_for({"max_tokens": 100}, budget=budget)
    up = Upstream([*words(3), LLMStreamChunk(finish_reason="stop", usage=Usage(110, 3), cost=0.25)])
    got = [chunk async for chunk in guard.watch(up.gen())]
    assert [c.text for c in got] == ["abcd "] * 3 + [""] and up.closed
    assert (budget.spent_tokens, budget.spent_usd) == (113, 0.25)
    assert budget.snapshot()["reserved_tokens"] == 0


async def test_final_usage_without_cost_is_priced() -> None:
    budget = Budget(cost_usd=1.0)
    guard = guard_for({"max_tokens": 100}, budget=budget)
    up = Upstream([*words(2), LLMStreamChunk(finish_reason="stop", usage=Usage(110, 2))])
    assert len([c async for c in guard.watch(up.gen())]) == 3
    assert math.isclose(budget.spent_usd, 110 * IN + 2 * OUT)


async def test_a_stream_passing_its_token_budget_is_stopped_with_the_text_so_far() -> None:
    budget = Budget(tokens=100_000)
    guard = guard_for({}, token_budget=150, budget=budget)  # capped: 43 output tokens = 172 chars
    assert guard.capped_max_tokens == 43
    up = Upstream(words(100))  # a provider ignoring max_tokens
    got: list[str] = []
    with pytest.raises(BudgetExceededError) as info:
        async for chunk in guard.watch(up.gen()):
            got.append(chunk.text)
    err = info.value
    assert up.closed and up.sent == 35  # 35 * 5 = 175 characters > 172: stopped there
    assert len(got) == 34 and err.text == "abcd " * 35  # the chunk that passed it: in text, not yielded
    assert (err.unit, err.limit) == ("tokens", 150) and err.spent == 107 + 175 / 4
    assert "the stream passed token_budget after ~44 output tokens" in str(err)
    assert "limit 150 tokens; spent 151 tokens" in str(err)
    assert budget.spent_tokens == 107 + 43 and budget.snapshot()["reserved_tokens"] == 0


async def test_a_stream_passing_its_cost_ceiling_is_stopped() -> None:
    ceiling = 107 * IN + 20 * OUT
    guard = guard_for({"max_tokens": 10}, cost_ceiling_usd=ceiling)  # 10 fit; 20 allowed by the ceiling
    up = Upstream(words(50, "abcdefgh"))  # 2 tokens a chunk
    with pytest.raises(BudgetExceededError) as info:
        async for _ in guard.watch(up.gen()):
            pass
    err = info.value
    assert err.unit == "usd" and err.limit == ceiling and up.closed and up.sent == 11
    assert math.isclose(err.spent or 0, 107 * IN + 22 * OUT) and err.text == "abcdefgh" * 11
    assert "the stream passed the cost ceiling" in str(err)


async def test_a_shared_budget_room_stops_a_stream() -> None:
    budget = Budget(tokens=1_000)
    other = guard_for({"max_tokens": 500}, budget=budget)  # in flight: 607 reserved
    guard = guard_for({}, budget=budget)  # capped to 1,000 - 607 - 107 = 286
    assert guard.capped_max_tokens == 286
    up = Upstream(words(400))
    with pytest.raises(BudgetExceededError) as info:
        async for _ in guard.watch(up.gen()):
            pass
    assert info.value.limit == 1_000 and "the shared Budget's tokens" in str(info.value) and up.closed
    other.release()
    assert budget.snapshot()["reserved_tokens"] == 0


async def test_reasoning_and_tool_call_arguments_count() -> None:
    guard = guard_for({"max_tokens": 10}, token_budget=117)  # 10 output tokens = 40 characters
    up = Upstream(
        [
            LLMStreamChunk(reasoning="r" * 20),
            LLMStreamChunk(tool_calls=[ToolCallDelta(index=0, id="c", name="look", arguments='{"q": ')]),
            LLMStreamChunk(tool_calls=[ToolCallDelta(index=0, arguments='"' + "a" * 30 + '"}')]),
        ]
    )
    with pytest.raises(BudgetExceededError) as info:
        async for _ in guard.watch(up.gen()):
            pass
    assert up.sent == 3 and up.closed and info.value.text == ""


async def test_a_consumer_stopping_early_closes_upstream_and_charges_what_was_streamed() -> None:
    budget = Budget(tokens=100_000)
    guard = guard_for({"max_tokens": 100}, budget=budget)
    up = Upstream(words(20, "a" * 40))
    watched: Any = guard.watch(up.gen())  # (it has aclose())
    async for _ in watched:
        break
    assert not up.closed
    await watched.aclose()
    assert up.closed and budget.spent_tokens == 107 + 10
    await watched.aclose()  # twice: nothing more
    assert [c async for c in watched] == [] and budget.spent_tokens == 117


async def test_closing_before_the_first_chunk_charges_nothing() -> None:
    budget = Budget(tokens=1_000)
    guard = guard_for({"max_tokens": 100}, budget=budget)
    up = Upstream(words(3))
    watched: Any = guard.watch(up.gen())  # (it has aclose())
    await watched.aclose()
    snap = budget.snapshot()
    assert (snap["spent_tokens"], snap["reserved_tokens"], snap["calls_in_flight"]) == (0, 0, 0)
    assert up.sent == 0 and [c async for c in watched] == []


async def test_a_stream_dropped_unclosed_still_settles() -> None:
    budget = Budget(tokens=1_000)
    guard = guard_for({"max_tokens": 100}, budget=budget)
    up = Upstream(words(3))
    watched: Any = guard.watch(up.gen())  # (it has aclose())
    await watched.__anext__()
    del watched
    gc.collect()
    for _ in range(5):  # asyncio finalizes a dropped async generator with a task
        await asyncio.sleep(0)
    assert budget.snapshot()["calls_in_flight"] == 0 and budget.spent_tokens == 107 + 1
    assert up.closed
    unstarted = Budget(tokens=1_000)
    watched = guard_for({"max_tokens": 100}, budget=unstarted).watch(Upstream(words(3)).gen())
    del watched
    assert unstarted.snapshot()["calls_in_flight"] == 0 and unstarted.spent_tokens == 0


async def test_an_upstream_error_charges_what_it_reported() -> None:
    budget = Budget(tokens=100_000)
    broken = StreamInterruptedError("reset", partial_text="abcd")
    broken.usage = Usage(107, 9)
    up = Upstream([*words(2), broken])
    with pytest.raises(StreamInterruptedError):
        async for _ in guard_for({"max_tokens": 100}, budget=budget).watch(up.gen()):
            pass
    assert budget.spent_tokens == 116 and up.closed
    refused = StreamInterruptedError("refused before any output")
    with pytest.raises(StreamInterruptedError):
        async for _ in guard_for({"max_tokens": 100}, budget=budget).watch(Upstream([refused]).gen()):
            pass
    assert budget.spent_tokens == 116 and budget.snapshot()["calls_in_flight"] == 0  # nothing billed


async def test_cancellation_charges_the_prompt_and_closes_upstream() -> None:
    budget = Budget(tokens=100_000)
    guard = guard_for({"max_tokens": 100}, budget=budget)
    started = asyncio.Event()
    closed: list[bool] = []

    async def slow() -> AsyncIterator[LLMStreamChunk]:
        try:
            started.set()
            await asyncio.sleep(10)
            yield LLMStreamChunk(text="late")
        finally:
            closed.append(True)

    async def consume() -> None:
        async for _ in guard.watch(slow()):
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True] and budget.spent_tokens == 107 and budget.snapshot()["calls_in_flight"] == 0


async def test_watch_refuses_what_is_not_a_stream() -> None:
    budget = Budget(tokens=1_000)
    guard = guard_for({"max_tokens": 100}, budget=budget)
    with pytest.raises(InvalidInputError, match="async iterator, not list"):
        guard.watch([LLMStreamChunk(text="x")])  # type: ignore[arg-type]
    assert budget.snapshot()["calls_in_flight"] == 0
