"""Helpers for the sync-bridge tests: fake async targets that record what happened to them, a
simulator served from its own worker thread, waiting and thread bookkeeping."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from core.llms.client.sync import SyncRunner
from core.llms.simulator import Simulator


class Boom(Exception):
    """An ordinary error raised by a fake."""


class Interrupt(BaseException):
    """Stands for KeyboardInterrupt (pytest treats a real one as 'stop the session')."""


class Recorder:
    """What happened on the worker side: thread idents, cancellations, closes."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.events: list[str] = []
        self.started = threading.Event()
        self.closed = threading.Event()
        self.cancelled = threading.Event()

    def note(self, event: str) -> None:
        self.threads.add(threading.get_ident())
        self.events.append(event)


async def counting(record: Recorder, n: int, *, delay: float = 0.0) -> AsyncIterator[int]:
    """Yields 0..n-1; records its start, a cancellation and its close (``finally``)."""
    record.note("start")
    record.started.set()
    try:
        for i in range(n):
            if delay:
                await asyncio.sleep(delay)
            yield i
    except asyncio.CancelledError:
        record.cancelled.set()
        raise
    finally:
        record.note("closed")
        record.closed.set()


class FakeTarget:
    """An async object in the shape of a model or a client."""

    label = "fake"

    def __init__(self, record: Recorder) -> None:
        self.record = record
        record.note("made")
        self.loop = asyncio.get_running_loop()  # made on a running loop (the worker's)
        self.aclosed = False

    async def answer(self, text: str, *, upper: bool = False) -> str:
        """Answer ``text``."""
        self.record.note("answer")
        await asyncio.sleep(0)
        return text.upper() if upper else f"answer to {text}"

    async def fail(self, error: BaseException) -> None:
        """Raise ``error``."""
        await asyncio.sleep(0)
        raise error

    async def stream(self, n: int, delay: float = 0.0) -> AsyncIterator[int]:
        """An async generator method."""
        async for i in counting(self.record, n, delay=delay):
            yield i

    def chat_stream(self, n: int) -> AsyncIterator[int]:
        """A plain method returning an async iterator (as LLM ``stream_answer`` methods are)."""
        self.record.note("chat_stream called")
        return counting(self.record, n)

    def resolve(self, name: str) -> str:
        """A plain synchronous method."""
        self.record.note("resolve")
        return f"resolved/{name}"

    def deferred(self, value: int) -> Any:
        """A plain method returning an awaitable."""

        async def later() -> int:
            return value * 2

        return later()

    @property
    def thread_of_loop(self) -> bool:
        return True

    async def aclose(self) -> None:
        self.record.note("aclose")
        assert asyncio.get_running_loop() is self.loop
        self.aclosed = True


def eventually(check: Callable[[], bool], seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


def threads_named(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


class ServedSimulator:
    """A :class:`Simulator` served by its own worker loop, so tests can stay synchronous."""

    def __init__(self, **options: Any) -> None:
        self.runner = SyncRunner(name="test-simulator")
        self.sim = Simulator(**options)
        self.runner.run(self.sim.start())

    def close(self) -> None:
        try:
            self.runner.run(self.sim.stop())
        finally:
            self.runner.close()


def served(**options: Any) -> Iterator[Simulator]:
    server = ServedSimulator(**options)
    try:
        yield server.sim
    finally:
        server.close()
