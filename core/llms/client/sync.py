"""The blocking bridge: async code called from code that does not (or cannot) ``await``.

::

    runner = SyncRunner()
    answer = runner.run(llm.get_answer("hi"))               # blocks, returns the result
    for chunk in runner.iterate(lambda: llm.stream_answer("hi")):
        print(chunk.text, end="")
    runner.close(on_close=llm.aclose)

    client = SyncProxy(lambda: LLMClient(...))               # the same object, every method blocking
    client.ask("hi"); client.close()

Why a worker thread (and not ``asyncio.run`` per call, or the caller's loop): the caller may
already be inside a running event loop (Jupyter, an async web handler), where ``asyncio.run``
refuses to start and waiting for work scheduled on that same loop would deadlock; so the work
runs on a private loop in one daemon thread and only the caller's thread blocks. And connections
(aiohttp sessions) belong to the loop that made them: one long-lived loop keeps the connection
pools, retry state and circuit breakers of the objects made on it (a loop per call would rebuild
and leak them). That is why :class:`SyncProxy` makes its target *on* the worker loop, and why an
object used through the bridge should not also be used from another loop.

A call is one ``loop.call_soon_threadsafe`` and a bare ``_thread`` lock the caller blocks on (a
few tens of microseconds). A stream is pumped by one task on the worker loop into a small
buffer the caller drains (one wake-up of the caller per burst of items; every step of the async
iterator runs in the same task). The caller's context variables are carried into the work.

Lifetime: the thread is a daemon (never holding up interpreter exit); a runner or proxy that is
garbage collected is closed then, and every runner still open at exit is closed by an
``atexit`` hook that awaits its proxies' targets' ``aclose`` and its :meth:`SyncRunner.at_close`
hooks, so no session is left unclosed.
"""

from __future__ import annotations

import _thread
import asyncio
import atexit
import collections
import contextlib
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..interfaces.errors import ConfigurationError, InvalidInputError

if TYPE_CHECKING:
    from .proxy import _ProxyState

__all__ = ["SyncIterator", "SyncProxy", "SyncRunner"]

T = TypeVar("T")
CloseHook = Callable[[], Awaitable[Any]]

_log = logging.getLogger(__name__)

#: how long a caller interrupted by KeyboardInterrupt waits for its cancelled work to unwind,
#: and how long closing waits for cancelled leftovers (a task may ignore cancellation).
_GRACE = 2.0
#: the caller's wait wakes this often (so Ctrl-C is seen on platforms where a lock wait cannot
#: be interrupted by a signal); the wait ends at once when the work is done.
_POLL = 0.5
#: items a stream's pump reads ahead of the caller.
_PREFETCH = 32

_NOT_MADE: Any = object()

#: runners started and not closed: closed at interpreter exit.
_OPEN: weakref.WeakSet[SyncRunner] = weakref.WeakSet()
_exit_hook = False
#: fire-and-forget tasks (closes scheduled by the garbage collector), kept alive until done.
_BACKGROUND: set[asyncio.Task[Any]] = set()


def _closed_error(what: str = "SyncRunner") -> ConfigurationError:
    hint = "make a new one (a closed runner's thread and event loop are gone)"
    return ConfigurationError(f"this {what} is closed", hint=hint)


def _reentrant_error() -> ConfigurationError:
    return ConfigurationError(
        "a blocking call was made from the sync bridge's own event loop thread; it would wait for "
        "itself forever",
        hint="in async code (a coroutine running on that loop) await the async method instead",
    )


def _discard(awaitable: object) -> None:
    """Close a coroutine that will not run (no 'never awaited' warning)."""
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


