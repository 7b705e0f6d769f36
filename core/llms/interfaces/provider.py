"""The plugin-facing contracts of a provider: its adapter, its optional signer, its profile.

A provider is described in two parts:

* a **wire dialect** — how requests are written and answers read (payload, parsing, stream
  parser, finish reasons): a model base class under ``core/llms/providers/dialects/``, shared by
  every provider that speaks that wire;
* a **provider profile** (:class:`ProviderProfile`) — data: its name, the dialect's model class,
  an adapter (:class:`ProviderAdapter`: URL, auth, error mapping), its environment variables,
  default base URL, a typed settings class for its own endpoint fields, and its catalogue rows.

Everything here is imported by plugins; nothing here imports the registry, the factory or any
provider, so a provider never imports upward.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

from .endpoint import EndpointConfig
from .errors import ConfigurationError, LLMError
from .llm_interfaces import StreamDecoder
from .metadata import ModelMetadata

__all__ = [
    "BodyErrorDetector",
    "EndpointModel",
    "ModelRow",
    "ProviderAdapter",
    "ProviderProfile",
    "RequestSigner",
]

#: a ``{field}`` of a provider setting in a default endpoint (see ``ProviderProfile.endpoint_for``).
_SETTING_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ProviderAdapter(Protocol):
    """Auth, URL and error rules of one provider. One instance serves all its endpoints."""

    provider: str

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        """The full URL of ``operation`` (``"chat"``, ``"embeddings"`` …) for ``model`` (the id
        sent on this endpoint) on ``endpoint``. Providers whose URL names the model (Azure
        deployments, Bedrock, Gemini) use ``model``; the others ignore it."""
        ...

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        """Headers carrying credentials (and any fixed headers) for ``endpoint``."""
        ...

    def decoder(self, operation: str) -> StreamDecoder:
        """A fresh stream decoder for a streamed ``operation`` (SSE for most providers)."""
        ...

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        """Translate an HTTP error response into the error tree (the one place per provider)."""
        ...

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        """The provider's request id from response headers, if any."""
        ...


@runtime_checkable
class RequestSigner(Protocol):
    """Optional adapter extension for auth that signs the whole request (AWS SigV4).

    Called on every attempt with the final method, URL, headers and body; returns headers to add.
    """

    async def sign_request(
        self, endpoint: EndpointConfig, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Mapping[str, str]: ...


@runtime_checkable
class BodyErrorDetector(Protocol):
    """Optional adapter extension: the error a 2xx JSON body reports instead of an answer.

    Some servers and gateways answer ``200 {"error": ...}``. Called with the decoded body of every
    successful non-streamed response; returns the typed error, or None for a normal answer.
    """

    def error_in_body(self, data: Any, headers: Mapping[str, str], endpoint: str) -> LLMError | None: ...


@runtime_checkable
class EndpointModel(Protocol):
    """Optional adapter extension: the model id an endpoint serves when its provider names it
    in its own settings (Azure's deployment). Without it, :attr:`EndpointConfig.model_id` is used."""

    def endpoint_model(self, endpoint: EndpointConfig) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One catalogue row: a model's metadata, and the class to make it from (None: the provider
    profile's ``model_class``, i.e. its wire dialect). The registry makes the class."""

    metadata: ModelMetadata
    model_class: type | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.metadata, ModelMetadata):
            raise ConfigurationError(
                f"ModelRow.metadata must be a ModelMetadata, not {type(self.metadata).__name__}"
            )
        if self.model_class is not None and not isinstance(self.model_class, type):
            raise ConfigurationError("ModelRow.model_class must be a class (a dialect's model class)")


