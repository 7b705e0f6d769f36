"""Endpoint settings: what every endpoint of every provider has.

:class:`EndpointConfig` and :class:`Timeouts` are frozen, slotted, keyword-only dataclasses (not
pydantic models, which would put pydantic's import on every ``create_llm``). They check their
fields when built and raise :class:`ConfigurationError` naming the field, never quoting a value.

A provider's own endpoint fields (Azure's deployment and API version, OpenAI's organization,
Bedrock's region, Vertex's project …) are not here: they live in the provider's typed settings
class (a frozen dataclass named by its :class:`~core.llms.interfaces.provider.ProviderProfile`),
whose instance is :attr:`EndpointConfig.settings`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit

from . import _fields as checks
from .errors import ConfigurationError

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "ENDPOINT_FIELDS",
    "EndpointConfig",
    "Secret",
    "Timeouts",
    "TokenProvider",
    "endpoint_name",
    "join_url",
]

#: An async or sync callable returning a bearer token (e.g. Azure Entra ID). An endpoint's
#: ``token_provider`` may also be a credential object with ``get_token(*scopes)`` (azure-identity's),
#: for the providers whose adapter knows the scope (Azure OpenAI).
TokenProvider = Callable[[], "str | Awaitable[str]"]

#: default cap of a non-streamed response body (64 MiB).
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: default cap of one stream event / line (16 MiB).
DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024


class Secret:
    """A credential kept out of sight: ``str()`` and ``repr()`` show ``**********``; the value
    comes only from :meth:`get_secret_value` (the same method as pydantic's ``SecretStr``)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise ConfigurationError(f"a secret must be a string, not {type(value).__name__}")
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """Seconds. ``read`` is the longest gap between two received bytes (a stalled stream)."""

    connect: float = 10.0
    read: float = 60.0
    total: float = 600.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            object.__setattr__(
                self, name, checks.check_float("Timeouts", name, getattr(self, name), positive=True)
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Timeouts:
        """Build from a mapping of fields; an unknown field raises :class:`ConfigurationError`."""
        return checks.build(cls, data, "Timeouts")

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (checked like a new object)."""
        return checks.replace(self, changes, "Timeouts")


@dataclass(frozen=True, slots=True, kw_only=True, init=False, repr=False)
class EndpointConfig:
    """One endpoint of one provider. Backups are partial copies of this that inherit every field
    they do not set (see :meth:`derive`).

    ``endpoint`` is the base URL (e.g. ``https://myres.openai.azure.com`` or
    ``https://api.openai.com/v1``); a query string on it is kept and stays last when the adapter
    appends a path. ``model_id`` names the model on this endpoint when it differs from the
    catalogue's id (a fine-tune, a host's own spelling, another deployment). ``settings`` holds the
    provider's own fields (an instance of its typed settings class, e.g. ``AzureSettings``); the
    factory builds it from keywords such as ``deployment_name=``.

    Secrets stay out of sight: ``api_key`` is a :class:`Secret` (a plain string given is wrapped,
    surrounding whitespace removed: a key read from a file with its newline would otherwise be
    refused by the HTTP layer at the first call), ``headers`` and ``token_provider`` are left out
    of the repr, the repr shows ``endpoint`` and ``proxy`` without user info or query string, and
    errors name the bad field, never its value. ``timeouts`` may be given as a mapping of its
    fields. Copy with :meth:`replace` or :meth:`derive`; build from loose data with
    :meth:`from_mapping`.

    Transport safety: ``verify_tls`` is on by default (``ca_bundle`` adds a private CA);
    ``proxy`` routes the endpoint's traffic through an HTTP(S) proxy (enterprise egress);
    ``max_response_bytes`` caps a non-streamed body and ``max_event_bytes`` one stream event or
    line (exceeding either raises :class:`~core.llms.interfaces.errors.ResponseTooLargeError`).
    """

    endpoint: str
    api_key: Secret | None = None
    #: a callable producing a bearer token (Azure Entra ID, OAuth), or a credential object with
    #: ``get_token(*scopes)`` (Azure OpenAI only); used instead of ``api_key``.
    token_provider: TokenProvider | Any = field(default=None, repr=False)
    #: the model id sent to this endpoint (overrides the catalogue's id on this endpoint only).
    model_id: str | None = None
    #: the provider's own endpoint fields (its typed settings class), or None.
    settings: Any = None
    #: a human-readable name for logs and ``response.endpoint``; defaults to the URL sans query.
    name: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)
    #: TLS: verify certificates (default) and optionally trust a custom CA bundle file.
    verify_tls: bool = True
    ca_bundle: str | None = None
    #: an ``http://`` or ``https://`` proxy URL (credentials may go in its user info).
    proxy: str | None = None
    #: connection pool size for this endpoint's session.
    max_connections: int = 100
    #: the largest non-streamed response body read, in bytes.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    #: the largest single stream event (SSE event, NDJSON line), in bytes.
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES

    def __init__(
        self,
        *,
        endpoint: str,
        api_key: Secret | str | None = None,
        token_provider: TokenProvider | Any = None,
        model_id: str | None = None,
        settings: Any = None,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | Mapping[str, float] | None = None,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        proxy: str | None = None,
        max_connections: int = 100,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        **unknown: Any,
    ) -> None:
        # Written out (not the dataclass's own __init__) because api_key, headers and timeouts
        # accept more than they store: a str becomes a Secret, a mapping a Timeouts.
        owner = "EndpointConfig"
        if unknown:
            error = checks.unknown_fields_error(owner, unknown, ENDPOINT_FIELDS)
            error.hint = (
                "a provider's own fields (deployment_name, api_version, organization, region …) go in "
                "settings=<its settings object>, or pass them to create_llm(); " + (error.hint or "")
            )
            raise error
        put = object.__setattr__
        put(self, "endpoint", _check_url(endpoint))
        put(self, "api_key", _secret(api_key))
        if (
            token_provider is not None
            and not callable(token_provider)
            and not callable(getattr(token_provider, "get_token", None))
        ):
            raise ConfigurationError(
                f"{owner}.token_provider must be a callable returning a token "
                "(or a credential object with get_token)"
            )
        put(self, "token_provider", token_provider)
        for key, value in (("model_id", model_id), ("name", name), ("ca_bundle", ca_bundle)):
            put(self, key, None if value is None else checks.check_str(owner, key, value))
        if model_id is not None and not model_id.strip():
            raise ConfigurationError(f"{owner}.model_id must not be empty")
        if settings is not None and not dataclasses.is_dataclass(settings):
            raise ConfigurationError(
                f"{owner}.settings must be a provider's settings object (a dataclass), "
                f"not {type(settings).__name__}"
            )
        put(self, "settings", settings)
        put(
            self,
            "headers",
            {} if headers is None else checks.check_mapping(owner, "headers", headers, str_values=True),
        )
        put(self, "timeouts", _timeouts(timeouts))
        put(self, "verify_tls", checks.check_bool(owner, "verify_tls", verify_tls))
        put(self, "proxy", None if proxy is None else _check_proxy(proxy))
        put(self, "max_connections", checks.check_int(owner, "max_connections", max_connections, minimum=1))
        put(
            self,
            "max_response_bytes",
            checks.check_int(owner, "max_response_bytes", max_response_bytes, minimum=1),
        )
        put(self, "max_event_bytes", checks.check_int(owner, "max_event_bytes", max_event_bytes, minimum=1))

    @classmethod
    def from_mapping(cls, fields: Mapping[str, Any], *, what: str = "endpoint settings") -> EndpointConfig:
        """Build from a mapping of fields (factory, config files). An unknown or missing field,
        or a bad value, raises :class:`ConfigurationError` saying ``invalid <what>: ...``."""
        try:
            return checks.build(cls, fields, "EndpointConfig")
        except ConfigurationError as exc:
            raise ConfigurationError(f"invalid {what}: {exc.message}", hint=exc.hint) from None

    def __repr__(self) -> str:
        # URLs are shown without user info or query string (either may carry a credential).
        shown = []
        for f in _REPR_FIELDS:
            value = getattr(self, f)
            if f in ("endpoint", "proxy") and isinstance(value, str):
                value = endpoint_name(value)
            shown.append(f"{f}={value!r}")
        return f"EndpointConfig({', '.join(shown)})"

    @property
    def display_name(self) -> str:
        """Name used in errors, logs and ``response.endpoint``: never contains secrets."""
        return self.name or endpoint_name(self.endpoint)

    def replace(self, **changes: Any) -> EndpointConfig:
        """A copy with ``changes`` applied (checked like a new object)."""
        return checks.replace(self, changes, "EndpointConfig")

    def setting_names(self) -> tuple[str, ...]:
        """The provider's own field names this endpoint's :attr:`settings` has (may be empty)."""
        return checks.field_names(type(self.settings)) if self.settings is not None else ()

    def derive(self, overrides: Mapping[str, Any], *, what: str = "backup endpoint") -> EndpointConfig:
        """A backup endpoint: this one with ``overrides`` applied (every other field inherited).

        ``overrides`` may name the provider's own fields too (``deployment_name=`` …): they
        replace those of :attr:`settings`. A new ``endpoint`` without a ``name`` drops the
        inherited name (it would mislabel the backup), and an ``api_key`` without a
        ``token_provider`` drops the inherited token provider (which would be used instead of the
        backup's own key). Errors say ``invalid <what>: ...`` and never
        quote a value."""
        own = self.setting_names()
        unknown = set(overrides) - set(ENDPOINT_FIELDS) - set(own)
        if unknown:
            raise checks.unknown_fields_error("backup endpoint", unknown, sorted({*ENDPOINT_FIELDS, *own}))
        data = {k: getattr(self, k) for k in ENDPOINT_FIELDS}
        if "endpoint" in overrides and "name" not in overrides:
            data["name"] = None
        if overrides.get("api_key") is not None and "token_provider" not in overrides:
            data["token_provider"] = None  # its own key: not the token that would win over it
        setting_changes = {k: v for k, v in overrides.items() if k in own and k not in ENDPOINT_FIELDS}
        data.update((k, v) for k, v in overrides.items() if k in ENDPOINT_FIELDS)
        if setting_changes:
            try:
                data["settings"] = checks.replace(
                    data["settings"] or self.settings, setting_changes, type(self.settings).__name__
                )
            except ConfigurationError as exc:
                raise ConfigurationError(f"invalid {what}: {exc.message}", hint=exc.hint) from None
        return EndpointConfig.from_mapping(data, what=what)


#: every EndpointConfig field, in order.
ENDPOINT_FIELDS: tuple[str, ...] = checks.field_names(EndpointConfig)
_REPR_FIELDS: tuple[str, ...] = tuple(n for n in ENDPOINT_FIELDS if n not in ("token_provider", "headers"))


def _secret(value: object) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(_clean_key(value))
    getter = getattr(value, "get_secret_value", None)  # e.g. pydantic's SecretStr
    if callable(getter):
        inner = getter()
        if isinstance(inner, str):
            return Secret(_clean_key(inner))
    raise ConfigurationError(f"EndpointConfig.api_key must be a string, not {type(value).__name__}")


def _clean_key(value: str) -> str:
    """An API key without surrounding whitespace; refused when empty or when a control character
    (a newline in the middle, say) would make it an invalid header value."""
    key = value.strip()
    if not key:
        raise ConfigurationError("EndpointConfig.api_key is empty (or only whitespace)")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise ConfigurationError(
            "EndpointConfig.api_key contains a control character (a line break inside it?)",
            hint="check how the key is read: it must be one line of printable characters",
        )
    return key


def _timeouts(value: object) -> Timeouts:
    if value is None:
        return Timeouts()
    if isinstance(value, Timeouts):
        return value
    if isinstance(value, Mapping):
        try:
            return Timeouts.from_mapping(value)
        except ConfigurationError as exc:
            raise ConfigurationError(f"EndpointConfig.timeouts: {exc.message}", hint=exc.hint) from None
    raise ConfigurationError(
        f"EndpointConfig.timeouts must be a Timeouts or a mapping, not {type(value).__name__}"
    )


def _check_url(value: object) -> str:
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.netloc and _valid_host(value):
            return value.rstrip("/")
    # The value itself is not echoed: a misplaced secret must not reach an error message.
    raise ConfigurationError(
        "EndpointConfig.endpoint must be an http(s) URL with a host, e.g. https://api.openai.com/v1"
    )


def _check_proxy(value: object) -> str:
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and _valid_host(value):
            return value
    raise ConfigurationError(
        "EndpointConfig.proxy must be an http(s) URL with a host, e.g. http://proxy.corp:3128"
    )


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


def join_url(base: str, path: str) -> str:
    """``path`` appended to the path of ``base``, keeping ``base``'s query string last:
    ``join_url("https://h/v1?team=a", "/chat/completions")`` is
    ``https://h/v1/chat/completions?team=a``. ``path`` may carry a query of its own, joined with
    ``&``."""
    root, _, query = base.partition("?")
    extra = ""
    if "?" in path:
        path, _, extra = path.partition("?")
    url = root.rstrip("/") + path
    joined = "&".join(q for q in (query, extra) if q)
    return f"{url}?{joined}" if joined else url


def _valid_host(url: str) -> bool:
    """Has ``url`` a host name and a readable port (if any)? (A password with a ``/`` in the
    user info makes the rest of it parse as a path and the password as the port.)"""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return bool(parts.hostname)
