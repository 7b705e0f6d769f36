"""``client.sync``: the real LLMClient through the blocking bridge, against the simulator (served
from its own worker loop, so the tests stay synchronous)."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from core.llms.client import LLMClient, UsageEvent
from core.llms.client.sync import SyncIterator, SyncProxy
from core.llms.interfaces.errors import BadRequestError, ConfigurationError
from core.llms.simulator import Fault, Simulator

from .support import eventually, served

KEY = "sim-key-not-secret"
THREAD = "core-llms-sync"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    yield from served()


@pytest.fixture(autouse=True)
def _no_bridge_thread_left() -> Iterator[None]:
    yield
    gc.collect()
    assert eventually(lambda: not _bridge_threads()), "a sync bridge thread outlived its test"


def _bridge_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD and t.is_alive()]


def make_client(sim: Simulator, **options: Any) -> LLMClient:
    return LLMClient(
        providers={"openai": {"endpoint": f"{sim.url}/v1", "api_key": KEY}},
        environ={},
        default_model="gpt-4.1-mini",
        **options,
    )


def _acquired(client: LLMClient) -> int:
    """Connections the sync twin's models have out (and not back in their pools)."""
    twin = client._shared.sync_root
    assert twin is not None
    total = 0
    for llm in twin._shared.models.values():
        connector = llm.connector
        for conn in getattr(connector, "connectors", [connector]):
            session = getattr(conn, "_session", None)
            if session is not None and session.connector is not None:
                total += len(session.connector._acquired)
    return total


def test_ask_chat_and_chat_stream_end_to_end(sim: Simulator) -> None:
    client = make_client(sim)
    try:
        assert isinstance(client.sync, SyncProxy) and client.sync is client.sync
        assert client.sync.ask("Name a river.") == "Simulated answer to: Name a river."
        assert client.sync.ask.__name__ == "ask" and "answer's text" in (client.sync.ask.__doc__ or "")
        response = client.sync.chat([("system", "be brief"), "hello"], temperature=0.1)
        assert response.text == "Simulated answer to: hello"
        events = client.sync.chat_stream("tell me a story")
        assert isinstance(events, SyncIterator)
        seen = list(events)
        text = "".join(e.delta for e in seen if e.type == "chunk")
        assert text == "Simulated answer to: tell me a story"
        assert isinstance(seen[-1], UsageEvent) and seen[-1].response.text == text
        assert client.sync.resolve("gpt-4.1-mini") == "openai/gpt-4.1-mini"  # a plain method
        assert client.sync.available_providers == ("openai",)  # a property
    finally:
        client.sync.close()


def test_the_twin_lives_on_the_worker_loop_not_the_callers(sim: Simulator) -> None:
    client = make_client(sim)
    with client.sync as twin:
        twin.ask("hi")
        root = client._shared.sync_root
        assert root is not None and root is not client
        assert client._shared.models == {}  # the async client made nothing
        assert root._shared.models  # the twin's model lives on the worker loop


def test_a_provider_error_reaches_the_caller_typed(sim: Simulator) -> None:
    client = make_client(sim)
    try:
        sim.enqueue(Fault(status=400, message="bad thing"))
        with pytest.raises(BadRequestError) as caught:
            client.sync.ask("hi")
        assert caught.value.status == 400
        assert client.sync.ask("again") == "Simulated answer to: again"
    finally:
        client.sync.close()


def test_breaking_out_of_a_stream_releases_the_connection(sim: Simulator) -> None:
    client = make_client(sim)
    try:
        for event in client.sync.chat_stream("one two three four five six seven eight nine ten"):
            if event.type == "chunk":
                break
        assert eventually(lambda: _acquired(client) == 0)
        with client.sync.chat_stream("one two three four five six") as events:
            next(events)
        assert _acquired(client) == 0  # (close() waits for the async generator's aclose)
        assert client.sync.ask("again") == "Simulated answer to: again"
    finally:
        client.sync.close()


def test_a_bound_client_shares_the_worker_and_carries_its_labels(sim: Simulator) -> None:
    client = make_client(sim, labels={"user": "u1"})
    try:
        bound = client.bind(tenant="t", run_id="r1")
        assert bound.sync.ask("hi") == "Simulated answer to: hi"
        assert bound.sync.runner is client.sync.runner
        assert len(_bridge_threads()) == 1
        twin_bound = bound.sync._sync_state.target
        assert twin_bound.labels == {"user": "u1", "tenant": "t", "run_id": "r1"}
        bound.sync.close()  # a bound client's close does not close the shared worker
        assert client.sync.ask("still") == "Simulated answer to: still"
    finally:
        client.sync.close()
    with pytest.raises(ConfigurationError, match="closed"):
        bound.sync.ask("after")


def test_await_aclose_closes_the_sync_twin_too(sim: Simulator) -> None:
    async def main() -> None:
        client = make_client(sim)
        async with client:
            # (inside a running loop: the caller's thread blocks, the work runs on the worker)
            answer = await asyncio.to_thread(client.sync.ask, "from a thread")
            assert answer == "Simulated answer to: from a thread"
            assert client.sync.ask("in the loop") == "Simulated answer to: in the loop"  # (blocks it)
            assert _bridge_threads()
        assert client.sync.closed
        assert not _bridge_threads()
        with pytest.raises(ConfigurationError, match="closed"):
            client.sync.ask("after")

    asyncio.run(main())


async def test_inside_a_running_test_loop(sim: Simulator) -> None:
    client = make_client(sim)
    try:
        assert client.sync.ask("in a coroutine") == "Simulated answer to: in a coroutine"
        assert [e.type for e in client.sync.chat_stream("hi")][-1] == "usage"
        assert await client.ask("and awaited") == "Simulated answer to: and awaited"
    finally:
        await client.aclose()


def test_eight_threads_at_once(sim: Simulator) -> None:
    client = make_client(sim)
    errors: list[BaseException] = []
    answers: dict[int, list[str]] = {}

    def work(n: int) -> None:
        try:
            answers[n] = [client.sync.ask(f"q{n}-{i}") for i in range(10)]
            chunks = [e.delta for e in client.sync.chat_stream(f"s{n}") if e.type == "chunk"]
            assert "".join(chunks) == f"Simulated answer to: s{n}"
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        for n in range(8):
            assert answers[n] == [f"Simulated answer to: q{n}-{i}" for i in range(10)]
        assert len(_bridge_threads()) == 1
    finally:
        client.sync.close()


def test_threads_stay_flat_over_200_calls(sim: Simulator) -> None:
    client = make_client(sim)
    try:
        client.sync.ask("warm up")
        before = threading.active_count()
        for i in range(200):
            assert client.sync.ask(f"n{i}") == f"Simulated answer to: n{i}"
        assert threading.active_count() == before
        assert _acquired(client) == 0
        assert not client.sync.runner._inflight
    finally:
        client.sync.close()


def test_close_is_idempotent_and_use_after_close_is_a_typed_error(sim: Simulator) -> None:
    client = make_client(sim)
    client.sync.ask("hi")
    ask = client.sync.ask
    client.sync.close()
    client.sync.close()
    assert not _bridge_threads()
    with pytest.raises(ConfigurationError, match="closed"):
        ask("again")
    with pytest.raises(ConfigurationError, match="closed"):
        client.sync.chat("again")


def test_a_forgotten_client_closes_its_twin(sim: Simulator) -> None:
    client = make_client(sim)
    assert client.sync.ask("hi") == "Simulated answer to: hi"
    del client
    gc.collect()  # (the autouse fixture checks the thread is gone; warnings are errors here)