@dataclass(frozen=True)
class ProviderProfile:
    """One provider, as data.

    ``name``
        the part before ``/`` in ``"provider/model"``.
    ``adapter``
        a factory (usually the class) of its :class:`ProviderAdapter`.
    ``model_class``
        the wire dialect's model class that catalogue rows and open model names are made from
        (e.g. ``OpenAIChatModel``); a row may name another.
    ``settings``
        a frozen dataclass of the provider's own endpoint fields (``AzureSettings`` …), or None.
        A field without a default is required on every endpoint; callers pass the fields to
        ``create_llm`` as keywords and in backups, and the factory builds the object.
    ``default_endpoint``, ``api_key_env``, ``endpoint_env``, ``settings_env``
        where the endpoint, the key and each settings field come from when the caller gives
        none: environment variables tried in order, then the default endpoint.
        ``default_endpoint`` may name settings fields as ``{field}``
        (``https://bedrock-runtime.{region}.amazonaws.com``): each endpoint's default is then
        made from its own settings (:meth:`endpoint_for`), so a backup that changes only those
        fields (``backups=[{"region": "us-west-2"}]``) gets its own URL.
    ``model_setting``
        a settings field that the model name fills when nothing else does (Azure's deployment:
        ``azure/<deployment>``).
    ``requires_api_key``
        False for keyless servers (local vLLM, llama.cpp, Ollama).
    ``models``
        the catalogue: :class:`ModelMetadata` rows (made from ``model_class``) or
        :class:`ModelRow` objects.
    ``generic``
        the metadata template of a model name not in the catalogue (no price; limits generous,
        the server enforcing the real ones), or None to accept catalogue names only. A name that
        starts with a catalogue model's name (``gpt-4.1-2025-04-14``, ``ft:gpt-4o-mini:…``) takes
        that model's metadata instead, without its price.
    ``open_name_prefixes``
        prefixes an open model name may carry before a catalogue name, which then takes that
        model's metadata (without its price) like a name starting with it: Bedrock's
        cross-region inference profiles (``us.anthropic.claude-…``).
    ``model_prefixes``
        how a bare model name outside the catalogue is routed to this provider by
        :class:`~core.llms.client.LLMClient` (``("gpt-", "o1", …)`` for OpenAI, ``("claude-",)``
        for Anthropic …); several providers may claim a prefix, the client's preference order
        then decides.
    ``credential_env``
        environment variables whose presence means credentials other than an API key are
        configured (AWS's chain, Google's Application Default Credentials): with one of them set,
        a provider that needs no API key counts as configured (:meth:`configured`).
    ``description``, ``notes``
        one line saying what the provider is, and what differs on it (docs/providers.md).
    """

    name: str
    adapter: Callable[[], ProviderAdapter]
    model_class: type
    settings: type | None = None
    default_endpoint: str | None = None
    api_key_env: tuple[str, ...] = ()
    endpoint_env: tuple[str, ...] = ()
    settings_env: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    model_setting: str | None = None
    requires_api_key: bool = True
    models: tuple[ModelMetadata | ModelRow, ...] = ()
    generic: ModelMetadata | None = None
    description: str = ""
    #: see ``open_name_prefixes`` above (e.g. ``("us.", "eu.", "global.")``).
    open_name_prefixes: tuple[str, ...] = ()
    #: what differs on this provider (quirks), for the providers page.
    notes: str = ""
    #: see ``model_prefixes`` above.
    model_prefixes: tuple[str, ...] = ()
    #: see ``credential_env`` above.
    credential_env: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"provider profile {self.name!r}"
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise ConfigurationError(f"{where}: a provider name must be a non-empty string without '/'")
        if not callable(self.adapter):
            raise ConfigurationError(f"{where}: adapter must be a class or factory of a ProviderAdapter")
        if not isinstance(self.model_class, type):
            raise ConfigurationError(f"{where}: model_class must be a model class (a wire dialect's)")
        if self.settings is not None and not (
            isinstance(self.settings, type) and dataclasses.is_dataclass(self.settings)
        ):
            raise ConfigurationError(f"{where}: settings must be a dataclass type (or None)")
        own = self.setting_names
        for key in (*self.settings_env, *([self.model_setting] if self.model_setting else [])):
            if key not in own:
                raise ConfigurationError(f"{where}: {key!r} is not a field of its settings class")
        for key in self.endpoint_settings:
            if key not in own:
                raise ConfigurationError(
                    f"{where}: its default_endpoint names {{{key}}}, not a field of its settings class"
                )
        if not isinstance(self.open_name_prefixes, tuple) or not all(
            isinstance(p, str) and p for p in self.open_name_prefixes
        ):
            raise ConfigurationError(f"{where}: open_name_prefixes must be a tuple of non-empty strings")
        for attr in ("model_prefixes", "credential_env"):
            value = getattr(self, attr)
            if not isinstance(value, tuple) or not all(isinstance(p, str) and p for p in value):
                raise ConfigurationError(f"{where}: {attr} must be a tuple of non-empty strings")
        if self.generic is not None and self.generic.provider != self.name:
            raise ConfigurationError(
                f"{where}: its generic metadata names provider {self.generic.provider!r}"
            )

    @property
    def dialect(self) -> str:
        """The wire dialect's name (``"openai_chat"`` …), from the model class."""
        return str(getattr(self.model_class, "dialect", ""))

    @property
    def setting_names(self) -> tuple[str, ...]:
        """The fields of :attr:`settings` (empty without one)."""
        if self.settings is None:
            return ()
        return tuple(f.name for f in dataclasses.fields(self.settings))

    @property
    def endpoint_settings(self) -> tuple[str, ...]:
        """The settings fields :attr:`default_endpoint` is made from (its ``{field}`` names)."""
        if not self.default_endpoint:
            return ()
        return tuple(dict.fromkeys(_SETTING_PLACEHOLDER.findall(self.default_endpoint)))

    def endpoint_for(self, settings: Mapping[str, Any] | Any = None) -> str | None:
        """The default endpoint of an endpoint with these provider ``settings`` (a mapping of
        field values, or the settings object): :attr:`default_endpoint` with each ``{field}``
        replaced by that field's value (the settings class's default for a field not given, e.g.
        Vertex AI's location), percent-encoded; None when there is no default endpoint or a field
        it names has no value."""
        template = self.default_endpoint
        if not template or not self.endpoint_settings:
            return template
        own = dataclasses.fields(self.settings) if self.settings is not None else ()
        defaults = {f.name: f.default for f in own}
        values: dict[str, str] = {}
        for name in self.endpoint_settings:
            value = settings.get(name) if isinstance(settings, Mapping) else getattr(settings, name, None)
            if value is None or value == "":
                value = defaults.get(name)
            if value is None or value == "" or value is dataclasses.MISSING:
                return None
            values[name] = quote(str(value), safe="")
        return _SETTING_PLACEHOLDER.sub(lambda m: values[m.group(1)], template)

    def configured(self, environ: Mapping[str, str]) -> bool:
        """Whether ``environ`` holds what an endpoint of this provider needs, so that a model
        can be made with no keyword at all: its API key (when it needs one; else one of
        :attr:`credential_env`, or — for a keyless local server — its endpoint variable), an
        endpoint (a variable or :attr:`default_endpoint` with its ``{field}`` values) and every
        required settings field (the :attr:`model_setting` excepted: the model name fills it).
        Only names are looked at, never values (beyond being non-empty)."""

        def present(names: tuple[str, ...]) -> bool:
            return any(environ.get(n) for n in names)

        if self.requires_api_key:
            if not present(self.api_key_env):
                return False
        elif self.credential_env:
            if not present(self.credential_env) and not present(self.api_key_env):
                return False
        elif not present(self.endpoint_env):
            return False  # a keyless local server: only when told where it is
        settings = {
            name: next((environ[n] for n in names if environ.get(n)), None)
            for name, names in self.settings_env.items()
        }
        for name in self.required_settings:
            if name != self.model_setting and not settings.get(name):
                return False
        return present(self.endpoint_env) or self.endpoint_for(settings) is not None

    @property
    def required_settings(self) -> tuple[str, ...]:
        """The settings fields every endpoint must have (those without a default)."""
        if self.settings is None:
            return ()
        return tuple(
            f.name
            for f in dataclasses.fields(self.settings)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )

    def rows(self) -> tuple[ModelRow, ...]:
        """The catalogue as :class:`ModelRow` objects."""
        return tuple(m if isinstance(m, ModelRow) else ModelRow(m) for m in self.models)
