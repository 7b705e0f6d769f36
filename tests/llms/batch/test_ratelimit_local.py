"""RateLimiter (in process): deterministic tests with a fake clock whose sleep moves time on."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from core.llms.batch import IRateLimiter
from core.llms.batch.ratelimit import RateLimiter, RateLimits
from core.llms.batch.types import Permit
from core.llms.interfaces.errors import InvalidInputError

KEY = "openai/gpt-4o-mini"


class FakeClock:
    """A monotonic clock that only moves when a limiter sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        target = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, target)


def limiter(limits: object = None, **kw: object) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(limits, clock=clock, sleep=clock.sleep, **kw), clock  # type: ignore[arg-type]


def test_rate_limits_are_checked() -> None:
    assert RateLimits(rpm=5, tpm=10) == RateLimits(5, 10)
    for bad in ({"rpm": 0}, {"rpm": -1}, {"rpm": True}, {"tpm": 1.5}, {"tpm": "100"}):
        with pytest.raises(InvalidInputError, match=next(iter(bad))):
            RateLimits(**bad)  # type: ignore[arg-type]


def test_limiter_arguments_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="limits"):
        RateLimiter("100rpm")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="default"):
        RateLimiter(RateLimits(rpm=1), default=RateLimits(rpm=2))
    with pytest.raises(InvalidInputError, match="limits\\['a'\\]"):
        RateLimiter({"a": 5})  # type: ignore[dict-item]
    with pytest.raises(InvalidInputError, match="window"):
        RateLimiter(window=0)


async def test_satisfies_the_protocol_and_bad_calls_are_typed_errors() -> None:
    rl, _ = limiter(RateLimits(rpm=5))
    assert isinstance(rl, IRateLimiter)
    with pytest.raises(InvalidInputError, match="tokens"):
        await rl.acquire(KEY, -1)
    with pytest.raises(InvalidInputError, match="tokens"):
        await rl.acquire(KEY, 2.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="key"):
        await rl.acquire("", 1)
    permit = await rl.acquire(KEY, 1)
    with pytest.raises(InvalidInputError, match="used_tokens"):
        await rl.settle(permit, -3)
    with pytest.raises(InvalidInputError, match="Permit granted by this"):
        await rl.settle(Permit(KEY, 1), 1)
    other, _ = limiter(RateLimits(rpm=5))
    with pytest.raises(InvalidInputError, match="Permit granted by this"):
        await other.settle(permit, 1)
    with pytest.raises(InvalidInputError, match="retry_after"):
        await rl.observe(KEY, retry_after=-1)
    await rl.close()
    assert await rl.acquire(KEY, 1)  # still usable after close


async def test_unlimited_key_never_waits() -> None:
    rl, clock = limiter()
    for _ in range(1000):
        await rl.settle(await rl.acquire(KEY, 10**9), 5)
    assert clock.sleeps == []


async def test_rpm() -> None:
    rl, clock = limiter(RateLimits(rpm=3))
    for _ in range(3):
        await rl.acquire(KEY, 100)
    assert clock.now == 1000.0
    await rl.acquire(KEY, 100)
    assert clock.now == 1060.0  # the first request left the window
    await rl.acquire(KEY, 0)
    assert clock.now == 1060.0  # the 2nd and 3rd left with it (same instant)


async def test_tpm() -> None:
    rl, clock = limiter(RateLimits(tpm=1000))
    await rl.acquire(KEY, 600)
    clock.now += 10
    await rl.acquire(KEY, 300)
    assert clock.now == 1010.0
    await rl.acquire(KEY, 200)  # 100 too many: waits for the 600 to leave
    assert clock.now == 1060.0
    await rl.acquire(KEY, 100)
    await rl.acquire(KEY, 1)  # 300 + 200 + 100 + 1 > 600? no: fits
    assert clock.now == 1060.0


async def test_per_key_limits_and_default() -> None:
    rl, clock = limiter({"a/x": RateLimits(rpm=1)}, default=RateLimits(rpm=2))
    assert rl.limits_for("a/x") == RateLimits(rpm=1) and rl.limits_for("b/y") == RateLimits(rpm=2)
    await rl.acquire("a/x", 1)
    await rl.acquire("b/y", 1)
    await rl.acquire("b/y", 1)
    await rl.acquire("c/z", 1)
    assert clock.now == 1000.0  # each key its own budget


