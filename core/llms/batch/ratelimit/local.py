"""The in-process rate limiter: requests per minute and tokens per minute, per key.

Algorithm: a sliding window log. Each admitted request is remembered with its time and tokens
for one window (60 s); a request is admitted when, counting it, the window holds at most ``rpm``
requests and ``tpm`` tokens. So in any 60 s interval at most ``rpm`` requests and ``tpm``
reserved tokens are admitted: never more than a provider's token bucket of the same size would
take, while a steady stream runs at the full rate. ``settle`` replaces a request's estimate by the
tokens it really used while the request is still inside the window.

Fairness: strict FIFO per key. Once one caller has to wait, every later caller of that key queues
behind it, even one that would fit. The head of the line waits only until its own request fits,
at most one window (a request larger than the TPM is refused at once), so a large request is
never starved by small ones and small ones are held back by a large one for one window at most.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...interfaces.errors import InvalidInputError
from ..types import Permit
from .headers import MAX_WAIT, RateLimitSnapshot, parse_rate_limit_headers

__all__ = ["RateLimiter", "RateLimits"]

Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests per minute and tokens per minute (input + output) allowed for one key; None
    leaves that dimension unlimited."""

    rpm: int | None = None
    tpm: int | None = None

    def __post_init__(self) -> None:
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise InvalidInputError(
                    f"RateLimits.{name} must be a positive whole number or None, not {value!r}"
                )


def resolve_limits(
    limits: RateLimits | Mapping[str, RateLimits] | None, default: RateLimits | None
) -> tuple[dict[str, RateLimits], RateLimits | None]:
    """Check a limiter's ``limits`` / ``default`` arguments: ``(limits per key, limits of the
    other keys)``. A single :class:`RateLimits` applies to every key (each key its own budget)."""
    if default is not None and not isinstance(default, RateLimits):
        raise InvalidInputError(f"default must be a RateLimits or None, not {type(default).__name__}")
    if limits is None:
        return {}, default
    if isinstance(limits, RateLimits):
        if default is not None:
            raise InvalidInputError("give default only with limits per key (a mapping of key to RateLimits)")
        return {}, limits
    if not isinstance(limits, Mapping):
        raise InvalidInputError(
            "limits must be a RateLimits, a mapping of key to RateLimits, or None, "
            f"not {type(limits).__name__}"
        )
    table: dict[str, RateLimits] = {}
    for key, value in limits.items():
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f'limits keys must be non-empty strings ("provider/model"), not {key!r}')
        if not isinstance(value, RateLimits):
            raise InvalidInputError(f"limits[{key!r}] must be a RateLimits, not {type(value).__name__}")
        table[key] = value
    return table, default


def check_options(window: float, sleep: Sleep) -> float:
    """Check the ``window`` and ``sleep`` options shared by the limiters; the window as a float."""
    if isinstance(window, bool) or not isinstance(window, (int, float)) or not 0 < window < math.inf:
        raise InvalidInputError(f"window must be a positive number of seconds, not {window!r}")
    if not callable(sleep):
        raise InvalidInputError("sleep must be an async function taking seconds")
    return float(window)


def check_tokens(tokens: Any, what: str = "tokens") -> int:
    """``tokens`` as a non-negative int, else InvalidInputError."""
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise InvalidInputError(f"{what} must be a non-negative whole number, not {tokens!r}")
    return int(tokens)


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInputError(
            f'the rate-limit key must be a non-empty string ("provider/model"), not {key!r}'
        )
    return key


def check_retry_after(retry_after: Any) -> float | None:
    """``retry_after`` as seconds (capped at a day), None when None; InvalidInputError when not a
    non-negative number."""
    if retry_after is None:
        return None
    if isinstance(retry_after, bool) or not isinstance(retry_after, (int, float)) or not retry_after >= 0:
        raise InvalidInputError(
            f"retry_after must be a non-negative number of seconds or None, not {retry_after!r}"
        )
    return min(float(retry_after), MAX_WAIT)


def oversize_error(key: str, tokens: int, tpm: int, *, learned: bool) -> InvalidInputError:
    source = "as the provider reported" if learned else "as configured"
    return InvalidInputError(
        f"a request of {tokens} tokens can never fit the {tpm} tokens-per-minute limit of {key!r} "
        f"({source}); lower its max_tokens or split the prompt"
    )


def lower(configured: int | None, server: int | None) -> int | None:
    """The limit to admit by: the configured one, lowered (never raised) to the server's."""
    if server is None:
        return configured
    return server if configured is None or server < configured else configured


# ------------------------------------------------------------------------------ the waiting line


