"""Reading providers' rate-limit response headers.

:func:`parse_rate_limit_headers` understands

* the OpenAI style (OpenAI, Azure OpenAI, Groq, and the many servers copying them):
  ``x-ratelimit-limit-requests``, ``x-ratelimit-limit-tokens``, ``x-ratelimit-remaining-requests``,
  ``x-ratelimit-remaining-tokens``, ``x-ratelimit-reset-requests``, ``x-ratelimit-reset-tokens``,
  whose resets are durations (``1s``, ``6m0s``, ``20ms``, ``1h2m3.5s``) or plain seconds;
* Anthropic's ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}``,
  whose resets are RFC 3339 times;
* ``retry-after-ms`` and ``retry-after`` (seconds or an HTTP date).

Header names are compared case-insensitively, whatever mapping holds them. A value that cannot be
read is ignored: this never raises. It runs for every response, so a response without any of
these headers costs one pass over the header names at C speed (under a microsecond).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["RateLimitSnapshot", "parse_duration", "parse_rate_limit_headers"]

_OPENAI = "x-ratelimit-"
_ANTHROPIC = "anthropic-ratelimit-"
_ANTHROPIC_KINDS = ("requests", "tokens", "input-tokens", "output-tokens")

#: every header name read here, lower case: the fast "none of them" test.
_NAMES = frozenset(
    [f"{_OPENAI}{what}-{kind}" for what in ("limit", "remaining", "reset") for kind in ("requests", "tokens")]
    + [f"{_ANTHROPIC}{kind}-{what}" for kind in _ANTHROPIC_KINDS for what in ("limit", "remaining", "reset")]
    + ["retry-after", "retry-after-ms"]
)

#: no wait read from a header is taken beyond a day (a garbled value must not stop a batch for good).
MAX_WAIT = 86_400.0

_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)")


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    """What one response said about the caller's rate limits; every field may be None.

    Limits and remaining amounts are counts per the provider's period (a minute); resets and
    ``retry_after`` are seconds from when the headers were read. ``*_input_tokens`` /
    ``*_output_tokens`` are Anthropic's separate input and output budgets; ``limit_tokens`` is
    the combined ``tokens`` budget (OpenAI's, or Anthropic's most restrictive one).
    """

    limit_requests: int | None = None
    limit_tokens: int | None = None
    remaining_requests: int | None = None
    remaining_tokens: int | None = None
    reset_requests: float | None = None
    reset_tokens: float | None = None
    limit_input_tokens: int | None = None
    limit_output_tokens: int | None = None
    remaining_input_tokens: int | None = None
    remaining_output_tokens: int | None = None
    reset_input_tokens: float | None = None
    reset_output_tokens: float | None = None
    retry_after: float | None = None

    @property
    def requests_per_minute(self) -> int | None:
        """The request limit to admit by."""
        return self.limit_requests

    @property
    def tokens_per_minute(self) -> int | None:
        """The limit on input + output tokens to admit by.

        With separate input and output budgets (Anthropic) it is their sum: a request's tokens
        count prompt and output together, and Anthropic's combined ``tokens-*`` header (the most
        restrictive budget, usually the small output one) would make a long prompt look too
        large ever to fit. Otherwise the ``tokens`` limit.
        """
        if self.limit_input_tokens is not None and self.limit_output_tokens is not None:
            return self.limit_input_tokens + self.limit_output_tokens
        if self.limit_tokens is not None:
            return self.limit_tokens
        return self.limit_input_tokens if self.limit_input_tokens is not None else self.limit_output_tokens

    @property
    def hold(self) -> float | None:
        """Seconds during which nothing should be sent: the ``retry_after``, and the reset of
        every budget whose ``remaining`` is 0; None when neither applies."""
        waits = [
            reset
            for remaining, reset in (
                (self.remaining_requests, self.reset_requests),
                (self.remaining_tokens, self.reset_tokens),
                (self.remaining_input_tokens, self.reset_input_tokens),
                (self.remaining_output_tokens, self.reset_output_tokens),
            )
            if remaining == 0 and reset is not None
        ]
        if self.retry_after is not None:
            waits.append(self.retry_after)
        return max(waits) if waits else None


def parse_rate_limit_headers(headers: Mapping[str, str] | None) -> RateLimitSnapshot | None:
    """The rate-limit facts in ``headers`` (any mapping of names to values, case-insensitive),
    or None when there are none. Unreadable values are left out; never raises."""
    if not headers:
        return None
    try:
        if _NAMES.isdisjoint(map(str.lower, headers)):
            return None
        found = {name.lower(): value for name, value in headers.items() if name.lower() in _NAMES}
    except Exception:  # a mapping with non-string names, or one failing to iterate: nothing to read
        return None
    now = time.time()
    fields: dict[str, int | float | None] = {
        "limit_requests": _count(found.get("x-ratelimit-limit-requests"), positive=True),
        "limit_tokens": _count(found.get("x-ratelimit-limit-tokens"), positive=True),
        "remaining_requests": _count(found.get("x-ratelimit-remaining-requests")),
        "remaining_tokens": _count(found.get("x-ratelimit-remaining-tokens")),
        "reset_requests": _reset(found.get("x-ratelimit-reset-requests"), now),
        "reset_tokens": _reset(found.get("x-ratelimit-reset-tokens"), now),
    }
    for kind in _ANTHROPIC_KINDS:
        name = kind.replace("-", "_")
        for what in ("limit", "remaining", "reset"):
            value = found.get(f"{_ANTHROPIC}{kind}-{what}")
            if value is None:
                continue
            parsed = _reset(value, now) if what == "reset" else _count(value, positive=what == "limit")
            field_name = f"{what}_{name}"
            if fields.get(field_name) is None:  # the x-ratelimit-* value wins when both came
                fields[field_name] = parsed
    fields["retry_after"] = _retry_after(found.get("retry-after-ms"), found.get("retry-after"), now)
    if all(value is None for value in fields.values()):
        return None
    return RateLimitSnapshot(**fields)  # type: ignore[arg-type]


def parse_duration(text: str) -> float | None:
    """Seconds in a Go-style duration (``1h2m3.5s``, ``6m0s``, ``20ms``) or a plain number of
    seconds; None when ``text`` is neither (or negative, or not finite)."""
    text = text.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        if not _is_duration(text):
            return None
        seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text))
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_WAIT)


def _is_duration(text: str) -> bool:
    """Is ``text`` made of one or more ``<number><unit>`` parts and nothing else?"""
    position = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            return False
        position = match.end()
    return position == len(text) and position > 0


def _count(value: str | None, *, positive: bool = False) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except (ValueError, AttributeError):
        try:  # "1000.0" from a lax server
            real = float(value)
        except (ValueError, TypeError):
            return None
        if not math.isfinite(real) or real != int(real):
            return None
        number = int(real)
    if number < 0 or (positive and number == 0):
        return None
    return number


def _reset(value: str | None, now: float) -> float | None:
    """Seconds until a reset given as a duration, a number of seconds or an RFC 3339 time."""
    if value is None or not isinstance(value, str):
        return None
    seconds = parse_duration(value)
    if seconds is not None:
        return seconds
    return _until(value, now)


def _until(text: str, now: float) -> float | None:
    """Seconds from ``now`` (Unix time) until the RFC 3339 time ``text``; 0 when past."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return min(max(0.0, when.timestamp() - now), MAX_WAIT)
    except (OverflowError, OSError, ValueError):
        return None


def _retry_after(ms: str | None, seconds: str | None, now: float) -> float | None:
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except (ValueError, TypeError):
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return min(value, MAX_WAIT)
    if seconds is None or not isinstance(seconds, str):
        return None
    try:
        value = float(seconds)
    except ValueError:
        return _http_date(seconds, now)
    return min(value, MAX_WAIT) if math.isfinite(value) and value >= 0 else None


def _http_date(text: str, now: float) -> float | None:
    from email.utils import parsedate_to_datetime  # an HTTP date: rare, and email is a costly import

    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now), MAX_WAIT)