class _Call:
    """One :meth:`SyncRunner.run`: the lock the caller waits on, the task, the outcome."""

    __slots__ = ("abandoned", "error", "finished", "result", "task", "waiter")

    def __init__(self) -> None:
        self.waiter = _thread.allocate_lock()
        self.waiter.acquire()
        self.result: Any = None
        self.error: BaseException | None = None
        self.task: asyncio.Task[Any] | None = None
        self.finished = False
        self.abandoned = False

    def start(self, loop: asyncio.AbstractEventLoop, coro: Any, inflight: set[Any]) -> None:
        """(On the worker loop.) Wrap the work in a task."""
        if self.abandoned or self.finished:
            _discard(coro)
            self.finish(asyncio.CancelledError())
            return
        inflight.add(self)
        self.task = loop.create_task(self._drive(coro, inflight))

    async def _drive(self, coro: Any, inflight: set[Any]) -> None:
        # Every outcome is caught here, KeyboardInterrupt and SystemExit included: a task that
        # lets those escape stops the whole loop (asyncio re-raises them out of run_forever).
        error: BaseException | None = None
        try:
            self.result = await coro
        except asyncio.CancelledError as exc:
            error = exc
            raise
        except BaseException as exc:
            error = exc
        finally:
            inflight.discard(self)
            self.finish(error)

    def finish(self, error: BaseException | None) -> None:
        """(On the worker thread.) Record the outcome and wake the caller (once)."""
        if not self.finished:
            self.error = error
            self.finished = True
            self.waiter.release()

    def cancel(self) -> None:
        """(On the worker loop.) Cancel the task; release the caller if it never started."""
        if self.task is not None:
            self.task.cancel()
        else:
            self.finish(asyncio.CancelledError())


def _serve(loop: asyncio.AbstractEventLoop, inflight: set[Any]) -> None:
    """The worker thread: run the loop until it is stopped, then release stragglers and close it."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            for item in list(inflight):
                item.finish(_closed_error())
            inflight.clear()
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def _shutdown(
    loop: asyncio.AbstractEventLoop, hooks: list[CloseHook], errors: list[BaseException]
) -> None:
    """(On the worker loop.) Cancel leftovers, close async generators, await the close hooks in
    order, stop. (A hook's error goes to ``errors``: once the loop stops nothing scheduled on it
    runs, a future's callbacks included, so the closing thread reads it after joining the worker.)"""
    try:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks(loop) if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_GRACE)
        await loop.shutdown_asyncgens()
        for hook in hooks:
            try:
                await hook()
            except Exception as exc:
                errors.append(exc)
        # let transports closed just now run their connection_lost callbacks (which close the sockets)
        for _ in range(3):
            await asyncio.sleep(0)
        with contextlib.suppress(TimeoutError, RuntimeError):
            await asyncio.wait_for(loop.shutdown_default_executor(), _GRACE)
    finally:
        loop.stop()


def _begin_shutdown(
    loop: asyncio.AbstractEventLoop, hooks: list[CloseHook], errors: list[BaseException]
) -> None:
    loop.create_task(_shutdown(loop, hooks, errors))


def _stop(
    loop: asyncio.AbstractEventLoop, thread: threading.Thread, hooks: list[CloseHook]
) -> BaseException | None:
    """Shut the worker down (from any thread); returns the first close hook's error, if any."""
    errors: list[BaseException] = []
    hooks = list(hooks)
    if threading.get_ident() == thread.ident:  # (the garbage collector, on the worker thread)
        if loop.is_running():
            _begin_shutdown(loop, hooks, errors)
        return None
    if loop.is_closed() or not thread.is_alive():
        return None
    try:
        loop.call_soon_threadsafe(_begin_shutdown, loop, hooks, errors)
    except RuntimeError:  # (the loop closed meanwhile)
        return None
    thread.join()
    return errors[0] if errors else None


def _close_open_runners() -> None:
    """(atexit) Close every runner still open, awaiting its proxies' targets' ``aclose``."""
    for runner in list(_OPEN):
        try:
            runner.close()
        except Exception:
            _log.debug("closing a SyncRunner at exit failed", exc_info=True)


