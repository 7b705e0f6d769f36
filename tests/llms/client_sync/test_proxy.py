"""SyncProxy over small fake async targets: one generic wrapper, no per-method code; the target
is made once on the worker loop; closing closes the target there and an owned runner."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from core.llms.client.sync import SyncIterator, SyncProxy, SyncRunner
from core.llms.interfaces.errors import ConfigurationError

from .support import Boom, FakeTarget, Recorder, eventually, threads_named

NAME = "sync-proxy-under-test"


@pytest.fixture
def record() -> Recorder:
    return Recorder()


@pytest.fixture
def proxy(record: Recorder) -> Iterator[SyncProxy]:
    p = SyncProxy(lambda: FakeTarget(record), SyncRunner(name=NAME))
    try:
        yield p
    finally:
        p.close()
        p.runner.close()
    assert threads_named(NAME) == []


def test_the_target_is_made_once_lazily_on_the_worker_thread(record: Recorder) -> None:
    made: list[int] = []

    def factory() -> FakeTarget:
        made.append(threading.get_ident())
        return FakeTarget(record)

    with SyncProxy(factory) as p:
        assert made == [] and "not made" in repr(p)
        assert p.answer("a") == "answer to a"
        assert p.answer("b", upper=True) == "B"
        assert p.label == "fake"
        assert len(made) == 1 and made[0] != threading.get_ident()
        assert made[0] == p.runner._ident
        assert "FakeTarget" in repr(p)


def test_async_method_becomes_a_blocking_function_keeping_name_and_doc(proxy: SyncProxy) -> None:
    answer = proxy.answer
    assert answer.__name__ == "answer" and answer.__doc__ == "Answer ``text``."
    assert proxy.answer is answer  # cached
    assert answer("x") == "answer to x"


def test_exceptions_are_the_same_object(proxy: SyncProxy) -> None:
    error = Boom("no")
    with pytest.raises(Boom) as caught:
        proxy.fail(error)
    assert caught.value is error


def test_async_generator_method_and_async_iterator_results_become_blocking_iterators(
    proxy: SyncProxy, record: Recorder
) -> None:
    stream = proxy.stream(4)
    assert isinstance(stream, SyncIterator)
    assert list(stream) == [0, 1, 2, 3]
    assert proxy.stream.__name__ == "stream"
    # a plain method returning an async iterator: called on the worker loop, then iterated
    assert list(proxy.chat_stream(3)) == [0, 1, 2]
    assert record.threads == {proxy.runner._ident}


def test_plain_methods_run_on_the_worker_and_awaitables_are_awaited(
    proxy: SyncProxy, record: Recorder
) -> None:
    assert proxy.resolve("m") == "resolved/m"
    assert proxy.deferred(21) == 42
    assert proxy.thread_of_loop is True  # a property: as is
    assert record.threads == {proxy.runner._ident}


def test_breaking_out_of_a_stream_closes_the_async_generator(proxy: SyncProxy, record: Recorder) -> None:
    for item in proxy.stream(100, 0.001):
        if item == 2:
            break
    assert eventually(record.closed.is_set)
    with proxy.stream(100, 0.001) as stream:
        next(stream)
    assert record.events.count("closed") == 2


def test_a_missing_attribute_is_an_attribute_error(proxy: SyncProxy) -> None:
    assert not hasattr(proxy, "nope")
    assert not hasattr(proxy, "__deepcopy__")  # (dunders are never forwarded)


def test_close_awaits_the_target_aclose_on_its_loop_and_is_idempotent(record: Recorder) -> None:
    p = SyncProxy(lambda: FakeTarget(record), SyncRunner(name=NAME))
    answer = p.answer
    assert answer("x") == "answer to x"
    runner = p.runner
    p.close()
    p.close()
    assert record.events[-1] == "aclose"  # (aclose asserts it runs on the target's loop)
    assert p.closed
    # the runner was shared (passed in): not closed by the proxy
    assert not runner.closed
    with pytest.raises(ConfigurationError, match="closed"):
        p.answer("again")
    with pytest.raises(ConfigurationError, match="closed"):
        answer("again")  # a wrapper taken before the close
    runner.close()
    assert threads_named(NAME) == []


def test_an_owned_runner_is_closed_with_the_proxy(record: Recorder) -> None:
    p = SyncProxy(lambda: FakeTarget(record))
    p.answer("x")
    thread = p.runner._thread
    assert thread is not None and thread.is_alive()
    p.close()
    assert p.runner.closed and not thread.is_alive()
    assert "aclose" in record.events


def test_closing_a_shared_runner_closes_the_targets_of_its_proxies(record: Recorder) -> None:
    runner = SyncRunner(name=NAME)
    one = SyncProxy(lambda: FakeTarget(record), runner)
    two = SyncProxy(lambda: FakeTarget(record), runner, aclose="resolve")  # (a name: not called if not async)
    one.answer("x")
    runner.close()
    assert record.events.count("aclose") == 1
    assert one.closed and two.closed
    with pytest.raises(ConfigurationError, match="closed"):
        one.answer("y")


def test_a_never_used_proxy_closes_without_making_anything(record: Recorder) -> None:
    p = SyncProxy(lambda: FakeTarget(record))
    p.close()
    assert record.events == []
    assert p.runner._thread is None


def test_custom_aclose_name() -> None:
    closed: list[str] = []

    class Bound:
        async def hello(self) -> str:
            return "hi"

        async def _noop_aclose(self) -> None:
            closed.append("noop")

    runner = SyncRunner(name=NAME)
    p = SyncProxy(Bound, runner, aclose="_noop_aclose")
    assert p.hello() == "hi"
    p.close()
    assert closed == ["noop"] and not runner.closed
    runner.close()


def test_a_forgotten_proxy_closes_its_target_and_thread_without_warnings(record: Recorder) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = SyncProxy(lambda: FakeTarget(record), SyncRunner(name=NAME + "-forgotten"))
        assert p.answer("x") == "answer to x"
        del p
        gc.collect()
        assert eventually(lambda: "aclose" in record.events)


def test_it_works_from_inside_a_running_loop(record: Recorder) -> None:
    async def main() -> str:
        with SyncProxy(lambda: FakeTarget(record)) as p:
            result: str = p.answer("inside")
            assert list(p.stream(2)) == [0, 1]
            return result

    assert asyncio.run(main()) == "answer to inside"


def test_calls_from_the_worker_loop_are_refused(proxy: SyncProxy) -> None:
    proxy.answer("warm")

    async def reenter() -> Any:
        return proxy.answer("again")

    with pytest.raises(ConfigurationError, match="would wait for itself"):
        proxy.runner.run(reenter())


def test_eight_threads_share_one_proxy(proxy: SyncProxy) -> None:
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            results[n] = [proxy.answer(f"{n}-{i}") for i in range(25)]
            assert list(proxy.stream(3)) == [0, 1, 2]
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert all(results[n] == [f"answer to {n}-{i}" for i in range(25)] for n in range(8))
    assert proxy.answer("last") == "answer to last"


def test_bad_arguments_are_typed_errors() -> None:
    with pytest.raises(ConfigurationError, match="target_factory"):
        SyncProxy("not callable")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="SyncRunner"):
        SyncProxy(dict, runner=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="aclose"):
        SyncProxy(dict, aclose="")
