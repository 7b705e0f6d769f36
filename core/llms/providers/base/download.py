"""Safe downloads of URLs the library fetches itself (e.g. an image a provider needs as bytes).

A URL in a caller's message is attacker-controlled input in many deployments (a chat front end
passes user content through). Fetching it from inside a service must not become a way to reach
the service's own network (server-side request forgery). :func:`fetch_bytes` therefore:

* accepts only ``http`` and ``https`` URLs with a host;
* resolves the host first and refuses it if **any** resolved address is private, loopback,
  link-local, multicast, reserved, unspecified, shared (carrier-grade NAT) or otherwise not
  globally routable, including IPv4 addresses embedded in IPv6 (mapped, 6to4, NAT64, Teredo);
* connects only to the addresses it checked (its own session uses a checking resolver, so a DNS
  answer that changes between the check and the connect is checked again);
* follows at most :data:`MAX_REDIRECTS` redirects itself, checking every hop the same way;
* stops at ``max_bytes`` (the ``Content-Length`` is checked before reading, the body while
  reading) and at ``timeout`` seconds for the whole download, redirects included.

``allow_private=True`` lifts the address check (for a trusted internal image store, or tests on
127.0.0.1); the scheme, size and time limits still apply. A caller-supplied ``session`` is used
as is: its resolver cannot be replaced, so only the pre-connect check protects it.

Errors are typed: :class:`~core.llms.interfaces.errors.UnsafeURLError` for a refused URL or
address, :class:`~core.llms.interfaces.errors.InvalidInputError` for everything else (HTTP error
status, too large, too slow, unreachable). Messages name the URL without its query string or
user info, which may hold a signature or a credential.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from ...interfaces.endpoint import endpoint_name
from ...interfaces.errors import InvalidInputError, UnsafeURLError
from .download_policy import DEFAULT_DOWNLOAD_MAX_BYTES, DEFAULT_DOWNLOAD_TIMEOUT, DownloadPolicy

__all__ = [
    "DEFAULT_DOWNLOAD_MAX_BYTES",
    "DEFAULT_DOWNLOAD_TIMEOUT",
    "MAX_REDIRECTS",
    "DownloadPolicy",
    "check_address",
    "fetch_bytes",
]

logger = logging.getLogger("core.llms.download")

#: redirects followed at most.
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def fetch_bytes(
    url: str,
    *,
    max_bytes: int = DEFAULT_DOWNLOAD_MAX_BYTES,
    timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
    allow_private: bool = False,
    session: aiohttp.ClientSession | None = None,
) -> tuple[bytes, str]:
    """Download ``url``: its body and media type (``Content-Type`` without parameters,
    ``application/octet-stream`` when absent). See the module docstring for the rules.

    Raises :class:`UnsafeURLError` (scheme, address or redirect refused) or
    :class:`InvalidInputError` (HTTP error, larger than ``max_bytes``, slower than ``timeout``,
    unreachable).
    """
    if max_bytes < 1 or timeout <= 0:
        raise InvalidInputError("fetch_bytes needs max_bytes >= 1 and timeout > 0")
    target = _parse(url)
    name = endpoint_name(url)
    try:
        async with asyncio.timeout(timeout):
            if session is not None:
                return await _follow(session, target, max_bytes, allow_private)
            connector = aiohttp.TCPConnector(
                resolver=_CheckingResolver(allow_private), use_dns_cache=False, limit=4
            )
            async with aiohttp.ClientSession(connector=connector, trust_env=False) as own:
                return await _follow(own, target, max_bytes, allow_private)
    except TimeoutError:
        raise InvalidInputError(
            f"downloading {name} took longer than {timeout:g} s",
            hint="use a faster image host, or pass the bytes instead of a URL",
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise InvalidInputError(
            f"could not download {name}: {type(exc).__name__}",
            hint="check that the URL is reachable from this service, or pass the bytes instead",
        ) from None


def check_address(address: str | IPAddress, *, allow_private: bool = False) -> None:
    """Raise :class:`UnsafeURLError` unless ``address`` is a globally routable unicast address
    (or ``allow_private``)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if allow_private:
        return
    for candidate in _embedded(ip):
        if (
            not candidate.is_global
            or candidate.is_private
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
        ):
            raise UnsafeURLError(
                f"{ip} is a non-public address ({_kind(candidate)})",
                hint="only public http(s) URLs are fetched; pass the bytes instead, or allow private "
                "addresses explicitly (allow_private=True) for a trusted internal host",
            )


