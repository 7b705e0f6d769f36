"""A value that expires, kept and refreshed before it does: :class:`RefreshingValue`, the common part
of the Entra ID, Google and AWS credential providers.

A subclass says how to get a new value (:meth:`RefreshingValue._load`, which may block only in a
worker thread: :func:`run_off_loop`) and how to word its failures; this class keeps the value:

* **refreshed before it expires**: ``refresh_margin`` seconds before its expiry, at most half its
  lifetime (so a short-lived value is not fetched on every request), or at the source's own
  earlier hint; a value without an expiry is never refreshed (until :meth:`invalidate`);
* **never expired**: a value is only handed out before its refresh time, which is before its
  expiry; when a refresh fails, the current value is used while it still has
  :data:`FALLBACK_VALIDITY` seconds left (the refresh is tried again after
  :data:`RETRY_AFTER_FAILURE` seconds), else the call raises the failure's error;
* **single-flight**: concurrent requests that need a new value share one fetch, shielded from the
  cancellation of any one of them.

Pure standard library: importing it loads nothing else.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ...interfaces.errors import AuthenticationError, ConfigurationError, LLMError

__all__ = [
    "FALLBACK_VALIDITY",
    "RETRY_AFTER_FAILURE",
    "Kept",
    "RefreshFailure",
    "RefreshingValue",
    "check_refresh_margin",
    "failure_reason",
    "run_off_loop",
    "type_name",
]

#: when a refresh fails, the current value is still used if it has this many seconds left.
FALLBACK_VALIDITY = 30.0
#: after a failed refresh that fell back on the current value, seconds before trying again.
RETRY_AFTER_FAILURE = 30.0

T = TypeVar("T")


class Kept(Generic[T]):
    """A value, when it expires (None: never) and when to refresh it (its value is never shown)."""

    __slots__ = ("expires_at", "refresh_at", "value")

    def __init__(self, value: T, expires_at: float | None, refresh_at: float) -> None:
        self.value = value
        self.expires_at = expires_at
        self.refresh_at = refresh_at

    def __repr__(self) -> str:
        return f"Kept(expires_at={self.expires_at!r})"


class RefreshFailure(Exception):
    """Why a fetch failed, naming no secret: each waiting request raises its own error from it (an
    error object is filled in with the endpoint of the request that raises it: never shared).
    Raised by :meth:`RefreshingValue._load`, it fails the fetch without falling back on the
    current value."""

    def __init__(self, message: str, hint: str, *, config: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.config = config

    def error(self) -> LLMError:
        """A new :class:`ConfigurationError` (``config``) or :class:`AuthenticationError`."""
        cls = ConfigurationError if self.config else AuthenticationError
        return cls(self.message, hint=self.hint)


def type_name(exc: BaseException) -> str:
    """An exception's qualified type name (``builtins.`` left out): never its text."""
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")


def failure_reason(exc: BaseException) -> str:
    """How a failed refresh's exception is reported: an :class:`LLMError` by its class name, any
    other by :func:`type_name`."""
    return type(exc).__name__ if isinstance(exc, LLMError) else type_name(exc)


def check_refresh_margin(value: object, owner: str) -> float:
    """``value`` as a number of seconds >= 0, else :class:`ConfigurationError` naming ``owner``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ConfigurationError(f"{owner}.refresh_margin must be a number of seconds >= 0")
    return float(value)


async def run_off_loop(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` without blocking the event loop: awaited when it is a coroutine function,
    else run in a worker thread (its result awaited if it turns out to be awaitable)."""
    if inspect.iscoroutinefunction(function):
        return await function(*args)
    result = await asyncio.to_thread(function, *args)
    if inspect.isawaitable(result):  # a sync-looking function that returned a coroutine
        result = await result
    return result


