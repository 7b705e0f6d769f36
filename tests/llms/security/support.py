"""Helpers of the security tests: canary secrets, a tiny aiohttp server on 127.0.0.1, and a log
capture of the whole ``core.llms`` and ``aiohttp`` logger trees at DEBUG."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Self
from urllib.parse import urlsplit

from aiohttp import web
from local_http import serve_locally

#: canary secrets: none of these may ever appear in a message, repr, str, log or dump.
OPENAI_KEY = "sk-canary-openai-7f3c9a1e5b2d4f6a8c0e"
AZURE_KEY = "azcanary0123456789abcdef0123456789ab"
BEARER = "eyJcanary.bearer-token-from-token-provider.9c2f"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYKEY"
PROXY_PASSWORD = "proxy-canary-pass-55e1"
ALL_SECRETS = (OPENAI_KEY, AZURE_KEY, BEARER, AWS_SECRET, PROXY_PASSWORD)

#: fragments long enough to prove a leak (a masked key keeps a short prefix, e.g. ``sk-***``).
_FRAGMENTS = tuple(secret[len(secret) // 3 :] for secret in ALL_SECRETS)


def leaks(text: str) -> list[str]:
    """The canary secrets (or distinctive parts of them) found in ``text``."""
    return [s for s, frag in zip(ALL_SECRETS, _FRAGMENTS, strict=True) if s in text or frag in text]


def assert_clean(*texts: Any) -> None:
    """No canary secret in any of ``texts`` (each is turned into ``str`` and ``repr``)."""
    for text in texts:
        for shown in (str(text), repr(text)):
            found = leaks(shown)
            assert not found, f"secret leaked {found!r} in: {shown[:300]}"


def error_texts(exc: BaseException) -> list[str]:
    """Everything an error shows: message, str, repr, hint, body, the attempts of an
    ``AllEndpointsFailedError``, and the same for its cause / context chain."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current), str(current.args)]
        for attr in ("message", "hint", "body", "endpoint", "request_id", "partial_text", "filter_results"):
            out.append(repr(getattr(current, attr, None)))
        for attempt in getattr(current, "attempts", ()):
            out += [attempt.describe(), repr(attempt)]
            if attempt.error is not None:
                out += error_texts(attempt.error)
        cause = getattr(current, "cause", None)
        if isinstance(cause, BaseException):
            out += error_texts(cause)
        current = current.__cause__ or current.__context__
    return out


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Format exactly as a production handler would, traceback included.
        self.lines.append(logging.Formatter("%(name)s %(levelname)s %(message)s").format(record))
        self.lines.append(repr(record.args))


