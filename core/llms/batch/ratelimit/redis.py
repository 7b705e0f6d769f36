"""The rate limiter shared through Redis by every process and machine running a batch.

Same semantics as :class:`~.local.RateLimiter` (a sliding window log per key, ``settle``, learning
from headers, holds), kept in Redis so that all processes obey one budget:

* ``<prefix>{<key>}:log``: sorted set of the admitted requests of the last window (score: Redis
  server time in microseconds);
* ``<prefix>{<key>}:tok``: hash of their reserved tokens, their sum (``n``) and an id counter;
* ``<prefix>{<key>}:cfg``: hash of the limits learned from the provider (``rpm``, ``tpm``), the
  hold time (``hold``), and the claim of the caller whose turn is next (see below).

Every check-and-reserve is one Lua script run atomically with the server's clock (``TIME``); it
admits the request or returns how long to wait. Scripts are sent by SHA (EVALSHA) and re-sent
(EVAL) when the server does not know them. The keys of one limiter key share a hash tag, so a
Redis Cluster keeps them in one slot.

Fairness: within a process, callers of a key wait in one FIFO line (as in the local limiter).
Across processes, the first caller that does not fit *claims* the next turn: until it is admitted
(or its claim lapses, two seconds after its expected turn, should its process die), every other
caller of the key waits even if it would fit. A large request therefore is not starved by small
ones, and small ones wait for it at most one window.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...interfaces.errors import APIConnectionError, ConfigurationError, InvalidInputError
from ..types import Permit
from .headers import parse_rate_limit_headers
from .local import (
    RateLimits,
    Sleep,
    Waiter,
    WaitLine,
    check_key,
    check_options,
    check_retry_after,
    check_tokens,
    oversize_error,
    pause,
    resolve_limits,
)

__all__ = ["RedisRateLimiter"]

_INSTALL = "pip install 'core-llms[batch]'"
#: the longest a caller sleeps before asking Redis again (others' ``settle`` may free room early).
_POLL = 1.0
#: learned limits are written again after this long even when unchanged (the hash expires).
_REWRITE = 600.0

_ACQUIRE = """
local log, tok, cfg = KEYS[1], KEYS[2], KEYS[3]
local tokens = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local me = ARGV[5]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', cfg, 'rpm', 'tpm', 'hold', 'claim', 'claim_at', 'claim_until')
local learned = tonumber(state[1])
if learned and (not rpm or learned < rpm) then rpm = learned end
learned = tonumber(state[2])
if learned and (not tpm or learned < tpm) then tpm = learned end
if tpm and tokens > tpm then return {-1, tpm} end
local edge = now - window
local old = redis.call('ZRANGEBYSCORE', log, '-inf', edge)
if #old > 0 then
  local freed = 0
  for i = 1, #old, 1000 do
    local last = math.min(i + 999, #old)
    local values = redis.call('HMGET', tok, unpack(old, i, last))
    for j = 1, #values do freed = freed + (tonumber(values[j]) or 0) end
    redis.call('HDEL', tok, unpack(old, i, last))
  end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', edge)
  redis.call('HINCRBY', tok, 'n', -freed)
end
local wait = 0
local hold = tonumber(state[3])
if hold and hold > now then wait = hold - now end
if rpm then
  local count = redis.call('ZCARD', log)
  if count >= rpm then
    local oldest = redis.call('ZRANGE', log, count - rpm, count - rpm, 'WITHSCORES')
    local w = tonumber(oldest[2]) - edge
    if w > wait then wait = w end
  end
end
if tpm then
  local excess = (tonumber(redis.call('HGET', tok, 'n')) or 0) + tokens - tpm
  if excess > 0 then
    local freed, start, found = 0, 0, false
    while not found do
      local page = redis.call('ZRANGE', log, start, start + 255, 'WITHSCORES')
      if #page == 0 then break end
      local ids = {}
      for j = 1, #page, 2 do ids[#ids + 1] = page[j] end
      local values = redis.call('HMGET', tok, unpack(ids))
      for j = 1, #ids do
        freed = freed + (tonumber(values[j]) or 0)
        if freed >= excess then
          local w = tonumber(page[2 * j]) - edge
          if w > wait then wait = w end
          found = true
          break
        end
      end
      start = start + 256
    end
  end
end
local claim = state[4]
local theirs = claim and claim ~= me and (tonumber(state[6]) or 0) > now
if theirs then
  local w = (tonumber(state[5]) or now) - now
  if w < 2000 then w = 2000 end
  if w > wait then wait = w end
end
if wait > 0 then
  if me ~= '' and not theirs then
    redis.call('HSET', cfg, 'claim', me, 'claim_at', now + wait, 'claim_until', now + wait + 2000000)
    if redis.call('PTTL', cfg) < 0 then redis.call('PEXPIRE', cfg, 172800000) end
  end
  return {0, math.ceil(wait)}
end
if claim and claim == me then redis.call('HDEL', cfg, 'claim', 'claim_at', 'claim_until') end
if not rpm and not tpm then return {1, 0} end
local id = redis.call('HINCRBY', tok, 'seq', 1)
redis.call('ZADD', log, now, id)
redis.call('HSET', tok, id, tokens)
redis.call('HINCRBY', tok, 'n', tokens)
local ttl = math.floor(window / 1000) + 1000
redis.call('PEXPIRE', log, ttl)
redis.call('PEXPIRE', tok, ttl)
return {1, id}
"""

_SETTLE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
if tonumber(score) + tonumber(ARGV[3]) <= now then return 0 end
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1])) or 0
local used = tonumber(ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], used)
redis.call('HINCRBY', KEYS[2], 'n', used - old)
return 1
"""

_OBSERVE = """
local cfg = KEYS[1]
if ARGV[1] ~= '' then redis.call('HSET', cfg, 'rpm', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', cfg, 'tpm', ARGV[2]) end
if ARGV[3] ~= '' then
  local clock = redis.call('TIME')
  local hold = tonumber(clock[1]) * 1000000 + tonumber(clock[2]) + tonumber(ARGV[3])
  if hold > (tonumber(redis.call('HGET', cfg, 'hold')) or 0) then redis.call('HSET', cfg, 'hold', hold) end
end
redis.call('PEXPIRE', cfg, 172800000)
return 0
"""

_RELEASE = """
if redis.call('HGET', KEYS[1], 'claim') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'claim', 'claim_at', 'claim_until')
end
return 0
"""


class _Script:
    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()  # the script's name in Redis, not security


_SCRIPTS = {name: _Script(source) for name, source in
            (("acquire", _ACQUIRE), ("settle", _SETTLE), ("observe", _OBSERVE), ("release", _RELEASE))}


def safe_url(url: str) -> str:
    """``url`` without its user info and query (where passwords go): ``redis://***@host:6379/0``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable Redis URL>"
    netloc = parts.netloc
    host = netloc.rpartition("@")[2]
    user = "***@" if "@" in netloc else ""
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{user}{host}{parts.path}{query}"


@dataclass(slots=True)
class _RedisPermit(Permit):
    entry: int = field(default=0, repr=False, compare=False)
    owner: Any = field(default=None, repr=False, compare=False)


class RedisRateLimiter:
    """Client-side admission by requests and tokens per minute, per key, shared by every process
    using the same Redis ``url`` and ``prefix``.

    ``limits`` / ``default`` / ``learn`` / ``window`` as for :class:`~.local.RateLimiter` (each
    process passes its configured limits with every request; limits learned from headers and
    holds are stored in Redis, so every process obeys them). The ``redis`` package is imported
    here; without it, ConfigurationError. A password in ``url`` never appears in a repr or an
    error; Redis being unreachable raises APIConnectionError. See the module documentation for
    the data kept in Redis and the fairness rule.
    """

    def __init__(
        self,
        url: str,
        limits: RateLimits | Mapping[str, RateLimits] | None = None,
        *,
        default: RateLimits | None = None,
        prefix: str = "core-llms:rl:",
        learn: bool = True,
        window: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not isinstance(url, str) or not url:
            raise ConfigurationError("RedisRateLimiter needs a Redis URL (redis://host:6379/0)")
        self._safe_url = safe_url(url)
        scheme = self._safe_url.partition(":")[0].lower()
        if scheme not in ("redis", "rediss", "unix"):
            raise ConfigurationError(
                f"RedisRateLimiter URL must start with redis://, rediss:// or unix://, not {self._safe_url!r}"
            )
        if not isinstance(prefix, str) or not prefix:
            raise InvalidInputError("prefix must be a non-empty string")
        self._per_key, self._default = resolve_limits(limits, default)
        self._window = check_options(window, sleep)
        self._window_us = int(self._window * 1_000_000)
        try:
            import redis.asyncio as aioredis
            from redis import exceptions
        except ImportError:
            raise ConfigurationError(f"RedisRateLimiter needs the redis package: {_INSTALL}") from None
        self._aioredis: Any = aioredis
        self._errors: Any = exceptions
        self._url = url
        try:  # reads the URL now (no connection is made), so a bad one fails here
            aioredis.connection.parse_url(url)
        except (ValueError, TypeError):
            raise ConfigurationError(f"unreadable Redis URL {self._safe_url!r}") from None
        self._prefix = prefix
        self._learn = bool(learn)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._lines: dict[str, WaitLine] = {}
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._written: dict[str, tuple[int | None, int | None, float]] = {}
        self._me = f"{os.getpid()}-{uuid.uuid4().hex[:12]}-"
        self._ticket = itertools.count(1)
        self._background: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        return f"RedisRateLimiter({self._safe_url!r}, prefix={self._prefix!r}, default={self._default!r})"

    # ------------------------------------------------------------------ Redis plumbing

    def _keys(self, key: str) -> tuple[str, str, str]:
        base = f"{self._prefix}{{{key}}}"
        return f"{base}:log", f"{base}:tok", f"{base}:cfg"

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._clients.get(loop)
            if client is None:
                client = self._aioredis.Redis.from_url(self._url, socket_connect_timeout=5, socket_timeout=30)
                self._clients[loop] = client
            return client

    async def _run(self, name: str, keys: tuple[str, ...], args: tuple[Any, ...]) -> Any:
        script = _SCRIPTS[name]
        errors = self._errors
        try:
            client = self._client()
            try:
                return await client.evalsha(script.sha, len(keys), *keys, *args)
            except errors.NoScriptError:
                return await client.eval(script.source, len(keys), *keys, *args)
        except (errors.AuthenticationError, errors.AuthorizationError, errors.NoPermissionError):
            raise ConfigurationError(
                f"Redis at {self._safe_url} refused the credentials of the URL"
            ) from None
        except (errors.ConnectionError, errors.TimeoutError, OSError) as exc:
            raise APIConnectionError(
                f"cannot reach Redis at {self._safe_url} for rate limits ({type(exc).__name__})"
            ) from None
        except errors.ResponseError as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            reason = reason.replace(self._url, self._safe_url)
            raise ConfigurationError(
                f"Redis at {self._safe_url} refused the rate-limit script: {reason}",
                hint="another program may use keys under this prefix; choose another prefix",
            ) from None
        except errors.RedisError as exc:
            raise APIConnectionError(f"Redis at {self._safe_url} failed ({type(exc).__name__})") from None

    # ------------------------------------------------------------------ IRateLimiter

    async def acquire(self, key: str, tokens: int) -> Permit:
        """Wait until one request of ``tokens`` fits ``key``'s limits in every process, and reserve
        it. InvalidInputError when it can never fit (more tokens than the TPM)."""
        tokens = check_tokens(tokens)
        check_key(key)
        configured = self._per_key.get(key, self._default) or RateLimits()
        if configured.tpm is not None and tokens > configured.tpm:
            raise oversize_error(key, tokens, configured.tpm, learned=False)
        keys = self._keys(key)
        base = (tokens, configured.rpm or "", configured.tpm or "", self._window_us)
        with self._lock:
            line = self._lines.setdefault(key, WaitLine())
            direct = not line.waiters
        if direct:  # nobody of this process waits: ask at once, without claiming a turn
            permit = await self._try(key, tokens, keys, (*base, ""), configured)
            if isinstance(permit, _RedisPermit):
                return permit
        with self._lock:
            waiter = line.join()
        return await self._wait_turn(key, tokens, keys, base, configured, line, waiter)

    async def _try(
        self, key: str, tokens: int, keys: tuple[str, ...], args: tuple[Any, ...], configured: RateLimits
    ) -> _RedisPermit | float | None:
        """One check-and-reserve: the permit, or the seconds to wait (None for a direct try)."""
        code, value = await self._run("acquire", keys, args)
        if code == 1:
            return _RedisPermit(key, tokens, int(value), self)
        if code == -1:
            tpm = int(value)
            raise oversize_error(key, tokens, tpm, learned=configured.tpm is None or tpm < configured.tpm)
        return None if args[-1] == "" else int(value) / 1_000_000

    async def _wait_turn(
        self,
        key: str,
        tokens: int,
        keys: tuple[str, str, str],
        base: tuple[Any, ...],
        configured: RateLimits,
        line: WaitLine,
        waiter: Waiter,
    ) -> Permit:
        me = f"{self._me}{next(self._ticket)}"
        asked = False
        try:
            while True:
                with self._lock:
                    head = line.waiters[0] is waiter
                if head:
                    asked = True
                    outcome = await self._try(key, tokens, keys, (*base, me), configured)
                    if isinstance(outcome, _RedisPermit):
                        with self._lock:
                            line.leave(waiter)
                        return outcome
                    wait: float | None = min(outcome or 0.0, _POLL)
                else:
                    wait = None
                with self._lock:
                    if wait is None and line.waiters[0] is waiter:
                        continue  # became the head meanwhile
                    future = line.arm(waiter)
                await pause(future, wait, self._sleep)
        except BaseException:
            with self._lock:
                line.leave(waiter)
            if asked:
                self._release_later(keys[2], me)
            raise

    def _release_later(self, cfg: str, me: str) -> None:
        """Give up the claimed turn of a caller that failed or was cancelled (in the background:
        the caller may be cancelled; the claim lapses by itself anyway)."""
        try:
            task = asyncio.get_running_loop().create_task(self._release(cfg, me))
        except RuntimeError:
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _release(self, cfg: str, me: str) -> None:
        with contextlib.suppress(APIConnectionError, ConfigurationError):  # else it lapses by itself
            await self._run("release", (cfg,), (me,))

    async def settle(self, permit: Permit, used_tokens: int) -> None:
        """Replace the permit's reserved tokens by ``used_tokens`` while the request is still
        inside the window (in Redis, for every process)."""
        used_tokens = check_tokens(used_tokens, "used_tokens")
        if not isinstance(permit, _RedisPermit) or permit.owner is not self:
            raise InvalidInputError(f"settle takes a Permit granted by this RedisRateLimiter, not {permit!r}")
        if permit.entry and used_tokens != permit.tokens:
            log, tok, _ = self._keys(permit.key)
            await self._run("settle", (log, tok), (permit.entry, used_tokens, self._window_us))
            if used_tokens < permit.tokens:
                self._wake(permit.key)
        permit.tokens = used_tokens

    async def observe(
        self, key: str, *, headers: Mapping[str, str] | None = None, retry_after: float | None = None
    ) -> None:
        """Learn from ``headers`` (when ``learn``) and hold every caller of ``key``, in every
        process, for ``retry_after`` seconds."""
        hold = check_retry_after(retry_after)
        snapshot = parse_rate_limit_headers(headers) if headers and self._learn else None
        if snapshot is None and hold is None:
            return
        check_key(key)
        rpm = tpm = None
        if snapshot is not None:
            rpm, tpm = snapshot.requests_per_minute, snapshot.tokens_per_minute
            server_hold = snapshot.hold
            if server_hold is not None:
                hold = server_hold if hold is None else max(hold, server_hold)
            now = time.monotonic()
            last = self._written.get(key)
            same = last is not None and last[:2] == (rpm, tpm) and now - last[2] < _REWRITE
            if (rpm is None and tpm is None) or same:
                rpm = tpm = None  # nothing new to write
            else:
                self._written[key] = (rpm, tpm, now)
        if rpm is None and tpm is None and not hold:
            return
        held = "" if not hold else int(hold * 1_000_000)
        await self._run("observe", (self._keys(key)[2],), (rpm or "", tpm or "", held))
        if rpm is not None or tpm is not None:
            self._wake(key)

    def _wake(self, key: str) -> None:
        with self._lock:
            line = self._lines.get(key)
            if line is not None and line.waiters:
                line.wake_head()

    async def close(self) -> None:
        """Close this event loop's Redis connections (the limiter reconnects if used again)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            clients = list(self._clients.items())
            self._clients.clear()
        for owner, client in clients:
            if owner is loop:
                with contextlib.suppress(self._errors.RedisError, OSError):
                    await client.aclose()
            elif not owner.is_closed() and owner.is_running():
                asyncio.run_coroutine_threadsafe(client.aclose(), owner)
