"""RedisCache against a real redis-server: entries, TTL, sharing, clear by prefix, secrets."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from pydantic import BaseModel

import core.llms.batch as batch
from core.llms.batch.cache import RedisCache
from core.llms.batch.cache.redis import mask_url
from core.llms.batch.types import ICache
from core.llms.interfaces.errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    LLMError,
)
from core.llms.interfaces.types import LLMResponse, Usage

SECRET = "s3cretPW-do-not-show"


class Person(BaseModel):
    name: str
    age: int


def make_response(text: str = "hello", **fields: Any) -> LLMResponse:
    response = LLMResponse(
        text=text,
        model="gpt-4o-mini",
        provider="openai",
        usage=Usage(input_tokens=4, output_tokens=1),
        cost=0.5,
    )
    for name, value in fields.items():
        setattr(response, name, value)
    return response


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_roundtrip(redis_url: str, prefix: str, raw: aioredis.Redis) -> None:
    cache = RedisCache(redis_url, prefix=prefix)
    assert isinstance(cache, ICache) and batch.RedisCache is RedisCache
    assert await cache.get("k") is None and not await cache.exists("k")
    await cache.put("k", make_response())
    assert await cache.exists("k")
    got = await cache.get("k")
    assert got is not None and got.cached and got.cost == 0.0 and got.text == "hello"
    assert got.usage == Usage(input_tokens=4, output_tokens=1)
    got.text = "mutated"
    again = await cache.get("k")
    assert again is not None and again.text == "hello"
    assert (cache.hits, cache.misses) == (2, 1)
    assert await raw.ttl(prefix + "k") == -1  # no TTL: kept until cleared
    stored = await raw.get(prefix + "k")
    assert isinstance(stored, bytes) and stored.startswith(b"{") and b'"text":"hello"' in stored
    await cache.close()


async def test_parsed_revalidated_with_response_format(redis_url: str, prefix: str) -> None:
    cache = RedisCache(redis_url, prefix=prefix)
    await cache.put("k", make_response(parsed=Person(name="Ann", age=3)))
    plain = await cache.get("k")
    typed = await cache.get("k", response_format=Person)
    assert plain is not None and plain.parsed == {"name": "Ann", "age": 3}
    assert typed is not None and typed.parsed == Person(name="Ann", age=3)
    await cache.close()


async def test_ttl_is_set_in_redis_and_expires(redis_url: str, prefix: str, raw: aioredis.Redis) -> None:
    cache = RedisCache(redis_url, prefix=prefix, ttl=0.4)
    await cache.put("k", make_response())
    pttl = await raw.pttl(prefix + "k")
    assert 0 < pttl <= 400
    assert await cache.get("k") is not None
    await asyncio.sleep(0.6)
    assert not await cache.exists("k")
    assert await cache.get("k") is None
    long_lived = RedisCache(redis_url, prefix=prefix, ttl=3600)
    await long_lived.put("k", make_response())
    assert 3590 <= await raw.ttl(prefix + "k") <= 3600
    await cache.close()
    await long_lived.close()


async def test_two_caches_share_entries(redis_url: str, prefix: str) -> None:
    writer, reader = RedisCache(redis_url, prefix=prefix), RedisCache(redis_url, prefix=prefix)
    other = RedisCache(redis_url, prefix=prefix + "other:")
    await asyncio.gather(*(writer.put(f"k{i}", make_response(f"v{i}")) for i in range(20)))
    for i in range(20):
        got = await reader.get(f"k{i}")
        assert got is not None and got.text == f"v{i}"
    assert await other.get("k0") is None
    for cache in (writer, reader, other):
        await cache.close()


async def test_clear_deletes_only_its_prefix(redis_url: str, prefix: str, raw: aioredis.Redis) -> None:
    mine = RedisCache(redis_url, prefix=prefix)
    neighbour = RedisCache(redis_url, prefix=prefix[:-1] + "-neighbour:")
    for i in range(1200):  # more than one SCAN/UNLINK batch
        await mine.put(f"k{i}", make_response())
    await neighbour.put("k0", make_response())
    await raw.set(prefix[:-1], b"not under the prefix")
    await mine.clear()
    assert await raw.keys(prefix + "*") == []
    assert await neighbour.get("k0") is not None
    assert await raw.get(prefix[:-1]) == b"not under the prefix"
    await mine.clear()  # nothing left: fine
    for cache in (mine, neighbour):
        await cache.close()


async def test_clear_with_glob_characters_in_the_prefix(
    redis_url: str, prefix: str, raw: aioredis.Redis
) -> None:
    tricky = prefix + "a*[b]?\\:"
    cache = RedisCache(redis_url, prefix=tricky)
    await cache.put("k", make_response())
    look_alikes = [prefix + "aXbb]Z\\:k", prefix + "a-[b]Q:k", prefix + "aZZ[b]?:k"]
    for name in look_alikes:
        await raw.set(name, b"x")
    await cache.clear()
    assert not await cache.exists("k")
    for name in look_alikes:
        assert await raw.get(name) == b"x"
    await cache.close()


async def test_damaged_values_are_logged_misses(
    redis_url: str, prefix: str, raw: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    cache = RedisCache(redis_url, prefix=prefix)
    await raw.set(prefix + "junk", b"\x80not json")
    await raw.set(prefix + "other", b'{"answer": 1}')
    await raw.rpush(prefix + "list", b"a")
    with caplog.at_level(logging.WARNING, logger="core.llms.batch.cache"):
        for key in ("junk", "other", "list"):
            assert await cache.get(key) is None
    assert len(caplog.records) == 3 and cache.misses == 3
    await cache.put("junk", make_response("fixed"))
    fixed = await cache.get("junk")
    assert fixed is not None and fixed.text == "fixed"
    await cache.close()


def _assert_no_secret(error: BaseException) -> None:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    for item in seen:
        assert SECRET not in str(item) and SECRET not in repr(item)
        assert SECRET not in str(getattr(item, "endpoint", ""))
    assert error.__cause__ is None and error.__context__ is None


async def test_password_never_shown(redis_url: str, prefix: str) -> None:
    # the test server has no password: redis refuses the AUTH
    with_password = redis_url.replace("redis://", f"redis://user:{SECRET}@")
    cache = RedisCache(with_password, prefix=prefix)
    assert SECRET not in repr(cache) and "user:***@" in repr(cache) and SECRET not in cache.url
    with pytest.raises(AuthenticationError) as info:
        await cache.get("k")
    host_port = redis_url.split("//")[1].split("/")[0]
    assert host_port in str(info.value)
    _assert_no_secret(info.value)
    await cache.close()


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{SECRET}@127.0.0.1:1/0",
        f"redis://{SECRET}@127.0.0.1:1/0",
        f"redis://127.0.0.1:1/0?password={SECRET}",
    ],
)
async def test_unreachable_server_is_a_connection_error(url: str) -> None:
    cache = RedisCache(url, connect_timeout=2)
    assert SECRET not in repr(cache)
    for call in (cache.get("k"), cache.put("k", make_response()), cache.exists("k"), cache.clear()):
        with pytest.raises(APIConnectionError) as info:
            await call
        assert "127.0.0.1:1" in str(info.value) and info.value.retryable
        _assert_no_secret(info.value)
    await cache.close()


def test_mask_url() -> None:
    assert mask_url("redis://user:pw@host:6379/0") == "redis://user:***@host:6379/0"
    assert mask_url("redis://:pw@host/0") == "redis://:***@host/0"
    assert mask_url("redis://pw@host") == "redis://***@host"
    assert mask_url("rediss://host:6380/2?password=pw&ssl_cert_reqs=none") == "rediss://host:6380/2?…"
    assert mask_url("redis://host") == "redis://host"
    assert mask_url("unix:///tmp/redis.sock?db=1") == "unix:///tmp/redis.sock?…"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"url": ""}, "non-empty string"),
        ({"url": None}, "non-empty string"),
        ({"url": f"http://u:{SECRET}@host/0"}, "not usable"),
        ({"url": "redis://h", "prefix": ""}, "prefix"),
        ({"url": "redis://h", "ttl": 0}, "positive"),
        ({"url": "redis://h", "timeout": -1}, "timeout"),
    ],
)
def test_bad_settings(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as info:
        RedisCache(**kwargs)
    assert SECRET not in str(info.value) and info.value.__cause__ is None


async def test_closed_cache_and_bad_values(redis_url: str, prefix: str) -> None:
    cache = RedisCache(redis_url, prefix=prefix)
    with pytest.raises(InvalidInputError, match="takes an LLMResponse"):
        await cache.put("k", "text")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="cache key"):
        await cache.get("")
    await cache.close()
    await cache.close()
    assert "closed" in repr(cache)
    for call in (cache.get("k"), cache.exists("k"), cache.put("k", make_response()), cache.clear()):
        with pytest.raises(ConfigurationError, match="RedisCache is closed"):
            await call


def test_missing_redis_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'core-llms\[batch\]'"):
        RedisCache("redis://localhost")


def test_redis_is_imported_only_when_a_cache_is_made() -> None:
    code = (
        "import sys, core.llms, core.llms.batch, core.llms.batch.cache.redis;"
        "from core.llms.batch import RedisCache, request_key, DiskCache, MemoryCache;"
        "assert 'redis' not in sys.modules, 'imported too early';"
        "RedisCache('redis://localhost');"
        "assert 'redis' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd())


def test_errors_are_llm_errors() -> None:
    assert issubclass(APIConnectionError, LLMError) and issubclass(AuthenticationError, LLMError)
