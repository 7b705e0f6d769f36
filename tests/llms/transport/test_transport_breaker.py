"""CircuitBreaker transitions, driven by a fake clock."""

from __future__ import annotations

import pytest

from core.llms.interfaces.errors import ConfigurationError
from core.llms.providers.base.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_opens_after_threshold_consecutive_failures(clock: Clock) -> None:
    b = CircuitBreaker(failure_threshold=3, cooldown=30, clock=clock)
    for _ in range(2):
        b.record_failure()
        assert b.state == "closed" and b.allow()
    b.record_failure()
    assert b.state == "open"
    assert not b.allow()
    assert b.opened_at == 1000.0


def test_success_resets_the_consecutive_count(clock: Clock) -> None:
    b = CircuitBreaker(failure_threshold=3, clock=clock)
    b.record_failure()
    b.record_failure()
    b.record_success()
    b.record_failure()
    b.record_failure()
    assert b.state == "closed"
    assert b.failures == 2


def test_half_open_after_cooldown_allows_exactly_one_probe(clock: Clock) -> None:
    b = CircuitBreaker(failure_threshold=1, cooldown=30, clock=clock)
    b.record_failure()
    clock.now += 29.9
    assert b.state == "open" and not b.allow()
    clock.now += 0.1
    assert b.state == "half_open"
    assert b.allow() is True
    assert b.allow() is False  # the probe is in flight
    assert b.allow() is False


def test_probe_success_closes(clock: Clock) -> None:
    b = CircuitBreaker(failure_threshold=1, cooldown=30, clock=clock)
    b.record_failure()
    clock.now += 30
    assert b.allow()
    b.record_success()
    assert b.state == "closed"
    assert b.allow() and b.allow()
    assert b.opened_at is None


def test_probe_failure_reopens_for_a_full_cooldown(clock: Clock) -> None:
    b = CircuitBreaker(failure_threshold=2, cooldown=30, clock=clock)
    b.record_failure()
    b.record_failure()
    clock.now += 31
    assert b.allow()
    b.record_failure()  # a single failure is enough while half-open
    assert b.state == "open"
    assert b.opened_at == clock.now
    clock.now += 29
    assert not b.allow()
    clock.now += 1
    assert b.state == "half_open" and b.allow()


def test_a_lost_probe_expires_after_the_cooldown(clock: Clock) -> None:
    b = CircuitBreaker(failure_threshold=1, cooldown=10, clock=clock)
    b.record_failure()
    clock.now += 10
    assert b.allow()  # this probe's task is cancelled: its outcome is never recorded
    clock.now += 9
    assert not b.allow()
    clock.now += 1
    assert b.allow()


def test_zero_cooldown_probes_at_once(clock: Clock) -> None:
    b = CircuitBreaker(failure_threshold=1, cooldown=0, clock=clock)
    b.record_failure()
    assert b.state == "half_open"
    assert b.allow()


@pytest.mark.parametrize(("threshold", "cooldown"), [(0, 1.0), (1, -1.0)])
def test_rejects_bad_settings(threshold: int, cooldown: float) -> None:
    with pytest.raises(ConfigurationError):
        CircuitBreaker(failure_threshold=threshold, cooldown=cooldown)


def test_repr_shows_state() -> None:
    assert repr(CircuitBreaker()) == "CircuitBreaker(state='closed', failures=0)"
