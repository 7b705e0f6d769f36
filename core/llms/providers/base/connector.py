"""One endpoint, one pooled aiohttp session, one attempt per call.

:class:`Connector` sends a single HTTP request to a single endpoint and turns everything that can
go wrong into the error tree: a non-2xx status through the provider adapter's ``map_error`` (the
one place per provider), transport exceptions through
:func:`~core.llms.providers.base.transport_errors.map_transport_error`. It never retries and
never fails over: :class:`~core.llms.providers.base.failover.FailoverConnector` does that.

Request headers, later ones overriding earlier ones: ``Content-Type: application/json``,
``Accept`` (``text/event-stream`` for streams), the adapter's ``auth_headers(endpoint)``,
``endpoint.headers``, ``request.headers``, then ``Idempotency-Key`` from the context and the W3C
``traceparent`` (the running call's span, when a tracing observer made one, else
``ctx.trace_parent``) (with fixed credentials, i.e. no ``token_provider``, the first four are
made once and reused). An adapter
that must sign the final request (AWS SigV4 needs the URL and body) may also define
``sign_request`` (see :class:`~core.llms.interfaces.provider.RequestSigner`); its headers are
added last. An adapter whose servers (or the gateways in front of them) may report an error
inside a 2xx JSON body may define ``error_in_body`` (see
:class:`~core.llms.interfaces.provider.BodyErrorDetector`): such an attempt then fails like an
HTTP error status, so the retry and failover rules apply to it.

The model id an endpoint is sent (:attr:`Connector.served_model`): the endpoint's own
(``EndpointConfig.model_id``, or the adapter's ``endpoint_model``: an Azure deployment) unless
the request fixed it; it goes into the URL (adapters whose URL names the model) and, when it
differs from the request's, into the body's ``"model"`` field (:meth:`Connector.body_for`).
"""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import logging
import ssl
import time
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...interfaces.context import RequestContext
from ...interfaces.endpoint import DEFAULT_MAX_EVENT_BYTES, EndpointConfig, join_url
from ...interfaces.errors import (
    ConfigurationError,
    InvalidInputError,
    LLMError,
    ResponseParsingError,
    ResponseTooLargeError,
)
from ...interfaces.llm_interfaces import StreamDecoder, WireEvent, WireRequest, WireResponse
from ...interfaces.observer import CURRENT_CALL
from ...interfaces.provider import BodyErrorDetector, EndpointModel, ProviderAdapter, RequestSigner
from .attempt_clock import AttemptClock
from .breaker import CircuitBreaker
from .redact import SecretRedactor
from .transport_errors import map_transport_error, sanitized_cause

if TYPE_CHECKING:
    import aiohttp

try:  # orjson is optional (the "fast" extra)
    _orjson: Any = importlib.import_module("orjson")
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

__all__ = [
    "MAX_ERROR_BODY",
    "Connector",
    "OpenStream",
    "decode_json",
    "encode_json",
    "request_body",
]

logger = logging.getLogger("core.llms.transport")

#: at most this many bytes of an error response body are read.
MAX_ERROR_BODY = 1 << 20
#: successful non-JSON bodies with these content types are media (audio, images), not errors.
_MEDIA_TYPES = ("audio/", "image/", "video/", "application/octet-stream")
#: what a send or a read may raise, mapped by map_transport_error. aiohttp is imported by the
#: first session (see _import_aiohttp), not with this module, and its ClientError joins then:
#: no aiohttp exception can be raised before a session exists.
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, OSError)


def _import_aiohttp() -> ModuleType:
    """aiohttp, imported when the first session is made: ``import core.llms`` + ``create_llm``
    do without it (its import costs about as much as everything else on that path)."""
    global _TRANSPORT_ERRORS
    import aiohttp

    _TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
    return aiohttp


#: compact, UTF-8, no NaN: made once (``json.dumps`` with options builds an encoder per call).
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_json(payload: Any) -> bytes:
    """Serialise a request payload once (orjson when installed, else compact ``json``)."""
    try:
        if _orjson is not None:
            return bytes(_orjson.dumps(payload))
        return _JSON_ENCODER.encode(payload).encode()
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        # orjson.JSONEncodeError is a TypeError; the message names the offending type only.
        raise InvalidInputError(f"request payload is not JSON-serialisable: {exc}") from None


