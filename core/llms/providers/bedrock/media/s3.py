"""Amazon S3, as far as Bedrock's media output needs it: an ``s3://`` URI, the HTTPS URL of its
object, and one signed ``GET`` of it.

:func:`object_url` turns a location into ``(base, path)``: path-style
``{s3_endpoint}/{bucket}/{key}`` when the endpoint's :class:`BedrockSettings` give an
``s3_endpoint`` (a gateway, a local S3, the simulator); else virtual-hosted
``https://{bucket}.s3.{region}.amazonaws.com/{key}`` (``amazonaws.com.cn`` in the China regions),
or path-style ``https://s3.{region}.amazonaws.com/{bucket}/{key}`` for a bucket with dots in its
name (its name would not match the wildcard TLS certificate).

:func:`fetch_object` sends the ``GET`` (with ``response-content-type``, so that S3 labels the
bytes as the media they are whatever type the object was stored with) through a
:class:`Connector` of its own (closed after the download) made from the Bedrock endpoint the job
ran on: the same TLS settings, proxy, timeouts and ``max_response_bytes`` cap, the model's retry
policy, and an adapter
(:class:`S3Adapter`) that signs the request and maps S3's XML errors into the error tree
(``AccessDenied`` -> :class:`PermissionDeniedError`, ``NoSuchKey`` / ``NoSuchBucket`` ->
:class:`NotFoundError`, a rejected signature or unknown key -> :class:`AuthenticationError`,
``SlowDown`` / 5xx retried). How it is signed follows how the endpoint calls Bedrock:

* AWS credentials (explicit keys, a profile, the default chain, assumed roles): SigV4 for the
  ``s3`` service in the endpoint's region, with the same credentials;
* a Bedrock API key (bearer token) only: S3 does not take it. With an ``s3_endpoint`` (a host the
  caller chose) the token is sent to it as ``Authorization: Bearer``; against AWS, the default
  AWS credential chain is tried for SigV4, and without credentials the download is refused
  (before the job is started: :func:`check_fetchable`) with a hint to pass ``download=False``.

:class:`S3Client` sends the other requests a Bedrock feature needs (batch inference: ``PUT`` of
the input, ``ListObjectsV2`` and ``GET`` of the outputs), signed the same way, through connectors
of its own, reading bodies as raw bytes (a ``PUT`` answers an empty body, a listing XML).

No credential appears in an error, a repr or a log line: errors name the bucket's endpoint and
S3's error code, and pass through the connector's redaction (the signed headers are masked).
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from ....interfaces.context import RequestContext
from ....interfaces.endpoint import EndpointConfig, Secret
from ....interfaces.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    ResponseParsingError,
    ResponseTooLargeError,
)
from ....interfaces.llm_interfaces import StreamDecoder, WireEvent, WireRequest
from ...base.auth import resolve_bearer_token
from ...base.connector import Connector
from ...base.failover import FailoverConnector
from ...base.http_errors import error_for_status, parse_retry_after
from ...base.raw_stream import RawBytesDecoder
from ...base.redact import cut
from ..adapter import BedrockAdapter
from ..credentials import AwsCredentialProvider, CredentialSpec, FrozenCredentials
from ..settings import BedrockSettings
from ..signing import SIGNED_HEADERS, wire_url

if TYPE_CHECKING:
    from ...base.implementation import BaseLLM

__all__ = [
    "RawBody",
    "S3Adapter",
    "S3Client",
    "S3Location",
    "check_fetchable",
    "fetch_object",
    "object_url",
    "parse_s3_uri",
]

#: ``s3://bucket[/key]`` (the bucket as Bedrock's ``S3Uri`` pattern allows it).
_S3_URI = re.compile(r"s3://([a-z0-9][.\-a-z0-9]{1,61}[a-z0-9])(?:/(.*))?", re.DOTALL)
_MAX_KEY = 1024
#: the SigV4 service name of S3.
SIGNING_NAME = "s3"
_AUTH_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket"})
_XML_FIELD = re.compile(r"<(Code|Message|Region|Endpoint)>([^<]{0,500})</\1>")
#: an S3 adapter's hints by purpose: (object not found, access denied, the bucket (region)).
_HINTS: dict[str, tuple[str, str, str]] = {
    "video": (
        "the video is not where the job said it would be (deleted, or another bucket?)",
        "the credentials need s3:GetObject on the output bucket (and kms:Decrypt if it is encrypted with a "
        "KMS key); or pass download=False to get the video's s3:// URI",
        "the output bucket",
    ),
    "batch": (
        "the object is not there (deleted, another bucket, or a job that wrote no output?)",
        "the credentials need s3:PutObject on the input location and s3:GetObject / s3:ListBucket on the "
        "output location (and kms:Encrypt / kms:Decrypt for a KMS-encrypted bucket)",
        "the batch's buckets",
    ),
}


@dataclass(frozen=True, slots=True)
class S3Location:
    """An object (or a folder) in S3: its bucket and key (no leading ``/``; may be empty)."""

    bucket: str
    key: str = ""

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"

    def child(self, name: str) -> S3Location:
        """The location ``name`` inside this one (a folder)."""
        folder = self.key.rstrip("/")
        return S3Location(self.bucket, f"{folder}/{name}" if folder else name)


def parse_s3_uri(value: Any, *, what: str = "the S3 URI") -> S3Location:
    """``s3://bucket[/key]`` as an :class:`S3Location`; :class:`InvalidInputError` naming
    ``what`` otherwise (the value is not quoted beyond its scheme)."""
    match = _S3_URI.fullmatch(value) if isinstance(value, str) else None
    key = (match.group(2) or "") if match is not None else ""
    if (
        match is None
        or ".." in match.group(1)
        or len(key) > _MAX_KEY
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in key)
    ):
        given = (
            f"a {type(value).__name__}" if not isinstance(value, str) else "not an s3://bucket[/prefix] URI"
        )
        raise InvalidInputError(
            f"{what} is {given}",
            hint="e.g. output_s3_uri='s3://my-bucket/videos' (a bucket name of 3-63 lower-case letters, "
            "digits, dots and hyphens)",
        )
    return S3Location(match.group(1), key)


def _domain(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def object_url(location: S3Location, *, region: str, s3_endpoint: str | None = None) -> tuple[str, str]:
    """``(base, path)`` of the object's HTTPS URL (see the module docstring); ``path`` is the
    key, percent-encoded as S3 signs it (``/`` kept)."""
    path = "/" + quote(location.key, safe="/~")
    if s3_endpoint:
        return f"{s3_endpoint.rstrip('/')}/{location.bucket}", path
    domain = _domain(region)
    if "." in location.bucket:
        return f"https://s3.{region}.{domain}/{location.bucket}", path
    return f"https://{location.bucket}.s3.{region}.{domain}", path


# -- signing ------------------------------------------------------------------------------------

#: adds the headers that authenticate one request: (method, url, headers, body) -> headers.
Authenticate = Callable[[str, str, Mapping[str, str], bytes], Awaitable[Mapping[str, str]]]


class S3Adapter:
    """The adapter of one S3 download: the URL is the endpoint's (the object's base URL), the
    request is authenticated by ``authenticate`` (SigV4 for ``s3``, or a bearer token), S3's
    errors are mapped into the error tree. Implements ``ProviderAdapter`` and ``RequestSigner``."""

    provider = "bedrock"

    def __init__(self, authenticate: Authenticate, *, purpose: str = "video") -> None:
        self._authenticate = authenticate
        self._hints = _HINTS.get(purpose, _HINTS["video"])

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        return endpoint.endpoint

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        return {}

    async def sign_request(
        self, endpoint: EndpointConfig, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Mapping[str, str]:
        return await self._authenticate(method, url, headers, body)

    def decoder(self, operation: str) -> StreamDecoder:
        """Raw bytes (:class:`S3Client` reads bodies that are not JSON through the stream path)."""
        return RawBytesDecoder()

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        value = headers.get("x-amz-request-id")
        return value if isinstance(value, str) and value.isalnum() and len(value) <= 64 else None

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        fields = dict(_XML_FIELD.findall(body[:8192].decode("utf-8", "replace")))
        code = fields.get("Code")
        code = code if code is not None and code.isalnum() and len(code) <= 64 else None
        message = " ".join(fields.get("Message", "").split())
        text = (
            f"S3 answered status {status}"
            + (f" ({code})" if code else "")
            + (f": {cut(message, 300)}" if message else "")
        )
        where: dict[str, Any] = {"endpoint": endpoint, "code": code, "request_id": self.request_id(headers)}
        if code in _AUTH_CODES:
            return AuthenticationError(
                text,
                status=status,
                hint="the AWS credentials were refused by S3 (expired, or for another account?)",
                **where,
            )
        if code in _NOT_FOUND_CODES or status == 404:
            return NotFoundError(
                text,
                status=status,
                hint=self._hints[0],
                **where,
            )
        if status == 403:
            return PermissionDeniedError(
                text,
                status=status,
                hint=self._hints[1],
                **where,
            )
        region = fields.get("Region")
        if status in (301, 307) or (status == 400 and region):
            known = region if region is not None and re.fullmatch(r"[a-z0-9-]{1,32}", region) else None
            error = error_for_status(
                400,
                text,
                hint=f"the bucket is in {known or 'another region'}: {self._hints[2]} must be in the "
                "endpoint's region",
                **where,
            )
            error.status = status
            return error
        retry_after = parse_retry_after(headers)
        error = error_for_status(
            503 if code == "SlowDown" else status, text, retry_after=retry_after, **where
        )
        error.status = status
        return error


def _bedrock_settings(endpoint: EndpointConfig) -> BedrockSettings:
    settings = endpoint.settings
    if not isinstance(settings, BedrockSettings):
        raise ConfigurationError(
            f"the endpoint {endpoint.display_name} has no Bedrock settings (region): cannot reach its S3",
            endpoint=endpoint.display_name,
            hint="pass download=False to get the video's s3:// URI",
        )
    return settings


def _bearer_mode(endpoint: EndpointConfig, adapter: Any, settings: BedrockSettings) -> bool:
    """Does the endpoint call Bedrock with an API key (bearer token) rather than SigV4?"""
    if isinstance(adapter, BedrockAdapter):
        return adapter.auth_mode(endpoint) == "bearer"
    if settings.uses_sigv4_keys:
        return False
    return bool(
        endpoint.token_provider is not None or settings.bedrock_api_key or endpoint.api_key is not None
    )


def _credentials(endpoint: EndpointConfig, adapter: Any, settings: BedrockSettings) -> AwsCredentialProvider:
    """The credential provider of the endpoint's identity: the adapter's (shared, cached) when it
    is Bedrock's, else one of its own. For an endpoint in bearer mode: the identity its settings
    describe without the API key (a profile, or the default chain)."""
    if isinstance(adapter, BedrockAdapter):
        return adapter.credentials_for(endpoint)
    return AwsCredentialProvider(CredentialSpec.from_settings(settings))


def _sign_s3(
    credentials: FrozenCredentials,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    region: str,
) -> dict[str, str]:
    """S3's SigV4 headers (botocore's ``S3SigV4Auth``: the path as it is, not encoded again, and
    ``X-Amz-Content-SHA256``) over the URL as aiohttp sends it."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    base, _, query = wire_url(url).partition("?")
    request: Any = AWSRequest(method=method.upper(), url=base, data=body or b"", headers=dict(headers))
    if query:  # as parameters: botocore encodes the canonical query as S3 does (yarl decodes "%2F")
        request.params = [
            (unquote(name), unquote(value))
            for name, _, value in (item.partition("=") for item in query.split("&") if item)
        ]
    S3SigV4Auth(credentials, SIGNING_NAME, region).add_auth(request)
    signed = request.headers
    return {name: str(signed[name]) for name in SIGNED_HEADERS if signed.get(name) is not None}


