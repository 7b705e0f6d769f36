"""An in-process response cache: least recently used entries go first, entries may expire."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, NamedTuple

from ...interfaces.errors import ConfigurationError
from ...interfaces.types import LLMResponse
from ...providers.base.pydantic_compat import is_pydantic_model_class
from . import check_key, check_ttl, closed_error, decode_response, encode_response

__all__ = ["MemoryCache"]


class _Entry(NamedTuple):
    text: str
    #: time.monotonic() after which the entry is gone; None: never.
    expires: float | None
    #: the pydantic class of ``parsed`` when it was one (revalidated on ``get``).
    parsed_class: Any


class MemoryCache:
    """An LRU cache of responses in this process.

    ``max_entries`` bounds its size (the least recently used entry is dropped first); ``ttl``
    (seconds) makes entries expire. Entries are kept as JSON text, so a response returned by
    :meth:`get` is always a new object: changing it never changes the cache. A structured
    answer (``parsed``) that was a pydantic model comes back as a new instance of its class.

    Safe for any number of tasks on one loop, and for threads (one lock, held only for
    dictionary work). :attr:`hits` and :attr:`misses` count :meth:`get` calls; ``len(cache)``
    is the number of entries stored (expired ones included until they are next touched).
    """

    def __init__(self, max_entries: int = 10_000, ttl: float | None = None) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int):
            raise ConfigurationError(
                f"MemoryCache(max_entries=...) must be an integer, not {type(max_entries).__name__}"
            )
        if max_entries < 1:
            raise ConfigurationError("MemoryCache(max_entries=...) must be at least 1")
        self.max_entries = max_entries
        self.ttl = check_ttl("MemoryCache", ttl)
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        state = ", closed" if self._closed else ""
        return (
            f"MemoryCache(entries={len(self._entries)}, max_entries={self.max_entries}, ttl={self.ttl}, "
            f"hits={self.hits}, misses={self.misses}{state})"
        )

    def _check_open(self) -> None:
        if self._closed:
            raise closed_error("MemoryCache")

    def _live(self, key: str, now: float) -> _Entry | None:
        """The entry of ``key`` unless missing or expired (an expired one is dropped). Lock held."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires is not None and entry.expires <= now:
            del self._entries[key]
            return None
        return entry

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds a live entry (not counted as a hit or miss; not a use for LRU)."""
        self._check_open()
        check_key("MemoryCache", key)
        with self._lock:
            return self._live(key, time.monotonic()) is not None

    async def get(self, key: str, *, response_format: Any = None) -> LLMResponse | None:
        """A new copy of the stored response (``cached=True``, ``cost=0.0``), or None.

        ``response_format``: a pydantic class to revalidate ``parsed`` with (by default the
        class ``parsed`` had when it was stored, if it was a pydantic model)."""
        self._check_open()
        check_key("MemoryCache", key)
        with self._lock:
            entry = self._live(key, time.monotonic())
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        return decode_response(entry.text, response_format=response_format or entry.parsed_class)

    async def put(self, key: str, response: LLMResponse) -> None:
        """Store ``response`` under ``key`` (replacing any entry), dropping the least recently
        used entries beyond ``max_entries``."""
        self._check_open()
        check_key("MemoryCache", key)
        text = encode_response("MemoryCache", response)
        parsed_class = type(response.parsed) if response.parsed is not None else None
        if not is_pydantic_model_class(parsed_class):
            parsed_class = None
        expires = None if self.ttl is None else time.monotonic() + self.ttl
        with self._lock:
            self._entries[key] = _Entry(text, expires, parsed_class)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    async def clear(self) -> None:
        """Drop every entry (the counters are kept)."""
        self._check_open()
        with self._lock:
            self._entries.clear()

    async def close(self) -> None:
        """Drop every entry; later use raises :class:`ConfigurationError`. Idempotent."""
        with self._lock:
            self._entries.clear()
            self._closed = True