async def test_settle_down_frees_tokens() -> None:
    rl, clock = limiter(RateLimits(tpm=1000))
    permit = await rl.acquire(KEY, 900)
    await rl.settle(permit, 100)
    assert permit.tokens == 100
    await rl.acquire(KEY, 900)
    assert clock.now == 1000.0


async def test_settle_up_takes_more() -> None:
    rl, clock = limiter(RateLimits(tpm=1000))
    permit = await rl.acquire(KEY, 100)
    await rl.settle(permit, 900)
    await rl.acquire(KEY, 200)
    assert clock.now == 1060.0


async def test_settle_after_the_window_changes_nothing() -> None:
    rl, clock = limiter(RateLimits(tpm=1000))
    permit = await rl.acquire(KEY, 100)
    clock.now += 61
    await rl.settle(permit, 1000)
    await rl.acquire(KEY, 1000)
    assert clock.now == 1061.0


async def test_settle_down_wakes_a_waiter() -> None:
    rl, clock = limiter(RateLimits(tpm=1000))
    permit = await rl.acquire(KEY, 1000)
    slow = asyncio.Event()

    async def never(seconds: float) -> None:  # the waiter may only be woken by the settle
        await slow.wait()

    rl._sleep = never
    waiting = asyncio.create_task(rl.acquire(KEY, 500))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await rl.settle(permit, 400)
    await asyncio.wait_for(waiting, 1)
    assert clock.now == 1000.0


async def test_oversize_request_is_refused_at_once() -> None:
    rl, clock = limiter(RateLimits(tpm=100))
    with pytest.raises(InvalidInputError, match=r"101 tokens .*100 tokens-per-minute .*configured"):
        await rl.acquire(KEY, 101)
    await rl.acquire(KEY, 100)
    assert clock.sleeps == []


def _openai(rpm: str, tpm: str, **extra: str) -> dict[str, str]:
    return {"x-ratelimit-limit-requests": rpm, "x-ratelimit-limit-tokens": tpm, **extra}


async def test_learns_openai_limits() -> None:
    rl, clock = limiter()
    await rl.observe(KEY, headers=_openai("2", "100"))
    assert rl.limits_for(KEY) == RateLimits(rpm=2, tpm=100)
    with pytest.raises(InvalidInputError, match=r"150 tokens .*100 .*provider reported"):
        await rl.acquire(KEY, 150)
    await rl.acquire(KEY, 10)
    await rl.acquire(KEY, 10)
    await rl.acquire(KEY, 10)
    assert clock.now == 1060.0
    await rl.observe(KEY, headers=_openai("5", "500"))  # the server's word, either way
    assert rl.limits_for(KEY) == RateLimits(rpm=5, tpm=500)


async def test_configured_limits_are_lowered_never_raised() -> None:
    rl, _ = limiter(RateLimits(rpm=10, tpm=50))
    await rl.observe(KEY, headers=_openai("2", "100"))
    assert rl.limits_for(KEY) == RateLimits(rpm=2, tpm=50)
    await rl.observe(KEY, headers=_openai("1000", "100000"))
    assert rl.limits_for(KEY) == RateLimits(rpm=10, tpm=50)


async def test_learn_false_ignores_headers_but_obeys_retry_after() -> None:
    rl, clock = limiter(learn=False)
    await rl.observe(KEY, headers=_openai("1", "1", **{"x-ratelimit-remaining-requests": "0",
                                                       "x-ratelimit-reset-requests": "30s"}))
    assert rl.limits_for(KEY) == RateLimits()
    await rl.acquire(KEY, 5)
    assert clock.now == 1000.0
    await rl.observe(KEY, retry_after=4)
    await rl.acquire(KEY, 5)
    assert clock.now == 1004.0


async def test_remaining_zero_holds_until_reset() -> None:
    rl, clock = limiter()
    await rl.observe(KEY, headers=_openai("100", "10000", **{"x-ratelimit-remaining-tokens": "0",
                                                            "x-ratelimit-reset-tokens": "6m0s"}))
    await rl.acquire(KEY, 1)
    assert clock.now == 1360.0


