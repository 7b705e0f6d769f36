"""CallGuard and Budget at unit level: the estimate, preflight refusals (with the figures in the
message), capping, a shared budget's reservations (never overshot, also from threads),
settle / release, typed errors, and a model without prices. Real catalogue metadata."""

from __future__ import annotations

import asyncio
import math
import random
import threading
from typing import Any

import pytest

from core.llms import (
    BudgetExceededError,
    InvalidInputError,
    LLMResponse,
    Message,
    RequestContext,
    Usage,
    create_llm,
    default_registry,
)
from core.llms.budget import Budget, CallGuard, check_ctx_budget, estimate_input_tokens
from core.llms.interfaces.messages import FunctionCall, ImagePart, ToolCall

META = default_registry().metadata("openai/gpt-4.1-mini")  # $0.40 / $1.60 per 1M, 32,768 output
IN, OUT = META.pricing.input_per_1m / 1e6, META.pricing.output_per_1m / 1e6
PROMPT = [Message.user("x" * 400)]  # 400 / 4 + 4 per message + 3 priming = 107 tokens
UNPRICED = default_registry().metadata("groq/a-model-outside-the-catalogue")


def open_guard(params: dict[str, Any] | None = None, **limits: Any) -> CallGuard:
    guard = CallGuard.open(META, PROMPT, params or {}, **limits)
    assert guard is not None
    return guard


# -- the estimate -----------------------------------------------------------------------------


async def test_the_estimate_counts_as_the_models_own_check() -> None:
    call = ToolCall("c1", FunctionCall("lookup", '{"city": "Paris"}'))
    cases = [
        PROMPT,
        [Message.system("be brief"), Message.user("hello there", ImagePart(url="https://x.test/a.png"))],
        [Message.user("weather?"), Message.assistant("", [call]), Message.tool("c1", "sunny")],
        [],
    ]
    async with create_llm("openai/gpt-4.1-mini", endpoint="http://127.0.0.1:9/v1", api_key="k") as llm:
        for messages in cases:
            assert estimate_input_tokens(messages) == llm._estimate_tokens(messages)
    assert estimate_input_tokens(PROMPT) == 107
    assert estimate_input_tokens(cases[1]) == 8 // 4 + 11 // 4 + 765 + 2 * 4 + 3


def test_the_estimate_refuses_what_is_not_a_message() -> None:
    with pytest.raises(InvalidInputError, match="Message objects, not str"):
        estimate_input_tokens(["hello"])  # type: ignore[list-item]


def test_ctx_budget_usd_is_a_per_call_ceiling() -> None:
    assert check_ctx_budget(None) is None
    assert check_ctx_budget(RequestContext()) is None
    assert check_ctx_budget(RequestContext(budget_usd=0.25)) == 0.25
    with pytest.raises(InvalidInputError, match="RequestContext"):
        check_ctx_budget({"budget_usd": 1})  # type: ignore[arg-type]


# -- before the call --------------------------------------------------------------------------


def test_no_limit_is_the_fast_path() -> None:
    assert CallGuard.open(META, PROMPT, {"max_tokens": 10}) is None


def test_a_prompt_over_a_token_budget_is_refused_with_its_figures() -> None:
    with pytest.raises(BudgetExceededError) as info:
        CallGuard.open(META, PROMPT, {}, token_budget=100)
    err = info.value
    assert (err.unit, err.limit, err.estimate, err.spent, err.text) == ("tokens", 100, 107, 0, "")
    assert "the prompt alone does not fit token_budget (needs ~107 tokens; limit 100 tokens)" in str(err)
    assert (err.provider, err.model) == ("openai", "gpt-4.1-mini") and "token_budget" in (err.hint or "")


def test_a_prompt_over_a_cost_ceiling_is_refused_with_its_figures() -> None:
    with pytest.raises(BudgetExceededError) as info:
        CallGuard.open(META, PROMPT, {}, cost_ceiling_usd=0.00001)
    err = info.value
    assert err.unit == "usd" and err.limit == 0.00001 and math.isclose(err.estimate or 0, 107 * IN)
    assert "(needs ~$0.0000428; limit $0.0000100)" in str(err)


@pytest.mark.parametrize("key", ["max_tokens", "max_completion_tokens", "max_output_tokens"])
def test_a_given_max_tokens_that_cannot_fit_is_refused(key: str) -> None:
    with pytest.raises(BudgetExceededError, match=rf"the prompt \+ {key} 500 .*needs ~607 tokens; limit 300"):
        CallGuard.open(META, PROMPT, {key: 500}, token_budget=300)
    guard = open_guard({key: 193}, token_budget=300)  # exactly fits: sent as given
    assert guard.params == {key: 193} and guard.capped_max_tokens is None and guard.max_output_tokens == 193


def test_a_given_max_tokens_over_a_cost_ceiling_is_refused() -> None:
    ceiling = 107 * IN + 1000 * OUT
    with pytest.raises(BudgetExceededError, match="max_tokens 2,000") as info:
        CallGuard.open(META, PROMPT, {"max_tokens": 2000}, cost_ceiling_usd=ceiling)
    assert info.value.unit == "usd" and math.isclose(info.value.estimate or 0, 107 * IN + 2000 * OUT)