def _authentication(endpoint: EndpointConfig, adapter: Any) -> Authenticate:
    """How the S3 GET of an object written for ``endpoint`` is authenticated (module docstring)."""
    settings = _bedrock_settings(endpoint)
    if _bearer_mode(endpoint, adapter, settings) and settings.s3_endpoint:

        async def bearer(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Mapping[str, str]:
            if isinstance(adapter, BedrockAdapter):
                return await adapter.auth_headers(endpoint)
            token = settings.bedrock_api_key
            if isinstance(token, Secret):
                return {"Authorization": f"Bearer {token.get_secret_value()}"}
            value = await resolve_bearer_token(endpoint)
            return {"Authorization": f"Bearer {value}"} if value else {}

        return bearer
    provider = _credentials(endpoint, adapter, settings)
    region = settings.region

    async def sigv4(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Mapping[str, str]:
        try:
            credentials = await provider()
        except LLMError as exc:
            if _bearer_mode(endpoint, adapter, settings):
                exc.hint = (
                    "downloading from S3 needs AWS credentials (S3 does not take a Bedrock API key): "
                    f"{exc.hint or 'set them up'}; or pass download=False to get the video's s3:// URI"
                )
            raise
        return _sign_s3(credentials, method, url, headers, body, region)

    return sigv4


def _connector_of(model: BaseLLM, name: str | None) -> Connector:
    """The model's connector of endpoint ``name`` (None: the primary)."""
    connector = model._connector
    if isinstance(connector, FailoverConnector):
        for conn in connector.connectors:
            if name is None or conn.name == name:
                return conn
    raise ConfigurationError(
        f"cannot download the video: the model's connector has no endpoint named {name!r}"
        if name is not None
        else "cannot download the video: the model's connector has no endpoint configuration",
        hint="pass download=False to get the video's s3:// URI",
    )


async def check_fetchable(model: BaseLLM) -> None:
    """Refuse, before a job is started, a download that could not be made from the primary
    endpoint: no Bedrock settings, or no AWS credentials to sign it (resolved now, and kept)."""
    conn = _connector_of(model, None)
    settings = _bedrock_settings(conn.endpoint)
    if _bearer_mode(conn.endpoint, conn.adapter, settings) and settings.s3_endpoint:
        return
    provider = _credentials(conn.endpoint, conn.adapter, settings)
    try:
        await provider()
    except LLMError as exc:
        if _bearer_mode(conn.endpoint, conn.adapter, settings):
            exc.hint = (
                "downloading the video from S3 needs AWS credentials (S3 does not take a Bedrock API "
                f"key): {exc.hint or 'set them up'}; or pass download=False to get its s3:// URI"
            )
        raise


async def fetch_object(
    model: BaseLLM,
    endpoint_name: str,
    location: S3Location,
    *,
    ctx: RequestContext | None,
    total_timeout: float | None,
    read_timeout: float | None,
    media_type: str = "video/mp4",
) -> tuple[bytes, str]:
    """``GET`` the object at ``location`` with the credentials (and transport settings) of the
    model's endpoint ``endpoint_name``: its bytes and media type. S3 is asked to answer with
    ``media_type`` (``response-content-type``) whatever type the object was stored with (S3's
    default ``binary/octet-stream`` would be read as JSON)."""
    conn = _connector_of(model, endpoint_name)
    endpoint = conn.endpoint
    settings = _bedrock_settings(endpoint)
    base, path = object_url(
        location, region=settings.region, s3_endpoint=getattr(settings, "s3_endpoint", None)
    )
    config = endpoint.replace(endpoint=base, name=None, headers={}, model_id=None)
    adapter = S3Adapter(_authentication(endpoint, conn.adapter))
    policy = model._connector.policy if isinstance(model._connector, FailoverConnector) else None
    async with FailoverConnector([Connector(config, adapter)], policy) as s3:
        request = WireRequest(
            "s3_object",
            {},
            method="GET",
            path=f"{path}?response-content-type={quote(media_type, safe='')}",
            read_timeout=read_timeout,
            total_timeout=total_timeout,
        )
        wire = await s3.send(request, ctx)
    content_type = (wire.headers.get("Content-Type", "") if wire.headers is not None else "").split(";")[0]
    if wire.data is not None or not wire.body:
        what = "JSON" if wire.data is not None else "an empty body"
        raise ResponseParsingError(
            f"{wire.endpoint} answered the video's download with {what}, not a video",
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )
    kind = content_type.strip().lower()
    return wire.body, kind if kind.partition("/")[0] == media_type.partition("/")[0] else media_type


# -- requests of other kinds: PUT, ListObjectsV2, GET of any object ----------------------------------

_LIST_KEY = re.compile(r"<Key>([^<]{1,4096})</Key>")
_LIST_TRUNCATED = re.compile(r"<IsTruncated>\s*true\s*</IsTruncated>")
_LIST_TOKEN = re.compile(r"<NextContinuationToken>([^<]{1,4096})</NextContinuationToken>")
#: ListObjectsV2 pages read at most (1,000 keys each).
_MAX_LIST_PAGES = 1000


class RawBody:
    """A request body of raw bytes for a :class:`WireRequest` (its ``form``: the connector sends
    ``encode()`` with ``Content-Type: content_type``), e.g. the JSONL of an S3 ``PUT``."""

    __slots__ = ("content_type", "data")

    def __init__(self, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.data = data
        self.content_type = content_type

    def encode(self, model: str | None = None) -> bytes:
        return self.data

    def __repr__(self) -> str:
        return f"RawBody({len(self.data)} bytes, {self.content_type})"


class _Collect:
    """The stream parser of one S3 answer: its bytes, whole, as one item at the end (so a
    failure while reading it is retried like any failed attempt), at most ``cap`` bytes."""

    __slots__ = ("_cap", "_parts", "_size", "endpoint", "request_id")

    def __init__(self, endpoint: str, request_id: str | None, cap: int) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._cap = cap
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, event: WireEvent) -> list[bytes]:
        piece = event.raw or b""
        self._size += len(piece)
        if self._size > self._cap:
            raise ResponseTooLargeError(
                f"{self.endpoint} answered more than {self._cap:,} bytes",
                endpoint=self.endpoint,
                request_id=self.request_id,
                hint="raise max_response_bytes on the endpoint if such objects are expected",
            )
        self._parts.append(piece)
        return []

    def close(self) -> list[bytes]:
        return [b"".join(self._parts)]


class S3Client:
    """Signed S3 requests made for a Bedrock model (``PUT`` an object, ``GET`` one, list the keys
    under a prefix with ``ListObjectsV2``), signed as :func:`fetch_object` signs its ``GET`` (see
    the module docstring) with the credentials and transport settings (TLS, proxy, timeouts,
    retry policy) of the model's endpoint ``endpoint_name`` (None: the primary). Bodies are read
    as raw bytes (S3 answers a ``PUT`` with an empty body and a listing with XML), at most the
    endpoint's ``max_response_bytes``. ``purpose`` picks the errors' hints (``"batch"``,
    ``"video"``). One connector per bucket host, closed by :meth:`aclose`."""

    def __init__(self, model: BaseLLM, endpoint_name: str | None = None, *, purpose: str = "batch") -> None:
        conn = _connector_of(model, endpoint_name)
        self._endpoint = conn.endpoint
        self._settings = _bedrock_settings(conn.endpoint)
        self._adapter = S3Adapter(_authentication(conn.endpoint, conn.adapter), purpose=purpose)
        self._policy = model._connector.policy if isinstance(model._connector, FailoverConnector) else None
        self._connectors: dict[str, FailoverConnector] = {}

    def __repr__(self) -> str:
        return f"S3Client({self._endpoint.display_name!r})"

    def _connector(self, base: str) -> FailoverConnector:
        connector = self._connectors.get(base)
        if connector is None:
            config = self._endpoint.replace(endpoint=base, name=None, headers={}, model_id=None)
            connector = FailoverConnector([Connector(config, self._adapter)], self._policy)
            self._connectors[base] = connector
        return connector

    def _where(self, location: S3Location) -> tuple[str, str]:
        return object_url(location, region=self._settings.region, s3_endpoint=self._settings.s3_endpoint)

    async def _exchange(
        self, base: str, path: str, method: str, ctx: RequestContext | None, body: RawBody | None = None
    ) -> bytes:
        request = WireRequest("s3_object", {}, stream=True, method=method, path=path, form=body)
        cap = self._endpoint.max_response_bytes
        received: list[bytes] = []
        async for piece in self._connector(base).stream(
            request, lambda endpoint, request_id: _Collect(endpoint, request_id, cap), ctx
        ):
            received.append(piece)
        return b"".join(received)

    async def put_object(
        self,
        location: S3Location,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        ctx: RequestContext | None = None,
    ) -> None:
        """``PUT`` ``data`` as the object at ``location`` (replacing any object there)."""
        if not location.key or location.key.endswith("/"):
            raise InvalidInputError(f"{location.uri} names a folder, not an object")
        base, path = self._where(location)
        await self._exchange(base, path, "PUT", ctx, RawBody(data, content_type))

    async def get_object(self, location: S3Location, *, ctx: RequestContext | None = None) -> bytes:
        """The bytes of the object at ``location``."""
        base, path = self._where(location)
        return await self._exchange(base, path, "GET", ctx)

    async def list_keys(self, location: S3Location, *, ctx: RequestContext | None = None) -> list[str]:
        """The keys of the objects whose key starts with ``location.key`` (every page of the
        listing), in S3's order."""
        base, _ = self._where(S3Location(location.bucket))
        root = "" if base.endswith(f"/{location.bucket}") else "/"  # path-style: /bucket?list-type=2
        keys: list[str] = []
        token: str | None = None
        for _ in range(_MAX_LIST_PAGES):
            query = f"list-type=2&prefix={quote(location.key, safe='')}"
            if token is not None:
                query += f"&continuation-token={quote(token, safe='')}"
            text = (await self._exchange(base, f"{root}?{query}", "GET", ctx)).decode("utf-8", "replace")
            if "<ListBucketResult" not in text:
                raise ResponseParsingError(
                    f"S3 answered the listing of {location.uri} with no ListBucketResult"
                )
            keys.extend(html.unescape(key) for key in _LIST_KEY.findall(text))
            if _LIST_TRUNCATED.search(text) is None:
                return keys
            found = _LIST_TOKEN.search(text)
            if found is None:
                raise ResponseParsingError(
                    f"S3's listing of {location.uri} is truncated but has no NextContinuationToken"
                )
            token = html.unescape(found.group(1))
        raise ResponseParsingError(f"S3's listing of {location.uri} has more than {_MAX_LIST_PAGES} pages")

    async def aclose(self) -> None:
        """Close the connectors (idempotent)."""
        connectors, self._connectors = list(self._connectors.values()), {}
        for connector in connectors:
            await connector.aclose()
