"""ModelRegistry.resolve: qualified names, aliases, bare names, generic models, unknown names."""

from __future__ import annotations

import pytest

from core.llms.interfaces.errors import ConfigurationError, UnknownModelError
from core.llms.registry import ModelRegistry

from .support import (
    ACME,
    LOCAL,
    ZURE,
    AcmeOne,
    AcmeShared,
    AcmeTwo,
    EchoLLM,
    LocalTiny,
    ZureMini,
    make_registry,
)


@pytest.fixture
def registry() -> ModelRegistry:
    return make_registry()


def test_qualified_name(registry: ModelRegistry) -> None:
    assert registry.resolve("acme/acme-1") == (ACME, AcmeOne)
    assert registry.resolve("zure/zpt-mini") == (ZURE, ZureMini)


def test_alias_qualified_and_bare(registry: ModelRegistry) -> None:
    assert registry.resolve("acme/acme-latest") == (ACME, AcmeOne)
    assert registry.resolve("acme-latest") == (ACME, AcmeOne)
    assert registry.resolve("zpt-mini-2025") == (ZURE, ZureMini)


def test_bare_name_unique_to_one_provider(registry: ModelRegistry) -> None:
    assert registry.resolve("acme-2") == (ACME, AcmeTwo)
    assert registry.resolve("tiny") == (LOCAL, LocalTiny)


def test_bare_name_ambiguous_lists_qualified_candidates(registry: ModelRegistry) -> None:
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("shared-model")
    text = str(info.value)
    assert "ambiguous" in text
    assert "acme/shared-model" in text and "zure/shared-model" in text
    # the qualified names still resolve
    assert registry.resolve("acme/shared-model") == (ACME, AcmeShared)


def test_unknown_model_of_known_provider_suggests_and_lists(registry: ModelRegistry) -> None:
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("acme/acme-3")
    text = str(info.value)
    assert "unknown model 'acme/acme-3'" in text
    assert "did you mean" in text and "acme/acme-1" in text
    assert "models of acme: acme-1, acme-2, acme-latest, shared-model" in text
    assert isinstance(info.value, ConfigurationError)


def test_unknown_provider_suggests_close_provider(registry: ModelRegistry) -> None:
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("acne/acme-1")
    text = str(info.value)
    assert "unknown provider 'acne'" in text
    assert "did you mean acme?" in text
    assert "registered providers: acme, local, zure" in text


def test_unknown_bare_name_suggests_qualified_names(registry: ModelRegistry) -> None:
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("zpt-mni")
    text = str(info.value)
    assert "did you mean zure/zpt-mini" in text
    assert "providers: acme, local, zure" in text


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_name(registry: ModelRegistry, bad: str) -> None:
    with pytest.raises(UnknownModelError, match="non-empty"):
        registry.resolve(bad)


def test_generic_model_serves_any_name_of_its_provider(registry: ModelRegistry) -> None:
    spec, cls = registry.resolve("local/some-model:7b")
    assert spec is LOCAL
    assert issubclass(cls, EchoLLM) and cls is not EchoLLM
    meta = cls.metadata  # type: ignore[attr-defined]
    assert meta.name == "some-model:7b" and meta.qualified_name == "local/some-model:7b"
    assert meta.aliases == () and meta.wire_name is None
    # cached per name: the same class each time; other names get their own class
    assert registry.resolve("local/some-model:7b")[1] is cls
    assert registry.resolve("local/other")[1] is not cls
    # catalogue models still win over the generic class
    assert registry.resolve("local/tiny") == (LOCAL, LocalTiny)


def test_generic_model_names_may_contain_slashes(registry: ModelRegistry) -> None:
    _, cls = registry.resolve("local/hf.co/org/model:Q4")
    assert cls.metadata.name == "hf.co/org/model:Q4"  # type: ignore[attr-defined]


def test_generic_model_not_reachable_by_bare_name(registry: ModelRegistry) -> None:
    with pytest.raises(UnknownModelError):
        registry.resolve("some-model:7b")


def test_generic_template_does_not_change(registry: ModelRegistry) -> None:
    registry.resolve("local/x")
    assert LOCAL.generic is not None and LOCAL.generic.name == "*"


def test_models_and_metadata(registry: ModelRegistry) -> None:
    names = [m.qualified_name for m in registry.models()]
    assert names == sorted(names)
    assert "acme/acme-1" in names and "local/tiny" in names
    assert "local/*" not in names  # the generic template is not a catalogue entry
    assert [m.name for m in registry.models("zure")] == ["shared-model", "zpt-mini"]
    assert registry.metadata("acme-latest").qualified_name == "acme/acme-1"
    with pytest.raises(UnknownModelError, match="unknown provider 'nope'"):
        registry.models("nope")


def test_providers_and_contains(registry: ModelRegistry) -> None:
    assert [p.name for p in registry.providers()] == ["acme", "local", "zure"]
    assert registry.provider("zure") is ZURE
    assert "acme/acme-1" in registry and "local/anything" in registry
    assert "nope/x" not in registry and 42 not in registry
