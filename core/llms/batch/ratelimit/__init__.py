"""Client-side rate limits for the batch layer: requests and tokens per minute, per key.

* :class:`RateLimiter` admits the requests of one process (every task of every event loop).
* :class:`RedisRateLimiter` shares the same budgets across processes and machines through Redis
  (extra ``batch``; the ``redis`` package is imported only when one is made).
* :func:`parse_rate_limit_headers` reads the providers' ``x-ratelimit-*`` /
  ``anthropic-ratelimit-*`` / ``retry-after`` response headers the limiters learn from.

Both limiters follow :class:`~core.llms.batch.types.IRateLimiter`; see ``docs/batch-rate-limits.md``.
"""

from __future__ import annotations

from .headers import RateLimitSnapshot, parse_rate_limit_headers
from .local import RateLimiter, RateLimits
from .redis import RedisRateLimiter

__all__ = ["RateLimitSnapshot", "RateLimiter", "RateLimits", "RedisRateLimiter", "parse_rate_limit_headers"]
