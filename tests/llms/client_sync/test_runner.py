"""SyncRunner: results and errors cross the thread unchanged, streams close their source when
the caller stops early, interruptions cancel the work, and closing leaves nothing behind."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import signal
import threading
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from core.llms.client.sync import SyncRunner
from core.llms.interfaces.errors import ConfigurationError, InvalidInputError

from .support import Boom, Interrupt, Recorder, counting, eventually, threads_named

NAME = "sync-runner-under-test"


@pytest.fixture
def runner() -> Iterator[SyncRunner]:
    r = SyncRunner(name=NAME)
    try:
        yield r
    finally:
        r.close()
    assert threads_named(NAME) == []


async def _add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


async def _raise(error: BaseException) -> None:
    await asyncio.sleep(0)
    raise error


# -- results and errors ------------------------------------------------------------------------


def test_run_returns_the_result_and_starts_lazily() -> None:
    r = SyncRunner(name=NAME)
    assert threads_named(NAME) == [] and "idle" in repr(r)
    assert r.run(_add(2, 3)) == 5
    (thread,) = threads_named(NAME)
    assert thread.daemon
    r.close()
    assert threads_named(NAME) == [] and "closed" in repr(r)


def test_the_work_runs_on_the_worker_thread_and_loop(runner: SyncRunner) -> None:
    async def where() -> tuple[int, asyncio.AbstractEventLoop]:
        return threading.get_ident(), asyncio.get_running_loop()

    ident, loop = runner.run(where())
    assert ident != threading.get_ident()
    assert loop is runner.loop
    assert runner.run(where())[1] is loop  # one long-lived loop


def test_an_exception_is_the_same_object(runner: SyncRunner) -> None:
    error = Boom("no")
    with pytest.raises(Boom) as caught:
        runner.run(_raise(error))
    assert caught.value is error


def test_a_base_exception_from_the_work_is_the_same_object_and_the_loop_survives(runner: SyncRunner) -> None:
    for error in (Interrupt("stop"), KeyboardInterrupt(), SystemExit(3)):
        with pytest.raises(type(error)) as caught:
            runner.run(_raise(error))
        assert caught.value is error
        assert runner.run(_add(1, 1)) == 2  # (asyncio re-raises these out of run_forever otherwise)


def test_a_cancelled_error_raised_by_the_work_propagates(runner: SyncRunner) -> None:
    with pytest.raises(asyncio.CancelledError):
        runner.run(_raise(asyncio.CancelledError()))
    assert runner.run(_add(1, 2)) == 3


def test_context_variables_reach_the_work(runner: SyncRunner) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def read() -> str:
        return var.get()

    token = var.set("caller")
    try:
        assert runner.run(read()) == "caller"
    finally:
        var.reset(token)
    assert runner.run(read()) == "unset"


def test_bad_input_is_a_typed_error(runner: SyncRunner) -> None:
    with pytest.raises(InvalidInputError, match="needs a coroutine, not int"):
        runner.run(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="function making the async iterator"):
        runner.iterate(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="returned a list, not an async iterator"):
        list(runner.iterate(lambda: [1, 2]))  # type: ignore[arg-type,return-value]


# -- streams -------------------------------------------------------------------------------------


def test_iterate_yields_everything_made_on_the_worker(runner: SyncRunner) -> None:
    record = Recorder()
    assert list(runner.iterate(lambda: counting(record, 100))) == list(range(100))
    assert record.events == ["start", "closed"]
    assert record.threads == {runner.run(_ident())}


async def _ident() -> int:
    return threading.get_ident()


def test_iterate_accepts_an_awaitable_of_an_iterator(runner: SyncRunner) -> None:
    record = Recorder()

    async def opening() -> AsyncIterator[int]:
        await asyncio.sleep(0)
        return counting(record, 3)

    assert list(runner.iterate(opening)) == [0, 1, 2]  # type: ignore[arg-type]


def test_nothing_is_made_until_the_first_item_is_asked_for(runner: SyncRunner) -> None:
    record = Recorder()
    stream = runner.iterate(lambda: counting(record, 3))
    assert record.events == []
    stream.close()  # never started: nothing to close
    assert list(stream) == [] and record.events == []


def test_break_closes_the_async_iterator(runner: SyncRunner) -> None:
    record = Recorder()
    for item in runner.iterate(lambda: counting(record, 1000, delay=0.001)):
        assert item == 0
        break
    # the dropped iterator is garbage at once; its pump is stopped, the generator closed
    assert record.closed.wait(3), "the async iterator was not closed"
    assert record.cancelled.is_set() or record.events[-1] == "closed"
    assert eventually(lambda: not runner._inflight)


def test_close_waits_for_the_async_iterator_to_close(runner: SyncRunner) -> None:
    record = Recorder()
    stream = runner.iterate(lambda: counting(record, 1000, delay=0.001))
    assert next(stream) == 0
    stream.close()
    assert record.closed.is_set()  # no waiting needed
    assert list(stream) == []
    stream.close()  # idempotent


def test_with_block_closes_the_async_iterator(runner: SyncRunner) -> None:
    record = Recorder()
    with runner.iterate(lambda: counting(record, 1000, delay=0.001)) as stream:
        assert next(stream) == 0
    assert record.closed.is_set()


def test_an_unfinished_iterator_is_closed_when_collected(runner: SyncRunner) -> None:
    record = Recorder()
    stream = runner.iterate(lambda: counting(record, 1000, delay=0.001))
    next(stream)
    del stream
    gc.collect()
    assert record.closed.wait(3)


def test_a_slow_consumer_holds_the_pump_back(runner: SyncRunner) -> None:
    record = Recorder()
    seen: list[int] = []

    async def tracked() -> AsyncIterator[int]:
        async for i in counting(record, 1000):
            seen.append(i)
            yield i

    stream = runner.iterate(tracked)
    assert next(stream) == 0
    assert eventually(lambda: len(seen) >= 32)
    assert len(seen) <= 34  # read ahead a little, not the whole stream
    assert list(stream) == list(range(1, 1000))


def test_an_error_after_items_comes_after_them(runner: SyncRunner) -> None:
    error = Boom("mid-stream")

    async def failing() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise error

    stream = runner.iterate(failing)
    assert next(stream) == 1 and next(stream) == 2
    with pytest.raises(Boom) as caught:
        next(stream)
    assert caught.value is error
    with pytest.raises(StopIteration):
        next(stream)


def test_close_from_another_thread_ends_a_waiting_consumer(runner: SyncRunner) -> None:
    record = Recorder()
    stream = runner.iterate(lambda: counting(record, 10, delay=30))  # the first item never comes
    result: list[Any] = []
    consumer = threading.Thread(target=lambda: result.append(list(stream)))
    consumer.start()
    assert record.started.wait(3)
    stream.close()
    consumer.join(3)
    assert result == [[]] and record.closed.is_set()


# -- inside a running event loop -------------------------------------------------------------


def test_it_works_inside_asyncio_run(runner: SyncRunner) -> None:
    record = Recorder()

    async def main() -> tuple[int, list[int]]:
        # blocking calls from a coroutine (as in Jupyter or an async handler): no deadlock
        return runner.run(_add(20, 22)), list(runner.iterate(lambda: counting(record, 5)))

    assert asyncio.run(main()) == (42, [0, 1, 2, 3, 4])


async def test_it_works_inside_a_running_test_loop(runner: SyncRunner) -> None:
    caller = asyncio.get_running_loop()

    async def elsewhere() -> bool:
        return asyncio.get_running_loop() is not caller

    assert runner.run(elsewhere())
    assert runner.run(_add(1, 2)) == 3


# -- threads ---------------------------------------------------------------------------------


def test_eight_threads_at_once(runner: SyncRunner) -> None:
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    results: dict[int, list[int]] = {}

    async def slow_add(a: int, b: int) -> int:
        await asyncio.sleep(0.001)
        return a + b

    def work(n: int) -> None:
        try:
            barrier.wait()
            out = [runner.run(slow_add(n, i)) for i in range(25)]
            out += list(runner.iterate(lambda: counting(Recorder(), 10)))
            results[n] = out
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert results == {n: [n + i for i in range(25)] + list(range(10)) for n in range(8)}
    assert len(threads_named(NAME)) == 1


def test_two_threads_share_one_iterator(runner: SyncRunner) -> None:
    stream = runner.iterate(lambda: counting(Recorder(), 2000))
    parts: list[list[int]] = [[], []]

    def drain(i: int) -> None:
        parts[i].extend(stream)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(parts[0] + parts[1]) == list(range(2000))


# -- re-entrancy -------------------------------------------------------------------------------


def test_a_blocking_call_from_the_worker_thread_is_refused(runner: SyncRunner) -> None:
    async def reenter() -> str:
        with pytest.raises(ConfigurationError, match="would wait for itself"):
            runner.run(_add(1, 2))
        with pytest.raises(ConfigurationError, match="would wait for itself"):
            runner.iterate(lambda: counting(Recorder(), 1))
        return "refused"

    assert runner.run(reenter()) == "refused"
    assert runner.run(_add(1, 2)) == 3


def test_next_from_the_worker_thread_is_refused(runner: SyncRunner) -> None:
    stream = runner.iterate(lambda: counting(Recorder(), 3))

    async def reenter() -> None:
        next(stream)

    with pytest.raises(ConfigurationError, match="would wait for itself"):
        runner.run(reenter())
    assert list(stream) == [0, 1, 2]


# -- interruption ------------------------------------------------------------------------------


@pytest.fixture
def interrupt_handler() -> Iterator[None]:
    """SIGINT raises :class:`Interrupt` (a BaseException, as KeyboardInterrupt) in the main thread."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_kill"):
        pytest.skip("needs the main thread and pthread_kill")

    def handler(signum: int, frame: Any) -> None:
        raise Interrupt("Ctrl-C")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_main_when(event: threading.Event) -> threading.Thread:
    main = threading.main_thread().ident
    assert main is not None

    def fire() -> None:
        if event.wait(5):
            signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=fire)
    thread.start()
    return thread


