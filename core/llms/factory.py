"""Making model objects: :func:`create_llm` for one model, :class:`LLMFactory` for a config file.

``create_llm("provider/model", ...)`` resolves the name in the registry, builds the primary
:class:`EndpointConfig` (fields the caller did not give come from the provider's environment
variables, then its default endpoint) with the provider's own fields in its typed settings
object, derives the backups from it, and wraps them all in one :class:`FailoverConnector`. The
result is an instance of the model's own class. Endpoints are shared: two models on the same
endpoint (equal settings) share one connection pool and one circuit breaker (see
:mod:`~core.llms.providers.base.pool`).

Nothing here opens a connection: sessions are created on the first call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .interfaces import _fields as checks
from .interfaces._fields import unknown_fields_error
from .interfaces.endpoint import ENDPOINT_FIELDS as _ENDPOINT_FIELDS
from .interfaces.endpoint import EndpointConfig, Timeouts
from .interfaces.errors import ConfigurationError, UnknownModelError
from .interfaces.observer import IObserver
from .interfaces.provider import ProviderProfile
from .plugins import PluginObserver
from .providers.base.breaker import DEFAULT_FAILURE_RATE, FailureRate, check_failure_rate
from .providers.base.failover import FailoverConnector
from .providers.base.implementation import BaseLLM
from .providers.base.pool import default_pool
from .providers.base.retry import RetryPolicy
from .registry import ModelRegistry, default_registry

if TYPE_CHECKING:
    # The config-file schema is pydantic: imported only by LLMFactory.from_config, so that
    # ``create_llm`` never pays for pydantic's import.
    from .config import FactoryConfig
    from .observability import Observability

__all__ = ["LLMFactory", "create_llm"]

logger = logging.getLogger("core.llms.factory")

#: EndpointConfig fields that ``create_llm`` takes as named parameters.
_NAMED_FIELDS = ("endpoint", "api_key", "timeouts")
#: every other EndpointConfig field may be passed as a keyword (``headers=``, ``model_id=`` …), and
#: so may the provider's own settings fields (``deployment_name=``, ``organization=`` …). The
#: settings object itself is built by the factory.
_EXTRA_FIELDS: tuple[str, ...] = tuple(sorted(set(_ENDPOINT_FIELDS) - set(_NAMED_FIELDS) - {"settings"}))


def create_llm(
    model: str,
    *,
    api_key: str | None = None,
    endpoint: str | None = None,
    backups: Sequence[Mapping[str, Any]] = (),
    retry: RetryPolicy | Mapping[str, Any] | None = None,
    timeouts: Timeouts | Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    drop_unsupported: bool = False,
    failure_threshold: int = 3,
    cooldown: float = 30.0,
    failure_rate: FailureRate | Mapping[str, Any] | None = DEFAULT_FAILURE_RATE,
    registry: ModelRegistry | None = None,
    **endpoint_fields: Any,
) -> BaseLLM:
    """A ready model object for ``model`` (``"provider/model"``, an alias, a bare catalogue name,
    or any name a provider serves: ``openai/ft:…``, ``azure/<deployment>``, ``groq/<model>``).

    Endpoint fields not given are read from the provider's environment variables
    (:attr:`ProviderProfile.api_key_env`, ``endpoint_env``, ``settings_env``), the endpoint
    finally from ``default_endpoint``. The provider's own fields (``deployment_name`` and
    ``api_version`` for Azure, ``organization`` for OpenAI …: its settings class) are keywords
    here and in backups. ``backups`` are partial endpoint settings inheriting every field they do
    not set from the primary (``timeouts`` merge field by field); each may name its own
    ``model_id`` or deployment. ``retry`` / ``timeouts`` accept the objects or mappings of their fields;
    ``defaults`` are default call parameters. Other :class:`EndpointConfig` fields (``model_id``,
    ``headers``, ``token_provider``, ``proxy`` …) go in ``endpoint_fields`` too.

    Circuit breakers: ``failure_threshold`` consecutive failover-class failures open an endpoint's
    breaker for ``cooldown`` seconds, when failures are also at least ``failure_rate.rate`` of its
    recent calls (a :class:`~core.llms.providers.base.breaker.FailureRate` or a mapping of its
    fields; ``None``: the consecutive failures alone). See ``docs/reliability.md``.

    Raises :class:`UnknownModelError` for an unknown name and :class:`ConfigurationError` for a
    missing or unknown field; messages name fields and environment variables, never values.
    """
    plan = _plan_llm(
        model,
        api_key=api_key,
        endpoint=endpoint,
        backups=backups,
        retry=retry,
        timeouts=timeouts,
        defaults=defaults,
        drop_unsupported=drop_unsupported,
        failure_threshold=failure_threshold,
        cooldown=cooldown,
        failure_rate=failure_rate,
        registry=registry,
        **endpoint_fields,
    )
    return plan.build()


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything needed to build one model object, checked but not yet connected."""

    spec: ProviderProfile
    model_cls: type[BaseLLM]
    primary: EndpointConfig
    backups: tuple[EndpointConfig, ...]
    policy: RetryPolicy | None
    defaults: Mapping[str, Any] | None
    drop_unsupported: bool
    failure_threshold: int
    cooldown: float
    failure_rate: FailureRate | None
    observer: IObserver | None

    def build(self) -> BaseLLM:
        connector = FailoverConnector.from_endpoints(
            self.spec.adapter(),
            self.primary,
            self.backups,
            self.policy,
            pool=default_pool(),
            failure_threshold=self.failure_threshold,
            cooldown=self.cooldown,
            failure_rate=self.failure_rate,
        )
        return self.model_cls(
            connector,
            defaults=self.defaults,
            drop_unsupported=self.drop_unsupported,
            observer=self.observer,
        )


