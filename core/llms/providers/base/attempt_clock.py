"""The read (idle) and total timeouts of one non-streamed attempt, on a single timer.

aiohttp keeps a read timeout by arming a timer when the request has been sent and arming a new
one for every chunk received. For a small non-streamed answer that is two timers on top of the
total timeout's, and asyncio timers are not cheap (each one is a Python object in a heap ordered by
a Python ``__lt__``): together about a tenth of the CPU of the whole request. A non-streamed
attempt therefore leaves both limits to one :class:`AttemptClock`, whose single timer fires at the
earlier of "a read timeout from now" and the end of the total timeout. It bounds the wait for the
response headers; when the body did not arrive with them, :meth:`AttemptClock.move_on` restarts
the read timeout before each further wait, so the read timeout stays the longest silence allowed
between two received bytes. Streams keep aiohttp's own read timeout.

One difference from aiohttp's read timeout: the clock starts when the request is handed to the
connection pool, so a wait for a free pooled connection counts towards it (as it counts towards
the total timeout).

The mechanism is ``asyncio.timeout``'s, without its context manager (which costs about as much
again as the timer itself): when the timer fires it cancels the attempt's task; the attempt's
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
from typing import TYPE_CHECKING

from ...interfaces.errors import LLMError
from .transport_errors import map_transport_error

if TYPE_CHECKING:
    from ...interfaces.endpoint import Timeouts

__all__ = ["AttemptClock"]


class AttemptClock:
    """The timer of one attempt, armed when made (inside the attempt's task).

    ``read`` is the call's own read timeout (None: the endpoint's), ``cap`` what is left of the
    call's deadline (None: no deadline), which caps the endpoint's total timeout.
    """

    __slots__ = ("_expired_at", "_handle", "_loop", "_read", "_task", "_total_at")

    def __init__(self, timeouts: Timeouts, read: float | None, cap: float | None) -> None:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - an attempt always runs in a task
            raise RuntimeError("AttemptClock must be made inside a task")
        self._task = task
        self._loop = asyncio.get_running_loop()
        self._read: float = read or timeouts.read
        total = timeouts.total if cap is None else min(timeouts.total, cap)
        self._total_at = self._loop.time() + max(total, 0.001)
        self._expired_at: float | None = None
        self._handle = self._loop.call_at(self._deadline(), self._expire)

    def _deadline(self) -> float:
        """A read timeout from now, within the total."""
        return min(self._loop.time() + self._read, self._total_at)

    def _expire(self) -> None:
        self._expired_at = self._handle.when()
        self._task.cancel()

    def move_on(self) -> None:
        """Restart the read timeout (data arrived; the attempt waits for more)."""
        self._handle.cancel()
        self._handle = self._loop.call_at(self._deadline(), self._expire)

    def stop(self) -> None:
        """Disarm the timer (the attempt is over)."""
        self._handle.cancel()

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
