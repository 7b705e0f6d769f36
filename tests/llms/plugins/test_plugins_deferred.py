"""Built-in provider plugins are imported when first needed (cold start), with the same result.

A plugin manager from ``build_plugin_manager()`` knows the built-ins by the providers they
register (``core.llms.providers.builtin_provider_names``) and the registry imports one the first
time one of its providers is needed; what needs every provider imports them all. What is
registered, and every error, must be what registering them all first gives.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.llms.hookspecs import hookimpl
from core.llms.interfaces.errors import ConfigurationError, UnknownModelError
from core.llms.interfaces.metadata import ModelMetadata
from core.llms.interfaces.provider import ProviderProfile
from core.llms.plugins import PluginManager, build_plugin_manager, builtin_plugins
from core.llms.providers import builtin_provider_names
from core.llms.registry import ModelRegistry

from .support import EchoLLM, FakeAdapter

PLUGINS = "core.llms.providers.{}.plugin"


def _folder(module: str) -> str:
    return module.split(".")[-2]


def _deferred_registry(**kw: object) -> tuple[PluginManager, ModelRegistry]:
    pm = build_plugin_manager(autoload=False, **kw)  # type: ignore[arg-type]
    return pm, ModelRegistry.from_plugins(pm)


def _loaded(pm: PluginManager) -> set[str]:
    return {m for m in builtin_plugins() if pm.get_plugin(m) is not None}


@pytest.mark.parametrize("module", builtin_plugins(), ids=_folder)
def test_each_builtin_registers_exactly_the_providers_known_without_importing_it(module: str) -> None:
    plugin = importlib.import_module(module)
    registered = tuple(p.name for p in plugin.llms_register_providers())
    assert registered == builtin_provider_names(_folder(module))
    assert not hasattr(plugin, "llms_register_models")  # (rows for another provider: not deferred-safe)


def test_a_qualified_name_imports_only_its_providers_plugin() -> None:
    pm, registry = _deferred_registry()
    assert _loaded(pm) == set() and set(pm.deferred) == set(builtin_plugins())
    assert registry.resolve("anthropic/claude-sonnet-4")[0].name == "anthropic"
    assert _loaded(pm) == {PLUGINS.format("anthropic")}
    registry.resolve("groq/llama-3.3-70b-versatile")
    assert _loaded(pm) == {PLUGINS.format("anthropic"), PLUGINS.format("openai_compatible")}
    assert PLUGINS.format("anthropic") not in pm.deferred


@pytest.mark.parametrize(
    "needs_all",
    [
        lambda r: r.providers(),
        lambda r: r.models(),
        lambda r: r.qualified_names("claude-sonnet-4"),
        lambda r: "claude-sonnet-4" in r,  # a bare name (ambiguous here: every provider is asked)
    ],
    ids=["providers", "models", "qualified_names", "bare name"],
)
def test_what_needs_every_provider_imports_them_all(needs_all: object) -> None:
    pm, registry = _deferred_registry()
    needs_all(registry)  # type: ignore[operator]
    assert _loaded(pm) == set(builtin_plugins()) and not pm.deferred


def test_deferred_and_eager_registries_hold_the_same() -> None:
    _, lazy = _deferred_registry()
    eager = ModelRegistry.from_plugins(build_plugin_manager(builtin_plugins(), autoload=False))
    assert [p.name for p in lazy.providers()] == [p.name for p in eager.providers()]
    assert lazy.models() == eager.models()


def test_an_unknown_provider_still_gets_every_hint() -> None:
    pm, registry = _deferred_registry()
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("anthropc/claude-sonnet-4")
    assert "did you mean anthropic" in str(info.value.hint)
    assert not pm.deferred


class _Provides:
    def __init__(self, *profiles: ProviderProfile) -> None:
        self._profiles = list(profiles)

    @hookimpl
    def llms_register_providers(self) -> list[ProviderProfile]:
        return self._profiles


class _Rows:
    @hookimpl
    def llms_register_models(self) -> list[ModelMetadata]:
        return [ModelMetadata(name="command-extra", provider="cohere")]


def test_a_plugin_taking_a_builtins_name_is_refused_naming_the_builtin_first() -> None:
    pm = build_plugin_manager(autoload=False)
    clash = ProviderProfile(name="cohere", adapter=lambda: FakeAdapter("cohere"), model_class=EchoLLM)
    pm.register(_Provides(clash), name="evil-plugin")
    with pytest.raises(ConfigurationError) as info:
        ModelRegistry.from_plugins(pm)
    assert "'core.llms.providers.cohere.plugin' and by 'evil-plugin'" in str(info.value)


def test_rows_for_a_deferred_provider_import_it_first() -> None:
    pm = build_plugin_manager(autoload=False)
    pm.register(_Rows(), name="rows-plugin")
    registry = ModelRegistry.from_plugins(pm)
    assert registry.resolve("cohere/command-extra")[0].name == "cohere"
    assert _loaded(pm) == {PLUGINS.format("cohere")}


def test_two_registries_of_one_manager_share_each_import() -> None:
    pm = build_plugin_manager(autoload=False)
    first, second = ModelRegistry.from_plugins(pm), ModelRegistry.from_plugins(pm)
    first.resolve("gemini/gemini-2.5-flash")
    third = ModelRegistry.from_plugins(pm)  # built after: the plugin is a registered one now
    for registry in (second, third):
        assert registry.resolve("gemini/gemini-2.5-flash")[0].name == "gemini"
    assert _loaded(pm) == {PLUGINS.format("gemini")}


def test_threads_resolving_at_once_import_each_plugin_once() -> None:
    pm, registry = _deferred_registry()
    names = ["anthropic/claude-sonnet-4", "cohere/command-a", "gemini/gemini-2.5-flash", "groq/any-model"] * 4
    errors: list[BaseException] = []
    start = threading.Barrier(len(names))

    def resolve(name: str) -> None:
        start.wait()
        try:
            registry.resolve(name)
        except BaseException as exc:  # (collected for the assertion)
            errors.append(exc)

    threads = [threading.Thread(target=resolve, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert _loaded(pm) == {PLUGINS.format(f) for f in ("anthropic", "cohere", "gemini", "openai_compatible")}
    eager = ModelRegistry.from_plugins(build_plugin_manager(builtin_plugins(), autoload=False))
    assert [p.name for p in registry.providers()] == [p.name for p in eager.providers()]


def test_a_blocked_builtin_is_neither_deferred_nor_found() -> None:
    pm, registry = _deferred_registry(blocked=(PLUGINS.format("cohere"),))
    assert PLUGINS.format("cohere") not in pm.deferred
    with pytest.raises(UnknownModelError):
        registry.resolve("cohere/command-a")


def test_a_broken_builtin_raises_where_it_is_first_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.llms.providers as providers

    extra = tmp_path / "core" / "llms" / "providers" / "brokenco"
    extra.mkdir(parents=True)
    (extra / "__init__.py").write_text("")
    (extra / "plugin.py").write_text("import core_llms_no_such_module\n")
    monkeypatch.setattr(providers, "__path__", [*providers.__path__, str(extra.parent)])
    builtin_plugins.cache_clear()
    try:
        _, registry = _deferred_registry()  # nothing imported yet: no error
        assert registry.resolve("openai/gpt-4o-mini")[0].name == "openai"
        with pytest.raises(ImportError, match="core_llms_no_such_module"):
            registry.resolve("brokenco/x")
    finally:
        builtin_plugins.cache_clear()
        sys.modules.pop("core.llms.providers.brokenco", None)


def test_create_llm_in_a_fresh_process_imports_no_other_provider() -> None:
    """What a cold start pays: only the asked provider's plugin, package and dialect."""
    script = (
        "import json, sys\n"
        "import core.llms\n"
        "core.llms.create_llm('openai/gpt-4o-mini', endpoint='http://127.0.0.1:9/v1', api_key='k')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('core.llms.providers.'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    others = ("anthropic", "azure", "bedrock", "cohere", "gemini", "vertex")
    assert not [m for m in loaded if m.split(".")[3] in others], loaded
    assert [m for m in loaded if m.endswith(".plugin")] == [PLUGINS.format("openai")]
    assert not [m for m in loaded if m.startswith("core.llms.providers.dialects.") and "openai_chat" not in m]
