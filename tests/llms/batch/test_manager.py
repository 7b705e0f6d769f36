"""RequestManager against the simulator: order, typed failures, the shapes of input, caches,
batch-level attempts, rate-limiter calls, the sync twins, as_completed and clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from core.llms import create_llm
from core.llms.batch import BatchRequest, MemoryCache, RequestBatch, RequestManager
from core.llms.batch.types import IRateLimiter, Permit
from core.llms.interfaces.errors import (
    ConfigurationError,
    InvalidInputError,
    ServiceUnavailableError,
)
from core.llms.simulator import Fault, Simulator

KEY = "sim-key-for-batches"
NO_RETRY = {"max_retries": 0}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def model(sim: Simulator, **kw: Any) -> Any:
    kw.setdefault("retry", NO_RETRY)
    return create_llm("openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key=KEY, **kw)


def prompts(n: int) -> list[str]:
    return [f"marker{i} please" for i in range(n)]


async def test_results_come_back_in_input_order_with_their_ids(sim: Simulator) -> None:
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=7, show_progress=False) as manager:
        results = await manager.aprocess_batch(prompts(40))
    assert [r.index for r in results] == list(range(40))
    assert [r.id for r in results] == [f"#{i}" for i in range(40)]
    for i, result in enumerate(results):
        assert result.ok and f"marker{i}" in result.unwrap().text
    assert manager.stats.done == 40 and manager.stats.failed == 0
    assert manager.stats.input_tokens > 0 and manager.stats.output_tokens > 0


async def test_every_input_shape_is_accepted_and_a_bad_one_fails_alone(sim: Simulator) -> None:
    llm = model(sim)
    items: list[Any] = [
        "marker0 plain string",
        [{"role": "user", "content": "marker1 list"}],
        {"messages": "marker2 dict", "id": "two", "temperature": 0.1},
        {"prompt": "marker3 prompt", "custom_id": "three"},
        {"custom_id": "four", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "marker4 openai"}]}},
        {"custom_id": "five", "params": {"messages": [{"role": "user", "content": "marker5 anthropic"}]}},
        BatchRequest(messages="marker6 object", id="six", params={"max_tokens": 20}),
        42,  # not a request
        {"messages": [{"role": "wizard", "content": "x"}]},  # a bad role: the model refuses it
        {"no": "messages"},
    ]
    async with llm, RequestManager(llm, concurrency=3, show_progress=False) as manager:
        results = await manager.aprocess_batch(items)
    assert len(results) == len(items)
    for i in range(7):
        assert results[i].ok and f"marker{i}" in results[i].unwrap().text
    assert [r.id for r in results[:7]] == ["#0", "#1", "two", "three", "four", "five", "six"]
    for bad in results[7:]:
        assert isinstance(bad.error, InvalidInputError), bad
        with pytest.raises(InvalidInputError):
            bad.unwrap()
    assert "request #7" in str(results[7].error) and "int" in str(results[7].error)
    assert manager.stats.failed == 3 and manager.stats.errors == {"InvalidInputError": 3}


async def test_a_failed_call_is_a_typed_result_and_the_others_finish(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=1, show_progress=False) as manager:
        results = await manager.aprocess_batch(prompts(5))
    assert isinstance(results[0].error, ServiceUnavailableError)
    assert all(r.ok for r in results[1:])


async def test_max_attempts_retries_a_retryable_failure(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503), Fault(status=429, retry_after_ms=5))
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=1, max_attempts=3, show_progress=False) as manager:
        results = await manager.aprocess_batch(prompts(2))
    assert all(r.ok for r in results)
    assert sim.request_count == 4


async def test_a_bad_request_is_not_retried_at_the_batch_level(sim: Simulator) -> None:
    sim.enqueue(Fault(status=400))
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=1, max_attempts=3, show_progress=False) as manager:
        results = await manager.aprocess_batch(prompts(1))
    assert not results[0].ok and sim.request_count == 1


async def test_a_jsonl_file_is_read_lazily_and_a_broken_line_fails_alone(
    sim: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    lines = [json.dumps({"messages": f"marker{i}", "id": f"r{i}"}) for i in range(6)]
    lines.insert(3, "{not json")
    path.write_text("\n".join(lines) + "\n\n")
    llm = model(sim)
    async with llm, RequestManager(llm, show_progress=False) as manager:
        results = await manager.aprocess_batch(path)
        assert manager.stats.total is None
    assert len(results) == 7
    assert isinstance(results[3].error, InvalidInputError) and "in.jsonl:4" in str(results[3].error)
    assert [r.id for r in results if r.ok] == [f"r{i}" for i in range(6)]


async def test_an_async_iterable_input(sim: Simulator) -> None:
    async def source() -> AsyncIterator[str]:
        for text in prompts(12):
            await asyncio.sleep(0)
            yield text

    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=4, show_progress=False) as manager:
        results = await manager.aprocess_batch(source())
    assert [f"marker{i}" in r.unwrap().text for i, r in enumerate(results)] == [True] * 12


async def test_as_completed_yields_every_result_once(sim: Simulator) -> None:
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=5, show_progress=False) as manager:
        seen = [result async for result in manager.as_completed(prompts(30))]
    assert sorted(r.index for r in seen) == list(range(30))


async def test_leaving_as_completed_early_cancels_the_rest(sim: Simulator) -> None:
    sim.set_default_fault(Fault(delay=0.02))
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=2, show_progress=False) as manager:
        stream = manager.as_completed(prompts(200))
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)
        assert sim.request_count < 20


async def test_as_completed_holds_few_results_when_every_request_is_a_cache_hit(sim: Simulator) -> None:
    # cache hits finish without waiting: without back-pressure the workers would run through the
    # whole input before the caller read anything, holding every result in memory
    cache = MemoryCache()
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=4, cache=cache, show_progress=False) as manager:
        await manager.aprocess_batch(prompts(5))  # warm the cache
        read, most_pending = 0, 0
        async for _ in manager.as_completed(prompts(5) * 2000):
            read += 1
            most_pending = max(most_pending, manager.stats.done - read)
            await asyncio.sleep(0)
    assert read == 10_000 and sim.request_count == 5
    assert most_pending <= 256 + 4, most_pending  # the limit, plus one per worker in flight


async def test_a_cache_answers_the_second_run_for_nothing(sim: Simulator) -> None:
    cache = MemoryCache()
    llm = model(sim)
    async with llm, RequestManager(llm, cache=cache, show_progress=False) as manager:
        first = await manager.aprocess_batch(prompts(10))
        sent = sim.request_count
        second = await manager.aprocess_batch(prompts(10))
    assert sent == 10 and sim.request_count == 10
    assert all(r.cached and r.response is not None and r.response.cached for r in second)
    assert all(r.unwrap().cost == 0.0 for r in second)
    assert [r.unwrap().text for r in first] == [r.unwrap().text for r in second]
    assert manager.stats.cached == 10 and manager.stats.cache_hit_ratio == 1.0
    assert manager.stats.cost_usd == 0.0 and manager.stats.input_tokens == 0


class RecordingLimiter:
    """An IRateLimiter that records what it is asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def acquire(self, key: str, tokens: int) -> Permit:
        self.calls.append(("acquire", (key, tokens)))
        return Permit(key, tokens)

    async def settle(self, permit: Permit, used_tokens: int) -> None:
        self.calls.append(("settle", used_tokens))

    async def observe(
        self, key: str, *, headers: Mapping[str, str] | None = None, retry_after: float | None = None
    ) -> None:
        self.calls.append(("observe", retry_after if headers is None else "headers"))

    async def close(self) -> None:
        self.calls.append(("close", None))


