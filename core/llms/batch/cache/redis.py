"""A response cache on a Redis server (redis-py's asyncio client; extra ``batch``).

Each entry is one string key ``<prefix><cache key>`` holding the response's JSON record (never a
pickle), set with ``PX`` when a TTL is given, so Redis itself drops expired entries. Several
processes and machines share entries through one server. ``redis`` is imported when a
:class:`RedisCache` is made, not before.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

from ...interfaces.errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    LLMError,
    PermissionDeniedError,
    ResponseParsingError,
    ServiceUnavailableError,
)
from ...interfaces.types import LLMResponse
from . import check_key, check_ttl, closed_error, decode_response, encode_response

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisCache", "mask_url"]

T = TypeVar("T")

logger = logging.getLogger("core.llms.batch.cache")

#: keys deleted per UNLINK (and asked for per SCAN) by :meth:`RedisCache.clear`.
_CLEAR_BATCH = 500
_GLOB_SPECIAL = frozenset("*?[]\\")


def mask_url(url: str) -> str:
    """``url`` with its password (or a lone user-info part) shown as ``***`` and its query
    string (which may carry ``password=``) left out."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable Redis URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if colon else f"***@{hostport}"
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def _where(url: str) -> str:
    """``host:port`` (or the socket path) of ``url``, for messages."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return parts.path or "?"
        port = parts.port or 6379
    except ValueError:
        return "?"
    return f"{parts.hostname or 'localhost'}:{port}"


def _password(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
    except ValueError:
        return None
    secret = userinfo.partition(":")[2] or userinfo
    return secret or None


class RedisCache:
    """A response cache on the Redis server at ``url`` (``redis://[[user]:password@]host[:port][/db]``,
    ``rediss://`` for TLS, ``unix://``).

    ``ttl`` (seconds) sets each entry's expiry in Redis; ``prefix`` is put before every key, and
    :meth:`clear` deletes only the keys under it. ``connect_timeout`` / ``timeout``: seconds to
    connect and to wait for an answer. The password never appears in the repr or an error.
    A server that cannot be reached raises :class:`APIConnectionError` naming ``host:port``;
    rejected credentials :class:`AuthenticationError`.

    :attr:`hits` and :attr:`misses` count :meth:`get` calls of this object.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float | None = None,
        prefix: str = "core-llms:cache:",
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
    ) -> None:
        if not isinstance(url, str) or not url:
            raise ConfigurationError(
                f"RedisCache(url=...) must be a non-empty string, not {type(url).__name__}"
            )
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError(
                "RedisCache(prefix=...) must be a non-empty string (clear() deletes the keys under it)"
            )
        for name, value in (("connect_timeout", connect_timeout), ("timeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                value > 0 and math.isfinite(value)
            ):
                raise ConfigurationError(f"RedisCache({name}=...) must be a positive number of seconds")
        self.ttl = check_ttl("RedisCache", ttl)
        self.prefix = prefix
        self.url = mask_url(url)
        self._where = _where(url)
        self._secret = _password(url)
        self.hits = 0
        self.misses = 0
        self._closed = False
        try:
            import redis.asyncio as aioredis
            import redis.exceptions as redis_errors
        except ImportError:
            raise ConfigurationError(
                "RedisCache needs the redis package: pip install 'core-llms[batch]'"
            ) from None
        self._errors = redis_errors
        try:
            self._client: Redis = aioredis.from_url(
                url, socket_connect_timeout=float(connect_timeout), socket_timeout=float(timeout)
            )
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"RedisCache URL {self.url!r} is not usable: {type(exc).__name__}",
                hint="redis://[[user]:password@]host[:port][/db], rediss://… or unix:///path",
            ) from None

    def __repr__(self) -> str:
        state = ", closed" if self._closed else ""
        return f"RedisCache({self.url!r}, prefix={self.prefix!r}, ttl={self.ttl}{state})"

    # -------------------------------------------------------------------------------- plumbing

    def _check_open(self) -> None:
        if self._closed:
            raise closed_error("RedisCache")

    def _redact(self, text: str) -> str:
        secret = self._secret
        return text.replace(secret, "***") if secret else text

    def _error(self, what: str, exc: BaseException) -> LLMError:
        """The typed error of a redis-py exception."""
        errors = self._errors
        endpoint = f"redis://{self._where}"
        if isinstance(exc, errors.AuthenticationError | errors.AuthorizationError):
            return AuthenticationError(
                f"RedisCache: the Redis server at {self._where} refused the credentials ({what})",
                endpoint=endpoint,
            )
        if isinstance(exc, errors.NoPermissionError):
            return PermissionDeniedError(
                f"RedisCache: the Redis user may not run {what} on {self._where}", endpoint=endpoint
            )
        if isinstance(exc, errors.ConnectionError | errors.TimeoutError | OSError):
            return APIConnectionError(
                f"RedisCache: could not reach the Redis server at {self._where} ({what}): "
                f"{type(exc).__name__}",
                endpoint=endpoint,
            )
        detail = self._redact(str(exc))[:200]
        return ServiceUnavailableError(
            f"RedisCache: the Redis server at {self._where} refused {what}: {type(exc).__name__}: {detail}",
            endpoint=endpoint,
        )

    async def _call(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        """``await op()``, a redis-py failure raised as our typed error with no cause and no
        context (redis-py's exception may hold the connection's settings)."""
        self._check_open()
        try:
            return await op()
        except (self._errors.RedisError, OSError) as exc:
            failure = self._error(what, exc)
        raise failure  # (outside the except block: no __context__)

    def _unreadable(self, key: str, why: str) -> None:
        logger.warning(
            "RedisCache %s: entry %s… is unreadable, treated as a miss: %s", self._where, key[:16], why
        )

    # -------------------------------------------------------------------------------- ICache

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds an entry (not counted as a hit or miss)."""
        self._check_open()
        name = self.prefix + check_key("RedisCache", key)

        async def op() -> bool:
            return bool(await self._client.exists(name))

        return await self._call("EXISTS", op)

    async def get(self, key: str, *, response_format: Any = None) -> LLMResponse | None:
        """A new response read from Redis (``cached=True``, ``cost=0.0``), or None when the key is
        missing, expired, or holds something that is not a stored response (logged).
        ``response_format``: a pydantic class to revalidate ``parsed`` with."""
        self._check_open()
        name = self.prefix + check_key("RedisCache", key)
        errors = self._errors

        async def op() -> Any:
            try:
                return await self._client.get(name)
            except errors.ResponseError as exc:  # WRONGTYPE: the key holds a list, a hash …
                if isinstance(exc, errors.NoPermissionError):
                    raise
                return _WrongType(type(exc).__name__)

        value = await self._call("GET", op)
        response: LLMResponse | None = None
        if isinstance(value, _WrongType):
            self._unreadable(key, f"Redis answered {value.error}")
        elif value is not None:
            try:
                response = decode_response(value, response_format=response_format)
            except ResponseParsingError as exc:
                self._unreadable(key, exc.message)
        if response is None:
            self.misses += 1
        else:
            self.hits += 1
        return response

    async def put(self, key: str, response: LLMResponse) -> None:
        """Store ``response`` under ``key`` (with the cache's TTL), replacing any entry."""
        self._check_open()
        name = self.prefix + check_key("RedisCache", key)
        data = encode_response("RedisCache", response).encode("utf-8")
        px = None if self.ttl is None else max(1, round(self.ttl * 1000))

        async def op() -> None:
            await self._client.set(name, data, px=px)

        await self._call("SET", op)

    async def clear(self) -> None:
        """Delete every key under this cache's prefix (SCAN, then UNLINK in batches); other keys
        of the database are left alone."""
        pattern = "".join("\\" + c if c in _GLOB_SPECIAL else c for c in self.prefix) + "*"

        async def op() -> None:
            batch: list[bytes] = []
            async for name in self._client.scan_iter(match=pattern, count=_CLEAR_BATCH):
                batch.append(name)
                if len(batch) >= _CLEAR_BATCH:
                    await self._client.unlink(*batch)
                    batch.clear()
            if batch:
                await self._client.unlink(*batch)

        await self._call("SCAN/UNLINK", op)

    async def close(self) -> None:
        """Close the connections; later use raises :class:`ConfigurationError`. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._client.aclose()
        except (self._errors.RedisError, OSError) as exc:
            logger.debug("RedisCache %s: closing failed: %s", self._where, type(exc).__name__)


class _WrongType(NamedTuple):
    """GET's answer when the key holds another Redis type."""

    error: str
