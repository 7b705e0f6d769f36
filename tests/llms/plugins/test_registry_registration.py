"""Registering providers and models: validation and duplicate errors naming both plugins."""

from __future__ import annotations

import pytest

from core.llms.hookspecs import hookimpl
from core.llms.interfaces.errors import ConfigurationError
from core.llms.interfaces.metadata import ModelMetadata
from core.llms.interfaces.provider import ProviderProfile
from core.llms.registry import ModelRegistry

from .support import ACME, AcmeOne, EchoLLM, FakeAdapter, make_pm, make_registry, model_class


class _Provides:
    def __init__(self, specs: list[object]) -> None:
        self._specs = specs

    @hookimpl
    def llms_register_providers(self) -> list[object]:
        return self._specs


class _Models:
    def __init__(self, models: list[object]) -> None:
        self._models = models

    @hookimpl
    def llms_register_models(self) -> list[object]:
        return self._models


def test_duplicate_provider_names_both_plugins() -> None:
    again = ProviderProfile(name="acme", adapter=lambda: FakeAdapter("acme"), model_class=EchoLLM)
    with pytest.raises(ConfigurationError) as info:
        make_registry(("evil-plugin", _Provides([again])))
    text = str(info.value)
    assert "provider 'acme' is registered twice" in text
    assert "'acme-plugin'" in text and "'evil-plugin'" in text
    assert "CORE_LLMS_BLOCKED_PLUGINS" in text


def test_duplicate_model_name_names_both_plugins_and_classes() -> None:
    Impostor = model_class("acme", "acme-1", cls_name="Impostor")
    with pytest.raises(ConfigurationError) as info:
        make_registry(("late-plugin", _Models([Impostor])))
    text = str(info.value)
    assert "acme/acme-1 is registered twice" in text
    assert "'acme-plugin' (AcmeOne)" in text and "'late-plugin' (Impostor)" in text


def test_alias_clashing_with_a_name_is_a_duplicate() -> None:
    Clash = model_class("acme", "acme-9", "acme-2", cls_name="Clash")
    with pytest.raises(ConfigurationError, match="acme/acme-2 is registered twice"):
        make_registry(("late-plugin", _Models([Clash])))


def test_model_for_unknown_provider() -> None:
    Orphan = model_class("ghost", "g-1", cls_name="Orphan")
    with pytest.raises(ConfigurationError) as info:
        make_registry(("orphan-plugin", _Models([Orphan])))
    text = str(info.value)
    assert "unknown provider 'ghost'" in text and "'orphan-plugin'" in text and "acme" in text


def test_model_provider_may_come_from_a_later_plugin() -> None:
    """All providers are registered before any model, whatever the plugin order."""
    Early = model_class("late", "l-1", cls_name="Early")
    late = ProviderProfile(name="late", adapter=lambda: FakeAdapter("late"), model_class=EchoLLM)
    registry = ModelRegistry.from_plugins(
        make_pm(("models-first", _Models([Early])), ("provider", _Provides([late])))
    )
    assert registry.resolve("late/l-1")[1] is Early


@pytest.mark.parametrize("bad", [object(), int, type("NoMeta", (), {}), type("BadMeta", (), {"metadata": 1})])
def test_model_without_metadata_is_rejected(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="metadata: ClassVar\\[ModelMetadata\\]"):
        make_registry(("bad-plugin", _Models([bad])))


def test_provider_that_is_not_a_spec() -> None:
    with pytest.raises(ConfigurationError, match="expected a ProviderProfile"):
        ModelRegistry.from_plugins(make_pm(("bad", _Provides([{"name": "x"}]))))


@pytest.mark.parametrize("name", ["", "a/b"])
def test_bad_provider_name(name: str) -> None:
    with pytest.raises(ConfigurationError, match="without '/'"):
        ProviderProfile(name=name, adapter=lambda: FakeAdapter(name), model_class=EchoLLM)


def test_generic_model_must_belong_to_its_provider() -> None:
    with pytest.raises(ConfigurationError, match=r"generic metadata names provider 'local'"):
        ProviderProfile(
            name="other",
            adapter=lambda: FakeAdapter("other"),
            model_class=EchoLLM,
            generic=ModelMetadata(name="*", provider="local"),
        )


def test_hook_returning_a_non_list() -> None:
    class Weird:
        @hookimpl
        def llms_register_models(self) -> object:
            return AcmeOne

    with pytest.raises(ConfigurationError, match="returned ABCMeta, expected a list"):
        make_registry(("weird", Weird()))


def test_direct_registration() -> None:
    registry = ModelRegistry()
    registry.register_provider(ACME)
    registry.register_model(AcmeOne)
    assert registry.resolve("acme-1") == (ACME, AcmeOne)
    assert registry.plugin_manager is None
    with pytest.raises(ConfigurationError, match="'<direct>' \\(AcmeOne\\)"):
        registry.register_model(AcmeOne)
