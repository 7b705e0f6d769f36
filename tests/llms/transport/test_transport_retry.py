"""RetryPolicy.backoff and the retry / failover decision (pure, no network)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.llms.interfaces.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ContentFilterError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParsingError,
    ServiceUnavailableError,
)
from core.llms.providers.base import retry
from core.llms.providers.base.retry import Decision, RetryPolicy, decide

# -- backoff ---------------------------------------------------------------------------------------


def test_backoff_without_jitter_is_capped_exponential() -> None:
    p = RetryPolicy(backoff_initial=0.5, backoff_multiplier=2.0, backoff_max=8.0, jitter=0.0)
    assert [p.backoff(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert p.backoff(10_000) == 8.0  # no overflow for absurd retry numbers


@given(n=st.integers(min_value=1, max_value=200), jitter=st.floats(min_value=0, max_value=1))
def test_backoff_jitter_bounds(n: int, jitter: float) -> None:
    p = RetryPolicy(backoff_initial=0.5, backoff_max=8.0, jitter=jitter)
    base = min(8.0, 0.5 * 2.0 ** (n - 1))
    delay = p.backoff(n)
    assert base * (1 - jitter) - 1e-12 <= delay <= base + 1e-12
    assert delay <= p.backoff_max


def test_backoff_jitter_extremes(monkeypatch: pytest.MonkeyPatch) -> None:
    p = RetryPolicy(backoff_initial=1.0, jitter=0.25)
    monkeypatch.setattr(retry, "_random", lambda: 0.0)
    assert p.backoff(1) == 1.0
    monkeypatch.setattr(retry, "_random", lambda: 1.0)
    assert p.backoff(1) == 0.75


def test_backoff_is_actually_random() -> None:
    p = RetryPolicy(jitter=0.25)
    assert len({p.backoff(3) for _ in range(50)}) > 1


@pytest.mark.parametrize(
    "kw",
    [
        {"max_retries": -1},
        {"backoff_initial": -0.1},
        {"backoff_multiplier": 0.5},
        {"jitter": 1.5},
        {"max_retry_after": -1},
        {"rate_limit": "sometimes"},
    ],
)
def test_policy_rejects_bad_values(kw: dict[str, object]) -> None:
    field = next(iter(kw))
    with pytest.raises(ConfigurationError, match=field):
        RetryPolicy(**kw)  # type: ignore[arg-type]


def test_backoff_rejects_retry_number_zero() -> None:
    with pytest.raises(ConfigurationError, match="retry_number"):
        RetryPolicy().backoff(0)


# -- decide ---------------------------------------------------------------------------------------

P = RetryPolicy(max_retries=2, backoff_initial=0.5, jitter=0.0, max_retry_after=60.0)


def d(
    error: LLMError,
    *,
    retries_done: int = 0,
    has_next: bool = False,
    remaining: float | None = None,
    policy: RetryPolicy = P,
) -> Decision:
    return decide(error, policy, retries_done=retries_done, has_next=has_next, remaining=remaining)


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError("bad"),
        AuthenticationError("no"),
        PermissionDeniedError("no"),
        NotFoundError("gone"),
        ContentFilterError("filtered"),
        ResponseParsingError("garbled"),
    ],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("has_next", [False, True])
def test_non_retryable_errors_raise_at_once(error: LLMError, has_next: bool) -> None:
    assert d(error, has_next=has_next).action == "raise"


@pytest.mark.parametrize(
    "error",
    [APIConnectionError("x"), RequestTimeoutError("x"), ServiceUnavailableError("x", status=503)],
    ids=lambda e: type(e).__name__,
)
def test_failover_class_errors_fail_over_at_once_when_a_backup_exists(error: LLMError) -> None:
    assert d(error, has_next=True) == Decision("failover", reason=type(error).__name__)


@pytest.mark.parametrize(
    "error",
    [APIConnectionError("x"), ServiceUnavailableError("x"), ConflictError("x")],
    ids=lambda e: type(e).__name__,
)
def test_last_endpoint_retries_with_backoff_then_gives_up(error: LLMError) -> None:
    assert d(error, retries_done=0) == Decision("retry", 0.5, "retry in 0.5s")
    assert d(error, retries_done=1).delay == 1.0
    assert d(error, retries_done=2).action == "give_up"


def test_conflict_is_retried_here_even_with_a_backup_and_never_failed_over() -> None:
    assert d(ConflictError("x"), has_next=True).action == "retry"
    assert d(ConflictError("x"), has_next=True, retries_done=2).action == "give_up"


def test_503_retry_after_is_honoured_on_the_last_endpoint() -> None:
    assert d(ServiceUnavailableError("x", retry_after=3.0)).delay == 3.0
    assert d(ServiceUnavailableError("x", retry_after=300.0)).action == "give_up"


def test_rate_limit_waits_for_retry_after_by_default() -> None:
    assert d(RateLimitError("slow down", retry_after=2.5), has_next=True) == Decision(
        "retry", 2.5, "retry in 2.5s"
    )
    # no Retry-After: the backoff
    assert d(RateLimitError("slow down"), retries_done=1).delay == 1.0


def test_rate_limit_retry_after_zero_retries_immediately() -> None:
    assert d(RateLimitError("x", retry_after=0.0)) == Decision("retry", 0.0, "retry in 0s")


def test_rate_limit_failover_policy() -> None:
    policy = RetryPolicy(rate_limit="failover")
    assert d(RateLimitError("x", retry_after=1), has_next=True, policy=policy).action == "failover"
    # without a backup the policy falls back to waiting
    assert d(RateLimitError("x", retry_after=1), has_next=False, policy=policy).action == "retry"


def test_rate_limit_retries_exhausted() -> None:
    err = RateLimitError("x", retry_after=1)
    assert d(err, retries_done=2, has_next=True).action == "failover"
    assert d(err, retries_done=2, has_next=False).action == "give_up"


def test_rate_limit_retry_after_too_long() -> None:
    err = RateLimitError("x", retry_after=61)
    assert d(err, has_next=True).action == "failover"
    decision = d(err, has_next=False)
    assert decision.action == "give_up"
    assert "max_retry_after" in decision.reason


def test_rate_limit_retry_after_beyond_deadline() -> None:
    err = RateLimitError("x", retry_after=5)
    assert d(err, has_next=True, remaining=4.0).action == "failover"
    assert d(err, has_next=False, remaining=4.0).action == "give_up"
    assert d(err, has_next=False, remaining=6.0).action == "retry"


def test_backoff_beyond_deadline_gives_up_or_fails_over() -> None:
    assert d(APIConnectionError("x"), remaining=0.2).action == "give_up"
    assert d(ConflictError("x"), remaining=0.2, has_next=True).action == "give_up"  # 409 never fails over