#: bodies larger than this (uploads: audio, images, big embedding batches) are handed to aiohttp
#: as a file-like object, which it writes in pieces (aiohttp warns about larger raw bytes: they
#: would be written in one go on the event loop). A new one per attempt: a retry re-reads it.
_LARGE_BODY = 1 << 20
#: methods that send no body.
_BODILESS = frozenset({"GET", "DELETE", "HEAD"})


def request_body(request: WireRequest) -> bytes:
    """The body of ``request``, made once per call: its form (multipart) or its JSON payload;
    nothing for a ``GET`` / ``DELETE``."""
    if request.method in _BODILESS:
        return b""
    if request.form is not None:
        return request.form.encode()  # type: ignore[no-any-return]
    return encode_json(request.payload)


#: made once, like the encoder; the body is decoded as UTF-8 (RFC 8259), as orjson does, rather
#: than by ``json.loads(bytes)``, which sniffs the encoding of every body.
_JSON_DECODER = json.JSONDecoder()


def decode_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body (orjson when installed); raises ``ValueError`` when it is not
    JSON (not UTF-8, or nested too deeply for the parser, included)."""
    if _orjson is not None:
        return _orjson.loads(body)
    text = body.decode()  # UnicodeDecodeError is a ValueError
    if text.startswith("\ufeff"):  # a byte order mark: tolerated, as json.loads(bytes) does
        text = text[1:]
    try:
        return _JSON_DECODER.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


class Connector:
    """Sends one attempt at a time to one endpoint over a lazily created, pooled session.

    Use ``async with Connector(endpoint, adapter) as c:`` or call :meth:`aclose`; an unclosed
    connector warns (``ResourceWarning``) when garbage-collected.
    """

    def __init__(
        self, endpoint: EndpointConfig, adapter: ProviderAdapter, *, breaker: CircuitBreaker | None = None
    ) -> None:
        self.endpoint = endpoint
        self.adapter = adapter
        self.name: str = endpoint.display_name
        #: the endpoint's shared circuit breaker, when the connector comes from an EndpointPool.
        self.breaker = breaker
        self._holders = 0
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        #: responses whose body is being read; aclose() closes them so that their readers wake up.
        self._live: set[aiohttp.ClientResponse] = set()
        self._urls: dict[tuple[str, str], str] = {}
        self._fixed_timeouts: dict[bool, aiohttp.ClientTimeout] = {}  # see _timeout
        self._fixed_headers: dict[bool, Mapping[str, str]] = {}  # see _endpoint_headers
        self._signer = adapter if isinstance(adapter, RequestSigner) else None
        self._body_errors = adapter if isinstance(adapter, BodyErrorDetector) else None
        self._redactor = SecretRedactor(endpoint)
        picker = adapter.endpoint_model if isinstance(adapter, EndpointModel) else None
        #: the model id this endpoint serves the model as, when it has its own (else None).
        self.served_model: str | None = picker(endpoint) if picker is not None else endpoint.model_id
        #: the server's host and port (the URL's, or the scheme's default port), for observers.
        self.server: tuple[str | None, int | None] = server_of(endpoint.endpoint)

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Connector:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def hold(self) -> None:
        """One more owner shares this connector (see :class:`~.pool.EndpointPool`)."""
        self._holders += 1

    async def release(self) -> None:
        """One owner lets go; the session closes when no owner is left (or none ever held it)."""
        self._holders = max(self._holders - 1, 0)
        if self._holders == 0:
            await self.aclose()

    def _release_now(self) -> bool:
        """:meth:`release` for finalizers (no await); True when it closed an open session."""
        self._holders = max(self._holders - 1, 0)
        return self._holders == 0 and self._close_now()

    @property
    def closed(self) -> bool:
        """True once the connector was closed."""
        return self._closed

    async def aclose(self) -> None:
        """Close the session and its pooled connections. Idempotent.

        Calls in flight fail at once with a typed error (closing the session alone would leave a
        read in progress waiting until its timeout)."""
        self._closed = True
        for resp in list(self._live):
            resp.close()
        self._live.clear()
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    # Un-closed detection (package-internal): the first owner garbage-collected with a session still
    # open (model, FailoverConnector or this connector) closes it at once and warns; nothing warns
    # again, not even aiohttp.

    def _unclosed(self) -> bool:
        """Is the session open?"""
        session = self._session
        return session is not None and not session.closed

    def _close_now(self) -> bool:
        """Close the session without awaiting (for finalizers); True when it was open."""
        self._closed = True
        session, self._session = self._session, None
        if session is None or session.closed:
            return False
        _close_session_now(session)
        return True

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if getattr(self, "_session", None) is not None and self._close_now():
            _warn(f"unclosed {self!r}: call aclose() or use 'async with'", ResourceWarning, source=self)

    def __repr__(self) -> str:
        return f"Connector({self.name!r})"

    def _closed_error(self) -> ConfigurationError:
        return ConfigurationError(
            f"the connector for {self.name} is closed (aclose() was called)",
            endpoint=self.name,
            hint="create a new one",
        )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise self._closed_error()
        session = self._session
        if session is not None and self._session_loop is not None and self._session_loop.is_closed():
            # A session is bound to the event loop it was made in: a shared connector used again
            # after that loop ended (as test suites do) drops the dead session for a new one.
            _close_session_now(session)
            session = None
        if session is None:
            aiohttp = _import_aiohttp()
            conn = aiohttp.TCPConnector(limit=self.endpoint.max_connections, ssl=self._ssl())
            session = aiohttp.ClientSession(connector=conn, auto_decompress=True)
            self._session = session
            self._session_loop = asyncio.get_running_loop()
        return session

    def _ssl(self) -> ssl.SSLContext | bool:
        ep = self.endpoint
        if not ep.verify_tls:
            return False
        if ep.ca_bundle is None:
            return True
        try:
            return ssl.create_default_context(cafile=ep.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"cannot load ca_bundle {ep.ca_bundle!r} for {self.name}: {exc.strerror or exc}",
                endpoint=self.name,
                hint="ca_bundle must be a readable PEM file of CA certificates",
            ) from None

    # -- one attempt -----------------------------------------------------------------------

    def _model_for(self, request: WireRequest) -> str:
        """The model id this endpoint is sent for ``request`` (see the module docstring)."""
        served = self.served_model
        return request.model if served is None or request.model_fixed else served

    def _url(self, request: WireRequest) -> str:
        key = (request.operation, self._model_for(request))
        url = self._urls.get(key)
        if url is None:
            url = self._urls[key] = self.adapter.url(self.endpoint, key[0], key[1])
        if request.path:  # a job id and the like: not kept (there is no end to them)
            return join_url(url, request.path)
        return url

    def body_for(self, request: WireRequest, body: bytes) -> bytes:
        """``body`` (the request's payload, serialised once per call), or the payload with this
        endpoint's own model id when the payload names a model and the endpoint serves it under
        another id (re-serialised: only such endpoints pay for it)."""
        served = self.served_model
        if request.form is not None:
            return request.form.encode(None if request.model_fixed else served)  # type: ignore[no-any-return]
        if not body:  # GET / DELETE
            return body
        if served is None or request.model_fixed or served == request.payload.get("model", served):
            return body
        return encode_json({**request.payload, "model": served})

    def _kept_headers(self, request: WireRequest, ctx: RequestContext | None) -> Mapping[str, str] | None:
        """The kept endpoint headers (see :meth:`_endpoint_headers`), with the call's
        ``traceparent`` if it has one, when ``request`` adds none of its own (the usual case:
        nothing to await); else None."""
        if request.headers or self._signer is not None or (ctx is not None and ctx.idempotency_key):
            return None
        base = self._fixed_headers.get(request.stream)
        trace_parent = _trace_parent(ctx)
        if trace_parent is None or base is None:
            return base
        return {**base, "traceparent": trace_parent}  # a traced call: still nothing to await

    async def _headers(
        self, request: WireRequest, url: str, body: bytes, ctx: RequestContext | None
    ) -> Mapping[str, str]:
        """The request headers (see the module doc for their order)."""
        base = self._fixed_headers.get(request.stream)
        if base is None:
            base = await self._endpoint_headers(request.stream)
        idempotency_key = ctx.idempotency_key if ctx is not None else None
        trace_parent = _trace_parent(ctx)
        form = request.form
        if (
            not request.headers
            and not idempotency_key
            and self._signer is None
            and form is None
            and trace_parent is None
        ):
            return base
        headers = dict(base)
        if form is not None:
            headers["Content-Type"] = form.content_type
        if request.headers:
            self._redactor.add_headers(request.headers)
            headers.update(request.headers)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if trace_parent is not None:
            headers["traceparent"] = trace_parent
        if self._signer is not None:
            signed = await self._signer.sign_request(self.endpoint, request.method, url, headers, body)
            self._redactor.add_headers(signed)
            headers.update(signed)
        return headers

    async def _endpoint_headers(self, stream: bool) -> Mapping[str, str]:
        """Content type, ``Accept``, the adapter's auth headers and the endpoint's headers.

        With fixed credentials (no ``token_provider``) they are the same for every request: made
        once per kind (streamed or not) and kept, read-only. A token provider is asked every time
        (tokens rotate)."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
        }
        auth = await self.adapter.auth_headers(self.endpoint)
        self._redactor.add_headers(auth)  # tokens rotate: remember each one sent
        headers.update(auth)
        if self.endpoint.headers:
            headers.update(self.endpoint.headers)
        if self.endpoint.token_provider is None:
            self._fixed_headers[stream] = headers  # typed Mapping: never modified once kept
        return headers

    def redact(self, error: LLMError) -> LLMError:
        """Mask, in place, every credential this connector sent (or holds) wherever ``error``
        shows text from the server (see :mod:`~core.llms.providers.base.redact`); returns it.
        Errors of HTTP responses are redacted here; the failover connector redacts the rest."""
        return self._redactor.redact(error)

    def mask(self, text: str) -> str:
        """``text`` with every credential this connector sent (or holds), and any piece of one,
        masked (for observers and logs)."""
        return self._redactor.mask(text)

    def _timeout(self, request: WireRequest, timeout: float | None) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for an attempt (those without a per-call part are made once).

        A stream's: the endpoint's own, capped by ``timeout`` (what is left of the call's
        deadline) and with the call's own read timeout, if any. A non-streamed attempt's read and
        total timeouts are kept by :meth:`send_once` (see :mod:`.attempt_clock`): aiohttp keeps
        only the socket connect's."""
        stream = request.stream
        if not stream or (timeout is None and not request.read_timeout):
            fixed = self._fixed_timeouts.get(stream)
            if fixed is None:
                fixed = self._fixed_timeouts[stream] = self._client_timeout(None, None, stream)
            return fixed
        return self._client_timeout(timeout, request.read_timeout, True)

    def _client_timeout(self, cap: float | None, read: float | None, stream: bool) -> aiohttp.ClientTimeout:
        import aiohttp  # loaded by the first session already: a dictionary lookup

        t = self.endpoint.timeouts
        if not stream:
            return aiohttp.ClientTimeout(total=None, sock_connect=t.connect)
        total = t.total if cap is None else min(t.total, cap)
        # ``connect`` would also bound the wait for a free pooled connection; only the socket
        # connect (TCP + TLS) is bounded by timeouts.connect, the pool wait by the total.
        return aiohttp.ClientTimeout(
            total=max(total, 0.001), sock_connect=t.connect, sock_read=read or t.read
        )

    async def _start(
        self, request: WireRequest, body: bytes, ctx: RequestContext | None, timeout: float | None
    ) -> tuple[aiohttp.ClientResponse, float]:
        """Send the request, wait for the status line and headers; map non-2xx to an error."""
        session = self._get_session()
        url = self._url(request)
        if self.served_model is not None:
            body = self.body_for(request, body)
        headers = self._kept_headers(request, ctx)
        if headers is None or request.form is not None:
            headers = await self._headers(request, url, body, ctx)
            if session.closed:  # aclose() ran while the headers were made (a token provider awaits)
                raise self._closed_error()
        started = time.perf_counter()
        try:
            resp = await session.request(
                request.method,
                url,
                data=(body or None) if len(body) <= _LARGE_BODY else io.BytesIO(body),
                headers=headers,
                timeout=self._timeout(request, timeout),
                proxy=self.endpoint.proxy,
                allow_redirects=False,
            )
        except _TRANSPORT_ERRORS as exc:
            raise map_transport_error(exc, self.name) from sanitized_cause(exc, self._redactor.mask)
        except asyncio.CancelledError:
            if self._closed and not _being_cancelled():  # aclose() cancelled the wait for a free connection
                raise self._closed_error() from None
            raise
        except ValueError as exc:  # aiohttp cannot build the request (user info in the URL + Authorization…)
            refused = ConfigurationError(f"cannot send a request to {self.name}: {exc}", endpoint=self.name)
            raise self.redact(refused) from None
        ttfb = time.perf_counter() - started
        self._live.add(resp)
        if 200 <= resp.status < 300:
            return resp, ttfb
        try:
            raw = await _read_capped(resp, MAX_ERROR_BODY)
        except _TRANSPORT_ERRORS:
            raw = b""  # the status alone still says what went wrong
        finally:
            resp.release()
            self._live.discard(resp)
        error = self.redact(self.adapter.map_error(resp.status, resp.headers, raw, self.name))
        request_id = self._redactor.mask(self.adapter.request_id(resp.headers))  # a server may echo a key
        error.fill(endpoint=self.name, status=resp.status, request_id=request_id)
        logger.debug("%s answered status %d (%s)", self.name, resp.status, type(error).__name__)
        raise error

    async def send_once(
        self, request: WireRequest, body: bytes, ctx: RequestContext | None, timeout: float | None
    ) -> WireResponse:
        """One non-streamed attempt. ``timeout`` (seconds) caps the endpoint's total timeout.

        Its read and total timeouts are kept by one timer (see :mod:`.attempt_clock`), which
        cancels the task when it fires: the ``CancelledError`` handler turns that into the error."""
        started = time.perf_counter()
        clock = AttemptClock(self.endpoint.timeouts, request.read_timeout, timeout)
        resp: aiohttp.ClientResponse | None = None
        try:
            resp, ttfb = await self._start(request, body, ctx, timeout)
            try:
                if self._arrived_whole(resp):  # the usual small answer: no coroutine of our own
                    raw = await resp.read()
                else:
                    raw = await self._read_body(resp, clock.move_on)
            except _TRANSPORT_ERRORS as exc:  # the status arrived, the body did not
                error = map_transport_error(exc, self.name).fill(status=resp.status)
                raise error from sanitized_cause(exc, self._redactor.mask)
            finally:
                resp.release()
                self._live.discard(resp)
        except asyncio.CancelledError:
            if not clock.timed_out():
                raise
            error = clock.error(self.name)
            if resp is not None:  # the status arrived, the body did not
                error.fill(status=resp.status)
            raise error from None
        finally:
            clock.stop()
        headers = resp.headers
        request_id = self._redactor.mask(self.adapter.request_id(headers))  # a server may echo a key
        data: Any = None
        if raw or resp.status != 204:
            content_type = headers.get("Content-Type", "")
            if not content_type.startswith(_MEDIA_TYPES):
                try:
                    data = decode_json(raw)
                except ValueError:
                    raise ResponseParsingError(
                        f"{self.name} answered status {resp.status} with a body that is not JSON "
                        f"({len(raw)} bytes, content type {content_type or 'unknown'!r})",
                        endpoint=self.name,
                        status=resp.status,
                        request_id=request_id,
                    ) from None
                if self._body_errors is not None:
                    self._raise_body_error(data, resp, request_id)
        # (positional: status, headers, body, data, endpoint, request_id, latency, ttfb)
        return WireResponse(
            resp.status, headers, raw, data, self.name, request_id, time.perf_counter() - started, ttfb
        )

    def _raise_body_error(self, data: Any, resp: aiohttp.ClientResponse, request_id: str | None) -> None:
        """Raise the error a 2xx body reports, if the adapter finds one (see BodyErrorDetector)."""
        assert self._body_errors is not None
        error = self._body_errors.error_in_body(data, resp.headers, self.name)
        if error is not None:
            self.redact(error)
            error.fill(endpoint=self.name, status=resp.status, request_id=request_id)
            logger.debug("%s answered %d with an error in its body", self.name, resp.status)
            raise error

    async def open_stream(
        self, request: WireRequest, body: bytes, ctx: RequestContext | None, timeout: float | None
    ) -> OpenStream:
        """One streamed attempt: returns once a 2xx status and headers arrived."""
        resp, ttfb = await self._start(request, body, ctx, timeout)
        try:
            decoder = self.adapter.decoder(request.operation)
        except BaseException:
            resp.close()
            self._live.discard(resp)
            raise
        return OpenStream(
            resp,
            decoder,
            self.name,
            self._redactor.mask(self.adapter.request_id(resp.headers)),  # a server may echo a key
            ttfb,
            max_event_bytes=self.endpoint.max_event_bytes,
            redactor=self._redactor,
            live=self._live,
        )

    def _arrived_whole(self, resp: aiohttp.ClientResponse) -> bool:
        """Did a plain body of known length, within ``max_response_bytes``, arrive with the
        headers? (Then it is taken in one go: nothing to wait for, nothing to inflate.)"""
        length = resp.content_length
        return (
            length is not None
            and length <= self.endpoint.max_response_bytes
            and resp.content.is_eof()
            and "Content-Encoding" not in resp.headers
        )

    async def _read_body(self, resp: aiohttp.ClientResponse, before_wait: Callable[[], None]) -> bytes:
        """The whole (decompressed) body, or :class:`ResponseTooLargeError` past the endpoint's
        ``max_response_bytes``. A plain body of known length that came with the headers is taken
        in one go; any other is read up to the cap (a small gzip body can inflate without bound),
        calling ``before_wait`` before each wait for more of it (the read timeout moves on)."""
        cap = self.endpoint.max_response_bytes
        length = resp.content_length
        if length is None or length <= cap:
            if self._arrived_whole(resp):
                return await resp.read()
            raw = await _read_capped(resp, cap + 1, before_wait)
            if len(raw) <= cap:
                return raw
        resp.close()  # do not drain the rest into the pool
        raise ResponseTooLargeError(
            f"{self.name} answered a body larger than max_response_bytes ({cap:,} bytes)",
            endpoint=self.name,
            status=resp.status,
            request_id=self.adapter.request_id(resp.headers),
            hint="raise max_response_bytes on the endpoint if such answers are expected",
        )