async def test_the_rate_limiter_is_asked_before_and_told_after_each_call(sim: Simulator) -> None:
    limiter = RecordingLimiter()
    assert isinstance(limiter, IRateLimiter)
    sim.enqueue(Fault(status=429, retry_after=0.01))
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=1, rate_limiter=limiter, show_progress=False) as manager:
        results = await manager.aprocess_batch([{"messages": "x " * 400, "max_tokens": 50}, "hello"])
    assert not results[0].ok and results[1].ok
    kinds = [kind for kind, _ in limiter.calls]
    assert kinds == ["acquire", "settle", "observe", "acquire", "settle", "observe"]
    key, tokens = limiter.calls[0][1]
    assert key == "openai/gpt-4.1-mini" and tokens > 150  # ~100 prompt tokens + max_tokens 50
    assert limiter.calls[1] == ("settle", 0) and limiter.calls[2] == ("observe", 0.01)
    assert limiter.calls[4][1] == results[1].unwrap().usage.total_tokens  # type: ignore[union-attr]
    assert ("close", None) not in limiter.calls  # not the manager's to close


def test_process_batch_from_synchronous_code(sim_thread: Simulator) -> None:
    with RequestManager(
        "openai/gpt-4.1-mini", endpoint=f"{sim_thread.url}/v1", api_key=KEY, show_progress=False
    ) as manager:
        results = manager.process_batch(prompts(8))
        assert [f"marker{i}" in r.unwrap().text for i, r in enumerate(results)] == [True] * 8
        streamed = list(manager.iter_completed(prompts(4)))
        assert sorted(r.index for r in streamed) == [0, 1, 2, 3]
    with pytest.raises(ConfigurationError, match="closed"):
        manager.process_batch(["again"])


