"""DiskCache: one SQLite file, JSON rows, TTL, shared by processes, damaged rows, bad paths."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import core.llms.batch as batch
from core.llms.batch.cache import DiskCache, disk
from core.llms.batch.types import ICache
from core.llms.interfaces.errors import ConfigurationError, InvalidInputError
from core.llms.interfaces.messages import FunctionCall, ToolCall
from core.llms.interfaces.types import LLMResponse, Usage


class Person(BaseModel):
    name: str
    age: int


class Robot(BaseModel):
    serial: int


def make_response(text: str = "hello", **fields: Any) -> LLMResponse:
    response = LLMResponse(
        text=text,
        model="gpt-4o-mini",
        provider="openai",
        finish_reason="stop",
        tool_calls=[ToolCall("call_1", FunctionCall("lookup", "{}"))],
        usage=Usage(input_tokens=7, output_tokens=2),
        cost=0.01,
        raw={"secret-ish": "body"},
    )
    for name, value in fields.items():
        setattr(response, name, value)
    return response


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cache.sqlite"


async def test_roundtrip_and_persistence(db: Path) -> None:
    cache = DiskCache(db)
    assert isinstance(cache, ICache) and batch.DiskCache is DiskCache
    await cache.put("k", make_response())
    got = await cache.get("k")
    assert got is not None and got.cached and got.cost == 0.0
    assert got.text == "hello" and got.usage == Usage(input_tokens=7, output_tokens=2)
    assert got.tool_calls[0].function.name == "lookup" and got.raw is None
    got.text = "mutated"
    again = await cache.get("k")
    assert again is not None and again.text == "hello"
    await cache.close()
    reopened = DiskCache(str(db))
    kept = await reopened.get("k")
    assert kept is not None and kept.text == "hello"
    assert (reopened.hits, reopened.misses) == (1, 0)
    await reopened.close()


async def test_file_holds_one_table_of_json_text_in_wal_mode(db: Path) -> None:
    cache = DiskCache(db, ttl=60)
    await cache.put("k", make_response(parsed={"a": 1}))
    await cache.close()
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert tables == ["responses"]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        value, expires, created = conn.execute("SELECT value, expires, created FROM responses").fetchone()
    assert isinstance(value, str)
    record = json.loads(value)
    assert record["text"] == "hello" and record["parsed"] == {"a": 1} and record["cost"] == 0.01
    assert "raw" not in record and "headers" not in record
    assert expires == pytest.approx(created + 60)


async def test_parsed_revalidated_with_response_format(db: Path) -> None:
    cache = DiskCache(db)
    await cache.put("k", make_response(parsed=Person(name="Ann", age=3)))
    as_dict = await cache.get("k")
    assert as_dict is not None and as_dict.parsed == {"name": "Ann", "age": 3}
    typed = await cache.get("k", response_format=Person)
    assert typed is not None and typed.parsed == Person(name="Ann", age=3)
    assert await cache.get("k", response_format=Robot) is None  # schema changed since: a miss
    await cache.close()


async def test_ttl_expiry_and_purge(db: Path) -> None:
    cache = DiskCache(db, ttl=0.2)
    forever = DiskCache(db)
    await cache.put("short", make_response())
    await forever.put("long", make_response())
    assert await cache.exists("short") and await cache.count() == 2
    await asyncio.sleep(0.3)
    assert not await cache.exists("short")
    assert await cache.get("short") is None
    assert await forever.get("long") is not None
    assert await cache.count() == 1
    assert await cache.purge_expired() == 1
    assert await cache.purge_expired() == 0
    await cache.close()
    await forever.close()


async def test_put_purges_expired_rows_now_and_then(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk, "_PURGE_EVERY", 3)
    cache = DiskCache(db, ttl=0.05)
    await cache.put("a", make_response())
    await asyncio.sleep(0.1)
    await cache.put("b", make_response())
    await cache.put("c", make_response())  # third put: purges "a"
    await cache.close()
    with sqlite3.connect(db) as conn:
        keys = sorted(row[0] for row in conn.execute("SELECT key FROM responses"))
    assert keys == ["b", "c"]


async def test_damaged_rows_are_logged_misses(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = DiskCache(db)
    await cache.put("good", make_response())
    await cache.close()
    with sqlite3.connect(db) as conn:
        rows = [
            ("bad-json", "{not json"),
            ("not-a-response", '{"answer": 42}'),
            ("bad-usage", '{"text": "x", "usage": {"input_tokens": "lots"}}'),
            ("blob", b"\x00\xff"),
            ("number", 12),
        ]
        conn.executemany("INSERT INTO responses (key, value, expires, created) VALUES (?, ?, NULL, 0)", rows)
    cache = DiskCache(db)
    with caplog.at_level(logging.WARNING, logger="core.llms.batch.cache"):
        for key, _ in rows:
            assert await cache.get(key) is None
    assert await cache.get("good") is not None
    assert (cache.hits, cache.misses) == (1, len(rows))
    assert len(caplog.records) == len(rows)
    assert all("treated as a miss" in r.getMessage() for r in caplog.records)
    await cache.put("bad-json", make_response("repaired"))
    repaired = await cache.get("bad-json")
    assert repaired is not None and repaired.text == "repaired"
    await cache.close()


async def test_work_runs_on_one_worker_thread(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()
    real_connect = sqlite3.connect

    def spy(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        threads.add(threading.current_thread().name)
        conn: sqlite3.Connection = real_connect(*args, **kwargs)
        return conn

    monkeypatch.setattr(sqlite3, "connect", spy)
    cache = DiskCache(db)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(cache.put(f"k{i}", make_response()) for i in range(50)))
    task.cancel()
    assert threads and all(name.startswith("core-llms-disk-cache") for name in threads)
    assert threading.current_thread().name not in threads
    assert ticks > 0  # the loop kept running while the thread wrote
    await cache.close()


async def test_two_objects_one_file_concurrently(db: Path) -> None:
    first, second = DiskCache(db), DiskCache(db)

    async def fill(cache: DiskCache, tag: str) -> None:
        for i in range(60):
            await cache.put(f"{tag}{i}", make_response(f"{tag}{i}"))

    await asyncio.gather(fill(first, "a"), fill(second, "b"))
    for i in range(60):
        from_second = await second.get(f"a{i}")
        from_first = await first.get(f"b{i}")
        assert from_second is not None and from_second.text == f"a{i}"
        assert from_first is not None and from_first.text == f"b{i}"
    await second.clear()
    assert await first.count() == 0
    await first.close()
    await second.close()


def test_several_processes_share_one_file(db: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        from core.llms.batch.cache import DiskCache
        from core.llms.interfaces.types import LLMResponse

        async def main(path, tag):
            cache = DiskCache(path)
            for i in range(100):
                await cache.put(f"{tag}{i}", LLMResponse(text=f"{tag}{i}", model="m", provider="p"))
            await cache.close()

        asyncio.run(main(sys.argv[1], sys.argv[2]))
        """
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(db), tag], cwd=os.getcwd(), stderr=subprocess.PIPE
        )
        for tag in ("p", "q", "r")
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()[-2000:]

    async def check() -> None:
        cache = DiskCache(db)
        assert await cache.count() == 300
        for tag in ("p", "q", "r"):
            got = await cache.get(f"{tag}99")
            assert got is not None and got.text == f"{tag}99" and got.cached
        await cache.close()

    asyncio.run(check())


