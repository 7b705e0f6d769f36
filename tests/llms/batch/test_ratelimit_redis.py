"""RedisRateLimiter against a real redis-server: limits shared by limiters and OS processes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from core.llms.batch import IRateLimiter
from core.llms.batch.ratelimit import RateLimits, RedisRateLimiter
from core.llms.batch.types import Permit
from core.llms.interfaces.errors import APIConnectionError, ConfigurationError, InvalidInputError, LLMError

KEY = "openai/gpt-4o-mini"
ROOT = Path(__file__).resolve().parents[3]


def _prefix() -> str:
    return f"test-rl:{uuid.uuid4().hex[:8]}:"


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def _chain(error: BaseException) -> str:
    parts = []
    seen: BaseException | None = error
    while seen is not None:
        parts.append(f"{seen!s} {seen!r}")
        seen = seen.__cause__ or seen.__context__
    return " ".join(parts)


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'core-llms\[batch\]'"):
        RedisRateLimiter("redis://127.0.0.1:6379/0")


def test_import_does_not_load_redis() -> None:
    code = (
        "import sys, core.llms.batch as b; b.RateLimiter; "
        "b.RedisRateLimiter; print('redis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_url_is_checked_and_password_never_shown() -> None:
    limiter = RedisRateLimiter("redis://user:hunter2secret@127.0.0.1:6379/0?password=qsecret9")
    assert "hunter2secret" not in repr(limiter) and "qsecret9" not in repr(limiter)
    assert "127.0.0.1:6379" in repr(limiter)
    with pytest.raises(ConfigurationError) as info:
        RedisRateLimiter("http://:hunter2secret@127.0.0.1:6379/0")
    assert "hunter2secret" not in _chain(info.value)
    with pytest.raises(ConfigurationError) as info:
        RedisRateLimiter("redis://:hunter2secret@127.0.0.1:notaport/0")
    assert "hunter2secret" not in _chain(info.value)
    with pytest.raises(InvalidInputError, match="prefix"):
        RedisRateLimiter("redis://127.0.0.1:6379/0", prefix="")


async def test_unreachable_redis_is_a_connection_error_without_secrets() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    limiter = RedisRateLimiter(f"redis://:hunter2secret@127.0.0.1:{port}/0", RateLimits(rpm=5))
    with pytest.raises(APIConnectionError) as info:
        await limiter.acquire(KEY, 1)
    assert "hunter2secret" not in _chain(info.value)
    assert f"127.0.0.1:{port}" in str(info.value)
    await limiter.close()


async def test_wrong_password_is_a_typed_error_without_secrets(redis_url: str) -> None:
    import redis.asyncio as aioredis

    user = f"rl{uuid.uuid4().hex[:6]}"
    admin = aioredis.Redis.from_url(redis_url)
    await admin.acl_setuser(user, enabled=True, passwords=["+right-one"], keys=["*"], commands=["+@all"])
    await admin.aclose()
    url = redis_url.replace("redis://", f"redis://{user}:hunter2secret@")
    limiter = RedisRateLimiter(url, RateLimits(rpm=5), prefix=_prefix())
    try:
        with pytest.raises(LLMError) as info:
            await limiter.acquire(KEY, 1)
        assert isinstance(info.value, ConfigurationError)
        assert "credentials" in str(info.value)
        assert "hunter2secret" not in _chain(info.value)
    finally:
        await limiter.close()


async def test_basic_admission_settle_and_bad_calls(redis_url: str) -> None:
    limiter = RedisRateLimiter(redis_url, RateLimits(tpm=100), prefix=_prefix(), window=5)
    assert isinstance(limiter, IRateLimiter)
    try:
        with pytest.raises(InvalidInputError, match=r"101 tokens .*100 tokens-per-minute"):
            await limiter.acquire(KEY, 101)
        permit = await limiter.acquire(KEY, 90)
        await limiter.settle(permit, 10)  # gives 80 back
        start = time.monotonic()
        await limiter.settle(await limiter.acquire(KEY, 90), 90)
        assert time.monotonic() - start < 0.5
        with pytest.raises(InvalidInputError, match="Permit granted by this"):
            await limiter.settle(Permit(KEY, 1), 1)
        with pytest.raises(InvalidInputError, match="key"):
            await limiter.acquire("", 1)
    finally:
        await limiter.close()


async def test_script_cache_flush_falls_back_to_eval(redis_url: str) -> None:
    import redis.asyncio as aioredis

    limiter = RedisRateLimiter(redis_url, RateLimits(rpm=100), prefix=_prefix())
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await limiter.acquire(KEY, 1)
        await admin.script_flush()
        await limiter.acquire(KEY, 1)  # NOSCRIPT -> EVAL
        await limiter.acquire(KEY, 1)
    finally:
        await admin.aclose()
        await limiter.close()


async def test_two_limiters_share_the_rpm(redis_url: str) -> None:
    rpm, window = 4, 0.5
    prefix = _prefix()
    one = RedisRateLimiter(redis_url, RateLimits(rpm=rpm), prefix=prefix, window=window)
    two = RedisRateLimiter(redis_url, RateLimits(rpm=rpm), prefix=prefix, window=window)
    admitted: list[float] = []

    async def ask(limiter: RedisRateLimiter) -> None:
        await limiter.acquire(KEY, 1)
        admitted.append(time.monotonic())

    try:
        start = time.monotonic()
        await asyncio.gather(*(ask(limiter) for limiter in (one, two) for _ in range(6)))
        assert len(admitted) == 12
        assert _max_in_window(admitted, window * 0.95) <= rpm
        assert time.monotonic() - start >= 2 * window * 0.95
    finally:
        await one.close()
        await two.close()


async def test_two_limiters_share_the_tpm_and_settle(redis_url: str) -> None:
    tpm, window = 100, 0.6
    prefix = _prefix()
    one = RedisRateLimiter(redis_url, RateLimits(tpm=tpm), prefix=prefix, window=window)
    two = RedisRateLimiter(redis_url, RateLimits(tpm=tpm), prefix=prefix, window=window)
    admitted: list[tuple[float, int]] = []

    async def ask(limiter: RedisRateLimiter, tokens: int, used: int) -> None:
        permit = await limiter.acquire(KEY, tokens)
        admitted.append((time.monotonic(), used))
        await limiter.settle(permit, used)

    try:
        jobs = [ask(limiter, 40, 30) for limiter in (one, two) for _ in range(4)]
        await asyncio.gather(*jobs)
        assert len(admitted) == 8
        for start, _ in admitted:
            inside = sum(used for at, used in admitted if start <= at < start + window * 0.95)
            assert inside <= tpm
    finally:
        await one.close()
        await two.close()


async def test_learned_limits_and_holds_reach_every_limiter(redis_url: str) -> None:
    window = 0.5
    prefix = _prefix()
    teacher = RedisRateLimiter(redis_url, prefix=prefix, window=window)
    pupil = RedisRateLimiter(redis_url, prefix=prefix, window=window)
    try:
        learned = {"x-ratelimit-limit-requests": "2", "x-ratelimit-limit-tokens": "50"}
        await teacher.observe(KEY, headers=learned)
        with pytest.raises(InvalidInputError, match=r"60 tokens .*50 .*provider reported"):
            await pupil.acquire(KEY, 60)
        admitted = []
        for _ in range(3):
            await pupil.acquire(KEY, 1)
            admitted.append(time.monotonic())
        assert admitted[2] - admitted[0] >= window * 0.9  # only two per window
        await asyncio.sleep(window)  # let the window empty
        await teacher.observe(KEY, retry_after=0.4)
        start = time.monotonic()
        await pupil.acquire("other/model", 1)  # other keys are not held
        assert time.monotonic() - start < 0.2
        await pupil.acquire(KEY, 1)
        assert time.monotonic() - start >= 0.35
    finally:
        await teacher.close()
        await pupil.close()


async def test_retry_after_holds_other_limiters(redis_url: str) -> None:
    prefix = _prefix()
    one = RedisRateLimiter(redis_url, RateLimits(rpm=1000), prefix=prefix)
    two = RedisRateLimiter(redis_url, RateLimits(rpm=1000), prefix=prefix)
    try:
        await one.observe(KEY, retry_after=0.5)
        start = time.monotonic()
        await asyncio.gather(*(two.acquire(KEY, 1) for _ in range(3)))
        assert 0.4 <= time.monotonic() - start < 2.0
        # an exhausted budget with its reset time holds the other limiter too
        exhausted = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "400ms"}
        await one.observe(KEY, headers=exhausted)
        start = time.monotonic()
        await two.acquire(KEY, 1)
        assert 0.35 <= time.monotonic() - start < 2.0
    finally:
        await one.close()
        await two.close()


async def test_configured_limit_lowered_by_the_server_in_redis(redis_url: str) -> None:
    prefix = _prefix()
    limiter = RedisRateLimiter(redis_url, RateLimits(tpm=1000), prefix=prefix, window=5)
    try:
        await limiter.observe(KEY, headers={"x-ratelimit-limit-tokens": "100"})
        with pytest.raises(InvalidInputError, match=r"200 tokens .*100 .*provider reported"):
            await limiter.acquire(KEY, 200)
        await limiter.observe(KEY, headers={"x-ratelimit-limit-tokens": "100000"})  # never raised
        with pytest.raises(InvalidInputError, match=r"1001 tokens .*1000 .*configured"):
            await limiter.acquire(KEY, 1001)
        await limiter.acquire(KEY, 1000)
    finally:
        await limiter.close()


async def test_a_claimed_turn_holds_back_smaller_requests_of_other_limiters(redis_url: str) -> None:
    tpm, window = 100, 0.6
    prefix = _prefix()
    one = RedisRateLimiter(redis_url, RateLimits(tpm=tpm), prefix=prefix, window=window)
    two = RedisRateLimiter(redis_url, RateLimits(tpm=tpm), prefix=prefix, window=window)
    order: list[str] = []

    async def ask(limiter: RedisRateLimiter, name: str, tokens: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await limiter.acquire(KEY, tokens)
        order.append(name)

    try:
        await one.acquire(KEY, 90)
        # "large" does not fit and claims the next turn; "small" would fit but must let it pass
        await asyncio.gather(ask(two, "large", 100, 0.0), ask(one, "small", 10, 0.15))
        assert order == ["large", "small"]
    finally:
        await one.close()
        await two.close()


_CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from core.llms.batch.ratelimit import RateLimits, RedisRateLimiter

    async def main():
        url, prefix, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
        limiter = RedisRateLimiter(url, RateLimits(rpm=3), prefix=prefix, window=0.6)
        await asyncio.sleep(max(0.0, start - time.time()))
        times = []
        for _ in range(5):
            await limiter.acquire("openai/gpt-4o-mini", 1)
            times.append(time.time())
        await limiter.close()
        print(json.dumps(times))

    asyncio.run(main())
    """
)


def test_two_processes_never_admit_more_than_the_limit_together(redis_url: str) -> None:
    prefix = _prefix()
    start = time.time() + 1.0  # both begin together, once their interpreters are up
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, redis_url, prefix, str(start)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    times: list[float] = []
    for child in children:
        out, err = child.communicate(timeout=30)
        assert child.returncode == 0, err[-2000:]
        times.extend(json.loads(out))
    assert len(times) == 10
    assert _max_in_window(times, 0.6 * 0.95) <= 3
