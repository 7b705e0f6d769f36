"""A per-endpoint circuit breaker: a known-dead endpoint costs nothing until it may be back.

States::

    closed ──(failure_threshold consecutive failures)──▶ open
    open ──(cooldown seconds pass)──▶ half_open
    half_open: allow() grants exactly one probe
        probe succeeds ──▶ closed          probe fails ──▶ open (cooldown restarts)

Only failover-class failures (connection errors, timeouts, 5xx/529) count as failures; any other
answer from the endpoint (even a 400 or a 429) shows it is reachable and counts as a success.
A probe whose outcome is never recorded (its task was cancelled) expires after ``cooldown``
seconds, so the breaker cannot stay stuck half-open.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from ...interfaces.errors import ConfigurationError

__all__ = ["BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Consecutive-failure circuit breaker for one endpoint. ``clock`` is injectable for tests."""

    __slots__ = ("_clock", "_failures", "_opened_at", "_probe_at", "cooldown", "failure_threshold")

    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ConfigurationError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if cooldown < 0:
            raise ConfigurationError(f"cooldown must be >= 0 seconds, got {cooldown}")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_at: float | None = None

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

    def allow(self) -> bool:
        """May a request be sent now? In ``half_open`` this grants the single probe."""
        match self.state:
            case "closed":
                return True
            case "open":
                return False
            case "half_open":
                now = self._clock()
                if self._probe_at is not None and now - self._probe_at < self.cooldown:
                    return False  # the probe is still in flight
                self._probe_at = now
                return True

    def record_success(self) -> None:
        """The endpoint answered: close the breaker and reset the failure count."""
        self._failures = 0
        self._opened_at = None
        self._probe_at = None

    def record_failure(self) -> None:
        """A failover-class failure: count it; open (or re-open after a failed probe)."""
        self._failures += 1
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self._probe_at = None

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, failures={self._failures})"