def test_max_tokens_not_given_is_capped_to_what_fits() -> None:
    params = {"temperature": 0}
    guard = open_guard(params, token_budget=300)
    assert guard.capped_max_tokens == 193 and guard.params == {"temperature": 0, "max_tokens": 193}
    assert params == {"temperature": 0}  # the caller's mapping is left alone
    guard = open_guard(cost_ceiling_usd=107 * IN + 1000 * OUT)  # dollars: 1,000 output tokens fit
    assert guard.capped_max_tokens == 1000
    guard = open_guard(token_budget=100_000)  # the model's own maximum fits: nothing to cap
    assert guard.capped_max_tokens is None and guard.params == {} and guard.max_output_tokens == 32_768


def test_capping_below_one_token_is_refused() -> None:
    with pytest.raises(BudgetExceededError, match="the prompt \\+ any answer does not fit") as info:
        CallGuard.open(META, PROMPT, {}, token_budget=107)
    assert "not even one output token" in (info.value.hint or "")


def test_a_cost_limit_on_a_model_without_prices_is_refused() -> None:
    assert not UNPRICED.pricing.known
    with pytest.raises(BudgetExceededError, match="has no price, so a cost limit cannot be enforced") as info:
        CallGuard.open(UNPRICED, PROMPT, {}, cost_ceiling_usd=1.0)
    assert info.value.unit == "usd" and info.value.limit == 1.0
    with pytest.raises(BudgetExceededError, match="has no price"):
        CallGuard.open(UNPRICED, PROMPT, {}, budget=Budget(cost_usd=5.0))
    guard = CallGuard.open(UNPRICED, PROMPT, {}, token_budget=1_000)  # tokens still work
    assert guard is not None and guard.capped_max_tokens == 1_000 - 107


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"token_budget": -1}, "token_budget must be an integer >= 0"),
        ({"token_budget": True}, "token_budget must be an integer >= 0"),
        ({"token_budget": 10.5}, "token_budget must be an integer >= 0"),
        ({"token_budget": "100"}, "token_budget must be an integer >= 0"),
        ({"cost_ceiling_usd": -0.5}, "cost_ceiling_usd must be a number >= 0"),
        ({"cost_ceiling_usd": float("nan")}, "cost_ceiling_usd must be a number >= 0"),
        ({"cost_ceiling_usd": float("inf")}, "cost_ceiling_usd must be a number >= 0"),
        ({"cost_ceiling_usd": False}, "cost_ceiling_usd must be a number >= 0"),
        ({"budget": {"tokens": 5}}, "budget must be a Budget, not dict"),
    ],
)
def test_bad_limits_are_typed_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        CallGuard.open(META, PROMPT, {}, **kwargs)


@pytest.mark.parametrize("value", [0, -3, True, "100", 12.0])
def test_a_bad_max_tokens_is_a_typed_error(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="max_tokens must be an integer >= 1"):
        CallGuard.open(META, PROMPT, {"max_tokens": value}, token_budget=1_000)


def test_bad_call_arguments_are_typed_errors() -> None:
    with pytest.raises(InvalidInputError, match="metadata must be a ModelMetadata"):
        CallGuard.open("gpt-4.1-mini", PROMPT, {}, token_budget=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="params must be a mapping"):
        CallGuard.open(META, PROMPT, [("max_tokens", 1)], token_budget=1)  # type: ignore[arg-type]


def test_settle_refuses_what_is_not_a_result() -> None:
    guard = open_guard(token_budget=1_000)
    with pytest.raises(InvalidInputError, match="settle\\(\\) takes an LLMResponse or a Usage, not str"):
        guard.settle("done")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tokens": -1}, "tokens"),
        ({"tokens": True}, "tokens"),
        ({"tokens": 1.5}, "tokens"),
        ({"tokens": "10"}, "tokens"),
        ({"cost_usd": float("nan")}, "cost_usd"),
        ({"cost_usd": -1}, "cost_usd"),
        ({"cost_usd": float("inf")}, "cost_usd"),
        ({"cost_usd": True}, "cost_usd"),
        ({"cost_usd": "5"}, "cost_usd"),
    ],
)
def test_bad_budgets_are_typed_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match) as info:
        Budget(**kwargs)
    assert isinstance(info.value, ValueError)


# -- a shared budget --------------------------------------------------------------------------


def test_reservation_then_settle_with_the_usage() -> None:
    budget = Budget(tokens=10_000, cost_usd=1.0)
    guard = open_guard({"max_tokens": 900}, budget=budget)
    snap = budget.snapshot()
    assert (snap["reserved_tokens"], snap["calls_in_flight"]) == (1007, 1)
    assert math.isclose(snap["reserved_usd"], 107 * IN + 900 * OUT)
    assert budget.remaining_tokens == 10_000 - 1007 and budget.spent_tokens == 0
    guard.settle(Usage(input_tokens=100, output_tokens=50))
    assert (budget.spent_tokens, budget.remaining_tokens) == (150, 9_850)
    assert math.isclose(budget.spent_usd, 100 * IN + 50 * OUT)
    guard.settle(Usage(input_tokens=1, output_tokens=1))  # only the first settle counts
    guard.release()
    snap = budget.snapshot()
    assert snap["spent_tokens"] == 150 and snap["reserved_tokens"] == 0 and snap["calls_settled"] == 1


