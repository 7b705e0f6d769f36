"""The plugin manager: built-ins, entry-point autoload, the autoload switch and blocking.

Entry points come from a fake distribution written into ``tmp_path`` (a ``.dist-info`` folder on
``sys.path``), so these tests do not depend on what is installed.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.llms.plugins import build_plugin_manager, builtin_plugins, get_plugin_manager, reset_plugin_manager
from core.llms.registry import ModelRegistry, default_registry

PLUGIN_SOURCE = """
from core.llms.hookspecs import hookimpl
from core.llms.interfaces.metadata import ModelMetadata
from core.llms.interfaces.provider import ProviderProfile

from plugins.support import EchoLLM, FakeAdapter


@hookimpl
def llms_register_providers():
    return [
        ProviderProfile(
            name="{provider}",
            adapter=lambda: FakeAdapter("{provider}"),
            model_class=EchoLLM,
            models=(ModelMetadata(name="{model}", provider="{provider}"),),
        )
    ]
"""


def write_plugin_module(root: Path, module: str, provider: str, model: str) -> None:
    (root / f"{module}.py").write_text(PLUGIN_SOURCE.format(provider=provider, model=model))


@pytest.fixture(autouse=True)
def _forget_written_modules() -> Iterator[None]:
    """Modules written into tmp_path are imported fresh by each test and forgotten after it."""
    yield
    for name in ("fake_llm_plugin_mod", "builtin_one_mod", "builtin_two_mod", "broken_builtin_mod"):
        sys.modules.pop(name, None)


def write_distribution(root: Path, dist: str, entry_name: str, module: str) -> None:
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[core_llms]\n{entry_name} = {module}\n")


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A distribution ``fake-llm-plugin`` with entry point ``fakeplug`` → provider ``fakeprov``."""
    write_plugin_module(tmp_path, "fake_llm_plugin_mod", "fakeprov", "fake-1")
    write_distribution(tmp_path, "fake_llm_plugin", "fakeplug", "fake_llm_plugin_mod")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fakeplug"


def test_builtins_are_found_not_listed() -> None:
    """Every provider folder with a plugin module is a built-in; nothing lists them."""
    import core.llms.providers as providers

    root = Path(providers.__file__).parent
    folders = sorted(p.parent.name for p in root.glob("*/plugin.py"))
    assert builtin_plugins() == tuple(f"core.llms.providers.{name}.plugin" for name in folders)
    assert {"openai", "azure", "openai_compatible"} <= set(folders)
    assert "dialects" not in folders and "base" not in folders


def test_a_new_provider_folder_is_a_builtin_with_no_edit_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder ``providers/<name>/`` with ``plugin.py`` is found and registered as it is."""
    import core.llms.providers as providers

    extra = tmp_path / "core" / "llms" / "providers"
    (extra / "acmeco").mkdir(parents=True)
    (extra / "acmeco" / "__init__.py").write_text("")
    (extra / "acmeco" / "plugin.py").write_text(PLUGIN_SOURCE.format(provider="acmeco", model="acme-x"))
    monkeypatch.setattr(providers, "__path__", [*providers.__path__, str(extra)])
    builtin_plugins.cache_clear()
    try:
        assert "core.llms.providers.acmeco.plugin" in builtin_plugins()
        registry = ModelRegistry.from_plugins(build_plugin_manager(autoload=False, blocked=()))
        assert registry.resolve("acmeco/acme-x")[0].name == "acmeco"
    finally:
        builtin_plugins.cache_clear()
        sys.modules.pop("core.llms.providers.acmeco.plugin", None)
        sys.modules.pop("core.llms.providers.acmeco", None)


def test_entry_points_are_loaded(fake_dist: str) -> None:
    pm = build_plugin_manager(builtins=())
    assert pm.get_plugin(fake_dist) is not None
    assert ModelRegistry.from_plugins(pm).resolve("fakeprov/fake-1")[0].name == "fakeprov"


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_autoload_switch_off(fake_dist: str, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD", value)
    pm = build_plugin_manager(builtins=())
    assert pm.get_plugin(fake_dist) is None
    assert pm.list_name_plugin() == []


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off"])
def test_autoload_switch_values_that_keep_autoload(
    fake_dist: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD", value)
    assert build_plugin_manager(builtins=()).get_plugin(fake_dist) is not None


def test_explicit_autoload_argument_wins_over_env(fake_dist: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert build_plugin_manager(builtins=(), autoload=True).get_plugin(fake_dist) is not None
    monkeypatch.delenv("CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD")
    assert build_plugin_manager(builtins=(), autoload=False).get_plugin(fake_dist) is None


def test_blocked_entry_point(fake_dist: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORE_LLMS_BLOCKED_PLUGINS", f" other , {fake_dist} ")
    pm = build_plugin_manager(builtins=())
    assert pm.get_plugin(fake_dist) is None
    assert pm.is_blocked(fake_dist) and pm.is_blocked("other")
    assert "fakeprov" not in {p.name for p in ModelRegistry.from_plugins(pm).providers()}


def test_builtin_modules_are_registered_and_can_be_blocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_plugin_module(tmp_path, "builtin_one_mod", "one", "one-1")
    write_plugin_module(tmp_path, "builtin_two_mod", "two", "two-1")
    monkeypatch.syspath_prepend(str(tmp_path))
    builtins = ("builtin_one_mod", "builtin_two_mod")
    pm = build_plugin_manager(builtins, autoload=False)
    assert [name for name, plugin in pm.list_name_plugin() if plugin is not None] == list(builtins)
    monkeypatch.setenv("CORE_LLMS_BLOCKED_PLUGINS", "builtin_two_mod")
    pm = build_plugin_manager(builtins, autoload=False)
    assert [name for name, plugin in pm.list_name_plugin() if plugin is not None] == ["builtin_one_mod"]
    assert pm.is_blocked("builtin_two_mod")


def test_missing_builtin_module_raises() -> None:
    with pytest.raises(ModuleNotFoundError):
        build_plugin_manager(("core_llms_no_such_plugin_module",), autoload=False)


def test_broken_builtin_module_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_builtin_mod.py").write_text("import core_llms_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="core_llms_missing_dependency"):
        build_plugin_manager(("broken_builtin_mod",), autoload=False)


def test_get_plugin_manager_is_cached_and_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []

    def fake_build() -> object:
        built.append(object())
        return built[-1]

    monkeypatch.setattr("core.llms.plugins.build_plugin_manager", fake_build)
    first = get_plugin_manager()
    assert get_plugin_manager() is first and len(built) == 1
    reset_plugin_manager()
    assert get_plugin_manager() is not first and len(built) == 2


def test_default_registry_is_cached_and_rebuilt_after_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    from .support import AcmePlugin, make_pm

    monkeypatch.setattr("core.llms.plugins.build_plugin_manager", lambda: make_pm(("acme", AcmePlugin())))
    registry = default_registry()
    assert default_registry() is registry
    assert registry.resolve("acme-1")[0].name == "acme"
    reset_plugin_manager()
    assert default_registry() is not registry


def test_hookimpl_marker_importable_from_hookspecs() -> None:
    from core.llms.hookspecs import PROJECT_NAME, hookimpl, hookspec

    assert PROJECT_NAME == "core_llms"
    assert hookimpl.project_name == hookspec.project_name == "core_llms"


def test_plugin_source_template_is_valid_python() -> None:
    compile(textwrap.dedent(PLUGIN_SOURCE.format(cls="M", provider="p", model="m")), "<plugin>", "exec")
