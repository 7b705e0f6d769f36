"""One rate limit for every Ray worker: :class:`RayActorRateLimiter` (extra ``ray``).

A named Ray actor holds an in-process :class:`~core.llms.batch.ratelimit.RateLimiter`; every
worker's :class:`RayActorRateLimiter` is a thin :class:`~core.llms.batch.types.IRateLimiter`
calling it. The actor is an async actor: a waiting ``acquire`` never blocks it. Each call waits
there at most ``hold`` seconds (a long poll) and otherwise tells the worker to ask again, so a
worker that dies while waiting leaves nothing reserved behind, and the actor is never tied up
by one caller.

    from core.llms.batch.ray_limiter import RayActorRateLimiter

    limiter = RayActorRateLimiter("openai-limits", {"rpm": 5000, "tpm": 2_000_000})
    # made on the driver: the actor lives as long as the driver (detached=True: until killed)

Without Redis this is the way to share limits in one Ray cluster; with Redis,
:class:`~core.llms.batch.ratelimit.RedisRateLimiter` also shares them between clusters.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..interfaces.errors import ConfigurationError, LLMError
from .records import error_from_record, error_to_record
from .types import Permit

__all__ = ["RayActorRateLimiter"]

#: seconds one acquire call may wait inside the actor before the worker asks again.
DEFAULT_HOLD = 2.0
#: an unsettled permit older than this (its worker died) is dropped by the actor.
_PERMIT_TTL = 900.0
#: calls the actor serves at once (each waiting acquire is one).
_MAX_CONCURRENCY = 4096
#: actor calls made by an operation before it gives up on a dead or unreachable actor.
_CALL_TRIES = 2


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigurationError(
            "RayActorRateLimiter needs Ray", hint="pip install 'core-llms[ray]'"
        ) from None
    return ray


def _limits(limits: Any) -> Any:
    from .ratelimit import RateLimits

    if isinstance(limits, RateLimits):
        return limits
    if isinstance(limits, Mapping):
        try:
            return RateLimits(**limits)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"rate limits {dict(limits)!r} are not valid ({exc})") from None
    raise ConfigurationError(
        f"rate limits must be a RateLimits or a dict such as {{'rpm': 500}}, not {type(limits).__name__}"
    )


@dataclass(slots=True)
class _Ticket:
    permit: Permit
    made: float


class _LimiterService:
    """The actor's body (made into a Ray actor by :func:`_actor_class`): an in-process
    :class:`~core.llms.batch.ratelimit.RateLimiter` and the permits handed out, by ticket."""

    def __init__(self, limits: Any, window: float) -> None:
        from .ratelimit import RateLimiter

        self._limits = (limits, window)
        self._limiter = RateLimiter(limits, window=window)
        self._tickets: dict[int, _Ticket] = {}
        self._numbers = itertools.count(1)
        #: grants and long polls that ended without one, for tests and dashboards.
        self.granted = 0
        self.polls = 0

    async def limits(self) -> Any:
        return self._limits

    async def counts(self) -> tuple[str, Any]:
        return "ok", {"granted": self.granted, "polls": self.polls, "outstanding": len(self._tickets)}

    async def acquire(self, key: str, tokens: int, hold: float) -> tuple[str, Any]:
        """``("ok", (ticket, tokens))`` once the request fits, ``("ok", None)`` when it did not fit
        within ``hold`` seconds (the caller asks again), or ``("error", record)``."""
        self._prune()
        try:
            permit = await asyncio.wait_for(self._limiter.acquire(key, tokens), hold)
        except TimeoutError:
            self.polls += 1
            return "ok", None
        except LLMError as exc:  # sent back as data: a pickled exception would carry a traceback
            return "error", error_to_record(exc)
        number = next(self._numbers)
        self._tickets[number] = _Ticket(permit, time.monotonic())
        self.granted += 1
        return "ok", (number, permit.tokens)

    async def settle(self, ticket: int, used_tokens: int) -> tuple[str, Any]:
        found = self._tickets.pop(ticket, None)
        if found is None:
            return "ok", None
        try:
            await self._limiter.settle(found.permit, used_tokens)
        except LLMError as exc:
            return "error", error_to_record(exc)
        return "ok", None

    async def observe(
        self, key: str, headers: dict[str, str] | None, retry_after: float | None
    ) -> tuple[str, Any]:
        try:
            await self._limiter.observe(key, headers=headers, retry_after=retry_after)
        except LLMError as exc:
            return "error", error_to_record(exc)
        return "ok", None

    def _prune(self) -> None:
        if len(self._tickets) < 1024:
            return
        oldest = time.monotonic() - _PERMIT_TTL
        for number in [n for n, t in self._tickets.items() if t.made < oldest]:
            del self._tickets[number]


_ACTOR_CLASS: Any = None


def _actor_class() -> Any:
    global _ACTOR_CLASS
    if _ACTOR_CLASS is None:
        ray = _ray()
        remote = ray.remote(num_cpus=0, max_concurrency=_MAX_CONCURRENCY, max_restarts=-1)
        _ACTOR_CLASS = remote(_LimiterService)
    return _ACTOR_CLASS


@dataclass(slots=True)
class _RemotePermit(Permit):
    """A permit granted by the actor: ``ticket`` names it there."""

    ticket: int = 0


class RayActorRateLimiter:
    """An :class:`~core.llms.batch.types.IRateLimiter` shared by every Ray worker through the
    named actor ``name`` (made on first use with ``get_if_exists``, so every worker and the
    driver reach the same one).

    ``limits``: a :class:`~core.llms.batch.ratelimit.RateLimits` or a dict of its fields
    (``{"rpm": ..., "tpm": ...}``), applied to every key (``"provider/model"``). An existing actor
    holding other limits raises :class:`ConfigurationError` (pick another name, or kill it with
    :meth:`destroy`). ``namespace``: the Ray namespace of the actor (None: the job's own; give
    one to share limits between jobs). ``detached``: the actor outlives the process that made it
    (until :meth:`destroy`); otherwise it ends with that process — make it on the driver, before
    the dataset runs, so it lives as long as the job. ``hold``: seconds one call may wait in the
    actor before asking again. ``window``: the seconds the limits count over (60: per minute).

    Needs a running Ray (``ray.init()`` on the driver; workers are already connected).
    """

    def __init__(
        self,
        name: str,
        limits: Any,
        *,
        namespace: str | None = None,
        detached: bool = False,
        hold: float = DEFAULT_HOLD,
        window: float = 60.0,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError("RayActorRateLimiter(name=...) must be a non-empty actor name")
        if namespace is not None and (not isinstance(namespace, str) or not namespace):
            raise ConfigurationError("RayActorRateLimiter(namespace=...) must be a non-empty string or None")
        if isinstance(hold, bool) or not isinstance(hold, int | float) or not 0 < hold <= 60:
            raise ConfigurationError("RayActorRateLimiter(hold=...) must be seconds in (0, 60]")
        self.name = name
        self.namespace = namespace
        self.detached = bool(detached)
        self.hold = float(hold)
        if isinstance(window, bool) or not isinstance(window, int | float) or not 0 < window <= 86_400:
            raise ConfigurationError("RayActorRateLimiter(window=...) must be seconds in (0, 86400]")
        self.window = float(window)
        self.limits = _limits(limits)
        ray = _ray()
        if not ray.is_initialized():
            raise ConfigurationError(
                "RayActorRateLimiter needs a running Ray",
                hint="call ray.init() (or ray.init(address='auto')) first",
            )
        self._actor = self._connect()
        try:
            existing = ray.get(self._actor.limits.remote(), timeout=60)
        except ray.exceptions.RayError as exc:
            raise ConfigurationError(
                f"the rate-limit actor {name!r} could not be reached or made ({type(exc).__name__})"
            ) from None
        if existing != (self.limits, self.window):
            held, held_window = existing
            raise ConfigurationError(
                f"the Ray actor {name!r} already holds other rate limits ({held!r} per {held_window:g} s)",
                hint="use another name, or RayActorRateLimiter.destroy(name) first",
            )
        self._closed = False

    def _connect(self) -> Any:
        options: dict[str, Any] = {"name": self.name, "get_if_exists": True}
        if self.namespace is not None:
            options["namespace"] = self.namespace
        if self.detached:
            options["lifetime"] = "detached"
        return _actor_class().options(**options).remote(self.limits, self.window)

    def __repr__(self) -> str:
        return (
            f"RayActorRateLimiter({self.name!r}, {self.limits!r}, window={self.window:g}, "
            f"namespace={self.namespace!r})"
        )

    def __reduce__(self) -> Any:  # re-connects by name wherever it is unpickled
        return (_rebuild, (self.name, self.limits, self.namespace, self.detached, self.hold, self.window))

    async def _call(self, method: str, *args: Any) -> Any:
        """One actor call, its answer or its typed error; a dead actor is looked up (or made)
        again once. Ray's own failures become :class:`LLMError` (class name only)."""
        ray = _ray()
        for attempt in range(_CALL_TRIES):
            try:
                status, value = await getattr(self._actor, method).remote(*args)
            except ray.exceptions.RayActorError:
                if attempt + 1 >= _CALL_TRIES:
                    raise LLMError(f"the rate-limit actor {self.name!r} is gone") from None
                self._actor = self._connect()
                continue
            except ray.exceptions.RayError as exc:
                raise LLMError(f"the rate-limit actor {self.name!r} failed ({type(exc).__name__})") from None
            if status == "error":
                raise error_from_record(value)
            return value
        raise LLMError(f"the rate-limit actor {self.name!r} did not answer")  # pragma: no cover

    async def acquire(self, key: str, tokens: int) -> Permit:
        """Wait (here, in the worker) until one request of ``tokens`` fits the shared limits."""
        if self._closed:
            raise ConfigurationError("this RayActorRateLimiter is closed")
        while True:
            granted = await self._call("acquire", key, tokens, self.hold)
            if granted is not None:
                ticket, reserved = granted
                return _RemotePermit(key=key, tokens=reserved, ticket=ticket)

    async def settle(self, permit: Permit, used_tokens: int) -> None:
        """Correct the reservation of ``permit`` with the tokens really used."""
        if isinstance(permit, _RemotePermit):
            await self._call("settle", permit.ticket, used_tokens)

    async def observe(
        self, key: str, *, headers: Mapping[str, str] | None = None, retry_after: float | None = None
    ) -> None:
        """Pass a response's rate-limit headers or a 429's Retry-After on to the shared limiter."""
        if headers is None and retry_after is None:
            return
        plain = None if headers is None else {str(k): str(v) for k, v in headers.items() if _rate_header(k)}
        if plain is not None and not plain and retry_after is None:
            return
        await self._call("observe", key, plain, retry_after)

    async def counts(self) -> dict[str, int]:
        """The actor's counters: permits ``granted``, long ``polls`` that ended without one,
        and permits ``outstanding`` (not settled yet)."""
        result: dict[str, int] = await self._call("counts")
        return result

    async def close(self) -> None:
        """Stop using the actor (it stays up for the other workers)."""
        self._closed = True

    @staticmethod
    def destroy(name: str, *, namespace: str | None = None) -> bool:
        """Kill the actor ``name`` (a detached one lives until then); False when there is none."""
        ray = _ray()
        try:
            actor = ray.get_actor(name, namespace=namespace)
        except ValueError:
            return False
        ray.kill(actor)
        return True


def _rate_header(name: str) -> bool:
    """Only rate-limit headers travel to the actor (never anything that could hold a credential)."""
    lowered = str(name).lower()
    return "ratelimit" in lowered or lowered in ("retry-after", "retry-after-ms")


def _rebuild(
    name: str, limits: Any, namespace: str | None, detached: bool, hold: float, window: float
) -> RayActorRateLimiter:
    return RayActorRateLimiter(name, limits, namespace=namespace, detached=detached, hold=hold, window=window)
