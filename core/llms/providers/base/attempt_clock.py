"""The read (idle) and total timeouts of one non-streamed attempt, without a timer of its own.

aiohttp keeps a read timeout by arming a timer when the request has been sent and arming a new
one for every chunk received. For a small non-streamed answer that is two timers on top of the
total timeout's, and asyncio timers are not cheap (each one is a Python object in a heap ordered by
a Python ``__lt__``): together about a tenth of the CPU of the whole request. A non-streamed
attempt therefore leaves both limits to one :class:`AttemptClock`, whose deadline is the earlier of
"a read timeout from now" and the end of the total timeout; one watchdog timer per event loop
serves every clock (see :class:`_Watchdog`). It bounds the wait for the
response headers; when the body did not arrive with them, :meth:`AttemptClock.move_on` restarts
the read timeout before each further wait, so the read timeout stays the longest silence allowed
between two received bytes. Streams keep aiohttp's own read timeout.

One difference from aiohttp's read timeout: the clock starts when the request is handed to the
connection pool, so a wait for a free pooled connection counts towards it (as it counts towards
the total timeout).

The mechanism is ``asyncio.timeout``'s, without its context manager (which costs about as much
again as the timer itself): when the deadline passes the watchdog cancels the attempt's task; the attempt's
``except CancelledError`` asks :meth:`AttemptClock.timed_out` whether the cancellation was the
clock's, and then raises :meth:`AttemptClock.error` instead; a ``finally`` calls
:meth:`AttemptClock.stop`::

    clock = AttemptClock(endpoint.timeouts, request.read_timeout, cap)
    try:
        ...  # awaits; clock.move_on() before each wait for more of the body
    except asyncio.CancelledError:
        if not clock.timed_out():
            raise
        raise clock.error(endpoint_name) from None
    finally:
        clock.stop()
"""

from __future__ import annotations

import asyncio
import math
import weakref
from typing import TYPE_CHECKING

from ...interfaces.errors import LLMError
from .transport_errors import map_transport_error

if TYPE_CHECKING:
    from ...interfaces.endpoint import Timeouts

__all__ = ["AttemptClock"]


class _Watchdog:
    """The one timer of every attempt clock of an event loop.

    Clocks are kept in a dict (a set); the timer is armed at the earliest deadline among them and
    is moved only when a new clock's deadline comes earlier (attempts with the same read timeout
    never move it). When it fires it expires the clocks whose deadline passed and re-arms at the
    earliest one left, so a timeout fires when it is due, not later. Registering and stopping a
    clock is a dict store and a dict removal, instead of an asyncio timer each (an object in a heap
    ordered by a Python ``__lt__``, plus a cancelled handle the loop must skip): at 64 and 512
    attempts in flight that was about a tenth of the CPU of a whole request.
    """

    __slots__ = ("_clocks", "_handle", "_loop", "_wake_at")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._clocks: dict[AttemptClock, None] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._wake_at = math.inf

    def add(self, clock: AttemptClock) -> None:
        self._clocks[clock] = None
        if clock._at < self._wake_at:
            self._arm(clock._at)

    def discard(self, clock: AttemptClock) -> None:
        self._clocks.pop(clock, None)

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._wake_at = when
        self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._wake_at = math.inf
        now = self._loop.time() + _RESOLUTION
        nearest = math.inf
        for clock in list(self._clocks):
            at = clock._at
            if at <= now:
                del self._clocks[clock]
                clock._expire()
            elif at < nearest:
                nearest = at
        if nearest < math.inf:
            self._arm(nearest)


#: a clock due within this many seconds of the timer's wake-up expires then (the loop may wake a
#: little early: asyncio runs a timer up to its clock resolution before it is due).
_RESOLUTION = 0.001
#: the watchdog of the event loop used last, and of every loop by loop (most processes have one).
_last: tuple[asyncio.AbstractEventLoop | None, _Watchdog | None] = (None, None)
_watchdogs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watchdog] = weakref.WeakKeyDictionary()


def _watchdog(loop: asyncio.AbstractEventLoop) -> _Watchdog:
    global _last
    last_loop, dog = _last
    if last_loop is loop and dog is not None:
        return dog
    dog = _watchdogs.get(loop)
    if dog is None:
        dog = _watchdogs[loop] = _Watchdog(loop)
    _last = (loop, dog)
    return dog


class AttemptClock:
    """The deadline of one attempt, watched from when it is made (inside the attempt's task).

    ``read`` is the call's own read timeout (None: the endpoint's), ``cap`` what is left of the
    call's deadline (None: no deadline), which caps the endpoint's total timeout.
    """

    __slots__ = ("_at", "_dog", "_expired_at", "_loop", "_read", "_task", "_total_at")

    def __init__(self, timeouts: Timeouts, read: float | None, cap: float | None) -> None:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - an attempt always runs in a task
            raise RuntimeError("AttemptClock must be made inside a task")
        self._task = task
        loop = self._loop = task.get_loop()
        self._read: float = read or timeouts.read
        total = timeouts.total if cap is None else min(timeouts.total, cap)
        now = loop.time()
        self._total_at = now + max(total, 0.001)
        self._expired_at: float | None = None
        self._at = min(now + self._read, self._total_at)
        self._dog = _watchdog(loop)
        self._dog.add(self)

    def _expire(self) -> None:
        self._expired_at = self._at
        self._task.cancel()

    def move_on(self) -> None:
        """Restart the read timeout (data arrived; the attempt waits for more). The deadline only
        moves later, so the watchdog's timer need not move: it re-checks when it fires."""
        self._at = min(self._loop.time() + self._read, self._total_at)

    def stop(self) -> None:
        """Stop watching (the attempt is over)."""
        self._dog.discard(self)

    def timed_out(self) -> bool:
        """Was the ``CancelledError`` being handled the clock's? Call it once per error: it also
        withdraws the clock's cancellation request. False when the task is being cancelled by
        someone else too (that cancellation must go on)."""
        return self._expired_at is not None and self._task.uncancel() == 0

    def error(self, endpoint: str) -> LLMError:
        """The typed error of an expired clock: a total timeout when it fired at the end of the
        total, else a read timeout (worded as aiohttp's)."""
        if self._expired_at is None or self._expired_at >= self._total_at:
            return map_transport_error(TimeoutError(), endpoint)
        import aiohttp  # loaded by the session that sent the attempt

        return map_transport_error(aiohttp.SocketTimeoutError(), endpoint)
