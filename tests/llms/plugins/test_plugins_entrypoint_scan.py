"""The cheap pre-scan that spares ``importlib.metadata`` when no distribution declares a plugin.

``sys.path`` and ``sys.meta_path`` are replaced by what each test builds, so nothing installed
matters; the scan must say False only when it is sure.
"""

from __future__ import annotations

import importlib.machinery
import sys
import zipfile
from pathlib import Path
from typing import Any

import pluggy
import pytest

from core.llms.plugins import build_plugin_manager, may_declare_entry_points

GROUP = "core_llms"


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as the whole ``sys.path`` (plus a missing one), standard finders only."""
    monkeypatch.setattr(sys, "path", [str(tmp_path), str(tmp_path / "missing")])
    monkeypatch.setattr(
        sys, "meta_path", [importlib.machinery.BuiltinImporter, importlib.machinery.PathFinder]
    )
    return tmp_path


def dist(root: Path, folder: str, entry_points: str | None) -> None:
    info = root / folder
    info.mkdir(parents=True)
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_nothing_installed(path: Path) -> None:
    dist(path, "plain-1.0.dist-info", None)
    dist(path, "tool-1.0.dist-info", "[console_scripts]\ntool = tool:main\n")
    assert may_declare_entry_points(GROUP) is False


@pytest.mark.parametrize("folder", ["Plug-1.0.dist-info", "plug-1.0.egg-info", "old.egg/EGG-INFO"])
def test_a_declaring_distribution_is_found(path: Path, monkeypatch: pytest.MonkeyPatch, folder: str) -> None:
    dist(path, folder, "[console_scripts]\nx = y\n\n[core_llms]\nplug = plug.plugin\n")
    if folder.startswith("old.egg"):
        monkeypatch.setattr(sys, "path", [str(path / "old.egg")])
    assert may_declare_entry_points(GROUP) is True
    assert may_declare_entry_points("other_group") is False


def test_a_zip_on_sys_path_means_maybe(path: Path) -> None:
    archive = path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("mod.py", "")
    sys.path.append(str(archive))
    assert may_declare_entry_points(GROUP) is True


def test_a_custom_distribution_finder_means_maybe(path: Path) -> None:
    class Finder:
        @staticmethod
        def find_distributions(*args: Any) -> list[Any]:
            return []

    sys.meta_path.append(Finder)  # type: ignore[arg-type]
    assert may_declare_entry_points(GROUP) is True


def test_pluggy_is_not_asked_when_nothing_declares_the_group(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: pluggy.PluginManager, group: str, name: str | None = None) -> int:
        raise AssertionError("load_setuptools_entrypoints called")

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", refuse)
    assert build_plugin_manager(builtins=(), autoload=True).list_name_plugin() == []
    dist(path, "plug-1.0.dist-info", "[core_llms]\nplug = plug.plugin\n")
    with pytest.raises(AssertionError, match="load_setuptools_entrypoints called"):
        build_plugin_manager(builtins=(), autoload=True)
