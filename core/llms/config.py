"""The configuration file schema of :class:`~core.llms.factory.LLMFactory`, and its loading.

A config file is TOML (``.toml``) or YAML (``.yaml`` / ``.yml``, needs ``pyyaml``)::

    [defaults]                      # optional: shared by every model below
    timeouts = { connect = 5, read = 30 }
    retry = { max_retries = 2 }

    [models.fast]
    model = "azure/gpt-4.1-mini"
    endpoint = "https://eastus.example.azure.com"
    api_key_env = "AZURE_OPENAI_API_KEY"
    deployment_name = "gpt-4.1-mini"
    api_version = "2024-10-21"
    defaults = { temperature = 0.2 }
    backups = [{ endpoint = "https://westus.example.azure.com", api_key = "${AZURE_WEST_KEY}" }]

Every section forbids unknown keys, so a typo fails at load with the path of the bad key.
``${NAME}`` in any string is replaced by the environment variable ``NAME`` (``$${`` is a
literal ``${``); a variable that is not set is a :class:`ConfigurationError` naming it.
Secrets never appear in an error message: validation errors name the key, never the value.

Merging: a model's field wins over the same field in ``[defaults]``; ``retry`` and ``timeouts``
merge field by field. Backups inherit every field they do not set from their model's primary
endpoint (see ``docs/configuration.md``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from .interfaces._fields import field_meant
from .interfaces.endpoint import endpoint_name
from .interfaces.errors import ConfigurationError

__all__ = [
    "EndpointSettings",
    "FactoryConfig",
    "ModelSettings",
    "ObservabilitySettings",
    "RetrySettings",
    "SharedSettings",
    "TimeoutSettings",
    "describe_validation_error",
    "interpolate_env",
    "load_config",
]

_VAR = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Strict(BaseModel):
    # hide_input_in_errors: a ValidationError must never quote a value (it may be a secret).
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    def _set(self) -> dict[str, Any]:
        """The fields that were given (not defaulted), as plain values."""
        return {k: getattr(self, k) for k in self.model_fields_set}


class TimeoutSettings(_Strict):
    """Seconds; unset fields come from ``[defaults]`` or the library defaults."""

    connect: float | None = Field(None, gt=0)
    read: float | None = Field(None, gt=0)
    total: float | None = Field(None, gt=0)


class RetrySettings(_Strict):
    """Overrides of :class:`~core.llms.providers.base.retry.RetryPolicy` fields."""

    max_retries: int | None = Field(None, ge=0)
    backoff_initial: float | None = Field(None, ge=0)
    backoff_max: float | None = Field(None, ge=0)
    backoff_multiplier: float | None = Field(None, ge=1)
    jitter: float | None = Field(None, ge=0, le=1)
    max_retry_after: float | None = Field(None, ge=0)
    rate_limit: Literal["retry", "failover"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_retry_if(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "retry_if" in data:
            raise ValueError(
                "retry_if is a Python function and cannot be set in a config file; set it in code: "
                "create_llm(..., retry={'retry_if': fn}) or RetryPolicy(retry_if=fn)"
            )
        return data


class EndpointSettings(_Strict):
    """Fields of one endpoint (a primary or a backup); all optional in the file.

    The provider's own fields (``deployment_name`` and ``api_version`` for Azure,
    ``organization`` for OpenAI …) are accepted as extra keys holding a string, number or
    boolean; the factory checks them against the provider's settings class (an unknown one fails
    there, with the entry's path and a "did you mean" hint).
    """

    model_config = ConfigDict(extra="allow", frozen=True, hide_input_in_errors=True)

    endpoint: str | None = None
    api_key: SecretStr | None = None
    #: name of the environment variable holding the API key.
    api_key_env: str | None = None
    #: the model id sent to this endpoint, when it differs from the catalogue's.
    model_id: str | None = None
    name: str | None = None
    headers: dict[str, str] | None = Field(None, repr=False)  # may hold credentials
    timeouts: TimeoutSettings | None = None
    verify_tls: bool | None = None
    ca_bundle: str | None = None
    proxy: str | None = None
    max_connections: int | None = Field(None, ge=1)
    max_response_bytes: int | None = Field(None, ge=1)
    max_event_bytes: int | None = Field(None, ge=1)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # URLs are shown without user info or query string (either may carry a credential).
        for name, value in super().__repr_args__():
            if name in ("endpoint", "proxy") and isinstance(value, str):
                value = endpoint_name(value)
            yield name, value

    @model_validator(mode="after")
    def _one_key_source(self) -> EndpointSettings:
        for key, value in (self.model_extra or {}).items():
            # an extra key is a provider's own field; one that is (close to) a key of this schema
            # is a mistake: a key of another section, or a typo
            meant = key if key in _SETTING_NAMES else field_meant(key, _SETTING_NAMES)
            if meant == key:
                raise ValueError(f"{key}: not allowed here")
            if meant is not None:
                raise ValueError(f"{key}: unknown key (did you mean {meant}?)")
            if not isinstance(value, str | int | float | bool):
                raise ValueError(f"{key}: a provider field holds a string, number or boolean")
        if self.api_key is not None and self.api_key_env is not None:
            raise ValueError("set api_key or api_key_env, not both")
        if self.api_key_env is not None and not _VAR_NAME.fullmatch(self.api_key_env):
            raise ValueError("api_key_env must be an environment variable name")
        return self

    def endpoint_fields(self, where: str) -> dict[str, Any]:
        """The given endpoint fields as ``create_llm`` / ``EndpointConfig`` keywords, with the
        key read from ``api_key_env`` and timeouts as a mapping."""
        out = {k: v for k, v in self._set().items() if k in _ENDPOINT_KEYS}
        out.update(self.model_extra or {})
        if self.api_key_env is not None:
            value = os.environ.get(self.api_key_env)
            if not value:
                raise ConfigurationError(
                    f"{where}.api_key_env: environment variable {self.api_key_env} is not set"
                )
            out["api_key"] = value
        elif self.api_key is not None:
            out["api_key"] = self.api_key.get_secret_value()
        if self.timeouts is not None:
            out["timeouts"] = self.timeouts._set()
        return out


_ENDPOINT_KEYS = frozenset(EndpointSettings.model_fields) - {"api_key", "api_key_env", "timeouts"}


class SharedSettings(EndpointSettings):
    """The ``[defaults]`` section: endpoint fields and call policies shared by every model."""

    retry: RetrySettings | None = None
    failure_threshold: int | None = Field(None, ge=1)
    cooldown: float | None = Field(None, ge=0)
    drop_unsupported: bool | None = None


class ModelSettings(SharedSettings):
    """One ``[models.<alias>]`` entry."""

    model: str = Field(min_length=1)
    backups: list[EndpointSettings] = Field(default_factory=list)
    #: default call parameters of this model (temperature, max_tokens …).
    defaults: dict[str, Any] = Field(default_factory=dict)

    def llm_kwargs(self, shared: SharedSettings, where: str) -> dict[str, Any]:
        """Keyword arguments for :func:`~core.llms.factory.create_llm`: this entry over
        ``shared``, ``retry`` and ``timeouts`` merged field by field."""
        out = shared.endpoint_fields("defaults")
        own = self.endpoint_fields(where)
        timeouts = {**out.pop("timeouts", {}), **own.pop("timeouts", {})}
        out.update(own)
        if timeouts:
            out["timeouts"] = timeouts
        for key in ("failure_threshold", "cooldown", "drop_unsupported"):
            value = getattr(self, key)
            if value is None:
                value = getattr(shared, key)
            if value is not None:
                out[key] = value
        retry = {**(shared.retry._set() if shared.retry else {}), **(self.retry._set() if self.retry else {})}
        if retry:
            out["retry"] = retry
        out["backups"] = [b.endpoint_fields(f"{where}.backups[{i}]") for i, b in enumerate(self.backups)]
        out["defaults"] = dict(self.defaults)
        out["model"] = self.model
        return out


class ObservabilitySettings(_Strict):
    """``[observability]``: the observers to switch on (see :func:`core.llms.observability.enable`)
    before the factory's models are planned."""

    otel: bool = False
    metrics: bool = False
    prometheus: bool = False
    logs: bool = False
    #: record messages and answers on spans (None: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``).
    capture_content: bool | None = None