def test_settle_with_a_response_uses_its_cost_or_the_prices() -> None:
    budget = Budget(cost_usd=1.0)
    response = LLMResponse(text="hi", model="gpt-4.1-mini", provider="openai", usage=Usage(120, 30), cost=0.5)
    open_guard({"max_tokens": 100}, budget=budget).settle(response)
    assert budget.spent_usd == 0.5 and budget.spent_tokens == 150
    response.cost = None
    open_guard({"max_tokens": 100}, budget=budget).settle(response)
    assert math.isclose(budget.spent_usd, 0.5 + 120 * IN + 30 * OUT)


def test_settle_without_usage_charges_the_estimate() -> None:
    budget = Budget(tokens=100_000)
    open_guard({"max_tokens": 100}, budget=budget).settle(
        LLMResponse(text="y" * 80, model="m", provider="p", reasoning="z" * 40)
    )
    assert budget.spent_tokens == 107 + 30  # the prompt + 120 characters / 4
    open_guard({"max_tokens": 100}, budget=budget).settle(None)  # nothing known: the reservation
    assert budget.spent_tokens == 137 + 207


def test_release_gives_the_reservation_back_or_charges_what_the_error_reported() -> None:
    budget = Budget(tokens=10_000)
    open_guard({"max_tokens": 900}, budget=budget).release()
    assert budget.spent_tokens == 0 and budget.remaining_tokens == 10_000
    open_guard({"max_tokens": 900}, budget=budget).release(Usage(100, 7))
    assert budget.spent_tokens == 107
    guard = open_guard({"max_tokens": 900}, budget=budget)
    error = BudgetExceededError("stopped")
    error.usage = Usage(10, 3)
    try:
        raise error
    except BudgetExceededError:
        guard.release()  # the usage of the error being handled
    assert budget.spent_tokens == 120 and budget.snapshot()["reserved_tokens"] == 0


def test_a_spent_budget_refuses_and_says_how_much_is_spent() -> None:
    budget = Budget(tokens=1_000)
    open_guard({"max_tokens": 800}, budget=budget).settle(Usage(500, 400))
    with pytest.raises(BudgetExceededError) as info:
        open_guard(budget=budget)
    err = info.value
    assert (err.limit, err.spent, err.estimate) == (1_000, 900, 107)
    assert "the shared Budget's tokens (needs ~107 tokens; limit 1,000 tokens; spent 900" in str(err)
    guard = open_guard(budget=Budget(tokens=1_000))  # no max_tokens: capped to the room left
    assert guard.capped_max_tokens == 1_000 - 107


def test_a_budget_without_limits_only_counts() -> None:
    budget = Budget()
    guard = open_guard(budget=budget)
    assert guard.capped_max_tokens is None and budget.remaining_tokens is None
    guard.settle(Usage(10, 5))
    assert (budget.spent_tokens, budget.remaining_usd) == (15, None)
    assert "spent_tokens=15" in repr(budget)


async def test_twenty_concurrent_calls_never_overshoot() -> None:
    budget = Budget(tokens=3_000, cost_usd=0.002)
    peak: list[int] = []

    async def call(i: int) -> int:
        guard = open_guard({"max_tokens": 200 + i}, budget=budget)
        snap = budget.snapshot()
        peak.append(snap["spent_tokens"] + snap["reserved_tokens"])
        await asyncio.sleep(random.random() / 100)
        used = Usage(100 + i, random.randint(0, 200 + i))
        guard.settle(used)
        return used.total_tokens

    results = await asyncio.gather(*(call(i) for i in range(20)), return_exceptions=True)
    done = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert len(done) + len(refused) == 20 and done and refused
    assert max(peak) <= 3_000 and budget.spent_tokens == sum(done) <= 3_000
    assert budget.spent_usd <= 0.002 and budget.snapshot()["calls_in_flight"] == 0


def test_threads_sharing_a_budget_never_overshoot() -> None:
    budget = Budget(tokens=50_000)
    over: list[int] = []

    def worker() -> None:
        for _ in range(300):
            try:
                guard = open_guard({"max_tokens": 50}, budget=budget)
            except BudgetExceededError:
                continue
            snap = budget.snapshot()
            if snap["spent_tokens"] + snap["reserved_tokens"] > 50_000:
                over.append(snap["spent_tokens"])
            guard.settle(Usage(107, 50))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = budget.snapshot()
    assert not over and snap["spent_tokens"] <= 50_000 and snap["reserved_tokens"] == 0
    assert snap["spent_tokens"] == 157 * snap["calls_settled"] and snap["spent_tokens"] > 50_000 - 157