class SyncRunner:
    """One daemon thread running one event loop, started on first use. :meth:`run` and
    :meth:`iterate` may be called from many threads at once (the work interleaves on the loop as
    concurrent tasks would) and from inside a running event loop (whose thread blocks meanwhile).
    The work's exceptions reach the caller unchanged (the same object); ``KeyboardInterrupt``
    (any ``BaseException``) while the caller waits cancels the work, waits briefly for it to
    unwind and is re-raised; a call from the worker thread itself (which would deadlock), or
    after :meth:`close`, raises :class:`ConfigurationError`. A forgotten runner is closed when
    it is garbage collected or at interpreter exit."""

    def __init__(self, *, name: str = "core-llms-sync") -> None:
        self._name = name
        # reentrant: the garbage collector may close a proxy (and so this runner) while this
        # thread is inside one of our own locked sections.
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ident: int | None = None
        self._closed = False
        self._inflight: set[Any] = set()
        self._finalizer: Any = None
        self._hooks: list[CloseHook] = []
        self._proxies: weakref.WeakSet[_ProxyState] = weakref.WeakSet()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The worker's event loop (started if it was not)."""
        return self._loop if self._loop is not None else self._start()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._loop is not None else "idle"
        return f"<SyncRunner {self._name} {state}>"

    # -- the worker ---------------------------------------------------------------------------

    def _start(self, *, closing: bool = False) -> asyncio.AbstractEventLoop:
        global _exit_hook
        with self._lock:
            if self._closed and not closing:
                raise _closed_error()
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_serve, args=(loop, self._inflight), name=self._name, daemon=True
                )
                thread.start()
                self._thread = thread
                self._ident = thread.ident
                self._finalizer = weakref.finalize(self, _stop, loop, thread, self._hooks)
                self._finalizer.atexit = False  # (the exit hook closes it, with its proxies)
                self._loop = loop
                _OPEN.add(self)
                if not _exit_hook:
                    # registered on first start, after the hooks of modules imported before
                    # (which therefore run first: atexit is last in, first out)
                    _exit_hook = True
                    atexit.register(_close_open_runners)
            return self._loop

    def _submit(self, callback: Callable[..., object], *args: Any) -> bool:
        """Schedule ``callback(*args)`` on the loop; False when the runner is closed."""
        loop = self._loop
        if loop is None:
            return False
        with self._lock:
            if self._closed:
                return False
            loop.call_soon_threadsafe(callback, *args)
        return True

    def on_worker(self) -> bool:
        """Whether the calling thread is the worker thread (blocking there would deadlock)."""
        return threading.get_ident() == self._ident

    # -- calls --------------------------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the worker loop and return its result (blocking the calling thread).

        Raises what the coroutine raised (the same object); :class:`ConfigurationError` when the
        runner is closed (or was closed while the call ran) or when called from the worker
        thread; :class:`InvalidInputError` when ``coro`` is not awaitable.
        """
        if not hasattr(coro, "__await__"):
            raise InvalidInputError(f"SyncRunner.run needs a coroutine, not {type(coro).__name__}")
        if threading.get_ident() == self._ident:
            _discard(coro)
            raise _reentrant_error()
        loop = self._loop
        call = _Call()
        try:
            with self._lock:
                if self._closed:
                    _discard(coro)
                    raise _closed_error()
                if loop is None:
                    loop = self._start()
                loop.call_soon_threadsafe(call.start, loop, coro, self._inflight)
            while not call.waiter.acquire(True, _POLL):
                pass
        except BaseException:
            # (an interrupt may land anywhere, even inside call_soon_threadsafe after the worker
            # already started the work: the cancel, queued after the start, always finds it)
            self._abandon(call)
            raise
        error = call.error
        if error is None:
            result: T = call.result
            return result
        call = None  # type: ignore[assignment]  # (no cycle through the traceback)
        try:
            if isinstance(error, asyncio.CancelledError) and self._closed:
                raise _closed_error() from error
            raise error
        finally:
            error = None

    def _abandon(self, call: _Call) -> None:
        """The caller was interrupted: cancel its task and give it a moment to unwind."""
        call.abandoned = True
        if self._submit(call.cancel) and call.waiter.acquire(True, _GRACE):
            call.waiter.release()

    def iterate(self, make: Callable[[], AsyncIterator[T]]) -> SyncIterator[T]:
        """A blocking iterator over the async iterator ``make()`` (or an awaitable of one),
        made on the worker loop when the iteration starts and pumped by one task there into a
        small buffer (32 items ahead of the caller). Ending early — ``break`` (the iterator is
        then garbage), ``.close()``, leaving ``with`` — stops that task and closes the async
        iterator (``aclose``) on the loop, releasing a stream's connection (``.close()`` and
        ``with`` wait for it; garbage collection only schedules it)."""
        if not callable(make):
            raise InvalidInputError(
                f"SyncRunner.iterate needs a function making the async iterator, not {type(make).__name__}"
            )
        if self.on_worker():
            raise _reentrant_error()
        if self._loop is None:
            self._start()
        elif self._closed:
            raise _closed_error()
        return SyncIterator(self, make)

    # -- closing ------------------------------------------------------------------------------

    def at_close(self, hook: CloseHook) -> None:
        """Await ``hook()`` on the worker loop when the runner closes, however it closes
        (:meth:`close`, garbage collection, interpreter exit): e.g. the ``aclose`` of a client
        whose connections live on this loop. Hooks run in the order they were added, before
        ``close``'s own ``on_close``."""
        if self._closed:
            raise _closed_error()
        self._hooks.append(hook)

    def close(self, *, on_close: CloseHook | None = None) -> None:
        """Cancel what still runs, close leftover async generators, then await on the loop the
        ``aclose`` of the targets of the :class:`SyncProxy` objects on this runner, the
        :meth:`at_close` hooks and ``on_close()`` (what belongs to the loop: HTTP sessions);
        stop the loop and join the thread. Idempotent; the first error of a hook is raised once
        the worker stopped. From the worker thread itself the shutdown is only scheduled."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            finalizer = self._finalizer
        _OPEN.discard(self)
        if finalizer is not None:
            finalizer.detach()
        hooks = [hook for state in list(self._proxies) if (hook := state.take_aclose()) is not None]
        hooks += self._hooks
        if on_close is not None:
            hooks.append(on_close)
        self._hooks = []
        if not hooks and self._loop is None:
            return
        loop = self._start(closing=True)  # (a hook is awaited on the loop even if nothing ran)
        thread = self._thread
        if thread is None:  # pragma: no cover  (set with the loop)
            return
        error = _stop(loop, thread, hooks)
        if error is not None:
            try:
                raise error
            finally:
                error = None

    def __enter__(self) -> SyncRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Pump:
    """A stream's state shared by its :class:`SyncIterator` (the caller's side) and the task on
    the worker loop. It never refers to the :class:`SyncIterator`, so that a blocking iterator
    the caller drops is garbage at once (and its ``__del__`` stops the pump)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make: Callable[[], Any] | None = make
        self.mutex = threading.Lock()
        self.items: collections.deque[Any] = collections.deque()
        self.done = False  # the pump finished (its error, or None at the end, in .error)
        self.error: BaseException | None = None
        self.waiter: Any = None  # the lock the caller waits on, when the buffer is empty
        self.stopped = threading.Event()  # set when the pump finished (what close() waits on)
        self.room = asyncio.Event()  # the pump waits on it when the buffer is full
        self.waiting = False  # the pump waits for room
        self.task: asyncio.Task[None] | None = None
        self.cancelled = False

    def begin(self, loop: asyncio.AbstractEventLoop, inflight: set[Any]) -> None:
        """(On the worker loop.) Start the pump task."""
        if self.cancelled:
            self.make = None
            self.finish(None)
            return
        inflight.add(self)
        self.task = loop.create_task(self.pump(inflight))

    async def pump(self, inflight: set[Any]) -> None:
        error: BaseException | None = None
        source: Any = None
        items, mutex = self.items, self.mutex
        try:
            make, self.make = self.make, None
            if make is None:  # (closed before it started)
                return
            source = await _open(make)
            step = source.__anext__
            while True:
                item = await step()
                with mutex:
                    items.append(item)
                    waiter, self.waiter = self.waiter, None
                    full = len(items) >= _PREFETCH
                    if full:
                        self.room.clear()
                        self.waiting = True
                if waiter is not None:
                    waiter.release()
                if full:
                    await self.room.wait()
        except StopAsyncIteration:
            pass
        except BaseException as exc:  # (CancelledError included: the iterator was closed)
            error = exc
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except (Exception, asyncio.CancelledError):
                    _log.debug("closing an async iterator failed", exc_info=True)
            inflight.discard(self)
            self.finish(error)

    def finish(self, error: BaseException | None) -> None:
        with self.mutex:
            if self.done:
                return
            self.done = True
            self.error = error
            waiter, self.waiter = self.waiter, None
        if waiter is not None:
            waiter.release()
        self.stopped.set()

    def cancel(self) -> None:
        """(On the worker loop.) Stop the pump (which closes the async iterator)."""
        self.cancelled = True
        if self.task is not None:
            self.task.cancel()
        else:  # (begin was never queued: an interrupt landed in the hand-off)
            self.make = None
            self.finish(None)

    def resume(self) -> None:
        """(On the worker loop.) The caller made room in the buffer."""
        self.room.set()


