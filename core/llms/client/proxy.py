"""``SyncProxy``: any async object, every method blocking, on a :class:`~.sync.SyncRunner`'s
worker loop (see :mod:`core.llms.client.sync` for the design)."""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ..interfaces.errors import ConfigurationError
from .sync import (
    _BACKGROUND,
    _NOT_MADE,
    CloseHook,
    SyncRunner,
    _closed_error,
    _log,
    _reentrant_error,
)

__all__ = ["SyncProxy"]


class _ProxyState:
    """What a :class:`SyncProxy`'s finalizer and its runner share (never the proxy itself)."""

    __slots__ = ("__weakref__", "aclose", "closed", "factory", "lock", "owned", "runner", "target")

    def __init__(self, factory: Callable[[], Any], runner: SyncRunner, owned: bool, aclose: str) -> None:
        self.factory: Callable[[], Any] | None = factory
        self.runner = runner
        self.owned = owned
        self.aclose = aclose
        self.lock = threading.RLock()
        self.target: Any = _NOT_MADE
        self.closed = False

    def get_target(self) -> Any:
        """The target, made on the worker loop on first use (one thread makes it)."""
        target = self.target
        if target is _NOT_MADE or target is None:
            if self.runner.on_worker():
                raise _reentrant_error()
            with self.lock:
                # (several threads may wait here for the first use: one makes the target)
                if self.closed or self.target is None:
                    raise _closed_error("SyncProxy")
                if self.target is _NOT_MADE:
                    factory = self.factory
                    if factory is None:
                        raise _closed_error("SyncProxy")
                    self.target = self.runner.run(_invoke(factory, (), {}))[1]
                    self.factory = None
                target = self.target
        return target

    def take_aclose(self) -> CloseHook | None:
        """Mark closed; the target's close method, if a target was made and has one."""
        with self.lock:
            self.closed = True
            target, self.target = self.target, None
            self.factory = None
        if target is _NOT_MADE or target is None:
            return None
        aclose: CloseHook | None = getattr(target, self.aclose, None)
        return aclose


async def _invoke(
    method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[bool, Any]:
    """(On the worker loop.) Call ``method``; report an async iterator; await an awaitable."""
    result = method(*args, **kwargs)
    if hasattr(result, "__aiter__") and not hasattr(result, "__await__"):
        return True, result
    if hasattr(result, "__await__"):
        return False, await result
    return False, result


async def _await(aclose: CloseHook, quiet: bool = False) -> None:
    try:
        await aclose()
    except Exception:
        if not quiet:
            raise
        _log.debug("closing a SyncProxy's target failed", exc_info=True)


def _close_proxy(state: _ProxyState) -> None:
    """Close a proxy's target (its ``aclose``) on the loop, then the runner it owns."""
    aclose = state.take_aclose()
    runner = state.runner
    if state.owned:
        runner.close(on_close=aclose)
    elif aclose is not None and not runner.closed:
        if runner.on_worker():  # (the garbage collector, on the worker thread)
            task = runner.loop.create_task(_await(aclose, quiet=True))
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)
        else:
            try:
                runner.run(_await(aclose))
            except ConfigurationError:
                if not runner.closed:
                    raise


class SyncProxy:
    """A blocking view of an async object, with no per-method code.

    ``target_factory()`` is called once, on first use, *on the worker loop's thread* (so the
    connections the target makes belong to the worker loop). Then ``proxy.name`` is, for

    * an ``async def`` method: a blocking function returning its result;
    * an async generator method, or a callable whose result is an async iterator (``__aiter__``
      and no ``__await__``): a function returning a blocking :class:`SyncIterator`;
    * another callable: a function calling it on the worker loop (an awaitable result is
      awaited, an async iterator iterated, anything else returned as is);
    * any other attribute: itself (read on the calling thread).

    The functions keep the method's ``__name__``, ``__doc__`` and signature (``__wrapped__``),
    are cached on the proxy and keep it alive. ``runner``: a :class:`SyncRunner` to share (not
    closed by this proxy; closing it closes this proxy's target); by default the proxy owns one.
    :meth:`close` awaits ``target.<aclose>()`` on the loop (if the target was made), then closes
    an owned runner; a forgotten proxy is closed when collected, or at interpreter exit. The
    proxy's own ``close``, ``closed`` and ``runner`` hide the target's attributes of those names.
    """

    def __init__(
        self, target_factory: Callable[[], Any], runner: SyncRunner | None = None, *, aclose: str = "aclose"
    ) -> None:
        if not callable(target_factory):
            raise ConfigurationError(
                f"target_factory must be a function making the async object, "
                f"not {type(target_factory).__name__}"
            )
        if runner is not None and not isinstance(runner, SyncRunner):
            raise ConfigurationError(f"runner must be a SyncRunner, not {type(runner).__name__}")
        if not isinstance(aclose, str) or not aclose:
            raise ConfigurationError("aclose must be the name of the target's async close method")
        if runner is not None and runner.closed:
            raise _closed_error()
        owned = runner is None
        state = _ProxyState(target_factory, SyncRunner() if runner is None else runner, owned, aclose)
        state.runner._proxies.add(state)
        finalizer = weakref.finalize(self, _close_proxy, state)
        finalizer.atexit = False  # (at exit the runner closes, and with it this target)
        self.__dict__["_sync_state"] = state
        self.__dict__["_sync_finalizer"] = finalizer

    @property
    def runner(self) -> SyncRunner:
        """The runner the calls run on."""
        state: _ProxyState = self.__dict__["_sync_state"]
        return state.runner

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the runner was closed)."""
        state: _ProxyState = self.__dict__["_sync_state"]
        return state.closed or state.runner.closed

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        state: _ProxyState = self.__dict__["_sync_state"]
        if state.closed:
            raise _closed_error("SyncProxy")
        value = getattr(state.get_target(), name)
        if not callable(value):
            return value
        wrapper = _wrap(self, state, value)
        self.__dict__[name] = wrapper  # (cached: the next read does not come here)
        return wrapper

    def close(self) -> None:
        """Close the target (``await target.<aclose>()`` on the worker loop) and an owned
        runner. Idempotent."""
        self.__dict__["_sync_finalizer"]()

    def __enter__(self) -> SyncProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __dir__(self) -> list[str]:
        state: _ProxyState = self.__dict__["_sync_state"]
        names = set(super().__dir__())
        if state.target is not _NOT_MADE and state.target is not None:
            names.update(n for n in dir(state.target) if not n.startswith("__"))
        return sorted(names)

    def __repr__(self) -> str:
        state: _ProxyState = self.__dict__["_sync_state"]
        target = state.target
        if target is _NOT_MADE:
            what = "a target not made yet"
        else:
            what = "a closed target" if target is None else type(target).__name__
        return f"<SyncProxy of {what}>"


def _wrap(proxy: SyncProxy, state: _ProxyState, method: Callable[..., Any]) -> Callable[..., Any]:
    """The blocking function for ``method`` (it holds ``proxy``: the proxy lives while it does)."""
    runner = state.runner
    coroutine, generator = inspect.iscoroutinefunction(method), inspect.isasyncgenfunction(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        if proxy.closed:
            raise _closed_error("SyncProxy")
        if coroutine:
            return runner.run(method(*args, **kwargs))
        if generator:
            return runner.iterate(lambda: method(*args, **kwargs))
        is_iterator, value = runner.run(_invoke(method, args, kwargs))
        return runner.iterate(lambda: value) if is_iterator else value

    try:
        return functools.wraps(method)(call)
    except (AttributeError, TypeError):  # (a callable object without __name__ …)
        return call
