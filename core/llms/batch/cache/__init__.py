"""Response caches of the batch layer, and their keys.

* :func:`request_key` — the deterministic key of a request (model, messages, parameters).
* :class:`MemoryCache` — in-process LRU with a size bound and an optional TTL.
* :class:`DiskCache` — one SQLite file, shared by several processes.
* :class:`RedisCache` — a Redis server (extra ``batch``: ``pip install 'core-llms[batch]'``).

All three follow :class:`~core.llms.batch.types.ICache`. Responses are stored as JSON records
(:mod:`core.llms.batch.records`), never pickled; ``get`` returns a new :class:`LLMResponse`
each time, marked ``cached=True`` with ``cost=0.0``. See ``docs/batch-caches.md``.

Names are imported on first use; ``redis`` only when a :class:`RedisCache` is made.
"""

from __future__ import annotations

import importlib
import json
import math
from typing import TYPE_CHECKING, Any

from ...interfaces.errors import ConfigurationError, InvalidInputError, ResponseParsingError
from ...interfaces.types import LLMResponse
from ..records import response_from_record, response_to_record

if TYPE_CHECKING:
    from .disk import DiskCache as DiskCache
    from .keys import request_key as request_key
    from .memory import MemoryCache as MemoryCache
    from .redis import RedisCache as RedisCache

_LAZY: dict[str, str] = {
    "request_key": "keys",
    "MemoryCache": "memory",
    "DiskCache": "disk",
    "RedisCache": "redis",
}

__all__ = sorted(_LAZY)

#: the longest key a cache accepts (request_key gives 64 characters).
MAX_KEY_LENGTH = 1024


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


# ------------------------------------------------------------------ helpers shared by the caches


def check_ttl(owner: str, ttl: Any) -> float | None:
    """``ttl`` as seconds (a positive finite number) or None; else :class:`ConfigurationError`."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise ConfigurationError(
            f"{owner}(ttl=...) must be a number of seconds or None, not {type(ttl).__name__}"
        )
    value = float(ttl)
    if not (value > 0 and math.isfinite(value)):
        raise ConfigurationError(f"{owner}(ttl=...) must be a positive, finite number of seconds")
    return value


def check_key(owner: str, key: Any) -> str:
    """``key`` if it is a usable cache key; else :class:`InvalidInputError`."""
    if not isinstance(key, str):
        raise InvalidInputError(f"{owner}: a cache key must be a string, not {type(key).__name__}")
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(f"{owner}: a cache key must be 1 to {MAX_KEY_LENGTH} characters long")
    return key


def closed_error(owner: str) -> ConfigurationError:
    """The error of a cache used after ``close()``."""
    return ConfigurationError(f"this {owner} is closed", hint="make a new cache, or use it before close()")


def encode_response(owner: str, response: Any) -> str:
    """``response`` as the JSON text a cache stores. Raises :class:`InvalidInputError` when it is
    not an :class:`LLMResponse` or holds something JSON cannot carry (naming the field)."""
    if not isinstance(response, LLMResponse):
        raise InvalidInputError(f"{owner}.put() takes an LLMResponse, not {type(response).__name__}")
    record = response_to_record(response)
    try:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        bad = _unencodable_field(record)
        raise InvalidInputError(
            f"{owner}.put(): response.{bad} cannot be stored as JSON",
            hint="a cached response's parsed value must be JSON data or a pydantic model",
        ) from None


def _unencodable_field(record: dict[str, Any]) -> str:
    for name, value in record.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return name
    return "?"


def decode_response(text: Any, *, response_format: Any = None) -> LLMResponse:
    """A fresh :class:`LLMResponse` from stored JSON text (or bytes), marked ``cached=True`` with
    ``cost=0.0``. Damaged data raises :class:`ResponseParsingError`."""
    try:
        record = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        raise ResponseParsingError("a cached response is not valid JSON") from None
    response = response_from_record(record, response_format=response_format)
    response.cached = True
    response.cost = 0.0
    return response