def _plan_llm(
    model: str,
    *,
    api_key: str | None = None,
    endpoint: str | None = None,
    backups: Sequence[Mapping[str, Any]] = (),
    retry: RetryPolicy | Mapping[str, Any] | None = None,
    timeouts: Timeouts | Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    drop_unsupported: bool = False,
    failure_threshold: int = 3,
    cooldown: float = 30.0,
    failure_rate: FailureRate | Mapping[str, Any] | None = DEFAULT_FAILURE_RATE,
    registry: ModelRegistry | None = None,
    **endpoint_fields: Any,
) -> _Plan:
    reg = registry if registry is not None else default_registry()
    if not isinstance(model, str):
        raise UnknownModelError(f"model must be a 'provider/model' string, not {type(model).__name__}")
    spec, found = reg.resolve(model)
    model_cls = cast("type[BaseLLM]", found)
    qualified = model_cls.metadata.qualified_name
    own = spec.setting_names
    named_fields = _token_provider_aliases(endpoint_fields, spec, f"for {qualified}")
    unknown = set(named_fields) - set(_EXTRA_FIELDS) - set(own)
    if unknown:
        allowed = [*_NAMED_FIELDS, *_EXTRA_FIELDS, *own]
        raise unknown_fields_error("endpoint", unknown, allowed, f"for {qualified}", related=("retry",))
    given: dict[str, Any] = {
        "endpoint": endpoint,
        "api_key": api_key,
        "timeouts": timeouts,
        **named_fields,
    }
    # None and "" both mean "not given": the environment and the provider's defaults fill in.
    fields = {k: v for k, v in given.items() if v is not None and v != ""}
    settings = {k: fields.pop(k) for k in own if k in fields}
    # the name as the caller wrote it (an alias of a catalogue model is a deployment name too)
    given_name = model.partition("/")[2] if "/" in model else model_cls.metadata.name
    _fill_from_env(fields, settings, spec, given_name)
    _check_primary(fields, settings, spec, qualified)
    if spec.settings is not None:
        fields["settings"] = _settings(spec, settings, qualified)
    primary = _endpoint_config(fields, f"endpoint settings of {qualified}")
    if isinstance(backups, Mapping | str | bytes) or not isinstance(backups, Sequence):
        raise ConfigurationError(
            f"backups of {qualified} must be a list of endpoint settings (mappings), "
            f"not {type(backups).__name__}",
            hint="backups=[{'endpoint': 'https://...'}]",
        )
    derived = tuple(_derive_backup(primary, b, i, qualified, spec) for i, b in enumerate(backups))
    for i, backup in enumerate(derived):
        _check_required(backup, spec, qualified, f"backups[{i}]")
    if isinstance(failure_threshold, bool) or not isinstance(failure_threshold, int) or failure_threshold < 1:
        raise ConfigurationError(f"failure_threshold must be an integer >= 1, got {failure_threshold!r}")
    if isinstance(cooldown, bool) or not isinstance(cooldown, int | float) or not cooldown >= 0:
        raise ConfigurationError("cooldown must be a number of seconds >= 0")
    if defaults is not None and not isinstance(defaults, Mapping):
        raise ConfigurationError(
            f"defaults of {qualified} must be a mapping of call parameters, not {type(defaults).__name__}"
        )
    if not isinstance(drop_unsupported, bool):
        raise ConfigurationError(
            f"drop_unsupported must be True or False, not {type(drop_unsupported).__name__}"
        )
    pm = reg.plugin_manager
    return _Plan(
        spec=spec,
        model_cls=model_cls,
        primary=primary,
        backups=derived,
        policy=_retry_policy(retry),
        defaults=dict(defaults) if defaults is not None else None,
        drop_unsupported=drop_unsupported,
        failure_threshold=failure_threshold,
        cooldown=cooldown,
        failure_rate=check_failure_rate(failure_rate),
        observer=PluginObserver.for_manager(pm) if pm is not None else None,
    )