def test_an_interrupt_while_waiting_cancels_the_work(runner: SyncRunner, interrupt_handler: None) -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    firing = _interrupt_main_when(started)
    with pytest.raises(Interrupt, match="Ctrl-C"):
        runner.run(forever())
    firing.join()
    assert cancelled.is_set()  # the work was cancelled before the interrupt reached the caller
    assert not runner._inflight
    assert runner.run(_add(1, 2)) == 3  # the runner goes on


def test_an_interrupt_while_iterating_closes_the_stream(runner: SyncRunner, interrupt_handler: None) -> None:
    record = Recorder()
    stream = runner.iterate(lambda: counting(record, 10, delay=60))
    firing = _interrupt_main_when(record.started)
    with pytest.raises(Interrupt):
        next(stream)
    firing.join()
    assert record.cancelled.is_set() and record.closed.is_set()
    assert list(stream) == []


# -- closing -----------------------------------------------------------------------------------


def test_close_is_idempotent_and_later_use_is_a_typed_error() -> None:
    r = SyncRunner(name=NAME)
    assert r.run(_add(1, 1)) == 2
    stream = r.iterate(lambda: counting(Recorder(), 3))
    r.close()
    r.close()
    assert r.closed
    coro = _add(1, 2)
    with pytest.raises(ConfigurationError, match="SyncRunner is closed"):
        r.run(coro)
    assert coro.cr_frame is None  # closed: no 'never awaited' warning
    with pytest.raises(ConfigurationError, match="closed"):
        r.iterate(lambda: counting(Recorder(), 3))
    with pytest.raises(ConfigurationError, match="closed"):
        next(stream)
    with pytest.raises(ConfigurationError, match="closed"):
        r.at_close(_noop)
    assert threads_named(NAME) == []


