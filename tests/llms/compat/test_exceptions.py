"""LiteLLM's exception names: subclasses of the core tree, catchable under both names, built
with LiteLLM's arguments, and what each HTTP failure comes out as (through the simulator)."""

from __future__ import annotations

import pytest

import core.llms as core
from core.llms import compat
from core.llms.compat.exceptions import to_compat
from core.llms.fallback import AllModelsFailedError
from core.llms.interfaces.errors import AttemptRecord
from core.llms.simulator import Fault, Simulator

from .support import openai_at, user

PAIRS = [
    (compat.AuthenticationError, core.AuthenticationError),
    (compat.PermissionDeniedError, core.PermissionDeniedError),
    (compat.NotFoundError, core.NotFoundError),
    (compat.BadRequestError, core.BadRequestError),
    (compat.UnprocessableEntityError, core.BadRequestError),
    (compat.ContextWindowExceededError, core.ContextWindowExceededError),
    (compat.ContentPolicyViolationError, core.ContentFilterError),
    (compat.RateLimitError, core.RateLimitError),
    (compat.Timeout, core.RequestTimeoutError),
    (compat.APIConnectionError, core.APIConnectionError),
    (compat.ServiceUnavailableError, core.ServiceUnavailableError),
    (compat.InternalServerError, core.ServiceUnavailableError),
    (compat.BadGatewayError, core.ServiceUnavailableError),
    (compat.APIResponseValidationError, core.ResponseParsingError),
    (compat.BudgetExceededError, core.BudgetExceededError),
    (compat.UnknownModelError, core.UnknownModelError),
]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_each_name_is_a_subclass_of_the_core_class(ours: type, theirs: type) -> None:
    assert issubclass(ours, theirs) and issubclass(ours, compat.OpenAIError)
    assert compat.exceptions.__dict__[ours.__name__] is ours  # (also under .exceptions)


def test_litellm_hierarchy() -> None:
    assert issubclass(compat.ContextWindowExceededError, compat.BadRequestError)
    assert issubclass(compat.ContentPolicyViolationError, compat.BadRequestError)
    assert issubclass(compat.UnsupportedParamsError, compat.BadRequestError)
    assert issubclass(compat.UnknownModelError, compat.NotFoundError)
    assert issubclass(compat.UnknownModelError, compat.BadRequestError)
    assert issubclass(compat.JSONSchemaValidationError, compat.APIResponseValidationError)
    assert compat.InvalidRequestError is compat.BadRequestError


def test_litellm_constructors() -> None:
    err = compat.RateLimitError("slow down", "openai", "gpt-4o")
    assert (err.message, err.llm_provider, err.model, err.status_code) == (
        "slow down",
        "openai",
        "gpt-4o",
        429,
    )
    assert compat.NotFoundError(message="gone", model="m", llm_provider="p").status_code == 404
    api = compat.APIError(418, "teapot", "openai", "m")
    assert api.status_code == 418 and api.status == 418
    budget = compat.BudgetExceededError(current_cost=2.5, max_budget=2.0)
    assert (
        budget.current_cost == 2.5 and budget.max_budget == 2.0 and "Budget has been exceeded" in str(budget)
    )
    assert compat.Timeout("t", "m", "p").status_code == 408
    assert (
        compat.JSONSchemaValidationError(
            model="m", llm_provider="p", raw_response="{}", schema="{}"
        ).raw_response
        == "{}"
    )
    with pytest.raises(core.InvalidInputError):
        compat.RateLimitError("a", "b", "c", None, "too many")


