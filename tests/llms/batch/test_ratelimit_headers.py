"""parse_rate_limit_headers: OpenAI/Azure/Groq and Anthropic styles, Retry-After, garbage."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from core.llms.batch.ratelimit import RateLimitSnapshot, parse_rate_limit_headers
from core.llms.batch.ratelimit.headers import parse_duration

OPENAI = {
    "x-ratelimit-limit-requests": "500",
    "x-ratelimit-limit-tokens": "30000",
    "x-ratelimit-remaining-requests": "499",
    "x-ratelimit-remaining-tokens": "29000",
    "x-ratelimit-reset-requests": "120ms",
    "x-ratelimit-reset-tokens": "2s",
}


def _rfc3339(seconds_from_now: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds_from_now)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("1h2m3.5s", 3723.5),
        ("2m59.56s", 179.56),
        ("0s", 0.0),
        ("30", 30.0),
        ("0.5", 0.5),
        ("150us", 0.00015),
        (" 7s ", 7.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "1x", "1s2", "-1s", "abc", "1ss", "nan", "inf", "-3", "1 s"])
def test_bad_durations_are_none(text: str) -> None:
    assert parse_duration(text) is None


def test_openai_headers() -> None:
    snap = parse_rate_limit_headers(OPENAI)
    assert snap == RateLimitSnapshot(
        limit_requests=500,
        limit_tokens=30000,
        remaining_requests=499,
        remaining_tokens=29000,
        reset_requests=pytest.approx(0.12),
        reset_tokens=2.0,
    )
    assert snap.requests_per_minute == 500 and snap.tokens_per_minute == 30000
    assert snap.hold is None


def test_case_insensitive_in_any_mapping() -> None:
    mixed = {
        "X-RateLimit-Limit-Requests": "60",
        "x-RATELIMIT-remaining-TOKENS": "0",
        "X-Ratelimit-Reset-Tokens": "6m0s",
    }
    for headers in (mixed, CIMultiDictProxy(CIMultiDict(mixed))):
        snap = parse_rate_limit_headers(headers)
        assert snap is not None
        assert snap.limit_requests == 60 and snap.remaining_tokens == 0 and snap.reset_tokens == 360.0
        assert snap.hold == 360.0


def test_azure_style_remaining_only() -> None:
    snap = parse_rate_limit_headers(
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "880"}
    )
    assert snap is not None and snap.remaining_requests == 0 and snap.limit_requests is None
    assert snap.hold is None  # exhausted, but no reset time given


def test_anthropic_headers() -> None:
    headers = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": _rfc3339(30),
        "anthropic-ratelimit-tokens-limit": "8000",
        "anthropic-ratelimit-tokens-remaining": "7000",
        "anthropic-ratelimit-tokens-reset": _rfc3339(5),
        "anthropic-ratelimit-input-tokens-limit": "40000",
        "anthropic-ratelimit-input-tokens-remaining": "39000",
        "anthropic-ratelimit-input-tokens-reset": "2024-01-01T00:00:00+00:00",
        "anthropic-ratelimit-output-tokens-limit": "8000",
        "anthropic-ratelimit-output-tokens-remaining": "7900",
        "anthropic-ratelimit-output-tokens-reset": _rfc3339(1),
    }
    snap = parse_rate_limit_headers(headers)
    assert snap is not None
    assert snap.limit_requests == 50 and snap.remaining_requests == 0
    assert 28 <= (snap.reset_requests or 0) <= 30
    assert snap.limit_tokens == 8000 and snap.limit_input_tokens == 40000 and snap.limit_output_tokens == 8000
    assert snap.reset_input_tokens == 0.0  # in the past
    assert snap.tokens_per_minute == 48000  # separate input and output budgets: their sum
    assert 28 <= (snap.hold or 0) <= 30  # requests exhausted until their reset


def test_anthropic_combined_tokens_only() -> None:
    snap = parse_rate_limit_headers({"Anthropic-RateLimit-Tokens-Limit": "90000"})
    assert snap is not None and snap.tokens_per_minute == 90000


def test_retry_after_forms() -> None:
    assert parse_rate_limit_headers({"Retry-After": "7"}) == RateLimitSnapshot(retry_after=7.0)
    both = {"retry-after-ms": "250", "retry-after": "9"}
    assert parse_rate_limit_headers(both) == RateLimitSnapshot(retry_after=0.25)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    snap = parse_rate_limit_headers({"Retry-After": when})
    assert snap is not None and 18 <= (snap.retry_after or 0) <= 20 and snap.hold == snap.retry_after


@pytest.mark.parametrize(
    "headers",
    [
        {"x-ratelimit-limit-requests": "lots"},
        {"x-ratelimit-limit-requests": "0"},  # a zero limit is no limit we can use
        {"x-ratelimit-limit-tokens": "-5"},
        {"x-ratelimit-remaining-tokens": "1e400"},
        {"x-ratelimit-reset-tokens": "soon"},
        {"anthropic-ratelimit-requests-reset": "2024-99-99T00:00:00Z"},
        {"retry-after": "Blursday"},
        {"retry-after-ms": "NaN"},
        {"retry-after": "-4"},
    ],
)
def test_garbage_is_ignored(headers: dict[str, str]) -> None:
    assert parse_rate_limit_headers(headers) is None


def test_garbage_next_to_good_values_keeps_the_good_ones() -> None:
    snap = parse_rate_limit_headers({"x-ratelimit-limit-requests": "x", "x-ratelimit-limit-tokens": "1000.0"})
    assert snap == RateLimitSnapshot(limit_tokens=1000)


def test_odd_mappings_never_raise() -> None:
    assert parse_rate_limit_headers(None) is None
    assert parse_rate_limit_headers({}) is None
    assert parse_rate_limit_headers({1: "2"}) is None  # type: ignore[dict-item]
    assert parse_rate_limit_headers({"x-ratelimit-limit-requests": None}) is None  # type: ignore[dict-item]
    assert parse_rate_limit_headers({"retry-after": 5}) is None  # type: ignore[dict-item]
    huge = {"retry-after": "9" * 20}
    snap = parse_rate_limit_headers(huge)
    assert snap is not None and snap.retry_after == 86_400.0  # capped at a day


def test_no_rate_limit_headers_is_cheap() -> None:
    names = ["Date", "Content-Type", "Connection", "openai-organization", "openai-processing-ms",
             "openai-version", "strict-transport-security", "x-request-id", "CF-RAY", "alt-svc", "Server"]
    headers = CIMultiDictProxy(CIMultiDict({name: "v" for name in names}))
    assert parse_rate_limit_headers(headers) is None
    rounds = 20_000
    start = time.perf_counter()
    for _ in range(rounds):
        parse_rate_limit_headers(headers)
    per_call = (time.perf_counter() - start) / rounds
    assert per_call < 20e-6, f"{per_call * 1e6:.2f} µs per response without rate-limit headers"