async def _noop() -> None:
    return None


def test_a_never_started_runner_closes_without_a_thread() -> None:
    r = SyncRunner(name=NAME)
    r.close()
    assert threads_named(NAME) == [] and r.closed


def test_close_awaits_on_close_and_hooks_on_the_worker_loop() -> None:
    r = SyncRunner(name=NAME)
    loop = r.loop
    seen: list[str] = []

    def hook(label: str) -> Any:
        async def run() -> None:
            assert asyncio.get_running_loop() is loop
            seen.append(label)

        return run

    r.at_close(hook("at_close"))
    r.close(on_close=hook("on_close"))
    assert seen == ["at_close", "on_close"]


def test_an_on_close_error_is_raised_after_the_worker_stopped() -> None:
    r = SyncRunner(name=NAME)
    error = Boom("close failed")

    async def failing() -> None:
        raise error

    with pytest.raises(Boom) as caught:
        r.close(on_close=failing)
    assert caught.value is error
    assert threads_named(NAME) == [] and r.closed


def test_close_leaves_no_thread_behind() -> None:
    before = set(threading.enumerate())
    r = SyncRunner(name=NAME)

    async def use_the_executor() -> int:  # (the loop's default executor has threads of its own)
        return await asyncio.get_running_loop().run_in_executor(None, lambda: 7)

    assert r.run(use_the_executor()) == 7
    assert len(set(threading.enumerate()) - before) >= 2
    r.close()
    assert eventually(lambda: set(threading.enumerate()) <= before)


def test_close_while_a_call_waits_is_a_typed_error_for_the_caller() -> None:
    r = SyncRunner(name=NAME)
    started, cancelled = threading.Event(), threading.Event()
    outcome: list[BaseException] = []

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    def call() -> None:
        try:
            r.run(forever())
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert started.wait(3)
    r.close()
    caller.join(3)
    assert cancelled.is_set()
    assert len(outcome) == 1 and isinstance(outcome[0], ConfigurationError)
    assert "closed" in str(outcome[0])


def test_close_stops_a_stream_being_read() -> None:
    r = SyncRunner(name=NAME)
    record = Recorder()
    stream = r.iterate(lambda: counting(record, 10, delay=60))
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            list(stream)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    assert record.started.wait(3)
    r.close()
    reader.join(3)
    assert record.closed.is_set()
    assert len(outcome) == 1 and isinstance(outcome[0], ConfigurationError)


def test_a_forgotten_runner_stops_its_thread_when_collected() -> None:
    r = SyncRunner(name=NAME)
    assert r.run(_add(1, 1)) == 2
    del r
    gc.collect()
    assert eventually(lambda: threads_named(NAME) == [])


def test_memory_and_threads_stay_flat_over_200_calls(runner: SyncRunner) -> None:
    for _ in range(20):  # warm up
        runner.run(_add(1, 2))
        list(runner.iterate(lambda: counting(Recorder(), 3)))
    gc.collect()
    threads = threading.active_count()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(200):
            assert runner.run(_add(i, 1)) == i + 1
            assert list(runner.iterate(lambda: counting(Recorder(), 3))) == [0, 1, 2]
            with pytest.raises(Boom):
                runner.run(_raise(Boom("x")))
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 150_000, f"grew by {grown} bytes over 200 calls"
    assert threading.active_count() == threads
    assert not runner._inflight