async def _open(make: Callable[[], Any]) -> Any:
    made = make()
    if not hasattr(made, "__aiter__") and hasattr(made, "__await__"):
        made = await made
    if not hasattr(made, "__aiter__"):
        raise InvalidInputError(
            f"SyncRunner.iterate: the function returned a {type(made).__name__}, not an async iterator"
        )
    return made.__aiter__()


class SyncIterator(Iterator[T], Generic[T]):
    """The blocking iterator of :meth:`SyncRunner.iterate` (and of a :class:`SyncProxy`'s
    streaming methods); also a context manager that closes it."""

    def __init__(self, runner: SyncRunner, make: Callable[[], Any]) -> None:
        self._runner = runner
        self._pump = _Pump(make)
        self._started = False
        self._ended = False  # no more items for the caller
        self._closing = False  # close() was called
        self._consumer = threading.Lock()  # one __next__ at a time

    def __iter__(self) -> SyncIterator[T]:
        return self

    def __next__(self) -> T:
        if self._ended:
            raise StopIteration
        if self._runner.on_worker():
            raise _reentrant_error()
        try:
            with self._consumer:
                return self._next()
        except BaseException as exc:
            if not isinstance(exc, Exception):  # (KeyboardInterrupt …: stop the stream too)
                self.close()
            raise

    def _next(self) -> T:
        runner, pump = self._runner, self._pump
        if not self._started:
            self._started = True
            if not runner._submit(pump.begin, runner.loop, runner._inflight):
                self._ended = True
                raise _closed_error()
        mutex, items = pump.mutex, pump.items
        while True:
            with mutex:
                if items:
                    item: T = items.popleft()
                    wake = pump.waiting and len(items) <= _PREFETCH // 2
                    if wake:
                        pump.waiting = False
                    break
                if pump.done:
                    return self._end()
                waiter = _thread.allocate_lock()
                waiter.acquire()
                pump.waiter = waiter
            while not waiter.acquire(True, _POLL):
                pass
        if wake:
            runner._submit(pump.resume)
        return item

    def _end(self) -> T:
        """(Holding the pump's mutex.) The pump finished and the buffer is drained."""
        pump = self._pump
        error, pump.error = pump.error, None
        self._ended = True
        if error is None:
            raise StopIteration
        if isinstance(error, asyncio.CancelledError):
            if self._runner.closed:
                raise _closed_error() from error
            if self._closing:  # (closed by another thread while this one waited)
                raise StopIteration
        try:
            raise error
        finally:
            error = None

    def close(self) -> None:
        """Stop the iteration: the async iterator is closed on the worker loop (waited for,
        except from the worker thread or when the runner is closed). Idempotent."""
        self._closing = self._ended = True
        pump = self._pump
        if not self._started:
            self._started = True
            pump.make = None
            return
        with pump.mutex:
            done = pump.done
        if not done:
            runner = self._runner
            if runner.on_worker():
                pump.cancel()
                return
            if runner._submit(pump.cancel):
                pump.stopped.wait(_GRACE)
        with pump.mutex:
            pump.items.clear()

    def __del__(self) -> None:
        # (never block here: the collector may run anywhere, even inside our own locks)
        pump = getattr(self, "_pump", None)
        if pump is not None and self._started and not pump.done:
            runner = self._runner
            if runner.on_worker():
                pump.cancel()
            else:
                runner._submit(pump.cancel)

    def __enter__(self) -> SyncIterator[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# -- the proxy ---------------------------------------------------------------------------------


from .proxy import SyncProxy  # noqa: E402  (the proxy builds on the runner above)
