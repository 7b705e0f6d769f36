"""Endpoint settings and the per-provider adapter protocol (auth + URL rules + error mapping)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ...interfaces.errors import ConfigurationError, LLMError
from ...interfaces.llm_interfaces import StreamDecoder

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "EndpointConfig",
    "ProviderAdapter",
    "Timeouts",
    "TokenProvider",
    "endpoint_name",
]

#: An async or sync callable returning a bearer token (e.g. Azure Entra ID).
TokenProvider = Callable[[], "str | Awaitable[str]"]

#: default cap of a non-streamed response body (64 MiB).
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: default cap of one stream event / line (16 MiB).
DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024


class Timeouts(BaseModel):
    """Seconds. ``read`` is the longest gap between two received bytes (a stalled stream)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    connect: float = Field(10.0, gt=0)
    read: float = Field(60.0, gt=0)
    total: float = Field(600.0, gt=0)


class EndpointConfig(BaseModel):
    """One endpoint of one provider. Backups are partial copies of this that inherit every field
    they do not set (see :meth:`derive`).

    ``endpoint`` is the base URL (e.g. ``https://myres.openai.azure.com`` or
    ``https://api.openai.com/v1``). Provider-specific fields are optional here and checked by the
    provider's adapter (e.g. Azure requires ``deployment_name`` and ``api_version``).

    Secrets stay out of sight: ``api_key`` is a ``SecretStr``, ``headers`` and ``token_provider``
    are left out of the repr, the repr shows ``endpoint`` and ``proxy`` without user info or query
    string, and validation errors never quote the rejected input.

    Transport safety: ``verify_tls`` is on by default (``ca_bundle`` adds a private CA);
    ``proxy`` routes the endpoint's traffic through an HTTP(S) proxy (enterprise egress);
    ``max_response_bytes`` caps a non-streamed body and ``max_event_bytes`` one stream event or
    line (exceeding either raises :class:`~core.llms.interfaces.errors.ResponseTooLargeError`).
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True
    )

    endpoint: str
    api_key: SecretStr | None = None
    #: a callable producing a bearer token (Azure Entra ID, OAuth); used instead of ``api_key``.
    token_provider: TokenProvider | None = Field(default=None, repr=False)
    deployment_name: str | None = None
    api_version: str | None = None
    organization: str | None = None
    #: a human-readable name for logs and ``response.endpoint``; defaults to the URL sans query.
    name: str | None = None
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    timeouts: Timeouts = Timeouts()
    #: TLS: verify certificates (default) and optionally trust a custom CA bundle file.
    verify_tls: bool = True
    ca_bundle: str | None = None
    #: an ``http://`` or ``https://`` proxy URL (credentials may go in its user info).
    proxy: str | None = None
    #: connection pool size for this endpoint's session.
    max_connections: int = Field(100, ge=1)
    #: the largest non-streamed response body read, in bytes.
    max_response_bytes: int = Field(DEFAULT_MAX_RESPONSE_BYTES, ge=1)
    #: the largest single stream event (SSE event, NDJSON line), in bytes.
    max_event_bytes: int = Field(DEFAULT_MAX_EVENT_BYTES, ge=1)

    @field_validator("endpoint")
    @classmethod
    def _check_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc or not _valid_host(v):
            # The value itself is not echoed: a misplaced secret must not reach an error message.
            raise ValueError("endpoint must be an http(s) URL with a host, e.g. https://api.openai.com/v1")
        return v.rstrip("/")

    @field_validator("proxy")
    @classmethod
    def _check_proxy(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not _valid_host(v):
            raise ValueError("proxy must be an http(s) URL with a host, e.g. http://proxy.corp:3128")
        return v

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # URLs are shown without user info or query string (either may carry a credential).
        for name, value in super().__repr_args__():
            if name in ("endpoint", "proxy") and isinstance(value, str):
                value = endpoint_name(value)
            yield name, value

    @property
    def display_name(self) -> str:
        """Name used in errors, logs and ``response.endpoint``: never contains secrets."""
        return self.name or endpoint_name(self.endpoint)

    def derive(self, overrides: Mapping[str, Any]) -> EndpointConfig:
        """A backup endpoint: this one with ``overrides`` applied (every other field inherited)."""
        unknown = set(overrides) - set(type(self).model_fields)
        if unknown:
            raise ConfigurationError(
                f"unknown backup endpoint field(s) {sorted(unknown)}",
                hint=f"allowed: {sorted(type(self).model_fields)}",
            )
        data = {k: getattr(self, k) for k in type(self).model_fields}
        if "endpoint" in overrides and "name" not in overrides:
            data["name"] = None  # the inherited name would mislabel the backup
        data.update(overrides)
        try:
            return EndpointConfig(**data)
        except ValidationError as exc:
            # Never echo the rejected values: a misplaced secret would end up in the message.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                for err in exc.errors(include_input=False, include_url=False)
            )
            raise ConfigurationError(f"invalid backup endpoint: {problems}") from None


def endpoint_name(url: str) -> str:
    """``scheme://host[:port]/path`` of a URL: query strings and user info are dropped. Never
    raises (a URL whose port cannot be read is shown without it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # its text may hold a misplaced secret: not quoted
        port = None
    if port:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


def _valid_host(url: str) -> bool:
    """Has ``url`` a host name and a readable port (if any)? (A password with a ``/`` in the
    user info makes the rest of it parse as a path and the password as the port.)"""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return bool(parts.hostname)


class ProviderAdapter(Protocol):
    """Auth, URL and error rules of one provider. One instance serves all its endpoints."""

    provider: str

    def url(self, endpoint: EndpointConfig, operation: str) -> str:
        """The full URL of ``operation`` (``"chat"``, ``"embeddings"`` …) on ``endpoint``."""
        ...

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        """Headers carrying credentials (and any fixed headers) for ``endpoint``."""
        ...

    def decoder(self, operation: str) -> StreamDecoder:
        """A fresh stream decoder for a streamed ``operation`` (SSE for most providers)."""
        ...

    def map_error(
        self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str
    ) -> LLMError:
        """Translate an HTTP error response into the error tree (the one place per provider)."""
        ...

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        """The provider's request id from response headers, if any."""
        ...