class Waiter:
    """One caller waiting its turn: its event loop and the future that wakes it."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] | None = None


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class WaitLine:
    """The FIFO of callers waiting on one key, from any thread and event loop. Every method is
    called with the owning limiter's lock held."""

    __slots__ = ("waiters",)

    def __init__(self) -> None:
        self.waiters: deque[Waiter] = deque()

    def join(self) -> Waiter:
        waiter = Waiter(asyncio.get_running_loop())
        self.waiters.append(waiter)
        return waiter

    def arm(self, waiter: Waiter) -> asyncio.Future[None]:
        """A fresh future for ``waiter``'s next pause."""
        future: asyncio.Future[None] = waiter.loop.create_future()
        waiter.future = future
        return future

    def leave(self, waiter: Waiter) -> None:
        """Take ``waiter`` out of the line (done, failed or cancelled); wake the next head."""
        was_head = bool(self.waiters) and self.waiters[0] is waiter
        try:
            self.waiters.remove(waiter)
        except ValueError:
            return
        if was_head:
            self.wake_head()

    def wake_head(self) -> None:
        """Let the head of the line look again (capacity was freed, limits changed, or it is new)."""
        while self.waiters:
            if _wake(self.waiters[0]):
                return
            self.waiters.popleft()  # its event loop is closed: that caller is gone


def _wake(waiter: Waiter) -> bool:
    future = waiter.future
    if future is None or future.done():
        return True
    loop = waiter.loop
    if loop.is_closed():
        return False
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is running:
        future.set_result(None)
        return True
    try:
        loop.call_soon_threadsafe(_resolve, future)
    except RuntimeError:  # closed meanwhile
        return False
    return True


