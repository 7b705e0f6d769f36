"""The shared machinery of long-running media jobs (``core.llms.providers.base.media_jobs``): the
poll schedule and the job's deadline."""

from __future__ import annotations

import math
import time

import pytest

from core.llms.interfaces import ResponseTooLargeError
from core.llms.providers.base.media_jobs import POLL_BACKOFF, JobClock, PollSchedule, too_large_hint


def test_waits_grow_by_the_backoff_up_to_the_cap() -> None:
    schedule = PollSchedule(2.0, 15.0)
    waits = [schedule.next_wait(math.inf) for _ in range(7)]
    assert POLL_BACKOFF == 1.5
    assert waits == pytest.approx([2.0, 3.0, 4.5, 6.75, 10.125, 15.0, 15.0])


def test_a_first_interval_above_the_cap_is_the_cap() -> None:
    schedule = PollSchedule(30.0, 15.0)
    assert [schedule.next_wait(math.inf) for _ in range(3)] == [30.0, 30.0, 30.0]


def test_a_server_wait_replaces_the_computed_one_which_keeps_growing() -> None:
    schedule = PollSchedule(2.0, 15.0)
    assert schedule.next_wait(math.inf, hint=0.5) == 0.5
    assert schedule.next_wait(math.inf) == pytest.approx(3.0)


def test_one_last_poll_just_before_the_deadline_then_none() -> None:
    schedule = PollSchedule(10.0, 15.0)
    # 10 s wait, 8 s left: wait until 1 s before the deadline (a quarter of it when shorter)
    assert schedule.next_wait(8.0) == pytest.approx(7.0)
    assert schedule.next_wait(1.0) is None
    assert PollSchedule(10.0, 15.0).next_wait(2.0) == pytest.approx(1.5)
    assert PollSchedule(1.0, 15.0).next_wait(0.0) is None


def test_the_deadline_is_the_earlier_of_timeout_and_ctx_deadline() -> None:
    assert JobClock(100.0, 30.0, None, 600.0).deadline == 130.0
    assert JobClock(100.0, 30.0, 120.0, 600.0).deadline == 120.0
    assert JobClock(100.0, 10.0, 120.0, 600.0).deadline == 110.0
    # a ctx deadline alone: no default timeout added
    assert JobClock(100.0, None, 5000.0, 600.0).deadline == 5000.0
    # neither: the default
    assert JobClock(100.0, None, None, 600.0).deadline == 700.0


def test_remaining_and_elapsed_follow_the_clock() -> None:
    now = time.monotonic()
    clock = JobClock(now, 60.0, None, 600.0)
    assert 59.0 < clock.remaining() <= 60.0
    assert 0.0 <= clock.elapsed() < 1.0


def test_a_too_large_download_says_how_to_raise_the_cap() -> None:
    with pytest.raises(ResponseTooLargeError) as caught, too_large_hint():
        raise ResponseTooLargeError("too large")
    assert caught.value.hint is not None and "max_response_bytes" in caught.value.hint
    assert "download=False" in caught.value.hint
