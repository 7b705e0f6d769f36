"""Which providers and models exist: the :class:`ModelRegistry`, built from the plugins' hooks.

Names
    A model is addressed as ``"provider/model"`` (its *qualified name*), as
    ``"provider/alias"`` for any of its metadata aliases, or by the bare ``"model"`` / ``"alias"``
    when exactly one provider has it. Only the first ``/`` separates the provider, so model names
    may themselves contain ``/`` (``"ollama/hf.co/org/model:Q4"``).

Generic models
    A provider may set :attr:`ProviderSpec.generic_model` to serve model names that are not in
    its catalogue (any locally pulled Ollama model, any deployment of an OpenAI-compatible host).
    The generic class's own ``metadata`` is a *template*: for ``"provider/some-name"`` the registry
    derives a subclass whose ``metadata`` is the template with ``name="some-name"``, no
    ``wire_name`` and no aliases (every other field — context window, capabilities, prices — is
    kept). Derived classes are cached per name, so ``resolve`` returns the same class each time.
    Generic models are reached only through a qualified name, never a bare one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .interfaces.errors import ConfigurationError, UnknownModelError
from .interfaces.metadata import ModelMetadata
from .providers.base.endpoint import ProviderAdapter

if TYPE_CHECKING:
    import pluggy

__all__ = ["ModelRegistry", "ProviderSpec", "default_registry", "reset_default_registry"]

logger = logging.getLogger("core.llms.registry")

#: Source label of providers and models registered directly (not through a plugin).
_DIRECT = "<direct>"


@dataclass(frozen=True)
class ProviderSpec:
    """How to reach one provider: its adapter, and where endpoint and credentials come from.

    ``api_key_env`` / ``endpoint_env`` are environment variables tried in order when the caller
    gives no ``api_key`` / ``endpoint``; ``default_endpoint`` is the last resort for the endpoint.
    ``required_fields`` are :class:`EndpointConfig` fields every endpoint of this provider must
    set (e.g. Azure's ``deployment_name`` and ``api_version``); ``field_env`` maps such a field to
    the environment variables that may supply it. ``generic_model`` serves names not in the
    catalogue (see the module docstring). ``requires_api_key=False`` for keyless servers.
    """

    name: str
    adapter_factory: Callable[[], ProviderAdapter]
    default_endpoint: str | None = None
    api_key_env: tuple[str, ...] = ()
    endpoint_env: tuple[str, ...] = ()
    required_fields: tuple[str, ...] = ()
    field_env: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""
    generic_model: type | None = None
    requires_api_key: bool = True


class ModelRegistry:
    """Providers and model classes by name. Build one with :meth:`from_plugins`, or register
    providers and models directly (tests, embedding applications)."""

    def __init__(self, plugin_manager: pluggy.PluginManager | None = None) -> None:
        #: the plugin manager this registry was built from (its observer hooks are relayed).
        self.plugin_manager = plugin_manager
        self._providers: dict[str, ProviderSpec] = {}
        self._provider_source: dict[str, str] = {}
        # provider -> {name or alias -> model class}
        self._by_provider: dict[str, dict[str, type]] = {}
        # qualified name -> model class, and where it came from
        self._models: dict[str, type] = {}
        self._model_source: dict[str, str] = {}
        # bare name or alias -> qualified names that answer to it
        self._bare: dict[str, set[str]] = {}
        self._generic_cache: dict[tuple[str, str], type] = {}
        self._lock = threading.Lock()

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_plugins(cls, pm: pluggy.PluginManager) -> ModelRegistry:
        """A registry holding every provider, then every model, that ``pm``'s plugins register.

        Plugins are read in registration order (built-ins first), so a duplicate error names the
        plugin that registered the name first and the one that tried again.
        """
        registry = cls(pm)
        provider_impls = pm.hook.llms_register_providers.get_hookimpls()
        model_impls = pm.hook.llms_register_models.get_hookimpls()
        for impl in provider_impls:
            for spec in _as_list(impl.function(), impl.plugin_name, "llms_register_providers"):
                registry.register_provider(spec, source=impl.plugin_name)
        for impl in model_impls:
            for model_cls in _as_list(impl.function(), impl.plugin_name, "llms_register_models"):
                registry.register_model(model_cls, source=impl.plugin_name)
        logger.debug(
            "registry built: %d providers, %d models", len(registry._providers), len(registry._models)
        )
        return registry

    def register_provider(self, spec: ProviderSpec, *, source: str = _DIRECT) -> None:
        """Add a provider. Raises :class:`ConfigurationError` if its name is taken or invalid."""
        if not isinstance(spec, ProviderSpec):
            raise ConfigurationError(
                f"plugin {source!r} registered {spec!r} as a provider; expected a ProviderSpec"
            )
        if not spec.name or "/" in spec.name:
            raise ConfigurationError(
                f"plugin {source!r} registered a provider named {spec.name!r}: "
                "names must be non-empty and contain no '/'"
            )
        if spec.name in self._providers:
            raise ConfigurationError(
                f"provider {spec.name!r} is registered twice: by {self._provider_source[spec.name]!r} "
                f"and by {source!r}",
                hint="uninstall or block one of the two plugins (CORE_LLMS_BLOCKED_PLUGINS)",
            )
        if spec.generic_model is not None:
            template = _metadata_of(spec.generic_model, source)
            if template.provider != spec.name:
                raise ConfigurationError(
                    f"plugin {source!r}: generic model {spec.generic_model.__name__} of provider "
                    f"{spec.name!r} has metadata.provider {template.provider!r}"
                )
        self._providers[spec.name] = spec
        self._provider_source[spec.name] = source
        self._by_provider[spec.name] = {}

    def register_model(self, model_cls: type, *, source: str = _DIRECT) -> None:
        """Add a model class. Its provider must be registered; its qualified name and aliases
        must be free. Raises :class:`ConfigurationError` naming both registrants on a clash."""
        meta = _metadata_of(model_cls, source)
        if meta.provider not in self._providers:
            raise ConfigurationError(
                f"plugin {source!r} registered model {model_cls.__name__} ({meta.qualified_name}) "
                f"for unknown provider {meta.provider!r}",
                hint=f"registered providers: {', '.join(sorted(self._providers)) or 'none'}",
            )
        names = self._by_provider[meta.provider]
        for key in (meta.name, *meta.aliases):
            taken = names.get(key)
            if taken is not None:
                other = taken.metadata.qualified_name  # type: ignore[attr-defined]
                raise ConfigurationError(
                    f"model name {meta.provider}/{key} is registered twice: by "
                    f"{self._model_source[other]!r} ({taken.__name__}) and by {source!r} "
                    f"({model_cls.__name__})",
                    hint="uninstall or block one of the two plugins (CORE_LLMS_BLOCKED_PLUGINS)",
                )
        qualified = meta.qualified_name
        for key in (meta.name, *meta.aliases):
            names[key] = model_cls
            self._bare.setdefault(key, set()).add(qualified)
        self._models[qualified] = model_cls
        self._model_source[qualified] = source

    # -- lookups -------------------------------------------------------------------------------

    def resolve(self, name: str) -> tuple[ProviderSpec, type]:
        """The provider spec and model class for ``name`` (qualified, alias or bare).

        Raises :class:`UnknownModelError` listing the candidates (ambiguous bare name), or the
        available providers and the closest model names (unknown name).
        """
        if not isinstance(name, str) or not name.strip():
            raise UnknownModelError(f"model name must be a non-empty string, got {name!r}")
        provider, sep, model = name.partition("/")
        if sep and provider in self._providers:
            return self._providers[provider], self._resolve_in(provider, model, name)
        return self._resolve_bare(name, sep)

    def providers(self) -> list[ProviderSpec]:
        """Every registered provider, sorted by name."""
        return [self._providers[n] for n in sorted(self._providers)]

    def provider(self, name: str) -> ProviderSpec:
        """The spec of provider ``name``; :class:`UnknownModelError` if there is none."""
        spec = self._providers.get(name)
        if spec is None:
            raise UnknownModelError(
                f"unknown provider {name!r}",
                hint=self._provider_hint(name),
            )
        return spec

    def models(self, provider: str | None = None) -> list[ModelMetadata]:
        """Metadata of every catalogue model (of ``provider`` if given), by qualified name."""
        if provider is not None:
            self.provider(provider)
            prefix = provider + "/"
            keys = [q for q in self._models if q.startswith(prefix)]
        else:
            keys = list(self._models)
        return [_metadata_of(self._models[q], "") for q in sorted(keys)]

    def metadata(self, name: str) -> ModelMetadata:
        """The metadata of the model ``name`` resolves to."""
        return _metadata_of(self.resolve(name)[1], "")

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.resolve(name)
        except UnknownModelError:
            return False
        return True

    # -- internals -----------------------------------------------------------------------------

    def _resolve_in(self, provider: str, model: str, full: str) -> type:
        found = self._by_provider[provider].get(model)
        if found is not None:
            return found
        spec = self._providers[provider]
        if spec.generic_model is not None and model:
            return self._generic(spec, model)
        known = sorted(self._by_provider[provider])
        close = _close_matches(model, known, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(f'{provider}/{c}' for c in close)}? " if close else ""
        hint += f"models of {provider}: {', '.join(known) or 'none'}"
        raise UnknownModelError(f"unknown model {full!r}", hint=hint)

    def _resolve_bare(self, name: str, sep: str) -> tuple[ProviderSpec, type]:
        candidates = self._bare.get(name)
        if candidates and len(candidates) == 1:
            qualified = next(iter(candidates))
            cls = self._models[qualified]
            return self._providers[_metadata_of(cls, "").provider], cls
        if candidates:
            raise UnknownModelError(
                f"model name {name!r} is ambiguous",
                hint=f"use a qualified name: {', '.join(sorted(candidates))}",
            )
        if sep:
            provider = name.partition("/")[0]
            raise UnknownModelError(
                f"unknown provider {provider!r} in {name!r}", hint=self._provider_hint(provider)
            )
        close: list[str] = []
        for key in _close_matches(name, list(self._bare), n=5, cutoff=0.6):
            close.extend(q for q in sorted(self._bare[key]) if q not in close)
        hint = f"did you mean {', '.join(close[:3])}? " if close else ""
        hint += f"providers: {', '.join(sorted(self._providers)) or 'none'} (use 'provider/model')"
        raise UnknownModelError(f"unknown model {name!r}", hint=hint)

    def _provider_hint(self, provider: str) -> str:
        close = _close_matches(provider, list(self._providers), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        return hint + f"registered providers: {', '.join(sorted(self._providers)) or 'none'}"

    def _generic(self, spec: ProviderSpec, model: str) -> type:
        assert spec.generic_model is not None
        key = (spec.name, model)
        with self._lock:
            cls = self._generic_cache.get(key)
            if cls is None:
                cls = _derive_generic(spec.generic_model, model)
                self._generic_cache[key] = cls
        return cls


def _close_matches(word: str, candidates: list[str], n: int, cutoff: float) -> list[str]:
    """Names like ``word``, for "did you mean" hints (difflib is imported only then)."""
    from difflib import get_close_matches

    return get_close_matches(word, candidates, n=n, cutoff=cutoff)


def _derive_generic(base: type, model: str) -> type:
    template = _metadata_of(base, "")
    meta = template.replace(name=model, wire_name=None, aliases=())
    return type(base.__name__, (base,), {"metadata": meta, "__module__": base.__module__})


def _metadata_of(model_cls: Any, source: str) -> ModelMetadata:
    meta = getattr(model_cls, "metadata", None) if isinstance(model_cls, type) else None
    if not isinstance(meta, ModelMetadata):
        raise ConfigurationError(
            f"plugin {source!r} registered {model_cls!r} as a model: expected a class with "
            "'metadata: ClassVar[ModelMetadata]'"
        )
    return meta


def _as_list(result: Any, plugin: str, hook: str) -> Iterable[Any]:
    if result is None:
        return ()
    if isinstance(result, list | tuple):
        return result
    raise ConfigurationError(f"plugin {plugin!r}: {hook}() returned {type(result).__name__}, expected a list")


_default: ModelRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> ModelRegistry:
    """The registry of the process-wide plugin manager, built on first use and cached."""
    global _default
    registry = _default
    if registry is None:
        from .plugins import get_plugin_manager

        with _default_lock:
            if _default is None:
                _default = ModelRegistry.from_plugins(get_plugin_manager())
            registry = _default
    return registry


def reset_default_registry() -> None:
    """Forget the cached default registry (tests; after registering plugins at run time)."""
    global _default
    with _default_lock:
        _default = None
