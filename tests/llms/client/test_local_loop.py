"""ThreadLoops: blocking calls run in the calling thread, on a loop of its own."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator

import pytest

from core.llms.client.local_loop import ThreadLoops


class Resource:
    def __init__(self) -> None:
        self.closed = False
        self.thread = threading.get_ident()

    async def aclose(self) -> None:
        self.closed = True


async def answer(value: int) -> int:
    await asyncio.sleep(0)
    assert asyncio.get_running_loop().is_running()
    return value


def test_runs_in_the_calling_thread_and_keeps_one_loop_per_thread() -> None:
    loops = ThreadLoops()
    try:
        assert ThreadLoops.usable()
        assert loops.run(answer(1)) == 1
        first = loops.run(_loop())
        assert loops.run(_loop()) is first
        seen: list[object] = []
        thread = threading.Thread(target=lambda: seen.append(loops.run(_loop())))
        thread.start()
        thread.join()
        assert seen and seen[0] is not first
    finally:
        loops.close()


async def _loop() -> object:
    return asyncio.get_running_loop()


def test_exceptions_propagate_as_they_are() -> None:
    loops = ThreadLoops()
    error = ValueError("boom")

    async def fail() -> None:
        raise error

    with pytest.raises(ValueError) as info:
        loops.run(fail())
    assert info.value is error
    loops.close()


def test_an_interrupt_cancels_the_work() -> None:
    loops = ThreadLoops()
    cancelled: list[bool] = []

    async def slow() -> None:
        try:
            asyncio.get_running_loop().call_soon(_interrupt)
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with pytest.raises(KeyboardInterrupt):
        loops.run(slow())
    assert cancelled == [True]
    assert loops.run(answer(2)) == 2  # the loop is still usable
    loops.close()


def _interrupt() -> None:
    raise KeyboardInterrupt


def test_iterate_and_close_early() -> None:
    loops = ThreadLoops()
    closed: list[bool] = []

    async def numbers() -> AsyncIterator[int]:
        try:
            for i in range(10):
                yield i
        finally:
            closed.append(True)

    assert list(loops.iterate(numbers)) == list(range(10))
    it = loops.iterate(numbers)
    assert next(it) == 0
    it.close()  # type: ignore[attr-defined]
    assert closed == [True, True]
    loops.close()


def test_thread_objects_are_closed_with_the_loops() -> None:
    loops = ThreadLoops()
    made: list[Resource] = []

    def work() -> None:
        made.append(loops.local("r", Resource, Resource.aclose))
        assert loops.local("r", Resource, Resource.aclose) is made[0]

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    main = loops.local("r", Resource, Resource.aclose)
    assert main is not made[0]
    del thread
    gc.collect()
    assert made[0].closed  # the thread object went: its loop and objects were closed
    loops.close()
    assert main.closed


async def test_not_usable_inside_a_running_loop() -> None:
    assert not ThreadLoops.usable()