async def pause(future: asyncio.Future[None], wait: float | None, sleep: Sleep) -> None:
    """Wait until ``future`` is woken, or ``wait`` seconds (None: no time limit) have passed."""
    if wait is None:
        await future
        return
    sleeper = asyncio.ensure_future(sleep(wait))
    try:
        await asyncio.wait((future, sleeper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()


# ------------------------------------------------------------------------------ the limiter


@dataclass(slots=True)
class _LocalPermit(Permit):
    bucket: _Bucket | None = field(default=None, repr=False, compare=False)
    entry: list[Any] | None = field(default=None, repr=False, compare=False)


class _Bucket:
    """One key's limits, its window log ``[[time, tokens], …]`` (oldest first), the tokens in
    that log, the time until which it is held, and its line of waiting callers."""

    __slots__ = ("configured", "hold_until", "line", "log", "rpm", "server_rpm", "server_tpm", "tpm", "used")

    def __init__(self, configured: RateLimits | None) -> None:
        self.configured = configured
        self.rpm = configured.rpm if configured is not None else None
        self.tpm = configured.tpm if configured is not None else None
        self.server_rpm: int | None = None
        self.server_tpm: int | None = None
        self.log: deque[list[Any]] = deque()
        self.used = 0
        self.hold_until = -math.inf
        self.line = WaitLine()

    def learn(self, snapshot: RateLimitSnapshot) -> bool:
        """Take the server's limits; True when the limits to admit by changed."""
        rpm, tpm = snapshot.requests_per_minute, snapshot.tokens_per_minute
        if rpm is not None:
            self.server_rpm = rpm
        if tpm is not None:
            self.server_tpm = tpm
        configured = self.configured or RateLimits()
        new = (lower(configured.rpm, self.server_rpm), lower(configured.tpm, self.server_tpm))
        if new == (self.rpm, self.tpm):
            return False
        self.rpm, self.tpm = new
        return True


class RateLimiter:
    """Client-side admission by requests and tokens per minute, per key, within one process.

    ``limits``: one :class:`RateLimits` for every key (each key its own budget), or a mapping of
    key (``"provider/model"``) to limits, with ``default`` for the keys not in it; None: no
    configured limits. ``learn``: take limits from response headers (they become a key's limits
    when none were configured; a configured limit is lowered, never raised, to the server's) and
    hold a key whose budget the server reports exhausted (``remaining`` 0) until its reset.
    ``observe(retry_after=…)`` holds every caller of the key for that long either way.

    One limiter may be shared by every task of every event loop of the process: its bookkeeping
    is guarded by a lock and waiting is done with ``sleep`` (``asyncio.sleep``). ``clock`` (seconds,
    monotonic) and ``sleep`` can be replaced for tests; ``window`` is the period the limits count
    over (60 seconds). See the module documentation for the algorithm and the fairness rule.
    """

    def __init__(
        self,
        limits: RateLimits | Mapping[str, RateLimits] | None = None,
        *,
        default: RateLimits | None = None,
        learn: bool = True,
        clock: Callable[[], float] = time.monotonic,
        window: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._per_key, self._default = resolve_limits(limits, default)
        if not callable(clock):
            raise InvalidInputError("clock must be a function returning seconds")
        self._window = check_options(window, sleep)
        self._learn = bool(learn)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def __repr__(self) -> str:
        return f"RateLimiter(keys={len(self._buckets)}, default={self._default!r}, learn={self._learn})"

    def limits_for(self, key: str) -> RateLimits:
        """The limits ``key`` is admitted by now (configured, lowered or set by what was learned)."""
        with self._lock:
            bucket = self._bucket(key)
            return RateLimits(bucket.rpm, bucket.tpm)

    def _bucket(self, key: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            check_key(key)
            bucket = self._buckets[key] = _Bucket(self._per_key.get(key, self._default))
        return bucket

    async def acquire(self, key: str, tokens: int) -> Permit:
        """Wait until one request of ``tokens`` (prompt + maximum output) fits ``key``'s limits,
        and reserve it. InvalidInputError when it can never fit (more tokens than the TPM)."""
        if tokens.__class__ is not int or tokens < 0:
            tokens = check_tokens(tokens)
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key) or self._bucket(key)
            if not bucket.line.waiters and now >= bucket.hold_until:
                rpm, tpm = bucket.rpm, bucket.tpm
                if rpm is None and tpm is None:
                    return _LocalPermit(key, tokens)
                if tpm is not None and tokens > tpm:
                    raise oversize_error(key, tokens, tpm, learned=tpm == bucket.server_tpm)
                log = bucket.log
                edge = now - self._window
                while log and log[0][0] <= edge:
                    bucket.used -= log.popleft()[1]
                if (rpm is None or len(log) < rpm) and (tpm is None or bucket.used + tokens <= tpm):
                    entry = [now, tokens]
                    log.append(entry)
                    bucket.used += tokens
                    return _LocalPermit(key, tokens, bucket, entry)
            waiter = bucket.line.join()
        return await self._wait_turn(bucket, key, tokens, waiter)

    async def _wait_turn(self, bucket: _Bucket, key: str, tokens: int, waiter: Waiter) -> Permit:
        line = bucket.line
        try:
            while True:
                with self._lock:
                    wait: float | None = None
                    if line.waiters[0] is waiter:
                        now = self._clock()
                        wait = self._delay(bucket, key, now, tokens)
                        if wait <= 0:
                            line.waiters.popleft()
                            permit = self._admit(bucket, key, tokens, now)
                            line.wake_head()
                            return permit
                    future = line.arm(waiter)
                await pause(future, wait, self._sleep)
        except BaseException:
            with self._lock:
                line.leave(waiter)
            raise

    def _delay(self, bucket: _Bucket, key: str, now: float, tokens: int) -> float:
        """Seconds until ``tokens`` fits (<= 0: now); raises when it never can. Lock held."""
        rpm, tpm, log, window = bucket.rpm, bucket.tpm, bucket.log, self._window
        if tpm is not None and tokens > tpm:
            raise oversize_error(key, tokens, tpm, learned=tpm == bucket.server_tpm)
        edge = now - window
        while log and log[0][0] <= edge:
            bucket.used -= log.popleft()[1]
        wait = bucket.hold_until - now
        if rpm is not None and len(log) >= rpm:
            wait = max(wait, log[len(log) - rpm][0] - edge)
        if tpm is not None:
            excess = bucket.used + tokens - tpm
            if excess > 0:
                freed = 0
                for moment, spent in log:
                    freed += spent
                    if freed >= excess:
                        wait = max(wait, moment - edge)
                        break
        return wait

    def _admit(self, bucket: _Bucket, key: str, tokens: int, now: float) -> Permit:
        if bucket.rpm is None and bucket.tpm is None:
            return _LocalPermit(key, tokens)
        entry = [now, tokens]
        bucket.log.append(entry)
        bucket.used += tokens
        return _LocalPermit(key, tokens, bucket, entry)

    async def settle(self, permit: Permit, used_tokens: int) -> None:
        """Replace the permit's reserved tokens by ``used_tokens`` (what the call really used;
        0 when it failed before reaching the provider) while it is still inside the window."""
        if used_tokens.__class__ is not int or used_tokens < 0:
            used_tokens = check_tokens(used_tokens, "used_tokens")
        if not isinstance(permit, _LocalPermit):
            raise InvalidInputError(f"settle takes a Permit granted by this RateLimiter, not {permit!r}")
        entry, bucket = permit.entry, permit.bucket
        if entry is not None and bucket is not None:
            now = self._clock()
            with self._lock:
                if self._buckets.get(permit.key) is not bucket:
                    raise InvalidInputError(
                        f"settle takes a Permit granted by this RateLimiter, not {permit!r}"
                    )
                delta = used_tokens - entry[1]
                if delta and entry[0] > now - self._window:
                    entry[1] = used_tokens
                    bucket.used += delta
                    if delta < 0 and bucket.line.waiters:
                        bucket.line.wake_head()
        permit.tokens = used_tokens

    async def observe(
        self, key: str, *, headers: Mapping[str, str] | None = None, retry_after: float | None = None
    ) -> None:
        """Learn from a response's or an error's ``headers`` (when ``learn``) and hold every caller
        of ``key`` for ``retry_after`` seconds (a 429's Retry-After)."""
        hold = check_retry_after(retry_after)
        snapshot = parse_rate_limit_headers(headers) if headers and self._learn else None
        if snapshot is None and hold is None:
            return
        now = self._clock()
        with self._lock:
            bucket = self._bucket(key)
            changed = False
            if snapshot is not None:
                changed = bucket.learn(snapshot)
                server_hold = snapshot.hold
                if server_hold is not None:
                    hold = server_hold if hold is None else max(hold, server_hold)
            if hold:
                until = now + hold
                if until > bucket.hold_until:
                    bucket.hold_until = until
            if changed and bucket.line.waiters:
                bucket.line.wake_head()

    async def close(self) -> None:
        """Nothing to release: the limiter stays usable (it may be shared by several managers)."""
