"""The bridge over a real model (``create_llm`` on the simulator): answers, streams whose early
end releases the connection, typed errors, calls from inside a running loop and from eight
threads, and a forgotten proxy that closes its sessions without a warning, at collection and
at interpreter exit."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.llms import create_llm
from core.llms.client.sync import SyncIterator, SyncProxy, SyncRunner
from core.llms.interfaces.errors import BadRequestError, ConfigurationError
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.simulator import Fault, Simulator

from .support import eventually, served, threads_named

LONG_PROMPT = "please " + "stream this word " * 10  # about 30 chunks
NAME = "sync-model-under-test"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    yield from served(max_recorded=0, chunk_delay=0.01)


@pytest.fixture(autouse=True)
def _aiohttp_stays_quiet(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """aiohttp reports an unclosed session through asyncio's exception handler: nothing may."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    yield
    gc.collect()
    unclosed = [r.getMessage() for r in caplog.records if "nclosed" in r.getMessage()]
    assert unclosed == []


def _model(sim: Simulator) -> BaseLLM:
    return create_llm("openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key="k")


@pytest.fixture
def made() -> list[BaseLLM]:
    return []


@pytest.fixture
def llm(sim: Simulator, made: list[BaseLLM]) -> Iterator[SyncProxy]:
    def factory() -> BaseLLM:
        made.append(_model(sim))
        return made[-1]

    proxy = SyncProxy(factory, SyncRunner(name=NAME))
    try:
        yield proxy
    finally:
        proxy.close()
        proxy.runner.close()
    assert threads_named(NAME) == []
    assert all(m.closed for m in made)


def _acquired(model: BaseLLM) -> int:
    connector = model.connector
    assert isinstance(connector, FailoverConnector)
    total = 0
    for conn in connector.connectors:
        session = conn._session
        if session is not None and session.connector is not None:
            total += len(session.connector._acquired)
    return total


def test_answers_and_streams(llm: SyncProxy, sim: Simulator, made: list[BaseLLM]) -> None:
    response = llm.get_answer("hello")
    assert response.text == "Simulated answer to: hello"
    stream = llm.stream_answer("hi there")
    assert isinstance(stream, SyncIterator)
    assert "".join(c.text for c in stream) == "Simulated answer to: hi there"
    assert llm.get_answer.__name__ == "get_answer" and llm.get_answer.__doc__
    assert llm.metadata.qualified_name == "openai/gpt-4.1-mini"  # an attribute: as is
    assert sim.request_count == 2
    assert len(made) == 1 and _acquired(made[0]) == 0


def test_a_provider_error_is_typed(llm: SyncProxy, sim: Simulator) -> None:
    sim.enqueue(Fault(status=400, message="bad request here"))
    with pytest.raises(BadRequestError, match="bad request here"):
        llm.get_answer("hello")
    assert llm.get_answer("again").text == "Simulated answer to: again"


def test_break_releases_the_connection(llm: SyncProxy, sim: Simulator, made: list[BaseLLM]) -> None:
    for chunk in llm.stream_answer(LONG_PROMPT):
        assert chunk.text
        break
    assert eventually(lambda: sim.open_connections == 0), "the simulator still sees the connection"
    assert _acquired(made[0]) == 0
    assert llm.get_answer("after").text == "Simulated answer to: after"


def test_close_releases_the_connection_before_it_returns(
    llm: SyncProxy, sim: Simulator, made: list[BaseLLM]
) -> None:
    with llm.stream_answer(LONG_PROMPT) as stream:
        next(stream)
        assert _acquired(made[0]) == 1
    assert _acquired(made[0]) == 0  # no waiting: close() waited for the stream's aclose
    assert eventually(lambda: sim.open_connections == 0)


def test_closing_the_proxy_mid_stream_ends_it_with_a_typed_error(sim: Simulator) -> None:
    proxy = SyncProxy(lambda: _model(sim))
    stream = proxy.stream_answer(LONG_PROMPT)
    next(stream)
    proxy.close()
    with pytest.raises(ConfigurationError, match="closed"):
        list(stream)
    assert eventually(lambda: sim.open_connections == 0)


async def test_blocking_calls_inside_a_running_loop(llm: SyncProxy) -> None:
    # (as in Jupyter or an async web handler: this coroutine's loop blocks, the worker's works)
    assert llm.get_answer("from a coroutine").text == "Simulated answer to: from a coroutine"
    assert "".join(c.text for c in llm.stream_answer("streamed")) == "Simulated answer to: streamed"


def test_inside_asyncio_run(llm: SyncProxy) -> None:
    async def main() -> str:
        text: str = llm.get_answer("inside").text
        return text

    assert asyncio.run(main()) == "Simulated answer to: inside"


def test_eight_threads_share_one_model(llm: SyncProxy, sim: Simulator, made: list[BaseLLM]) -> None:
    errors: list[BaseException] = []
    answers: dict[int, list[str]] = {}

    def work(n: int) -> None:
        try:
            out = [llm.get_answer(f"q{n}-{i}").text for i in range(4)]
            out.append("".join(c.text for c in llm.stream_answer(f"s{n}")))
            answers[n] = out
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    for n in range(8):
        expected = [f"Simulated answer to: q{n}-{i}" for i in range(4)] + [f"Simulated answer to: s{n}"]
        assert answers[n] == expected
    assert sim.request_count == 40 and len(made) == 1


def test_a_forgotten_proxy_closes_its_model_without_warnings(sim: Simulator) -> None:
    made: list[BaseLLM] = []

    def factory() -> BaseLLM:
        made.append(_model(sim))
        return made[-1]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proxy = SyncProxy(factory, SyncRunner(name=NAME + "-forgotten"))
        assert proxy.get_answer("x").text == "Simulated answer to: x"
        del proxy
        gc.collect()
        assert eventually(lambda: made[0].closed)
        assert eventually(lambda: threads_named(NAME + "-forgotten") == [])
        assert eventually(lambda: sim.open_connections == 0)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_memory_and_threads_stay_flat_over_200_calls(llm: SyncProxy, made: list[BaseLLM]) -> None:
    for _ in range(20):  # warm up: the session, the pool, caches
        llm.get_answer("warm")
        list(llm.stream_answer("warm"))
    gc.collect()
    threads = threading.active_count()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(200):
            assert llm.get_answer(f"n{i}").text == f"Simulated answer to: n{i}"
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 400_000, f"grew by {grown} bytes over 200 calls"
    assert threading.active_count() == threads
    assert not llm.runner._inflight and _acquired(made[0]) == 0


_EXIT_SCRIPT = textwrap.dedent(
    """
    import atexit, sys, time
    from core.llms import create_llm
    from core.llms.client.sync import SyncProxy, SyncRunner
    from core.llms.simulator import Simulator

    made = []
    # registered before the bridge's own exit hook, so it runs after it
    atexit.register(lambda: print("at exit: model closed =", made[0].closed, flush=True))

    server = SyncRunner(name="server")
    sim = Simulator()
    server.run(sim.start())
    # (registered after the bridge's exit hook: runs before it; the server is not under test)
    atexit.register(lambda: server.run(sim.stop()))

    def factory():
        made.append(create_llm("openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key="k"))
        return made[-1]

    proxy = SyncProxy(factory)  # never closed
    print(proxy.get_answer("bye").text, flush=True)
    stream = proxy.stream_answer("left open")  # a stream left half read
    next(stream)
    GLOBAL = (proxy, stream)
    """
)


def test_interpreter_exit_closes_a_forgotten_proxy(tmp_path: Path) -> None:
    script = tmp_path / "forgotten.py"
    script.write_text(_EXIT_SCRIPT)
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 30
    assert "Simulated answer to: bye" in done.stdout
    assert "at exit: model closed = True" in done.stdout, done.stdout + done.stderr
    assert "ResourceWarning" not in done.stderr and "nclosed" not in done.stderr, done.stderr


def test_an_unused_proxy_makes_no_thread_and_no_model(sim: Simulator) -> None:
    calls: list[Any] = []
    proxy = SyncProxy(lambda: calls.append(1))
    proxy.close()
    assert calls == [] and proxy.runner._thread is None