async def test_learns_anthropic_limits_and_holds() -> None:
    rl, clock = limiter()
    reset = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    headers = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-input-tokens-limit": "40000",
        "anthropic-ratelimit-input-tokens-remaining": "0",
        "anthropic-ratelimit-input-tokens-reset": reset,
        "anthropic-ratelimit-output-tokens-limit": "8000",
        "anthropic-ratelimit-tokens-limit": "8000",
    }
    await rl.observe("anthropic/claude", headers=headers)
    assert rl.limits_for("anthropic/claude") == RateLimits(rpm=50, tpm=48000)
    await rl.acquire("anthropic/claude", 20000)  # longer than the output budget alone: fits the sum
    assert 1028.0 <= clock.now <= 1030.0  # held until the input budget's reset
    await rl.acquire(KEY, 1)  # other keys are not held


async def test_retry_after_holds_every_caller() -> None:
    rl, clock = limiter(RateLimits(rpm=100))
    await rl.observe(KEY, retry_after=5)
    admitted: list[float] = []

    async def one() -> None:
        await rl.acquire(KEY, 1)
        admitted.append(clock.now)

    await asyncio.gather(*(one() for _ in range(10)))
    assert admitted == [1005.0] * 10
    await rl.observe(KEY, retry_after=1, headers={"retry-after": "3"})  # the longer of the two
    await rl.acquire(KEY, 1)
    assert clock.now == 1008.0


async def test_fifo_large_request_is_not_starved_and_small_ones_follow() -> None:
    rl, clock = limiter(RateLimits(tpm=1000))
    await rl.acquire(KEY, 900)
    order: list[tuple[str, float]] = []

    async def ask(name: str, tokens: int) -> None:
        await rl.acquire(KEY, tokens)
        order.append((name, clock.now))

    # the large one must wait for the 900 to leave; the small ones would fit now, but queue behind it
    await asyncio.gather(ask("large", 1000), ask("small-1", 50), ask("small-2", 50))
    assert order == [("large", 1060.0), ("small-1", 1120.0), ("small-2", 1120.0)]


async def test_cancelled_waiter_leaves_the_line() -> None:
    rl, clock = limiter(RateLimits(rpm=1))
    await rl.acquire(KEY, 1)
    rl._sleep = lambda seconds: asyncio.sleep(3600)  # the head would sleep for good
    head = asyncio.create_task(rl.acquire(KEY, 1))
    await asyncio.sleep(0.01)
    behind = asyncio.create_task(rl.acquire(KEY, 1))
    await asyncio.sleep(0.01)
    head.cancel()
    clock.now += 60
    await asyncio.wait_for(behind, 1)  # woken as the new head; the window has room
    with pytest.raises(asyncio.CancelledError):
        await head


async def test_many_tasks_never_exceed_the_limits_in_any_window() -> None:
    rpm, tpm = 10, 1000
    rl, clock = limiter(RateLimits(rpm=rpm, tpm=tpm))
    rng = random.Random(7)
    admitted: list[tuple[float, int]] = []

    async def worker(estimate: int, used: int, work: float) -> None:
        permit = await rl.acquire(KEY, estimate)
        at = clock.now
        await clock.sleep(work)
        await rl.settle(permit, used)
        admitted.append((at, used))

    jobs = []
    for _ in range(150):
        estimate = rng.randint(1, 300)
        jobs.append(worker(estimate, rng.randint(0, estimate), rng.uniform(0, 5)))
    await asyncio.gather(*jobs)
    assert len(admitted) == 150
    admitted.sort()
    for start, _ in admitted:
        inside = [tokens for at, tokens in admitted if start <= at < start + 60]
        assert len(inside) <= rpm
        assert sum(inside) <= tpm
    assert clock.now - 1000.0 >= 60 * (150 // rpm - 1)  # it did have to wait


def test_threads_with_their_own_loops_share_one_limiter() -> None:
    rpm, window = 4, 0.4
    rl = RateLimiter(RateLimits(rpm=rpm), window=window)
    admitted: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        async def main() -> None:
            for _ in range(5):
                await rl.acquire(KEY, 1)
                with lock:
                    admitted.append(time.monotonic())

        asyncio.run(main())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(admitted) == 10
    admitted.sort()
    for start in admitted:
        assert sum(1 for at in admitted if start <= at < start + window * 0.98) <= rpm


async def test_fast_path_cost() -> None:
    rl = RateLimiter(RateLimits(rpm=10**9, tpm=10**12))
    rounds = 20_000
    start = time.perf_counter()
    for _ in range(rounds):
        permit = await rl.acquire(KEY, 1200)
        await rl.settle(permit, 900)
    per_call = (time.perf_counter() - start) / rounds
    print(f"acquire+settle: {per_call * 1e6:.2f} µs")
    assert per_call < 50e-6