async def test_process_batch_works_inside_a_running_loop(sim: Simulator) -> None:
    url = f"{sim.url}/v1"
    manager = RequestManager("openai/gpt-4.1-mini", endpoint=url, api_key=KEY, show_progress=False)
    try:
        results = await asyncio.to_thread(manager.process_batch, prompts(3))
        assert all(r.ok for r in results)
    finally:
        await asyncio.to_thread(manager.close)


async def test_request_batch_collects_openai_shaped_calls(sim: Simulator, tmp_path: Path) -> None:
    with RequestBatch() as batch:
        for i in range(5):
            batch.chat.completions.create(
                model="gpt-4.1-mini", messages=[{"role": "user", "content": f"marker{i}"}], temperature=0
            )
        named = batch.chat.completions.create(messages="marker5", custom_id="last")
    assert len(batch) == 6 and named.id == "last" and batch[0].params == {"temperature": 0}
    with pytest.raises(ConfigurationError, match="sealed"):
        batch.chat.completions.create(messages="late")
    llm = model(sim)
    async with llm, RequestManager(llm, show_progress=False) as manager:
        results = await manager.aprocess_batch(batch)
    assert [r.id for r in results] == ["#0", "#1", "#2", "#3", "#4", "last"]
    assert all(f"marker{i}" in r.unwrap().text for i, r in enumerate(results))
    file = batch.to_jsonl(tmp_path / "openai-batch.jsonl", default_model="gpt-4.1-mini")
    lines = [json.loads(line) for line in file.read_text().splitlines()]
    assert lines[5] == {
        "custom_id": "last",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "marker5"}]},
    }


def test_request_batch_refuses_bad_input() -> None:
    batch = RequestBatch()
    with pytest.raises(InvalidInputError, match="stream"):
        batch.chat.completions.create(messages="x", stream=True)
    batch.add("x", custom_id="a")
    with pytest.raises(InvalidInputError, match="already"):
        batch.add("y", custom_id="a")
    with pytest.raises(InvalidInputError):
        batch.add([{"role": "wizard", "content": "x"}])


def test_bad_settings_are_typed_errors() -> None:
    class Model:
        async def get_answer(self, messages: Any, ctx: Any = None, **params: Any) -> Any: ...

        def stream_answer(self, messages: Any, ctx: Any = None, **params: Any) -> Any: ...

    for kwargs, needle in [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"timeout": -1}, "timeout"),
        ({"cache": object()}, "ICache"),
        ({"rate_limiter": object()}, "IRateLimiter"),
        ({"show_progress": "yes"}, "show_progress"),
        ({"api_key": "x"}, "only apply to a model name"),
    ]:
        with pytest.raises(InvalidInputError, match=needle):
            RequestManager(Model(), **kwargs)
    with pytest.raises(InvalidInputError, match="model object"):
        RequestManager(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="iterable"):
        asyncio.run(RequestManager(Model(), show_progress=False).aprocess_batch(7))  # type: ignore[arg-type]


async def test_a_timeout_bounds_each_request(sim: Simulator) -> None:
    sim.enqueue(Fault(delay=2.0))
    llm = model(sim)
    async with llm, RequestManager(llm, concurrency=1, timeout=0.3, show_progress=False) as manager:
        results = await manager.aprocess_batch(prompts(2))
    assert not results[0].ok and results[1].ok
    assert "Timeout" in type(results[0].error).__name__


async def test_a_client_routes_each_request_by_its_model(sim: Simulator) -> None:
    from core.llms.client import LLMClient

    client = LLMClient(
        providers={"openai": {"endpoint": f"{sim.url}/v1", "api_key": KEY}},
        environ={},
        default_model="gpt-4.1-mini",
    )
    async with client, RequestManager(client, show_progress=False) as manager:
        other = {"messages": "marker2", "model": "gpt-4o"}
        results = await manager.aprocess_batch([{"messages": "marker0", "model": "gpt-4o"}, "marker1", other])
    assert [r.unwrap().model for r in results] == ["gpt-4o", "gpt-4.1-mini", "gpt-4o"]
    sent = [record.json["model"] for record in sim.requests if record.json]
    assert sorted(sent) == ["gpt-4.1-mini", "gpt-4o", "gpt-4o"]


async def test_a_model_object_gets_another_model_as_the_per_call_model(sim: Simulator) -> None:
    llm = model(sim)
    async with llm, RequestManager(llm, show_progress=False) as manager:
        results = await manager.aprocess_batch([{"messages": "marker0", "model": "gpt-4o"}])
    assert results[0].ok and sim.requests[-1].json["model"] == "gpt-4o"  # type: ignore[index]
