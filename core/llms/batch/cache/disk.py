"""A response cache in one SQLite file, which several processes may share.

The file holds one table, ``responses(key TEXT PRIMARY KEY, value TEXT, expires REAL, created
REAL)``: ``value`` is the JSON record of the response (:mod:`core.llms.batch.records`), never a
pickle; ``expires`` is a Unix time (None: never). The database runs in WAL mode, so readers in
other processes do not wait for a writer, and a writer waits (up to ``busy_timeout`` seconds) for
another one instead of failing.

Every database call runs on one worker thread that owns the connection: the event loop never
waits for the disk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ...interfaces.errors import ConfigurationError, ResponseParsingError
from ...interfaces.types import LLMResponse
from . import check_key, check_ttl, closed_error, decode_response, encode_response

__all__ = ["DiskCache"]

logger = logging.getLogger("core.llms.batch.cache")

T = TypeVar("T")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS responses ("
    "key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, expires REAL, created REAL NOT NULL)"
)
_LIVE = "(expires IS NULL OR expires > ?)"
_PURGE = "DELETE FROM responses WHERE expires IS NOT NULL AND expires <= ?"
#: expired rows are deleted after this many puts (and by :meth:`DiskCache.purge_expired`).
_PURGE_EVERY = 1000


class DiskCache:
    """A response cache stored in the SQLite file ``path`` (made if missing; its folder must
    exist).

    ``ttl`` (seconds) makes entries expire; an expired entry is a miss and is deleted now and
    then. Several processes (and several ``DiskCache`` objects) may use one file at the same
    time. A row that cannot be read back (damaged JSON, not a response) is logged and counted as
    a miss; it is replaced by the next :meth:`put` of its key. An unusable path, or a file that
    is not an SQLite database, raises :class:`ConfigurationError` naming the path.

    :attr:`hits` and :attr:`misses` count :meth:`get` calls of this object.
    """

    def __init__(
        self, path: str | os.PathLike[str], ttl: float | None = None, *, busy_timeout: float = 30.0
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ConfigurationError(f"DiskCache(path=...) must be a file path, not {type(path).__name__}")
        self.path = Path(path)
        self.ttl = check_ttl("DiskCache", ttl)
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float) or not (
            busy_timeout >= 0
        ):
            raise ConfigurationError("DiskCache(busy_timeout=...) must be a number of seconds >= 0")
        self.busy_timeout = float(busy_timeout)
        if self.path.is_dir():
            raise ConfigurationError(f"DiskCache path {str(self.path)!r} is a folder, not a file")
        parent = self.path.parent
        if not parent.is_dir():
            raise ConfigurationError(
                f"DiskCache path {str(self.path)!r} is not usable: its folder {str(parent)!r} does not exist"
            )
        self.hits = 0
        self.misses = 0
        self._closed = False  # set by close(): no new calls
        self._finished = False  # set on the worker thread once the connection is closed
        self._conn: sqlite3.Connection | None = None
        self._puts = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="core-llms-disk-cache")

    def __repr__(self) -> str:
        state = ", closed" if self._closed else ""
        return f"DiskCache({str(self.path)!r}, ttl={self.ttl}, hits={self.hits}, misses={self.misses}{state})"

    # -------------------------------------------------------------------------------- plumbing

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` on the worker thread (the connection is opened on first use)."""
        if self._closed:
            raise closed_error("DiskCache")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._call, fn)
        except RuntimeError:  # the executor was shut down by a concurrent close()
            if self._closed:
                raise closed_error("DiskCache") from None
            raise

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs on the worker thread."""
        if self._finished:
            raise closed_error("DiskCache")
        conn = self._conn
        if conn is None:
            conn = self._conn = self._open()
        try:
            return fn(conn)
        except sqlite3.Error as exc:
            raise self._sqlite_error("could not use", exc) from None

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                str(self.path), timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._sqlite_error("could not open", exc) from None
        # Switching to WAL and creating the table take a write lock; when another connection is
        # doing the same, SQLite may answer "locked" at once instead of waiting (its busy handler
        # is not used there), so these steps are retried until busy_timeout.
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.005
        while True:
            try:
                if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(_SCHEMA)
                return conn
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if ("locked" in text or "busy" in text) and time.monotonic() < deadline:
                    time.sleep(pause)  # (on the worker thread, never the loop)
                    pause = min(pause * 2, 0.2)
                    continue
                conn.close()
                raise self._sqlite_error("could not open", exc) from None
            except sqlite3.Error as exc:
                conn.close()
                raise self._sqlite_error("could not open", exc) from None

    def _sqlite_error(self, what: str, exc: sqlite3.Error) -> ConfigurationError:
        return ConfigurationError(
            f"DiskCache {what} {str(self.path)!r}: {type(exc).__name__}: {str(exc)[:200]}",
            hint="the path must be a writable SQLite file (or a new file in an existing folder)",
        )

    # -------------------------------------------------------------------------------- ICache

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds a live entry (not counted as a hit or miss)."""
        check_key("DiskCache", key)

        def run(conn: sqlite3.Connection) -> bool:
            query = f"SELECT 1 FROM responses WHERE key = ? AND {_LIVE}"
            return conn.execute(query, (key, time.time())).fetchone() is not None

        return await self._run(run)

    async def get(self, key: str, *, response_format: Any = None) -> LLMResponse | None:
        """A new response read from the file (``cached=True``, ``cost=0.0``), or None when the
        key is missing, expired or its row is damaged. ``response_format``: a pydantic class to
        revalidate ``parsed`` with (a stored answer that no longer matches it is a miss)."""
        check_key("DiskCache", key)

        def run(conn: sqlite3.Connection) -> LLMResponse | None:
            row = conn.execute(
                f"SELECT value FROM responses WHERE key = ? AND {_LIVE}", (key, time.time())
            ).fetchone()
            if row is None:
                return None
            try:
                return decode_response(row[0], response_format=response_format)
            except ResponseParsingError as exc:
                logger.warning("DiskCache %r: entry %s… is unreadable, treated as a miss: %s",
                               str(self.path), key[:16], exc.message)
                return None

        response = await self._run(run)
        if response is None:
            self.misses += 1
        else:
            self.hits += 1
        return response

    async def put(self, key: str, response: LLMResponse) -> None:
        """Store ``response`` under ``key``, replacing any entry."""
        if self._closed:
            raise closed_error("DiskCache")
        check_key("DiskCache", key)
        text = encode_response("DiskCache", response)
        ttl = self.ttl
        self._puts += 1
        purge = self._puts % _PURGE_EVERY == 0 and ttl is not None

        def run(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.execute(
                "INSERT OR REPLACE INTO responses (key, value, expires, created) VALUES (?, ?, ?, ?)",
                (key, text, None if ttl is None else now + ttl, now),
            )
            if purge:
                conn.execute(_PURGE, (now,))

        await self._run(run)

    async def clear(self) -> None:
        """Delete every entry of the file (for every process that shares it)."""
        await self._run(lambda conn: conn.execute("DELETE FROM responses"))

    async def purge_expired(self) -> int:
        """Delete the expired entries now; returns how many were deleted."""

        def run(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(_PURGE, (time.time(),))
            return int(cursor.rowcount)

        return await self._run(run)

    async def count(self) -> int:
        """The number of live entries in the file."""

        def run(conn: sqlite3.Connection) -> int:
            row = conn.execute(f"SELECT COUNT(*) FROM responses WHERE {_LIVE}", (time.time(),)).fetchone()
            return int(row[0])

        return await self._run(run)

    async def close(self) -> None:
        """Close the file and stop the worker thread; later use raises
        :class:`ConfigurationError`. Idempotent."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._close_connection)
        finally:
            self._executor.shutdown(wait=False)

    def _close_connection(self) -> None:
        """Runs on the worker thread, after every call queued before it (they finish first)."""
        self._finished = True
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