class RefreshingValue(Generic[T]):
    """A value kept until its refresh time, then fetched again (see the module doc); ``await
    value()`` (or :meth:`get`) returns it. ``clock`` returns seconds since the epoch.

    Subclasses implement :meth:`_load`, :meth:`_expired`, :meth:`_explain` and
    :meth:`_log_fallback`."""

    __slots__ = ("_clock", "_fetching", "_kept", "_margin")

    def __init__(self, *, refresh_margin: float, clock: Callable[[], float], owner: str) -> None:
        self._margin = check_refresh_margin(refresh_margin, owner)
        self._clock = clock
        self._kept: Kept[T] | None = None
        #: the fetch in flight (shared by every request that waits for it), if any.
        self._fetching: asyncio.Task[Kept[T] | RefreshFailure] | None = None

    @property
    def refresh_margin(self) -> float:
        """Seconds before expiry the value is refreshed."""
        return self._margin

    def invalidate(self) -> None:
        """Forget the current value: the next request fetches a new one (e.g. after a 401 that
        says it was revoked)."""
        self._kept = None

    async def get(self) -> T:
        """A valid value: the kept one until its refresh time, else a new one."""
        kept = self._kept
        if kept is not None and self._clock() < kept.refresh_at:
            return kept.value
        return await self._refresh()

    __call__ = get

    async def _refresh(self) -> T:
        loop = asyncio.get_running_loop()
        task = self._fetching
        if task is None or task.done() or task.get_loop() is not loop:
            # (a fetch begun in another event loop cannot be awaited here: this loop gets its own)
            task = self._fetching = loop.create_task(self._fetch())
        # shielded: a request cancelled while it waits does not cancel the others' fetch
        outcome = await asyncio.shield(task)
        if isinstance(outcome, RefreshFailure):
            raise outcome.error()
        return outcome.value

    async def _fetch(self) -> Kept[T] | RefreshFailure:
        """Fetch once; keep and return the value, or say why there is none."""
        try:
            value, expires_at, refresh_hint = await self._load()
        except RefreshFailure as failure:
            return failure
        except Exception as exc:  # reported by its type only: its text may hold details
            return self._failed(exc)
        finally:
            if self._fetching is asyncio.current_task():
                self._fetching = None
        return self._keep(value, expires_at, refresh_hint)

    def _keep(
        self, value: T, expires_at: float | None, refresh_hint: float | None
    ) -> Kept[T] | RefreshFailure:
        now = self._clock()
        if expires_at is None:
            refresh_at = math.inf
        else:
            lifetime = expires_at - now
            if lifetime <= 0:
                return self._expired()
            refresh_at = expires_at - min(self._margin, lifetime / 2)
            if refresh_hint is not None and now < refresh_hint < refresh_at:
                refresh_at = refresh_hint
        kept = self._kept = Kept(value, expires_at, refresh_at)
        return kept

    def _failed(self, exc: Exception) -> Kept[T] | RefreshFailure:
        """A failed fetch: the current value while it is still good for a while, else why not."""
        current = self._kept
        now = self._clock()
        if (
            current is not None
            and current.expires_at is not None
            and now < current.expires_at - FALLBACK_VALIDITY
        ):
            current.refresh_at = min(now + RETRY_AFTER_FAILURE, current.expires_at - FALLBACK_VALIDITY)
            self._log_fallback(exc)
            return current
        return self._explain(exc)

    # -- what a subclass says ------------------------------------------------------------------

    async def _load(self) -> tuple[T, float | None, float | None]:
        """A new value, its expiry (seconds since the epoch; None: never) and an earlier refresh
        time the source suggests (or None). Raises :class:`RefreshFailure` for a failure that must
        not fall back on the current value, any other exception for one that may."""
        raise NotImplementedError

    def _expired(self) -> RefreshFailure:
        """The failure of a fetch that returned an already expired value."""
        raise NotImplementedError

    def _explain(self, exc: Exception) -> RefreshFailure:
        """What a failed fetch's exception means, naming no secret."""
        raise NotImplementedError

    def _log_fallback(self, exc: Exception) -> None:
        """Say (in a log) that a refresh failed with ``exc`` and the current value is used."""
        raise NotImplementedError