@contextmanager
def captured_logs(*names: str) -> Iterator[list[str]]:
    """Every record of the given logger trees (default: ``core.llms`` and ``aiohttp``) at DEBUG."""
    names = names or ("core.llms", "aiohttp", "core_llms_ollama")
    handler = _Collect()
    loggers = [logging.getLogger(n) for n in names]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
    try:
        yield handler.lines
    finally:
        for lg, (level, _) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LocalServer:
    """An aiohttp app on 127.0.0.1 with the given ``{(method, path): handler}`` routes; records
    each request's headers."""

    def __init__(self, routes: Iterable[tuple[str, str, Handler]]) -> None:
        self.app = web.Application()
        self.seen: list[dict[str, str]] = []
        for method, path, handler in routes:
            self.app.router.add_route(method, path, self._recording(handler))
        self._runner: web.AppRunner | None = None
        self.port = 0
        #: serve HTTPS with this context when set before entering.
        self.ssl_context: ssl.SSLContext | None = None

    def _recording(self, handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            self.seen.append(dict(request.headers))
            return await handler(request)

        return wrapped

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LocalServer:
        self._runner, self.port = await serve_locally(
            self.app, ssl_context=self.ssl_context, access_log=None, shutdown_timeout=0.1
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


class LoopbackServer(ABC):
    """A TCP server on a free port of 127.0.0.1, started and stopped by ``async with``; each
    client connection is handled by ``_client``, whose tasks are cancelled when it stops."""

    def __init__(self) -> None:
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @abstractmethod
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection."""


class ForwardProxy(LoopbackServer):
    """A minimal HTTP forward proxy on 127.0.0.1: ``CONNECT host:port`` tunnels (HTTPS through an
    enterprise egress proxy) and absolute-URI plain HTTP requests. With ``credentials`` it demands
    ``Proxy-Authorization: Basic ...`` and answers 407 otherwise. Records the first request line of
    each client connection. ``hosts`` maps names only the proxy knows to 127.0.0.1 addresses: a
    client that tried to reach such a name itself would trip the suite's network guard."""

    def __init__(self, credentials: str | None = None, hosts: dict[str, str] | None = None) -> None:
        super().__init__()
        self.credentials = credentials
        self.hosts = hosts or {}
        self.requests: list[str] = []
        self.authorizations: list[str | None] = []

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
            }
            self.requests.append(f"{method} {target}")
            auth = headers.get("proxy-authorization")
            self.authorizations.append(auth)
            if self.credentials is not None:
                expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
                if auth != expected:
                    writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    return
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                up_reader, upstream = await asyncio.open_connection(self.hosts.get(host, host), int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:
                url = urlsplit(target)
                host = url.hostname or ""
                up_reader, upstream = await asyncio.open_connection(
                    self.hosts.get(host, host), url.port or 80
                )
                path = url.path + (f"?{url.query}" if url.query else "")
                kept = [ln for ln in lines[1:] if ln and not ln.lower().startswith("proxy-")]
                upstream.write(f"{method} {path} {version}\r\n".encode("latin-1"))
                upstream.write(("\r\n".join(kept) + "\r\n\r\n").encode("latin-1"))
            await asyncio.gather(_pipe(reader, upstream), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # the proxy is shutting down (asyncio's server callback must not see a cancellation)
        finally:
            for w in (upstream, writer):
                if w is not None:
                    w.close()
            self._tasks.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        if writer.can_write_eof():
            with contextlib.suppress(OSError):
                writer.write_eof()


#: a canary key with no recognisable prefix (no ``sk-``): only real masking hides it.
PLAIN_KEY = "Zq8WmR2xLp4Tn7Vb9Kc3Hs6Jd1Fg5Ya0Ue2Io4Pw8"
#: every 12-character piece of it: none may show anywhere.
PLAIN_KEY_FRAGMENTS = tuple(PLAIN_KEY[i : i + 12] for i in range(len(PLAIN_KEY) - 11))


def key_fragments(text: str) -> list[str]:
    """The 12-character pieces of :data:`PLAIN_KEY` found in ``text``."""
    return [frag for frag in PLAIN_KEY_FRAGMENTS if frag in text]


def everything_shown(error: BaseException) -> list[str]:
    """What an error can show: :func:`error_texts` (the whole cause chain), its code, request id
    and ``traceback.format_exception`` (what ``logger.exception`` prints)."""
    import traceback

    out = error_texts(error)
    out += [repr(getattr(error, "code", None)), repr(getattr(error, "request_id", None))]
    out.append("".join(traceback.format_exception(error)))
    return out


def assert_no_key_fragment(*texts: Any) -> None:
    """No 12-character piece of :data:`PLAIN_KEY` in any of ``texts`` (``str`` and ``repr``)."""
    for text in texts:
        for shown in (str(text), repr(text)):
            found = key_fragments(shown)
            assert not found, f"{len(found)} key fragment(s) leaked, e.g. {found[0]!r}, in: {shown[:600]}"


class RawServer(LoopbackServer):
    """A TCP server on 127.0.0.1 that reads one HTTP request (head and ``Content-Length`` body)
    and writes ``reply`` as it is (``None``: says nothing, e.g. to stall a TLS handshake), then
    closes the connection."""

    def __init__(self, reply: bytes | None) -> None:
        super().__init__()
        self.reply = reply
        self.heads: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.reply is None:
                await asyncio.sleep(3600)
                return
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    await reader.readexactly(int(value))
            writer.write(self.reply)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)
