"""Retry policy and the retry / failover decision for one failed attempt.

:class:`RetryPolicy` holds the knobs; :func:`decide` is the whole decision as one readable chain,
a pure function of the error, the policy and the call's situation, so every rule has its own
test. :class:`~core.llms.providers.base.failover.FailoverConnector` carries the decision out
(the table of rules is in its module docstring).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ...interfaces.context import RequestContext
from ...interfaces.errors import ConfigurationError, LLMError, RateLimitError

__all__ = ["Action", "Decision", "RetryIf", "RetryPolicy", "decide", "decide_with_hook"]

#: ``retry_if(error, attempt, ctx)``: True retries, False raises now, None keeps the rules.
RetryIf: TypeAlias = Callable[[LLMError, int, RequestContext | None], bool | None]

#: what to do after a failed attempt.
#: ``raise`` - raise this error now (it would fail the same way anywhere);
#: ``retry`` - sleep ``delay`` seconds, then try the same endpoint again;
#: ``failover`` - try the next endpoint now;
#: ``give_up`` - stop: the error itself with one endpoint, ``AllEndpointsFailedError`` with backups.
Action = Literal["raise", "retry", "failover", "give_up"]

_random = random.random  # module attribute so tests can pin the jitter


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry, and what a rate limit does when a backup exists.

    ``max_retries`` counts *extra* tries on one endpoint (so ``2`` means up to three tries
    there); it applies only where retrying the same endpoint is right (see :func:`decide`).

    ``retry_if(error, attempt, ctx)`` is the caller's say, asked after each failed attempt
    (``attempt``: its 1-based number within the call, all endpoints counted) before the rules:
    ``None`` leaves the decision to the rules, ``False`` raises the error at once (no retry, no
    failover), ``True`` retries even an error the rules would raise (a 400 the caller knows to
    be passing) — on the same endpoint while ``max_retries`` allows, then on the next endpoint,
    never past the deadline. A stream that failed after its first chunk is never retried, so
    the hook is not asked then. An exception the hook raises propagates as it is.
    """

    max_retries: int = 2
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    backoff_multiplier: float = 2.0
    #: fraction of the delay that is randomised away: the delay is in ``[d * (1 - jitter), d]``.
    jitter: float = 0.25
    #: never sleep longer than this for a Retry-After; a longer one moves on or gives up.
    max_retry_after: float = 60.0
    #: what a 429 does when a backup endpoint exists: wait and retry here, or fail over at once.
    rate_limit: Literal["retry", "failover"] = "retry"
    #: the caller's retry hook (see above), or None.
    retry_if: RetryIf | None = None

    def __post_init__(self) -> None:
        retries = self.max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigurationError(
                f"RetryPolicy.max_retries must be an integer >= 0, got {_shown(retries)}"
            )
        for name in ("backoff_initial", "backoff_max", "backoff_multiplier", "jitter", "max_retry_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise ConfigurationError(f"RetryPolicy.{name} must be a number, got {_shown(value)}")
        if self.backoff_initial < 0 or self.backoff_max < 0 or self.max_retry_after < 0:
            raise ConfigurationError(
                "RetryPolicy.backoff_initial, backoff_max and max_retry_after must be >= 0, got "
                f"{self.backoff_initial}, {self.backoff_max}, {self.max_retry_after}"
            )
        if self.backoff_multiplier < 1:
            raise ConfigurationError(
                f"RetryPolicy.backoff_multiplier must be >= 1, got {self.backoff_multiplier}"
            )
        if not 0 <= self.jitter <= 1:
            raise ConfigurationError(f"RetryPolicy.jitter must be within [0, 1], got {self.jitter}")
        if self.retry_if is not None and not callable(self.retry_if):
            raise ConfigurationError(
                f"RetryPolicy.retry_if must be a function (error, attempt, ctx) -> bool | None, "
                f"not {type(self.retry_if).__name__}"
            )
        if self.rate_limit not in ("retry", "failover"):
            raise ConfigurationError(
                f"RetryPolicy.rate_limit must be 'retry' or 'failover', got {_shown(self.rate_limit)}"
            )

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 = the first retry).

        ``backoff_initial * backoff_multiplier ** (retry_number - 1)``, capped at ``backoff_max``,
        then reduced by a random fraction of at most ``jitter`` (so it never exceeds the cap and
        concurrent callers do not retry in lock-step).
        """
        if retry_number < 1:
            raise ConfigurationError(f"retry_number starts at 1, got {retry_number}")
        exponent = min(retry_number - 1, 64)  # past this the cap has long been reached
        delay = min(self.backoff_max, self.backoff_initial * self.backoff_multiplier**exponent)
        return delay * (1.0 - self.jitter * _random())


def _shown(value: object) -> str:
    return (
        repr(value)
        if isinstance(value, int | float | str) and len(repr(value)) <= 40
        else type(value).__name__
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`decide`: an action, the sleep before a retry, and why (for logs)."""

    action: Action
    delay: float = 0.0
    reason: str = ""