def _env(names: Sequence[str]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _fill_from_env(
    fields: dict[str, Any], settings: dict[str, Any], spec: ProviderProfile, model_name: str
) -> None:
    if "api_key" not in fields and "token_provider" not in fields:
        key = _env(spec.api_key_env)
        if key is not None:
            fields["api_key"] = key
    for name, env_names in spec.settings_env.items():
        if name not in settings:
            value = _env(env_names)
            if value is not None:
                settings[name] = value
    if spec.model_setting is not None and spec.model_setting not in settings:
        settings[spec.model_setting] = model_name
    if "endpoint" not in fields:
        # (after the settings: a default endpoint may be made from them, e.g. Bedrock's region)
        url = _env(spec.endpoint_env) or spec.endpoint_for(settings)
        if url is not None:
            fields["endpoint"] = url


def _how_to_set(field_name: str, env_names: Sequence[str]) -> str:
    hint = f"pass {field_name}=..."
    if env_names:
        hint += " or set " + " / ".join(env_names)
    return hint


def _check_primary(
    fields: Mapping[str, Any], settings: Mapping[str, Any], spec: ProviderProfile, qualified: str
) -> None:
    if "endpoint" not in fields:
        for name in spec.endpoint_settings:  # the default endpoint is made from a missing setting
            if settings.get(name) is None:
                raise ConfigurationError(
                    f"{qualified} needs {name}", hint=_how_to_set(name, spec.settings_env.get(name, ()))
                )
        raise ConfigurationError(
            f"{qualified} needs an endpoint", hint=_how_to_set("endpoint", spec.endpoint_env)
        )
    if spec.requires_api_key and "api_key" not in fields and "token_provider" not in fields:
        raise ConfigurationError(
            f"{qualified} needs an API key (or a token_provider)",
            hint=_how_to_set("api_key", spec.api_key_env),
        )
    for name in spec.required_settings:
        if settings.get(name) is None:
            raise ConfigurationError(
                f"{qualified} needs {name}", hint=_how_to_set(name, spec.settings_env.get(name, ()))
            )


def _settings(spec: ProviderProfile, values: Mapping[str, Any], qualified: str) -> Any:
    assert spec.settings is not None
    try:
        return checks.build(spec.settings, values, spec.settings.__name__)
    except ConfigurationError as exc:
        raise ConfigurationError(f"invalid settings of {qualified}: {exc.message}", hint=exc.hint) from None


def _check_required(config: EndpointConfig, spec: ProviderProfile, qualified: str, where: str) -> None:
    if spec.requires_api_key and config.api_key is None and config.token_provider is None:
        raise ConfigurationError(f"{where} of {qualified} has no API key (it set api_key to None)")
    if spec.settings is not None and not isinstance(config.settings, spec.settings):
        raise ConfigurationError(
            f"{where} of {qualified} has no {spec.settings.__name__}",
            hint=f"give it the provider's fields ({', '.join(spec.setting_names)}) or settings=",
        )
    for name in spec.required_settings:
        if getattr(config.settings, name, None) is None:
            raise ConfigurationError(
                f"{where} of {qualified} needs {name}",
                hint=f"set it on the backup or on the primary endpoint ({_how_to_set(name, ())})",
            )


def _endpoint_config(fields: Mapping[str, Any], what: str) -> EndpointConfig:
    return EndpointConfig.from_mapping(fields, what=what)


def _derive_backup(
    primary: EndpointConfig, backup: Any, index: int, qualified: str, spec: ProviderProfile | None = None
) -> EndpointConfig:
    where = f"backups[{index}] of {qualified}"
    if isinstance(backup, EndpointConfig):
        return backup
    if not isinstance(backup, Mapping):
        raise ConfigurationError(f"{where} must be a mapping of endpoint fields, not {type(backup).__name__}")
    if spec is not None:
        backup = _token_provider_aliases(backup, spec, f"in {where}")
    allowed = sorted({*_ENDPOINT_FIELDS, *primary.setting_names()})
    unknown = set(backup) - set(allowed)
    if unknown:
        raise unknown_fields_error("endpoint", unknown, allowed, where=f"in {where}")
    overrides = dict(backup)
    if isinstance(overrides.get("timeouts"), Mapping):
        overrides["timeouts"] = {**dataclasses.asdict(primary.timeouts), **overrides["timeouts"]}
    if spec is not None and "endpoint" not in overrides:
        url = _backup_default_endpoint(primary, overrides, spec)
        if url is not None:
            overrides["endpoint"] = url
    return primary.derive(overrides, what=where)


def _backup_default_endpoint(
    primary: EndpointConfig, overrides: Mapping[str, Any], spec: ProviderProfile
) -> str | None:
    """A backup's own default endpoint, when the provider's default is made from settings that
    the backup changes (``backups=[{"region": "us-west-2"}]`` on Bedrock) and the primary uses
    the default; None otherwise (an endpoint given explicitly is inherited as it is)."""
    names = spec.endpoint_settings
    if primary.settings is None or not any(name in overrides for name in names):
        return None
    old = {name: getattr(primary.settings, name, None) for name in names}
    if spec.endpoint_for(old) != primary.endpoint:
        return None
    url = spec.endpoint_for({**old, **{k: v for k, v in overrides.items() if k in names}})
    return url if url != primary.endpoint else None


#: other names of ``token_provider=`` (in ``create_llm`` and in backups): ``credential=`` (an
#: Entra ID credential object, or ``"default"``) and the OpenAI SDK's ``azure_ad_token_provider=``.
_TOKEN_PROVIDER_ALIASES = ("credential", "azure_ad_token_provider")


def _token_provider_aliases(
    fields: Mapping[str, Any], spec: ProviderProfile, where: str
) -> Mapping[str, Any]:
    """``fields`` with ``credential=`` / ``azure_ad_token_provider=`` given as ``token_provider=``,
    ``"default"`` made the provider's default credential (its adapter's ``default_credential``:
    Azure's ``DefaultAzureCredential``), and a credential object (``get_token``) refused for a
    provider whose adapter does not take one (its ``accepts_credentials``)."""
    given = fields.get("token_provider")
    if not any(k in fields for k in _TOKEN_PROVIDER_ALIASES) and (
        given is None or (callable(given) and not callable(getattr(given, "get_token", None)))
    ):
        return fields  # the usual case: an API key, or a token callable
    out = {k: v for k, v in fields.items() if k not in _TOKEN_PROVIDER_ALIASES}
    names = [k for k in ("token_provider", *_TOKEN_PROVIDER_ALIASES) if fields.get(k) is not None]
    if not names:
        return out
    if len(names) > 1:
        raise ConfigurationError(f"{where}: give one of {', '.join(names)}, not both")
    value = fields[names[0]]
    takes_credentials = bool(getattr(spec.adapter, "accepts_credentials", False))
    if isinstance(value, str) and value == "default":
        make_default = getattr(spec.adapter, "default_credential", None)
        if make_default is None:
            raise ConfigurationError(f"{where}: {spec.name} has no default credential ({names[0]}='default')")
        value = make_default()
    elif callable(getattr(value, "get_token", None)) and not takes_credentials:
        raise ConfigurationError(
            f"{where}: {names[0]} is a credential object (get_token), which {spec.name} does not take",
            hint="pass token_provider= a callable returning a token",
        )
    out["token_provider"] = value
    return out


def _retry_policy(retry: RetryPolicy | Mapping[str, Any] | None) -> RetryPolicy | None:
    if retry is None or isinstance(retry, RetryPolicy):
        return retry
    if not isinstance(retry, Mapping):
        raise ConfigurationError(f"retry must be a RetryPolicy or a mapping, not {type(retry).__name__}")
    allowed = [f.name for f in dataclasses.fields(RetryPolicy)]
    unknown = set(retry) - set(allowed)
    if unknown:
        raise unknown_fields_error("retry", unknown, allowed)
    return RetryPolicy(**retry)


def _drop_foreign_settings(kwargs: dict[str, Any], shared: set[str], registry: ModelRegistry) -> None:
    """Leave out of ``kwargs`` the provider fields from ``[defaults]`` that this model's provider
    does not have but another registered provider does (``api_version`` shared by the Azure
    models of a file that also has an OpenAI one). A key no provider has stays, to fail as the
    unknown field it is."""
    profile = registry.resolve(kwargs["model"])[0]
    known = {name for p in registry.providers() for name in p.setting_names}
    for key in shared:
        if key not in profile.setting_names and key in known:
            kwargs.pop(key, None)


class LLMFactory:
    """Named models from a config file, created on first use and cached.

    ::

        async with LLMFactory.from_config("llms.toml") as llms:
            answer = await llms["fast"].get_answer("Hello")

    Every entry is checked when the factory is made (model name, fields, environment
    variables), so a bad config fails at start-up, not on the first call.
    """

    def __init__(
        self, config: FactoryConfig, *, registry: ModelRegistry | None = None, source: str = "config"
    ) -> None:
        reg = registry if registry is not None else default_registry()
        wanted = config.observability
        self.observability: Observability | None
        if wanted is not None and (wanted.otel or wanted.metrics or wanted.prometheus or wanted.logs):
            from .observability import enable

            # the observers ``[observability]`` switched on (None when it names none)
            self.observability = enable(
                otel=wanted.otel,
                metrics=wanted.metrics,
                prometheus=wanted.prometheus,
                logs=wanted.logs,
                capture_content=wanted.capture_content,
                pm=reg.plugin_manager,
            )
        else:
            self.observability = None
        self._plans: dict[str, _Plan] = {}
        shared_settings = set(config.defaults.model_extra or {})
        for alias, entry in config.models.items():
            where = f"models.{alias}"
            try:
                kwargs = entry.llm_kwargs(config.defaults, where)
                if shared_settings:
                    _drop_foreign_settings(kwargs, shared_settings - set(entry.model_extra or {}), reg)
                self._plans[alias] = _plan_llm(registry=reg, **kwargs)
            except ConfigurationError as exc:
                prefix = "" if exc.message.startswith(where) else f"{where}: "
                raise type(exc)(f"{source}: {prefix}{exc.message}", hint=exc.hint) from None
        self._models: dict[str, BaseLLM] = {}

    @classmethod
    def from_config(
        cls, source: Mapping[str, Any] | str | os.PathLike[str], *, registry: ModelRegistry | None = None
    ) -> LLMFactory:
        """Load ``source`` (a mapping, or a ``.toml`` / ``.yaml`` / ``.yml`` file path)."""
        from .config import load_config

        label = "config" if isinstance(source, Mapping) else os.fspath(source)
        return cls(load_config(source), registry=registry, source=label)

    def names(self) -> list[str]:
        """The aliases defined by the config, in file order."""
        return list(self._plans)

    def get(self, alias: str) -> BaseLLM:
        """The model object named ``alias``, created on first use and then reused."""
        llm = self._models.get(alias)
        if llm is not None:
            return llm
        plan = self._plans.get(alias)
        if plan is None:
            from difflib import get_close_matches  # only for this hint: not on the import path

            close = get_close_matches(alias, list(self._plans), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise UnknownModelError(
                f"no model named {alias!r} in this factory",
                hint=hint + f"defined: {', '.join(self._plans)}",
            )
        llm = self._models[alias] = plan.build()
        return llm

    def __getitem__(self, alias: str) -> BaseLLM:
        return self.get(alias)

    def __contains__(self, alias: object) -> bool:
        return alias in self._plans

    def __len__(self) -> int:
        return len(self._plans)

    async def aclose(self) -> None:
        """Close every model created so far; a later :meth:`get` creates a new one."""
        created = list(self._models.items())
        self._models.clear()
        results = await asyncio.gather(*(llm.aclose() for _, llm in created), return_exceptions=True)
        failures = [
            (alias, r) for (alias, _), r in zip(created, results, strict=True) if isinstance(r, BaseException)
        ]
        for alias, error in failures:
            logger.warning("closing model %r failed: %s: %s", alias, type(error).__name__, error)
        if failures:
            raise failures[0][1]

    async def __aenter__(self) -> LLMFactory:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        # Garbage-collected with models that still hold connections: warn once, here; each model
        # closes its sessions silently when it is collected (the caller may still be using one).
        models = getattr(self, "_models", None)
        if not models:
            return
        unclosed = [alias for alias, llm in models.items() if llm._unclosed()]
        if not unclosed:
            return
        _warn(
            f"unclosed {self!r} (open connections: {', '.join(unclosed)}): call aclose() or use 'async with'",
            ResourceWarning,
            source=self,
        )
        for alias in unclosed:
            models[alias]._reported = True

    def __repr__(self) -> str:
        return f"LLMFactory(models={self.names()!r}, created={list(self._models)!r})"
