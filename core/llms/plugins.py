"""The plugin manager: built-in provider plugins, entry-point discovery, and the observer relay.

Discovery
    :func:`get_plugin_manager` knows the built-in provider plugins — found, not listed: every
    package under ``core/llms/providers/`` that has a ``plugin`` module (see
    :func:`builtin_plugins`) — and loads every plugin of the ``core_llms`` entry-point group.
    Adding a provider folder with a ``plugin.py`` is all it takes; nothing lists them.

    A built-in plugin is imported (and registered, through the same hooks as any plugin) only
    when the registry first needs one of its providers: ``create_llm("openai/...")`` imports the
    OpenAI plugin and no other, which keeps a process's cold start short; anything that needs
    every provider (listing them, a bare model name, an unknown name's hints) imports them all.
    Which providers each plugin registers is known without importing it
    (:func:`core.llms.providers.builtin_provider_names`). An import error in a built-in plugin
    is a bug: it raises where the plugin is first needed. Two environment variables lock
    this down, as pytest's ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` does:

    ``CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD=1``
        no entry point is loaded (built-ins still are).
    ``CORE_LLMS_BLOCKED_PLUGINS=name1,name2``
        those plugin names (entry-point names, or a built-in's module name) are never registered.

    Before asking pluggy (which reads every installed distribution through
    ``importlib.metadata``, itself a ~10 ms import), a cheap scan of the ``entry_points.txt``
    files on ``sys.path`` checks whether any distribution declares the group at all; when none
    does, ``importlib.metadata`` is not imported. The scan answers "maybe" whenever it cannot
    tell (a zip archive on ``sys.path``, a custom distribution finder), so pluggy decides then.

Plugin modules must stay cheap to import: heavy SDKs (boto3, google-auth) load on first use.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import logging
import os
import pkgutil
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pluggy

from . import hookspecs
from .interfaces.errors import ConfigurationError, LLMError
from .interfaces.observer import AttemptInfo, CallInfo
from .interfaces.types import LLMResponse

__all__ = [
    "AUTOLOAD_ENV",
    "BLOCKED_ENV",
    "PluginManager",
    "PluginObserver",
    "build_plugin_manager",
    "builtin_plugins",
    "get_plugin_manager",
    "may_declare_entry_points",
    "reset_plugin_manager",
]

logger = logging.getLogger("core.llms.plugins")

#: the package whose sub-packages are the built-in providers.
_PROVIDERS_PACKAGE = "core.llms.providers"


@functools.cache
def builtin_plugins() -> tuple[str, ...]:
    """The built-in provider plugin modules: ``core.llms.providers.<name>.plugin`` for every
    sub-package ``<name>`` that has a ``plugin`` module, sorted by name. Found by listing the
    folders, without importing them (a provider's package may be costly to import)."""
    package = importlib.import_module(_PROVIDERS_PACKAGE)
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.ispkg:
            continue
        module = f"{_PROVIDERS_PACKAGE}.{info.name}.plugin"
        root = getattr(info.module_finder, "path", None)
        if isinstance(root, str):
            inside = pkgutil.iter_modules([os.path.join(root, info.name)])
            has_plugin = any(m.name == "plugin" for m in inside)
        else:  # a finder of another kind (a zip archive ...): ask the import system
            has_plugin = importlib.util.find_spec(module) is not None
        if has_plugin:
            found.append(module)
    return tuple(sorted(found))


def _provider_names(module_name: str) -> tuple[str, ...]:
    """The providers the built-in plugin ``core.llms.providers.<folder>.plugin`` registers."""
    from .providers import builtin_provider_names

    return builtin_provider_names(module_name.split(".")[-2])


AUTOLOAD_ENV = "CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD"
#: observers to switch on when the process's plugin manager is built (see core.llms.observability).
OBSERVABILITY_ENV = "CORE_LLMS_OBSERVABILITY"
BLOCKED_ENV = "CORE_LLMS_BLOCKED_PLUGINS"

_FALSE_VALUES = frozenset({"", "0", "false", "no", "off"})


def _autoload_disabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in _FALSE_VALUES


def _blocked_from_env() -> list[str]:
    return [name.strip() for name in os.environ.get(BLOCKED_ENV, "").split(",") if name.strip()]


class PluginManager(pluggy.PluginManager):
    """pluggy's plugin manager, also holding the built-in provider plugins not imported yet
    (:attr:`deferred`; the registry imports each with :meth:`load_deferred` when it first needs
    one of its providers)."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        #: built-in plugin module -> the providers it registers, for those not imported yet.
        self.deferred: dict[str, tuple[str, ...]] = {}
        self._loading = threading.Lock()

    def load_deferred(self, module_name: str) -> object:
        """Import the deferred built-in plugin ``module_name`` and register it (once; threads
        wait for each other); the plugin object."""
        with self._loading:
            plugin = self.get_plugin(module_name)
            if plugin is None:
                plugin = importlib.import_module(module_name)
                self.register(plugin, name=module_name)
            self.deferred.pop(module_name, None)
            return plugin


def build_plugin_manager(
    builtins: Sequence[str] | None = None,
    *,
    autoload: bool | None = None,
    blocked: Iterable[str] | None = None,
) -> PluginManager:
    """A new plugin manager (not cached): hookspecs, built-ins, then entry points.

    By default every built-in provider (:func:`builtin_plugins`) is *deferred*: known by the
    providers it registers, imported by the registry when first needed. ``builtins`` lists
    plugin modules to import and register now instead (and no other built-in).
    ``autoload`` and ``blocked`` default to what the environment variables say.
    """
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    for name in _blocked_from_env() if blocked is None else blocked:
        pm.set_blocked(name)
    for module_name in builtin_plugins() if builtins is None else builtins:
        if pm.is_blocked(module_name):
            logger.info("built-in plugin %s is blocked", module_name)
        elif builtins is None:
            pm.deferred[module_name] = _provider_names(module_name)
        else:
            pm.register(importlib.import_module(module_name), name=module_name)
    if autoload is None:
        autoload = not _autoload_disabled()
    if autoload:
        group = hookspecs.PROJECT_NAME
        count = pm.load_setuptools_entrypoints(group) if may_declare_entry_points(group) else 0
        logger.debug("loaded %d plugin(s) from entry points", count)
    else:
        logger.debug("entry-point plugin autoload is disabled (%s)", AUTOLOAD_ENV)
    return pm


def may_declare_entry_points(group: str) -> bool:
    """Could an installed distribution declare entry points in ``group``?

    Reads the ``entry_points.txt`` of every ``*.dist-info`` / ``*.egg-info`` directory on
    ``sys.path`` (what ``importlib.metadata`` reads too) and looks for the ``[group]`` header.
    False only when it is sure; True when one declares it, or when it cannot tell.
    """
    for finder in sys.meta_path:
        if finder is not importlib.machinery.PathFinder and hasattr(finder, "find_distributions"):
            return True  # a finder of its own kind may know distributions we cannot see
    header = f"[{group}]"
    for entry in sys.path:
        root = entry or "."
        try:
            names = os.listdir(root)
        except NotADirectoryError:
            return True  # a zip archive: importlib.metadata can look inside, this scan cannot
        except OSError:
            continue  # missing, or not a path at all (a path hook's marker)
        folders = [n for n in names if n.lower().endswith((".dist-info", ".egg-info"))]
        if root.lower().endswith(".egg"):
            folders.append("EGG-INFO")
        for folder in folders:
            try:
                with open(os.path.join(root, folder, "entry_points.txt"), encoding="utf-8") as file:
                    if header in file.read():
                        return True
            except (OSError, UnicodeDecodeError):
                continue
    return False


_pm: PluginManager | None = None
_pm_lock = threading.Lock()


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, built by :func:`build_plugin_manager` on first use."""
    global _pm
    pm = _pm
    if pm is None:
        with _pm_lock:
            if _pm is None:
                built = build_plugin_manager()
                if os.environ.get(OBSERVABILITY_ENV, "").strip():  # (no import otherwise)
                    from .observability import enable_from_env

                    enable_from_env(built)
                _pm = built
            pm = _pm
    return pm


def reset_plugin_manager() -> None:
    """Forget the cached plugin manager and default registry (tests; after changing the env)."""
    global _pm
    with _pm_lock:
        _pm = None
    from .registry import reset_default_registry

    reset_default_registry()


#: (plugin name, function, the positions of the hook's arguments it takes; None: all, in order)
_Impl = tuple[str, Callable[..., Any], tuple[int, ...] | None]


class PluginObserver:
    """An :class:`~core.llms.interfaces.observer.IObserver` relaying to the ``llms_on_*`` hooks.

    The hook implementations are looked up once, when the observer is made: a hook nobody
    implements costs one attribute check per call. Each implementation is called on its own, so
    one failing plugin neither breaks the call nor starves the others; its exception is logged
    and swallowed. Use :meth:`for_manager`, which returns None when no plugin observes anything.
    """

    __slots__ = ("_attempt", "_error", "_request", "_response")

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._request = _impls(pm, "llms_on_request")
        self._response = _impls(pm, "llms_on_response")
        self._error = _impls(pm, "llms_on_error")
        self._attempt = _impls(pm, "llms_on_attempt")

    @classmethod
    def for_manager(cls, pm: pluggy.PluginManager) -> PluginObserver | None:
        """An observer for ``pm``, or None when no plugin implements an observer hook."""
        observer = cls(pm)
        return observer if observer.active else None

    @property
    def active(self) -> bool:
        """Whether any plugin implements any observer hook."""
        return bool(self._request or self._response or self._error or self._attempt)

    @property
    def wants_attempts(self) -> bool:
        """Whether any plugin implements ``llms_on_attempt`` (else the connector reports none)."""
        return bool(self._attempt)

    def on_request(self, call: CallInfo) -> None:
        if self._request:
            _relay(self._request, "llms_on_request", (call,))

    def on_response(self, call: CallInfo, response: LLMResponse) -> None:
        if self._response:
            _relay(self._response, "llms_on_response", (call, response))

    def on_error(self, call: CallInfo, error: LLMError) -> None:
        if self._error:
            _relay(self._error, "llms_on_error", (call, error))

    def on_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        if self._attempt:
            _relay(self._attempt, "llms_on_attempt", (call, attempt))


def _impls(pm: pluggy.PluginManager, hook_name: str) -> tuple[_Impl, ...]:
    out: list[_Impl] = []
    caller = getattr(pm.hook, hook_name)
    spec = tuple(caller.spec.argnames) if caller.spec is not None else ()
    # pluggy calls the most recently registered implementation first; so do we.
    for impl in reversed(caller.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            raise ConfigurationError(
                f"plugin {impl.plugin_name!r} implements {hook_name} as a wrapper; "
                "observer hooks take plain implementations only"
            )
        names = tuple(impl.argnames)
        picks = None if names == spec else tuple(spec.index(n) for n in names)
        out.append((impl.plugin_name, impl.function, picks))
    return tuple(out)


def _relay(impls: tuple[_Impl, ...], hook_name: str, args: tuple[Any, ...]) -> None:
    for plugin_name, function, picks in impls:
        try:
            if picks is None:
                function(*args)
            else:
                function(*[args[i] for i in picks])
        except Exception:
            logger.exception("observer plugin %r failed in %s; ignored", plugin_name, hook_name)