class OpenStream:
    """One streamed HTTP response. Iterate :meth:`events`; always :meth:`aclose` (idempotent)."""

    __slots__ = (
        "_decoder",
        "_eof",
        "_live",
        "_max_event",
        "_redactor",
        "_resp",
        "endpoint",
        "request_id",
        "status",
        "ttfb",
    )

    def __init__(
        self,
        resp: aiohttp.ClientResponse,
        decoder: StreamDecoder,
        endpoint: str,
        request_id: str | None,
        ttfb: float,
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        live: set[aiohttp.ClientResponse] | None = None,
        redactor: SecretRedactor | None = None,
    ) -> None:
        self._resp = resp
        self._redactor = redactor  # the connector's: masks its secrets in a transport error's cause
        self._live = live  # the connector's set of responses in flight (left on aclose)
        self._decoder = decoder
        self._eof = False
        self._max_event = max_event_bytes
        self.endpoint = endpoint
        self.request_id = request_id
        self.ttfb = ttfb
        self.status = resp.status

    @property
    def headers(self) -> Any:
        """The response headers (a case-insensitive multidict)."""
        return self._resp.headers

    async def event_batches(self) -> AsyncIterator[list[WireEvent]]:
        """The decoded events, one list per received chunk (fewer async hops than :meth:`events`).

        Transport failures mid-stream raise typed errors; a gap longer than the read timeout
        raises :class:`~core.llms.interfaces.errors.RequestTimeoutError`; an event larger than
        ``max_event_bytes``, or more than that received without completing an event, raises
        :class:`~core.llms.interfaces.errors.ResponseTooLargeError` (so the decoder never buffers
        more than the cap plus one received chunk).
        """
        decoder = self._decoder
        limit = self._max_event
        carry = 0  # size of the last chunk that completed events: its tail may begin the next one
        pending = 0  # bytes received since then without completing an event
        try:
            async for chunk in self._resp.content.iter_any():
                batch = decoder.feed(chunk)
                if batch:
                    if carry + pending + len(chunk) > limit:  # only then can an event be too large
                        self._check_events(batch)
                    carry, pending = len(chunk), 0
                    yield batch
                else:
                    pending += len(chunk)
                    if pending > limit:
                        raise self._event_too_large()
            self._eof = True
        except _TRANSPORT_ERRORS as exc:
            mask = self._redactor.mask if self._redactor is not None else None
            raise map_transport_error(exc, self.endpoint) from sanitized_cause(exc, mask)
        final = decoder.close()
        if final:
            if carry + pending > limit:
                self._check_events(final)
            yield final

    def _check_events(self, batch: list[WireEvent]) -> None:
        limit = self._max_event
        for event in batch:
            size = len(event.data)
            if size > limit or (4 * size > limit and len(event.data.encode("utf-8", "replace")) > limit):
                raise self._event_too_large()

    def _event_too_large(self) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"a stream event from {self.endpoint} is larger than max_event_bytes ({self._max_event:,} bytes)",
            endpoint=self.endpoint,
            status=self.status,
            request_id=self.request_id,
            hint="raise max_event_bytes on the endpoint if such events are expected",
        )

    async def events(self) -> AsyncIterator[WireEvent]:
        """The decoded events one by one."""
        async for batch in self.event_batches():
            for event in batch:
                yield event

    async def aclose(self) -> None:
        """Release the connection: back to the pool if the body was read to the end, else closed."""
        if self._eof:
            self._resp.release()
        else:
            self._resp.close()
        if self._live is not None:
            self._live.discard(self._resp)

    async def __aenter__(self) -> OpenStream:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _being_cancelled() -> bool:
    """Is the current task being cancelled (as opposed to a future it awaited)?"""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _close_session_now(session: aiohttp.ClientSession) -> None:
    """Close a session's connections without awaiting (a finalizer cannot await), so that aiohttp
    does not warn about the session and its connector on top of the owner's one warning."""
    connector = session.connector
    session.detach()
    close = getattr(connector, "_close", None)  # the synchronous part of ``await connector.close()``
    if close is None:
        return
    try:
        close()
    except Exception:  # a finalizer must not raise (the event loop may be gone)
        logger.debug("closing the connections of an unclosed session failed", exc_info=True)


async def _read_capped(
    resp: aiohttp.ClientResponse, cap: int, before_wait: Callable[[], None] | None = None
) -> bytes:
    """Read at most ``cap`` bytes of the body (an error body can be arbitrarily large), calling
    ``before_wait`` (if given) before each wait for data."""
    parts: list[bytes] = []
    size = 0
    content = resp.content
    while size < cap:
        if before_wait is not None and not content.is_eof():
            before_wait()
        part = await content.read(cap - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _trace_parent(ctx: RequestContext | None) -> str | None:
    """The W3C ``traceparent`` to send: the one a tracing observer chose for the running call
    (its span), else the caller's ``ctx.trace_parent``, else None."""
    call = CURRENT_CALL.get()
    if call is not None and call.trace_parent is not None:
        return call.trace_parent
    return ctx.trace_parent if ctx is not None else None


def server_of(url: str) -> tuple[str | None, int | None]:
    """The host and port of ``url`` (the scheme's default port when none is written); never
    raises, never returns user info or a query."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None, None
    if port is None:
        port = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.hostname, port
