"""Blocking calls run in the caller's own thread, when it has no running event loop.

:class:`~core.llms.client.sync.SyncRunner` hands each call to a worker thread, which works
everywhere (inside a running loop too) but costs two thread wake-ups per call — about 50 µs of
CPU, a quarter of a small request. A caller *without* a running loop (a script, a Flask view, a
thread-pool worker) does not need the hand-off: :class:`ThreadLoops` keeps one event loop per
calling thread and runs the work on it with ``run_until_complete``, in that thread. Objects that
hold connections (a client, its models) are made once per thread by :meth:`ThreadLoops.local`,
since an aiohttp session belongs to the loop that made it.

Lifetime: a thread's loop and objects are closed when the thread object is garbage collected
(its objects' ``aclose`` run on its loop, from a helper thread when the collecting thread is
inside a loop of its own), by :meth:`ThreadLoops.close`, and at interpreter exit.
"""

from __future__ import annotations

import asyncio
import asyncio.events as asyncio_events
import atexit
import contextlib
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["ThreadLoops"]

T = TypeVar("T")


class _ThreadState:
    """One thread's loop and the objects made for it (each with its close coroutine)."""

    __slots__ = ("__weakref__", "closers", "loop", "objects")

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.objects: dict[str, Any] = {}
        self.closers: list[Callable[[], Awaitable[Any]]] = []

    def close(self) -> None:
        loop = self.loop
        if loop.is_closed() or loop.is_running():
            return
        closers, self.closers = self.closers, []
        self.objects.clear()

        def shut() -> None:
            try:
                for closer in closers:
                    with contextlib.suppress(Exception):  # (best effort: the loop goes anyway)
                        loop.run_until_complete(closer())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            shut()  # no loop running here: close in this thread
            return
        helper = threading.Thread(target=shut, name="core-llms-close", daemon=True)
        helper.start()
        helper.join(10)


def _drive(loop: asyncio.AbstractEventLoop, task: asyncio.Task[T]) -> T:
    """``loop.run_until_complete(task)`` for a loop of this module (a default selector loop, not
    running): the same steps (asyncgen hooks, the running loop and its thread set, one
    ``_run_once`` at a time until the task is done) without the start/stop bookkeeping of
    ``run_forever``, which costs about as much again as a small call's own loop work. A loop
    without ``_run_once`` (another implementation) is run the ordinary way."""
    run_once = getattr(loop, "_run_once", None)
    if run_once is None or not isinstance(loop, asyncio.BaseEventLoop):
        return loop.run_until_complete(task)
    hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
        finalizer=loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
    )
    loop._thread_id = threading.get_ident()  # type: ignore[attr-defined]  # (is_running() is True)
    asyncio_events._set_running_loop(loop)
    try:
        while not task.done():
            run_once()
    finally:
        asyncio_events._set_running_loop(None)
        loop._thread_id = None  # type: ignore[attr-defined]
        sys.set_asyncgen_hooks(*hooks)
    return task.result()


class ThreadLoops:
    """One private event loop per calling thread (see the module docstring)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._states: weakref.WeakSet[_ThreadState] = weakref.WeakSet()
        self._lock = threading.Lock()
        atexit.register(self.close)

    @staticmethod
    def usable() -> bool:
        """Whether the calling thread can run work here: it has no running event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return True
        return False

    def _state(self) -> _ThreadState:
        state: _ThreadState | None = getattr(self._local, "state", None)
        if state is None or state.loop.is_closed():
            state = _ThreadState()
            self._local.state = state
            with self._lock:
                self._states.add(state)
            weakref.finalize(threading.current_thread(), state.close)
        return state

    def local(
        self, key: str, make: Callable[[], T], aclose: Callable[[T], Awaitable[Any]] | None = None
    ) -> T:
        """The calling thread's object ``key``, made by ``make()`` on first use (and closed with
        ``aclose(obj)`` when the thread's loop closes)."""
        state = self._state()
        found = state.objects.get(key)
        if found is None:
            found = make()
            state.objects[key] = found
            if aclose is not None:
                obj = found
                state.closers.append(lambda: aclose(obj))
        return found

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to its end on the calling thread's loop; its exception propagates as it
        is. Interrupted (Ctrl-C), the work is cancelled before the interruption goes on."""
        loop = self._state().loop
        task = loop.create_task(coro)
        try:
            return _drive(loop, task)
        except BaseException:
            if not task.done():
                task.cancel()
                loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
            raise

    def iterate(self, make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
        """A blocking iterator over ``make()``'s items, stepped on the calling thread's loop;
        closing it early closes the async iterator."""
        loop = self._state().loop
        iterator = make().__aiter__()
        try:
            while True:
                try:
                    item = loop.run_until_complete(iterator.__anext__())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None and not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(aclose())

    def close(self) -> None:
        """Close every thread's loop and objects (they are made again on the next call)."""
        with self._lock:
            states = list(self._states)
            self._states.clear()
        for state in states:
            state.close()