def test_conversion_keeps_everything_and_combines_classes() -> None:
    error = core.ServiceUnavailableError(
        "gateway timeout", status=504, provider="openai", endpoint="https://x"
    )
    converted = to_compat(error)
    assert isinstance(converted, compat.Timeout) and isinstance(converted, core.ServiceUnavailableError)
    assert type(converted).__name__ == "Timeout"
    assert (converted.status_code, converted.llm_provider, converted.endpoint) == (504, "openai", "https://x")
    assert to_compat(converted) is converted
    assert type(to_compat(core.ServiceUnavailableError("x", status=500))) is compat.InternalServerError
    assert type(to_compat(core.BadRequestError("x", status=422))) is compat.UnprocessableEntityError
    unknown = to_compat(core.InvalidInputError("unknown parameter 'foo' for gpt-4o"))
    assert isinstance(unknown, compat.UnsupportedParamsError) and isinstance(unknown, core.InvalidInputError)
    # an exhausted fallback chain is named by its last error, and stays what it was
    chain = AllModelsFailedError(
        "all failed",
        models=["a/x", "b/y"],
        errors=[core.RateLimitError("r", status=429), core.ServiceUnavailableError("s", status=503)],
    )
    converted = to_compat(chain)
    assert isinstance(converted, compat.ServiceUnavailableError) and isinstance(
        converted, AllModelsFailedError
    )
    assert converted.status_code == 503 and converted.attempts == chain.attempts
    skipped = core.AllEndpointsFailedError("skipped", attempts=[AttemptRecord("e", 1, None, skipped=True)])
    assert isinstance(to_compat(skipped), compat.ServiceUnavailableError)
    broken = core.StreamInterruptedError("cut", partial_text="Hel", cause=core.APIConnectionError("reset"))
    converted = to_compat(broken)
    assert isinstance(converted, compat.APIConnectionError) and converted.partial_text == "Hel"  # type: ignore[attr-defined]


async def test_status_mapping_through_the_simulator(sim: Simulator) -> None:
    at = openai_at(sim)
    cases = [
        (Fault(status=401), compat.AuthenticationError, 401),
        (Fault(status=403), compat.PermissionDeniedError, 403),
        (Fault(status=404), compat.NotFoundError, 404),
        (Fault(status=400), compat.BadRequestError, 400),
        (Fault(status=429), compat.RateLimitError, 429),
        (Fault(status=500), compat.InternalServerError, 500),
        (Fault(status=502), compat.BadGatewayError, 502),
        (Fault(status=503), compat.ServiceUnavailableError, 503),
    ]
    for fault, cls, status in cases:
        sim.enqueue(fault)
        with pytest.raises(cls) as caught:
            await compat.acompletion("openai/gpt-4o-mini", user(), num_retries=0, **at)
        assert caught.value.status_code == status
        assert caught.value.llm_provider == "openai" and caught.value.model == "gpt-4o-mini"
        assert "sk-test" not in str(caught.value) and "sk-test" not in repr(caught.value)


async def test_context_window_and_timeout(sim: Simulator) -> None:
    small = Simulator(context_chars=50)
    async with small:
        with pytest.raises(compat.ContextWindowExceededError) as caught:
            await compat.acompletion("openai/gpt-4o-mini", user("x" * 200), **openai_at(small))
        assert isinstance(caught.value, core.ContextWindowExceededError)
    sim.enqueue(Fault(delay=2.0))
    with pytest.raises(compat.Timeout) as timed_out:
        await compat.acompletion("openai/gpt-4o-mini", user(), timeout=0.2, num_retries=0, **openai_at(sim))
    assert isinstance(timed_out.value, core.RequestTimeoutError)


async def test_wrong_key_and_refused_connection() -> None:
    async with Simulator(api_key="right") as sim:
        with pytest.raises(compat.AuthenticationError):
            await compat.acompletion("openai/gpt-4o-mini", user(), api_base=f"{sim.url}/v1", api_key="wrong")
        url = sim.url
    with pytest.raises(compat.APIConnectionError):
        await compat.acompletion(
            "openai/gpt-4o-mini", user(), api_base=f"{url}/v1", api_key="k", num_retries=0
        )


async def test_missing_key_is_an_authentication_error() -> None:
    with pytest.raises(compat.AuthenticationError) as caught:
        await compat.acompletion("openai/gpt-4o-mini", user())
    assert isinstance(caught.value, core.ConfigurationError) and "OPENAI_API_KEY" in str(caught.value)


async def test_unknown_names() -> None:
    with pytest.raises(compat.UnknownModelError) as caught:
        await compat.acompletion("nosuchprovider-model-xyz", user())
    assert isinstance(caught.value, compat.BadRequestError) and isinstance(
        caught.value, core.UnknownModelError
    )
    with pytest.raises(compat.BadRequestError, match="legacy Completions"):
        await compat.acompletion("text-completion-openai/gpt-3.5-turbo-instruct", user())
