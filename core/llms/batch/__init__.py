"""Batch processing: thousands to millions of requests through one model, in input order.

* :class:`RequestManager` runs requests with bounded concurrency, a cache, client-side rate
  limits, a crash-resumable journal and a progress display; or hands them to the provider's
  asynchronous Batch API (half price).
* :class:`RequestBatch` collects requests written like OpenAI SDK calls.
* Caches (:class:`MemoryCache`, :class:`DiskCache`, :class:`RedisCache`), rate limiters
  (:class:`RateLimiter`, :class:`RedisRateLimiter`) and the provider Batch APIs all follow the
  protocols in :mod:`.types`.
* :class:`LLMBatchMapper` carries all of it into Ray Data workers (extra ``ray``).

Names are imported on first use: ``import core.llms.batch`` loads nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cache import DiskCache as DiskCache
    from .cache import MemoryCache as MemoryCache
    from .cache import RedisCache as RedisCache
    from .cache import request_key as request_key
    from .collector import RequestBatch as RequestBatch
    from .journal import Journal as Journal
    from .manager import RequestManager as RequestManager
    from .provider_api import batch_api_for as batch_api_for
    from .ratelimit import RateLimiter as RateLimiter
    from .ratelimit import RateLimits as RateLimits
    from .ratelimit import RedisRateLimiter as RedisRateLimiter
    from .ray_data import LLMBatchMapper as LLMBatchMapper
    from .requests import read_jsonl as read_jsonl
    from .types import BatchJob as BatchJob
    from .types import BatchRequest as BatchRequest
    from .types import BatchResult as BatchResult
    from .types import BatchStats as BatchStats
    from .types import IBatchAPI as IBatchAPI
    from .types import ICache as ICache
    from .types import IRateLimiter as IRateLimiter

_LAZY: dict[str, str] = {
    "RequestManager": "manager",
    "RequestBatch": "collector",
    "Journal": "journal",
    "read_jsonl": "requests",
    "MemoryCache": "cache",
    "DiskCache": "cache",
    "RedisCache": "cache",
    "request_key": "cache",
    "RateLimiter": "ratelimit",
    "RateLimits": "ratelimit",
    "RedisRateLimiter": "ratelimit",
    "batch_api_for": "provider_api",
    "LLMBatchMapper": "ray_data",
    **dict.fromkeys(
        ("BatchJob", "BatchRequest", "BatchResult", "BatchStats", "IBatchAPI", "ICache", "IRateLimiter"),
        "types",
    ),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