class FactoryConfig(_Strict):
    """A whole config file."""

    defaults: SharedSettings = Field(default_factory=SharedSettings)
    models: dict[str, ModelSettings] = Field(min_length=1)
    observability: ObservabilitySettings | None = None


def load_config(source: Mapping[str, Any] | str | os.PathLike[str]) -> FactoryConfig:
    """Read, interpolate and validate a config (a mapping, or a ``.toml`` / ``.yaml`` path).

    Raises :class:`ConfigurationError` naming the file and the path of every bad key.
    """
    if isinstance(source, Mapping):
        raw: Any = source
        label = "config"
    else:
        path = Path(source)
        raw = _read_file(path)
        label = str(path)
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{label}: the top level must be a table / mapping")
    data = interpolate_env(raw)
    try:
        return FactoryConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(
            f"{label}: invalid configuration: {describe_validation_error(exc)}"
        ) from None


def interpolate_env(value: Any, path: str = "") -> Any:
    """``value`` with ``${NAME}`` replaced by environment variables in every string, recursively.

    ``$${`` stands for a literal ``${``. Raises :class:`ConfigurationError` naming the key and
    the variable (never a value) when a variable is not set or not a valid name.
    """
    if isinstance(value, str):
        return _interpolate_str(value, path) if "${" in value else value
    if isinstance(value, Mapping):
        return {k: interpolate_env(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [interpolate_env(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _interpolate_str(text: str, path: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if not _VAR_NAME.fullmatch(name):
            raise ConfigurationError(f"{path or 'config'}: '${{{name}}}' is not a valid variable name")
        value = os.environ.get(name)
        if value is None:
            raise ConfigurationError(f"{path or 'config'}: environment variable {name} is not set")
        return value

    return _VAR.sub(replace, text)


def _read_file(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise ConfigurationError(
            f"{path}: unsupported config file type {suffix or '(none)'!r}; use .toml, .yaml or .yml"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path}: invalid TOML: {exc}") from None
    return _load_yaml(text, path)


def _load_yaml(text: str, path: Path) -> Any:
    try:
        import yaml  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise ConfigurationError(
            f"{path}: reading YAML config files needs PyYAML",
            hint="pip install 'core-llms[yaml]' (or pyyaml), or use a .toml file",
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # The exception's text quotes the offending line, which may hold a secret: keep only
        # what went wrong and where.
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or type(exc).__name__
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigurationError(f"{path}: invalid YAML{where}: {problem}") from None


#: every key a config file may hold, for "did you mean" hints on an unknown one.
_SETTING_NAMES: frozenset[str] = frozenset(
    name
    for model in (TimeoutSettings, RetrySettings, ModelSettings, FactoryConfig)
    for name in model.model_fields
)


def describe_validation_error(exc: ValidationError) -> str:
    """Every error as ``path.of.key: what is wrong``, never with the offending value."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        message = f"{loc}: {err['msg']}"
        if err["type"] == "extra_forbidden" and err["loc"]:
            meant = field_meant(str(err["loc"][-1]), _SETTING_NAMES)
            if meant is not None:
                message += f" (did you mean {meant}?)"
        parts.append(message)
    return "; ".join(parts)