# -- internals -----------------------------------------------------------------------------------


def _parse(url: str) -> URL:
    try:
        target = URL(url)
    except (ValueError, TypeError):
        raise UnsafeURLError("the URL cannot be parsed") from None
    if target.scheme not in ("http", "https"):
        raise UnsafeURLError(
            f"refusing to download a {target.scheme or 'scheme-less'!r} URL: only http(s) URLs are fetched",
            hint="data: URLs are decoded locally by the caller; pass bytes for anything else",
        )
    if not target.host:
        raise UnsafeURLError("the URL has no host")
    return target


async def _follow(
    session: aiohttp.ClientSession, target: URL, max_bytes: int, allow_private: bool
) -> tuple[bytes, str]:
    """GET ``target``, following redirects by hand with the address check on every hop."""
    for hop in range(MAX_REDIRECTS + 1):
        try:
            await _check_host(target, allow_private)
        except UnsafeURLError as exc:
            via = "a redirect to " if hop else ""
            raise UnsafeURLError(
                f"refusing {via}{endpoint_name(str(target))}: {exc.message}", hint=exc.hint
            ) from None
        logger.debug("downloading %s", endpoint_name(str(target)))
        async with session.get(target, allow_redirects=False, headers={"Accept": "*/*"}) as resp:
            if resp.status in _REDIRECTS and "Location" in resp.headers:
                try:
                    target = _parse(str(resp.url.join(URL(resp.headers["Location"]))))
                except UnsafeURLError as exc:
                    raise UnsafeURLError(f"refusing a redirect: {exc.message}", hint=exc.hint) from None
                continue
            name = endpoint_name(str(target))
            if not 200 <= resp.status < 300:
                raise InvalidInputError(f"downloading {name} failed: HTTP {resp.status}")
            return await _read(resp, name, max_bytes), resp.content_type or "application/octet-stream"
    raise InvalidInputError(f"downloading {endpoint_name(str(target))}: more than {MAX_REDIRECTS} redirects")


async def _read(resp: aiohttp.ClientResponse, name: str, max_bytes: int) -> bytes:
    too_large = InvalidInputError(
        f"{name} is larger than the download limit ({max_bytes:,} bytes)",
        hint="pass a smaller image, or raise the limit (max_bytes)",
    )
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise too_large
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


async def _check_host(target: URL, allow_private: bool) -> None:
    """Resolve the URL's host and check every address (an IP literal is checked as is)."""
    if allow_private:
        return
    host = target.raw_host or ""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal)
        return
    for _family, address in await _lookup(host, target.port or 0):
        check_address(address)


async def _lookup(host: str, port: int) -> list[tuple[int, str]]:
    """``(family, address)`` for every address of ``host`` (the system resolver, off the loop)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError):
        raise InvalidInputError(f"cannot resolve the host of the URL ({host[:100]})") from None
    out = [(int(family), str(sockaddr[0])) for family, _, _, _, sockaddr in infos]
    if not out:
        raise InvalidInputError(f"the host of the URL ({host[:100]}) has no address")
    return out


class _CheckingResolver(AbstractResolver):
    """aiohttp resolver returning only checked addresses: the connection goes to what was checked."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results: list[ResolveResult] = []
        for fam, address in await _lookup(host, port):
            check_address(address, allow_private=self._allow_private)
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address.split("%")[0],
                    port=port,
                    family=fam,
                    proto=socket.IPPROTO_TCP,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        return results

    async def close(self) -> None:
        return None


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """``ip`` and any IPv4 address it carries (IPv4-mapped, 6to4, Teredo, NAT64)."""
    out: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            out.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            out.append(ip.sixtofour)
        if ip.teredo is not None:
            out.extend(ip.teredo)
        if ip in _NAT64:
            out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def _kind(ip: IPAddress) -> str:
    checks: list[tuple[str, Any]] = [
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ]
    for label, hit in checks:
        if hit:
            return label
    return "not globally routable"