async def test_close_is_idempotent_and_use_after_close_fails(db: Path) -> None:
    cache = DiskCache(db)
    await cache.put("k", make_response())
    pending = asyncio.ensure_future(cache.get("k"))
    await asyncio.sleep(0)
    await cache.close()
    assert (await pending) is not None  # a call made before close() still finishes
    await cache.close()
    assert "closed" in repr(cache)
    for call in (
        cache.get("k"),
        cache.exists("k"),
        cache.put("k", make_response()),
        cache.clear(),
        cache.count(),
    ):
        with pytest.raises(ConfigurationError, match="DiskCache is closed"):
            await call


async def test_close_before_any_use(db: Path) -> None:
    cache = DiskCache(db)
    await cache.close()
    assert not db.exists()


def test_unusable_paths_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a folder"):
        DiskCache(tmp_path)
    missing = tmp_path / "no" / "such" / "cache.db"
    with pytest.raises(ConfigurationError) as info:
        DiskCache(missing)
    assert str(missing) in str(info.value)
    with pytest.raises(ConfigurationError, match="file path"):
        DiskCache(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="ttl"):
        DiskCache(tmp_path / "x.db", ttl=-5)
    with pytest.raises(ConfigurationError, match="busy_timeout"):
        DiskCache(tmp_path / "x.db", busy_timeout="soon")  # type: ignore[arg-type]


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"this is not an sqlite database, just some text " * 100)
    cache = DiskCache(junk)
    with pytest.raises(ConfigurationError) as info:
        await cache.get("k")
    assert str(junk) in str(info.value) and "DatabaseError" in str(info.value)
    await cache.close()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions (not root)")
async def test_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        cache = DiskCache(folder / "cache.db")
        with pytest.raises(ConfigurationError, match="could not open"):
            await cache.put("k", make_response())
        await cache.close()
    finally:
        folder.chmod(0o700)


async def test_put_of_something_else_and_bad_keys(db: Path) -> None:
    cache = DiskCache(db)
    with pytest.raises(InvalidInputError, match="takes an LLMResponse"):
        await cache.put("k", {"text": "x"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="cache key"):
        await cache.get("")
    with pytest.raises(InvalidInputError, match="cache key"):
        await cache.exists(5)  # type: ignore[arg-type]
    await cache.close()


async def test_many_objects_opening_a_new_file_at_once(tmp_path: Path) -> None:
    # Switching a new file to WAL takes a write lock SQLite does not wait for by itself.
    for round_ in range(5):
        path = tmp_path / f"fresh{round_}.sqlite"
        caches = [DiskCache(path) for _ in range(8)]
        await asyncio.gather(*(cache.put(f"k{i}", make_response()) for i, cache in enumerate(caches)))
        assert await caches[0].count() == 8
        for cache in caches:
            await cache.close()
