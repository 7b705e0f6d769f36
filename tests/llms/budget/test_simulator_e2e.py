"""Budgets end to end: a real model (openai/gpt-4.1-mini) through the simulator, driven the way
the client drives CallGuard (open, call with guard.params, settle or release; streams through
watch)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.llms import (
    BaseLLM,
    BudgetExceededError,
    LLMResponse,
    LLMStreamChunk,
    RequestContext,
    create_llm,
)
from core.llms.budget import Budget, CallGuard, check_ctx_budget, estimate_input_tokens
from core.llms.interfaces.messages import normalize_messages
from core.llms.simulator import Simulator

LONG_WORD = "w" * 39
LONG_PROMPT = " ".join([LONG_WORD] * 40)  # 1,599 characters: ~406 tokens by the estimate


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(echo_words=200) as simulator:
        yield simulator


@pytest.fixture
async def llm(sim: Simulator) -> AsyncIterator[BaseLLM]:
    async with create_llm("openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key="k") as model:
        yield model


async def answer(llm: BaseLLM, text: str, ctx: RequestContext | None = None, **limits: Any) -> LLMResponse:
    """What the client does for ``chat``."""
    params = limits.pop("params", {})
    messages = normalize_messages(text)
    guard = CallGuard.open(llm.metadata, messages, params, cost_ceiling_usd=check_ctx_budget(ctx), **limits)
    if guard is None:
        return await llm.get_answer(messages, ctx, **params)
    try:
        response = await llm.get_answer(messages, ctx, **guard.params)
    except BaseException:
        guard.release()
        raise
    guard.settle(response)
    return response


async def test_refused_before_anything_is_sent(llm: BaseLLM, sim: Simulator) -> None:
    with pytest.raises(BudgetExceededError, match=r"needs ~1,0\d\d tokens; limit 500 tokens"):
        await answer(llm, "x" * 4_000, token_budget=500)
    with pytest.raises(BudgetExceededError, match=r"the cost ceiling \(needs ~\$0\.00000\d+; limit"):
        await answer(llm, "hello", RequestContext(budget_usd=1e-9))
    assert sim.request_count == 0
    assert (await answer(llm, "hello", RequestContext(budget_usd=0.01))).text == "Simulated answer to: hello"


async def test_max_tokens_is_capped_on_the_wire(llm: BaseLLM, sim: Simulator) -> None:
    response = await answer(llm, "hello", token_budget=60)
    capped = 60 - estimate_input_tokens(normalize_messages("hello"))
    assert sim.requests[-1].json["max_tokens"] == capped == 52
    assert response.text == "Simulated answer to: hello"


async def test_twenty_concurrent_calls_share_a_budget_without_overshooting(
    llm: BaseLLM, sim: Simulator
) -> None:
    budget = Budget(tokens=600, cost_usd=1.0)
    results = await asyncio.gather(
        *(answer(llm, f"question {i}", budget=budget, params={"max_tokens": 50}) for i in range(20)),
        return_exceptions=True,
    )
    answered = [r for r in results if isinstance(r, LLMResponse)]
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert len(answered) + len(refused) == 20
    assert len(answered) == 10  # each reserved 9 + 50 tokens: ten fit in 600
    assert sim.request_count == 10  # the refused calls sent nothing
    assert budget.spent_tokens == sum(r.usage.total_tokens for r in answered if r.usage) == 140
    assert budget.spent_usd == pytest.approx(sum(r.cost or 0 for r in answered))
    assert budget.snapshot()["reserved_tokens"] == 0 and budget.remaining_tokens == 460
    assert all("the shared Budget's tokens" in str(e) for e in refused)


async def test_a_long_stream_is_stopped_mid_way(llm: BaseLLM, sim: Simulator) -> None:
    budget = Budget(tokens=10_000)
    messages = normalize_messages(LONG_PROMPT)
    prompt = estimate_input_tokens(messages)
    guard = CallGuard.open(llm.metadata, messages, {}, token_budget=prompt + 100, budget=budget)
    assert guard is not None and guard.capped_max_tokens == 100
    closed: list[bool] = []

    async def upstream() -> AsyncIterator[LLMStreamChunk]:  # the model's stream, watched for closing
        try:
            async for chunk in llm.stream_answer(messages, None, **guard.params):
                yield chunk
        finally:
            closed.append(True)

    received: list[str] = []
    with pytest.raises(BudgetExceededError) as info:
        async for chunk in guard.watch(upstream()):
            received.append(chunk.text)
    err = info.value
    full = f"Simulated answer to: {LONG_PROMPT}"  # 43 words: within max_tokens for the simulator
    assert closed == [True]
    assert err.text.startswith("".join(received)) and full.startswith(err.text)
    assert 400 < len(err.text) < len(full) // 2  # ~100 tokens of 4 characters: stopped mid-way
    assert (err.unit, err.limit) == ("tokens", prompt + 100) and (err.spent or 0) > prompt + 100
    assert budget.snapshot()["reserved_tokens"] == 0 and budget.spent_tokens == prompt + len(err.text) // 4
    # the connection was given back: the model serves the next call
    assert (await llm.get_answer("hello")).text == "Simulated answer to: hello"


async def test_a_stream_within_budget_is_charged_its_reported_usage(llm: BaseLLM) -> None:
    budget = Budget(cost_usd=0.5)
    messages = normalize_messages("how are you")
    guard = CallGuard.open(llm.metadata, messages, {"max_tokens": 100}, budget=budget)
    assert guard is not None
    chunks = [c async for c in guard.watch(llm.stream_answer(messages, None, **guard.params))]
    assert "".join(c.text for c in chunks) == "Simulated answer to: how are you"
    usage, cost = chunks[-1].usage, chunks[-1].cost
    assert usage is not None and cost is not None
    assert (budget.spent_tokens, budget.spent_usd) == (usage.total_tokens, cost)
    assert budget.snapshot()["calls_in_flight"] == 0
