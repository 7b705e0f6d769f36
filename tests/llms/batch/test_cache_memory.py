"""MemoryCache: LRU, size bound, TTL, counters, copies, errors; the helpers all caches share."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from pydantic import BaseModel

import core.llms.batch as batch
from core.llms.batch.cache import MemoryCache, decode_response, encode_response, memory
from core.llms.batch.types import ICache
from core.llms.interfaces.errors import ConfigurationError, InvalidInputError, ResponseParsingError
from core.llms.interfaces.messages import FunctionCall, ToolCall
from core.llms.interfaces.types import LLMResponse, Usage


class Person(BaseModel):
    name: str
    age: int


def make_response(text: str = "hello", **fields: Any) -> LLMResponse:
    response = LLMResponse(
        text=text,
        model="gpt-4o-mini",
        provider="openai",
        finish_reason="tool_calls",
        tool_calls=[ToolCall("call_1", FunctionCall("lookup", '{"q": "x"}'))],
        usage=Usage(input_tokens=12, output_tokens=3, cached_input_tokens=2),
        cost=0.0042,
        endpoint="https://api.openai.com/v1/chat/completions",
        request_id="req_1",
        latency=0.5,
        content_filter={"hate": {"filtered": False}},
        raw={"id": "x"},
        headers={"x-ratelimit-remaining-requests": "5"},
    )
    for name, value in fields.items():
        setattr(response, name, value)
    return response


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(memory, "time", fake)
    return fake


async def test_roundtrip_marks_cached_and_free() -> None:
    cache = MemoryCache()
    original = make_response()
    await cache.put("k", original)
    got = await cache.get("k")
    assert got is not None and got is not original
    assert got.cached is True and got.cost == 0.0
    assert (got.text, got.model, got.provider, got.finish_reason) == (
        "hello",
        "gpt-4o-mini",
        "openai",
        "tool_calls",
    )
    assert got.usage == Usage(input_tokens=12, output_tokens=3, cached_input_tokens=2)
    assert got.tool_calls == original.tool_calls
    assert got.content_filter == {"hate": {"filtered": False}}
    assert (got.endpoint, got.request_id, got.latency) == (original.endpoint, "req_1", 0.5)
    assert got.raw is None and got.headers is None  # not stored
    assert original.cached is False and original.cost == 0.0042
    assert isinstance(cache, ICache) and batch.MemoryCache is MemoryCache


async def test_returned_responses_are_independent_copies() -> None:
    cache = MemoryCache()
    original = make_response()
    await cache.put("k", original)
    original.text = "changed after put"
    assert original.content_filter is not None
    original.content_filter["hate"]["filtered"] = True
    first = await cache.get("k")
    assert first is not None and first.text == "hello"
    assert first.content_filter == {"hate": {"filtered": False}}
    first.text = "mutated"
    assert first.usage is not None and first.content_filter is not None
    first.usage.input_tokens = 999
    first.content_filter["hate"]["filtered"] = True
    first.tool_calls.clear()
    second = await cache.get("k")
    assert second is not None and second is not first
    assert second.text == "hello" and second.usage is not None and second.usage.input_tokens == 12
    assert second.content_filter == {"hate": {"filtered": False}} and len(second.tool_calls) == 1


async def test_pydantic_parsed_comes_back_as_a_new_instance() -> None:
    cache = MemoryCache()
    await cache.put("k", make_response(parsed=Person(name="Ann", age=3)))
    got = await cache.get("k")
    assert got is not None and isinstance(got.parsed, Person) and got.parsed == Person(name="Ann", age=3)
    got.parsed.age = 4
    again = await cache.get("k")
    assert again is not None and again.parsed.age == 3
    await cache.put("d", make_response(parsed={"a": [1, 2]}))
    plain = await cache.get("d")
    assert plain is not None and plain.parsed == {"a": [1, 2]}


async def test_lru_eviction_and_len() -> None:
    cache = MemoryCache(max_entries=3)
    for name in "abc":
        await cache.put(name, make_response(name))
    assert len(cache) == 3
    await cache.get("a")  # a is now the most recently used
    await cache.put("d", make_response("d"))
    assert len(cache) == 3
    assert not await cache.exists("b")
    assert [await cache.exists(n) for n in "acd"] == [True, True, True]
    await cache.put("c", make_response("c2"))  # replacing refreshes too
    await cache.put("e", make_response("e"))
    assert not await cache.exists("a")
    got = await cache.get("c")
    assert got is not None and got.text == "c2"


async def test_ttl_expiry(clock: FakeClock) -> None:
    cache = MemoryCache(ttl=10)
    await cache.put("k", make_response())
    clock.now += 9.9
    assert await cache.exists("k")
    assert await cache.get("k") is not None
    clock.now += 0.2
    assert not await cache.exists("k")
    assert await cache.get("k") is None
    assert len(cache) == 0  # the expired entry was dropped when touched
    await cache.put("k", make_response("again"))  # a new put starts a new lifetime
    clock.now += 5
    got = await cache.get("k")
    assert got is not None and got.text == "again"


async def test_ttl_with_real_time() -> None:
    cache = MemoryCache(ttl=0.05)
    await cache.put("k", make_response())
    assert await cache.get("k") is not None
    await asyncio.sleep(0.1)
    assert await cache.get("k") is None


async def test_hit_and_miss_counters() -> None:
    cache = MemoryCache()
    assert await cache.get("missing") is None
    await cache.put("k", make_response())
    assert await cache.exists("k") and not await cache.exists("nope")  # exists counts nothing
    await cache.get("k")
    await cache.get("k")
    assert (cache.hits, cache.misses) == (2, 1)
    assert "hits=2" in repr(cache) and "misses=1" in repr(cache)


async def test_clear_and_close() -> None:
    cache = MemoryCache()
    await cache.put("k", make_response())
    await cache.clear()
    assert len(cache) == 0 and await cache.get("k") is None
    await cache.close()
    await cache.close()  # idempotent
    assert "closed" in repr(cache)
    for call in (cache.get("k"), cache.exists("k"), cache.put("k", make_response()), cache.clear()):
        with pytest.raises(ConfigurationError, match="MemoryCache is closed"):
            await call


async def test_many_concurrent_tasks() -> None:
    cache = MemoryCache(max_entries=50)

    async def worker(n: int) -> None:
        for i in range(40):
            key = f"k{(n * 7 + i) % 80}"
            await cache.put(key, make_response(key))
            got = await cache.get(key)
            assert got is None or got.text == key
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(n) for n in range(50)))
    assert len(cache) == 50
    assert cache.hits + cache.misses == 50 * 40


def test_safe_from_threads() -> None:
    cache = MemoryCache(max_entries=100)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        async def body() -> None:
            for i in range(200):
                key = f"k{(n + i) % 150}"
                await cache.put(key, make_response(key))
                got = await cache.get(key)
                assert got is None or got.text == key

        try:
            asyncio.run(body())
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(cache) == 100


@pytest.mark.parametrize("value", [None, "text", {"text": "x"}, object()])
async def test_put_of_something_else(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="takes an LLMResponse"):
        await MemoryCache().put("k", value)


async def test_put_of_unstorable_parsed_names_the_field() -> None:
    with pytest.raises(InvalidInputError, match=r"response\.parsed"):
        await MemoryCache().put("k", make_response(parsed=object()))
    with pytest.raises(InvalidInputError, match=r"response\.cost"):
        await MemoryCache().put("k", make_response(cost=float("nan")))


@pytest.mark.parametrize("key", [None, 1, b"k", "", "x" * 1025])
async def test_bad_keys(key: Any) -> None:
    cache = MemoryCache()
    with pytest.raises(InvalidInputError, match="cache key"):
        await cache.get(key)
    with pytest.raises(InvalidInputError, match="cache key"):
        await cache.put(key, make_response())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_entries": 0}, "at least 1"),
        ({"max_entries": 2.5}, "integer"),
        ({"max_entries": True}, "integer"),
        ({"ttl": 0}, "positive"),
        ({"ttl": -1}, "positive"),
        ({"ttl": float("inf")}, "finite"),
        ({"ttl": "60"}, "number of seconds"),
    ],
)
def test_bad_settings(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        MemoryCache(**kwargs)


def test_codec_rejects_damaged_text() -> None:
    for text in (
        "not json",
        "[]",
        '{"text": 1}',
        '{"text": "x", "usage": {"input_tokens": "many"}}',
        None,
        b"\xff",
    ):
        with pytest.raises(ResponseParsingError):
            decode_response(text)
    text = encode_response("X", make_response())
    assert '"raw"' not in text and "x-ratelimit" not in text
    decoded = decode_response(text.encode())
    assert decoded.cached and decoded.cost == 0.0