def decide(
    error: LLMError,
    policy: RetryPolicy,
    *,
    retries_done: int,
    has_next: bool,
    remaining: float | None,
) -> Decision:
    """What to do after ``error`` on an endpoint.

    ``retries_done`` is how many times this endpoint was already retried in this call;
    ``has_next`` whether a later endpoint can still be tried (its breaker would let a request
    through now: not open, and no half-open probe of it in flight);
    ``remaining`` the seconds left before the call's deadline (``None``: no deadline).
    """
    # 1. An error every endpoint would repeat (400/401/403/404, content filter, unreadable
    #    response): raise it now, without retrying or failing over.
    if not (error.retryable or error.failover):
        return Decision("raise", reason=f"{type(error).__name__} is not retryable")

    # 2. Rate limited: the endpoint is healthy but busy. By policy either move on to a backup
    #    at once, or wait for Retry-After (or the backoff) and try the same endpoint again.
    if isinstance(error, RateLimitError):
        if policy.rate_limit == "failover" and has_next:
            return Decision("failover", reason="rate limited (policy: failover)")
        return _retry_here(error, policy, retries_done, remaining, move_on=has_next)

    # 3. The endpoint looks down (connection, timeout, 5xx/529) and a backup exists: fail over
    #    at once. No same-endpoint retry, so a dead region costs about nothing.
    if error.failover and has_next:
        return Decision("failover", reason=f"{type(error).__name__}")

    # 4. The last usable endpoint, or an error only worth repeating here (409): retry it with
    #    backoff, honouring a server-sent Retry-After (e.g. on 503), until retries run out.
    return _retry_here(error, policy, retries_done, remaining, move_on=False)


def decide_with_hook(
    error: LLMError,
    policy: RetryPolicy,
    *,
    attempt: int,
    ctx: RequestContext | None,
    retries_done: int,
    has_next: bool,
    remaining: float | None,
) -> Decision:
    """:func:`decide`, after asking ``policy.retry_if`` (which must be set): its ``False``
    raises, its ``True`` retries here while retries last and then moves on, its ``None`` leaves
    the decision to :func:`decide`.

    An exception the hook raises propagates as it is, with ``error`` as its ``__context__`` (as
    if the hook had been called in the ``except`` block that caught ``error``).
    """
    hook = policy.retry_if
    if hook is None:
        return decide(error, policy, retries_done=retries_done, has_next=has_next, remaining=remaining)
    try:
        verdict = hook(error, attempt, ctx)
    except BaseException as exc:
        if exc.__context__ is None and exc is not error:
            exc.__context__ = error
        raise
    if verdict is None:
        return decide(error, policy, retries_done=retries_done, has_next=has_next, remaining=remaining)
    if verdict is False:
        return Decision("raise", reason="retry_if said no")
    if verdict is not True:
        raise ConfigurationError(
            f"retry_if must return True, False or None, not {type(verdict).__name__}",
            hint="return None to leave the decision to the retry rules",
        ) from error
    chosen = _retry_here(error, policy, retries_done, remaining, move_on=has_next)
    return Decision(chosen.action, chosen.delay, f"retry_if said retry: {chosen.reason}")


def _retry_here(
    error: LLMError, policy: RetryPolicy, retries_done: int, remaining: float | None, *, move_on: bool
) -> Decision:
    """Retry the same endpoint if the budget allows; else fail over (``move_on``) or give up."""
    otherwise: Action = "failover" if move_on else "give_up"
    if retries_done >= policy.max_retries:
        return Decision(otherwise, reason=f"no retries left ({retries_done} done)")
    retry_after: float | None = getattr(error, "retry_after", None)
    if retry_after is not None and retry_after > policy.max_retry_after:
        limit = policy.max_retry_after
        return Decision(otherwise, reason=f"Retry-After {retry_after:g}s exceeds max_retry_after {limit:g}s")
    delay = retry_after if retry_after is not None else policy.backoff(retries_done + 1)
    if remaining is not None and delay >= remaining:
        return Decision(otherwise, reason=f"waiting {delay:.3g}s would pass the deadline")
    return Decision("retry", delay=delay, reason=f"retry in {delay:.3g}s")
