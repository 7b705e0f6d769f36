"""A per-endpoint circuit breaker: a known-dead endpoint costs nothing until it may be back.

States::

    closed ──(the opening rule holds)──▶ open
    open ──(cooldown seconds pass)──▶ half_open
    half_open: allow() grants exactly one probe
        probe succeeds ──▶ closed          probe fails ──▶ open (cooldown restarts)

Two opening rules:

* **failure rate** (the default, ``failure_rate=FailureRate()``): ``failure_threshold``
  consecutive failures open the breaker only when failures are also at least ``rate`` of the
  calls in the window (the last ``calls`` calls made within the last ``seconds`` seconds; 50 % of
  the last 50 calls within 10 s by default). A dead endpoint without recent successes opens
  after ``failure_threshold`` failures, as under the consecutive rule; one that was serving
  traffic opens once half its window failed (25 calls at high traffic, fewer at low traffic,
  where old successes have left the window). Scattered faults do not open it, however many
  calls they hit: an endpoint with 10 % random failures sees three failures in a row about once
  per thousand calls, but half of fifty calls failing with odds of about 10**-12. In a window
  holding few calls (low traffic) it is the consecutive rule, never more eager.
* **consecutive** (``failure_rate=None``): ``failure_threshold`` consecutive failures open it.

Only failover-class failures (connection errors, timeouts, 5xx/529) count as failures; any other
answer from the endpoint (even a 400 or a 429) shows it is reachable and counts as a success.
A probe whose outcome is never recorded (its task was cancelled) expires after ``cooldown``
seconds, so the breaker cannot stay stuck half-open.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from ...interfaces.errors import ConfigurationError

__all__ = ["DEFAULT_FAILURE_RATE", "BreakerState", "CircuitBreaker", "FailureRate", "check_failure_rate"]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class FailureRate:
    """The failure-rate rule's window: the breaker opens only when failures are at least ``rate``
    (0 < rate <= 1) of the last ``calls`` calls made within the last ``seconds`` seconds (besides
    ``failure_threshold`` consecutive ones). See the module docstring."""

    rate: float = 0.5
    calls: int = 50
    seconds: float = 10.0

    def __post_init__(self) -> None:
        rate, calls, seconds = self.rate, self.calls, self.seconds
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
            raise ConfigurationError(f"FailureRate.rate must be a number in (0, 1], got {rate!r}")
        if isinstance(calls, bool) or not isinstance(calls, int) or not 1 <= calls <= 100_000:
            raise ConfigurationError(f"FailureRate.calls must be an integer in 1..100000, got {calls!r}")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 < seconds < math.inf  # (also refuses NaN)
        ):
            raise ConfigurationError(f"FailureRate.seconds must be a positive number, got {seconds!r}")


#: the default opening rule: 50 % of the last 50 calls within 10 s (and the consecutive failures).
DEFAULT_FAILURE_RATE = FailureRate()


def check_failure_rate(value: object) -> FailureRate | None:
    """``value`` as a rule: a :class:`FailureRate`, a mapping of its fields, or None (the
    consecutive rule). Anything else raises :class:`ConfigurationError`."""
    if value is None or isinstance(value, FailureRate):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in ("rate", "calls", "seconds"))
        if unknown:
            raise ConfigurationError(f"unknown failure_rate field(s) {unknown}; known: calls, rate, seconds")
        return FailureRate(**value)
    raise ConfigurationError(
        f"failure_rate must be a FailureRate, a mapping of its fields or None, not {type(value).__name__}",
        hint="failure_rate=FailureRate(rate=0.5, calls=50, seconds=10), or None for the consecutive rule",
    )


class CircuitBreaker:
    """Circuit breaker for one endpoint (see the module docstring). ``clock`` is injectable for
    tests; ``failure_rate=None`` selects the consecutive rule."""

    __slots__ = (
        "_clock",
        "_failed",
        "_failures",
        "_opened_at",
        "_pos",
        "_probe_at",
        "_times",
        "cooldown",
        "failure_rate",
        "failure_threshold",
    )

    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        failure_rate: FailureRate | None = DEFAULT_FAILURE_RATE,
    ) -> None:
        if (
            isinstance(failure_threshold, bool)
            or not isinstance(failure_threshold, int)
            or failure_threshold < 1
        ):
            raise ConfigurationError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, int | float) or not cooldown >= 0:
            raise ConfigurationError(f"cooldown must be >= 0 seconds, got {cooldown}")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.failure_rate = check_failure_rate(failure_rate)
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_at: float | None = None
        # The window of the failure-rate rule: a ring of the last ``calls`` outcomes (when, and
        # whether it failed); -inf marks a slot not used yet.
        size = self.failure_rate.calls if self.failure_rate is not None else 0
        self._times: list[float] = [-math.inf] * size
        self._failed: list[bool] = [False] * size
        self._pos = 0

    @property
    def state(self) -> BreakerState:
        """``closed``, ``open``, or ``half_open`` once the cooldown has passed (read-only)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown:
            return "half_open"
        return "open"

    @property
    def opened_at(self) -> float | None:
        """Clock value when the breaker last opened; ``None`` while closed."""
        return self._opened_at

    @property
    def failures(self) -> int:
        """Consecutive failures recorded since the last success."""
        return self._failures

    def window(self) -> tuple[int, int]:
        """``(calls, failures)`` in the failure-rate rule's window now (``(0, 0)`` under the
        consecutive rule)."""
        rule = self.failure_rate
        if rule is None:
            return 0, 0
        since = self._clock() - rule.seconds
        calls = failures = 0
        for at, failed in zip(self._times, self._failed, strict=True):
            if at >= since:
                calls += 1
                failures += failed
        return calls, failures

    def available(self) -> bool:
        """Would :meth:`allow` grant a request now? Read-only: it never takes the half-open probe,
        so a caller can ask it before deciding, then :meth:`allow` the same instant."""
        if self._opened_at is None:
            return True
        now = self._clock()
        if now - self._opened_at < self.cooldown:
            return False
        return self._probe_at is None or now - self._probe_at >= self.cooldown

    def allow(self) -> bool:
        """May a request be sent now? In ``half_open`` this grants the single probe."""
        if self._opened_at is None:
            return True
        if not self.available():  # open, or half-open with the probe still in flight
            return False
        self._probe_at = self._clock()
        return True

    def record_success(self) -> None:
        """The endpoint answered: close the breaker and reset the failure count."""
        self._failures = 0
        if self._opened_at is not None:  # closing: the window starts afresh
            self._opened_at = None
            self._probe_at = None
            self._times = [-math.inf] * len(self._times)
        times = self._times
        if times:
            pos = self._pos
            times[pos] = self._clock()
            self._failed[pos] = False
            self._pos = pos + 1 if pos + 1 < len(times) else 0

    def record_failure(self) -> None:
        """A failover-class failure: count it; open (or re-open after a failed probe) when the
        rule holds."""
        self._failures += 1
        now = self._clock()
        times = self._times
        if times:
            pos = self._pos
            times[pos] = now
            self._failed[pos] = True
            self._pos = pos + 1 if pos + 1 < len(times) else 0
        if self._opened_at is not None or (self._failures >= self.failure_threshold and self._rate_reached()):
            self._opened_at = now
            self._probe_at = None

    def _rate_reached(self) -> bool:
        rule = self.failure_rate
        if rule is None:
            return True
        calls, failures = self.window()
        return failures >= rule.rate * calls

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, failures={self._failures})"
