"""Which providers and models exist: the :class:`ModelRegistry`, built from the plugins' hooks.

Names
    A model is addressed as ``"provider/model"`` (its *qualified name*), as
    ``"provider/alias"`` for any of its metadata aliases, or by the bare ``"model"`` / ``"alias"``
    when exactly one provider has it. Only the first ``/`` separates the provider, so model names
    may themselves contain ``/`` (``"ollama/hf.co/org/model:Q4"``, ``"together/meta-llama/…"``).

Rows
    A provider profile carries its catalogue as rows (:class:`ModelMetadata`, or
    :class:`ModelRow` naming another class); plugins may add rows through
    ``llms_register_models``. The registry makes one class per row: a subclass of the row's class
    (the provider's wire dialect by default) whose ``metadata`` is the row. A hand-written model
    class (for behaviour that differs) is registered as it is.

Built-in providers, loaded when needed
    A plugin manager from :func:`~core.llms.plugins.build_plugin_manager` defers the built-in
    provider plugins: the registry imports one the first time one of its providers is needed
    (``resolve("anthropic/...")``, ``provider("anthropic")``, a plugin registering rows for it or
    a provider of the same name) and every one of them for what needs them all (``providers()``,
    ``models()``, a bare model name, the hints of an unknown name). What is registered, and
    every error, is the same as if they had all been imported first.

Open model names
    A name the catalogue does not have is still served when the provider has a ``generic``
    template: ``openai/<any name>``, ``azure/<deployment>``, ``<host>/<any name>``, fine-tunes
    (``ft:gpt-4o-mini:org::id``). A name that starts with a catalogue model's name or alias
    (``gpt-4o-2024-11-20``, ``ft:gpt-4o-mini:…``, ``o3-pro``) takes that model's metadata — limits,
    capabilities, parameter rules — without its price; any other takes the template. The name is
    sent as given. Such a model has no price, so ``response.cost`` is None; a warning is logged
    once per name. Derived classes are cached, so ``resolve`` returns the same class each time.
    Open names are reached only through a qualified name, never a bare one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .interfaces.errors import ConfigurationError, UnknownModelError
from .interfaces.metadata import ModelMetadata, Pricing
from .interfaces.provider import ModelRow, ProviderProfile

if TYPE_CHECKING:
    import pluggy

__all__ = ["ModelRegistry", "default_registry", "reset_default_registry"]

logger = logging.getLogger("core.llms.registry")

#: Source label of providers and models registered directly (not through a plugin).
_DIRECT = "<direct>"
#: open model names whose "not in the catalogue" warning was logged (bounded).
_MAX_WARNED = 1024


class ModelRegistry:
    """Providers and model classes by name. Build one with :meth:`from_plugins`, or register
    providers and models directly (tests, embedding applications)."""

    def __init__(self, plugin_manager: pluggy.PluginManager | None = None) -> None:
        #: the plugin manager this registry was built from (its observer hooks are relayed).
        self.plugin_manager = plugin_manager
        self._providers: dict[str, ProviderProfile] = {}
        self._provider_source: dict[str, str] = {}
        # provider -> {name or alias -> model class}
        self._by_provider: dict[str, dict[str, type]] = {}
        # qualified name -> model class, and where it came from
        self._models: dict[str, type] = {}
        self._model_source: dict[str, str] = {}
        # bare name or alias -> qualified names that answer to it
        self._bare: dict[str, set[str]] = {}
        self._open_cache: dict[tuple[str, str], type] = {}
        self._lock = threading.Lock()
        #: provider -> the deferred built-in plugin module that registers it (not imported yet).
        self._pending: dict[str, str] = {}
        self._loading = threading.RLock()

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_plugins(cls, pm: pluggy.PluginManager) -> ModelRegistry:
        """A registry holding every provider (with its rows), then every model, that ``pm``'s
        plugins register.

        Plugins are read in registration order (built-ins first), so a duplicate error names the
        plugin that registered the name first and the one that tried again.
        """
        registry = cls(pm)
        deferred = getattr(pm, "deferred", None) or {}
        registry._pending = {name: module for module, names in deferred.items() for name in names}
        registry._consume(
            pm.hook.llms_register_providers.get_hookimpls(), pm.hook.llms_register_models.get_hookimpls()
        )
        logger.debug(
            "registry built: %d providers, %d models (%d deferred)",
            len(registry._providers),
            len(registry._models),
            len(registry._pending),
        )
        return registry

    def _consume(self, provider_impls: Iterable[Any], model_impls: Iterable[Any]) -> None:
        for impl in provider_impls:
            for profile in _as_list(impl.function(), impl.plugin_name, "llms_register_providers"):
                self.register_provider(profile, source=impl.plugin_name)
        for impl in model_impls:
            for item in _as_list(impl.function(), impl.plugin_name, "llms_register_models"):
                self.register_model(item, source=impl.plugin_name)

    def _load(self, provider: str) -> None:
        """Import the deferred built-in plugin that registers ``provider`` (if one does) and
        register what it registers."""
        with self._loading:
            module = self._pending.get(provider)
            if module is None:
                return
            for name in [n for n, m in self._pending.items() if m == module]:
                del self._pending[name]
            pm = self.plugin_manager
            pm.load_deferred(module)  # type: ignore[union-attr]  # (only a deferring manager has pending)
            mine = [
                [i for i in caller.get_hookimpls() if i.plugin_name == module]
                for caller in (pm.hook.llms_register_providers, pm.hook.llms_register_models)  # type: ignore[union-attr]
            ]
            self._consume(*mine)

    def _load_all(self) -> None:
        """Import every deferred built-in plugin (what needs every provider)."""
        while self._pending:
            self._load(next(iter(self._pending)))

    def register_provider(self, profile: ProviderProfile, *, source: str = _DIRECT) -> None:
        """Add a provider and its catalogue rows. Raises :class:`ConfigurationError` if its name
        is taken or a row is invalid."""
        if not isinstance(profile, ProviderProfile):
            raise ConfigurationError(
                f"plugin {source!r} registered a {type(profile).__name__} as a provider; "
                "expected a ProviderProfile"
            )
        if self._pending:
            self._load(profile.name)  # a built-in of that name registers first, as it would have
        if profile.name in self._providers:
            raise ConfigurationError(
                f"provider {profile.name!r} is registered twice: by "
                f"{self._provider_source[profile.name]!r} and by {source!r}",
                hint="uninstall or block one of the two plugins (CORE_LLMS_BLOCKED_PLUGINS)",
            )
        _check_model_class(profile.model_class, f"plugin {source!r}: provider {profile.name!r}")
        self._providers[profile.name] = profile
        self._provider_source[profile.name] = source
        self._by_provider[profile.name] = {}
        for row in profile.rows():
            self.register_model(row, source=source)

    def register_model(self, item: Any, *, source: str = _DIRECT) -> None:
        """Add a model: a :class:`ModelMetadata` row (made from its provider's dialect class), a
        :class:`ModelRow`, or a model class with ``metadata``. Its provider must be registered;
        its qualified name and aliases must be free. Raises :class:`ConfigurationError` naming
        both registrants on a clash."""
        model_cls, meta = self._row_class(item, source)
        names = self._by_provider[meta.provider]
        for key in (meta.name, *meta.aliases):
            taken = names.get(key)
            if taken is not None:
                other = taken.metadata.qualified_name  # type: ignore[attr-defined]
                raise ConfigurationError(
                    f"model name {meta.provider}/{key} is registered twice: by "
                    f"{self._model_source[other]!r} ({_label(taken)}) "
                    f"and by {source!r} ({_label(model_cls)})",
                    hint="uninstall or block one of the two plugins (CORE_LLMS_BLOCKED_PLUGINS)",
                )
        qualified = meta.qualified_name
        for key in (meta.name, *meta.aliases):
            names[key] = model_cls
            self._bare.setdefault(key, set()).add(qualified)
        self._models[qualified] = model_cls
        self._model_source[qualified] = source

    def _row_class(self, item: Any, source: str) -> tuple[type, ModelMetadata]:
        """The model class of a registered item, made from its row when it is one."""
        where = f"plugin {source!r}"
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], ModelMetadata):
            item = ModelRow(item[1], item[0])
        if isinstance(item, ModelMetadata):
            item = ModelRow(item)
        if isinstance(item, ModelRow):
            meta = item.metadata
            profile = self._profile_for(meta, where)
            base = item.model_class or profile.model_class
            _check_model_class(base, f"{where}: row {meta.qualified_name}")
            return _derive(base, meta), meta
        meta = _metadata_of(item, source)
        self._profile_for(meta, where)
        _check_model_class(item, f"{where}: model {meta.qualified_name}")
        return item, meta

    def _profile_for(self, meta: ModelMetadata, where: str) -> ProviderProfile:
        profile = self._provider_or_none(meta.provider)
        if profile is None:
            raise ConfigurationError(
                f"{where} registered model {meta.qualified_name} for unknown provider {meta.provider!r}",
                hint=f"registered providers: {', '.join(sorted(self._providers)) or 'none'}",
            )
        return profile

    # -- lookups -------------------------------------------------------------------------------

    def resolve(self, name: str) -> tuple[ProviderProfile, type]:
        """The provider profile and model class for ``name`` (qualified, alias, bare, or an open
        name of a provider that serves any model name).

        Raises :class:`UnknownModelError` listing the candidates (ambiguous bare name), or the
        available providers and the closest model names (unknown name).
        """
        if not isinstance(name, str) or not name.strip():
            what = "an empty one" if isinstance(name, str) else f"a {type(name).__name__}"
            raise UnknownModelError(f"model name must be a non-empty string, not {what}")
        provider, sep, model = name.partition("/")
        if sep and self._provider_or_none(provider) is not None:
            return self._providers[provider], self._resolve_in(provider, model, name)
        return self._resolve_bare(name, sep)

    def providers(self) -> list[ProviderProfile]:
        """Every registered provider, sorted by name."""
        self._load_all()
        return [self._providers[n] for n in sorted(self._providers)]

    def provider(self, name: str) -> ProviderProfile:
        """The profile of provider ``name``; :class:`UnknownModelError` if there is none."""
        profile = self._provider_or_none(name)
        if profile is None:
            raise UnknownModelError(f"unknown provider {name!r}", hint=self._provider_hint(name))
        return profile

    def models(self, provider: str | None = None) -> list[ModelMetadata]:
        """Metadata of every catalogue model (of ``provider`` if given), by qualified name."""
        if provider is not None:
            self.provider(provider)
            prefix = provider + "/"
            keys = [q for q in self._models if q.startswith(prefix)]
        else:
            self._load_all()
            keys = list(self._models)
        return [_metadata_of(self._models[q], "") for q in sorted(keys)]

    def qualified_names(self, name: str) -> list[str]:
        """The qualified names of every catalogue model whose bare name or alias is ``name``
        (``"claude-sonnet-4"`` → the Anthropic, Bedrock and Vertex AI rows), sorted; empty when
        none is."""
        self._load_all()
        return sorted(self._bare.get(name, ()))

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

    def _provider_or_none(self, name: str) -> ProviderProfile | None:
        """Provider ``name`` (its deferred built-in imported first), or None when none has it
        (every deferred built-in imported first: one may register it under another name)."""
        profile = self._providers.get(name)
        if profile is None and self._pending:
            self._load(name)
            profile = self._providers.get(name)
            if profile is None:
                self._load_all()
                profile = self._providers.get(name)
        return profile

    def _resolve_in(self, provider: str, model: str, full: str) -> type:
        found = self._by_provider[provider].get(model)
        if found is not None:
            return found
        profile = self._providers[provider]
        if profile.generic is not None and model.strip():
            return self._open(profile, model)
        known = sorted(self._by_provider[provider])
        close = _close_matches(model, known, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(f'{provider}/{c}' for c in close)}? " if close else ""
        hint += f"models of {provider}: {', '.join(known) or 'none'}"
        raise UnknownModelError(f"unknown model {full!r}", hint=hint)

    def _resolve_bare(self, name: str, sep: str) -> tuple[ProviderProfile, type]:
        self._load_all()
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
        self._load_all()
        close = _close_matches(provider, list(self._providers), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        return hint + f"registered providers: {', '.join(sorted(self._providers)) or 'none'}"

    def _open(self, profile: ProviderProfile, model: str) -> type:
        """The class of an open model name (see the module docstring), made once per name."""
        key = (profile.name, model)
        with self._lock:
            cls = self._open_cache.get(key)
            if cls is None:
                family = self._family_of(profile.name, model)
                template = _metadata_of(family, "") if family is not None else profile.generic
                assert template is not None  # (only called for providers with a template)
                meta = template.replace(
                    name=model,
                    wire_name=None,
                    aliases=(),
                    pricing=Pricing(),
                    description=f"{model}: not in the catalogue"
                    + (f" (limits of {template.name})" if family is not None else ""),
                )
                base = family if family is not None else profile.model_class
                cls = _make_row_class(base, meta)  # (cached here, per registry: not a catalogue row)
                self._open_cache[key] = cls
                if len(self._open_cache) <= _MAX_WARNED:
                    logger.warning(
                        "%s/%s is not in the model catalogue: %s; it has no price, so cost is None",
                        profile.name,
                        model[:200],
                        f"using the limits and rules of {template.name}"
                        if family is not None
                        else "using generic limits (the server enforces the real ones)",
                    )
        return cls

    def _family_of(self, provider: str, model: str) -> type | None:
        """The catalogue class whose name or alias is the longest prefix of ``model`` (ignoring
        a fine-tune's ``ft:`` and one of the provider's ``open_name_prefixes``), followed by ``-``,
        ``:`` or ``@``; None when there is none."""
        name = model.removeprefix("ft:")
        for prefix in self._providers[provider].open_name_prefixes:
            if prefix and name.startswith(prefix):
                name = name[len(prefix) :]
                break
        best: tuple[int, type] | None = None
        for key, cls in self._by_provider[provider].items():
            if (
                name.startswith(key)
                and name[len(key) : len(key) + 1] in ("-", ":", "@", "")
                and (best is None or len(key) > best[0])
            ):
                best = (len(key), cls)
        return best[1] if best is not None else None


def _label(model_cls: type) -> str:
    """A model class as a duplicate error names it: its class name, or the row it was made from."""
    if "__row__" in vars(model_cls):
        return f"a {model_cls.__name__} row"
    return model_cls.__name__


#: classes made from rows, by (class, id of the row): every registry makes the same class for
#: the same row (a model made by one registry is an instance of the class another resolves). The
#: row is kept with its class, so its id cannot be reused while the entry lives.
_ROW_CLASSES: dict[tuple[type, int], tuple[ModelMetadata, type]] = {}
_ROW_CLASSES_LOCK = threading.Lock()


def _derive(base: type, meta: ModelMetadata) -> type:
    """The model class for the row ``meta``: a subclass of ``base`` setting only ``metadata``
    (made once per row and class)."""
    key = (base, id(meta))
    with _ROW_CLASSES_LOCK:
        found = _ROW_CLASSES.get(key)
        if found is not None and found[0] is meta:
            return found[1]
        cls = _make_row_class(base, meta)
        _ROW_CLASSES[key] = (meta, cls)
    return cls


def _make_row_class(base: type, meta: ModelMetadata) -> type:
    return type(
        base.__name__,
        (base,),
        {
            "metadata": meta,
            "__module__": base.__module__,
            "__doc__": f"``{meta.qualified_name}``. {meta.description}",
        },
    )


def _check_model_class(cls: Any, where: str) -> None:
    if not (
        isinstance(cls, type)
        and callable(getattr(cls, "get_answer", None))
        and callable(getattr(cls, "stream_answer", None))
    ):
        raise ConfigurationError(f"{where}: {cls!r} is not a model class (get_answer and stream_answer)")


def _close_matches(word: str, candidates: list[str], n: int, cutoff: float) -> list[str]:
    """Names like ``word``, for "did you mean" hints (difflib is imported only then)."""
    from difflib import get_close_matches

    return get_close_matches(word, candidates, n=n, cutoff=cutoff)


def _metadata_of(model_cls: Any, source: str) -> ModelMetadata:
    meta = getattr(model_cls, "metadata", None) if isinstance(model_cls, type) else None
    if not isinstance(meta, ModelMetadata):
        raise ConfigurationError(
            f"plugin {source!r} registered {model_cls!r} as a model: expected a ModelMetadata row, "
            "a ModelRow, or a class with 'metadata: ClassVar[ModelMetadata]'"
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
