"""ModelMetadata and its parts are frozen, keyword-only dataclasses that check their fields."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from core.llms.interfaces.errors import ConfigurationError
from core.llms.interfaces.metadata import Capabilities, ModelMetadata, ParameterRules, Pricing
from core.llms.interfaces.types import Usage
from core.llms.providers.openai.catalogue import OPENAI_CATALOGUE, azure_metadata

META = ModelMetadata(
    name="m", provider="p", aliases=("m-1",), pricing=Pricing(input_per_1m=2, output_per_1m=8)
)


def test_frozen_slotted_and_keyword_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        META.name = "other"  # type: ignore[misc]
    assert not hasattr(META, "__dict__")
    with pytest.raises(TypeError):
        ModelMetadata("m", "p")  # type: ignore[misc]
    with pytest.raises(TypeError):
        Capabilities(True)  # type: ignore[misc]


def test_values_are_normalised() -> None:
    meta = ModelMetadata(
        name="m",
        provider="p",
        aliases=["a", "b"],  # type: ignore[arg-type]
        input_media={"text", "image"},  # type: ignore[arg-type]
        deprecation_date="2026-01-31",  # type: ignore[arg-type]
    )
    assert meta.aliases == ("a", "b")
    assert meta.input_media == frozenset({"text", "image"}) and isinstance(meta.input_media, frozenset)
    assert meta.deprecation_date == date(2026, 1, 31)
    assert META.pricing.input_per_1m == 2.0 and isinstance(META.pricing.input_per_1m, float)
    rules = ParameterRules(unsupported=["top_p"], temperature_range=[0, 1])  # type: ignore[arg-type]
    assert rules.unsupported == frozenset({"top_p"}) and rules.temperature_range == (0.0, 1.0)


def test_defaults_are_not_shared() -> None:
    a, b = ModelMetadata(name="a", provider="p"), ModelMetadata(name="b", provider="p")
    assert a.parameters == b.parameters
    a.parameters.defaults["temperature"] = 0.1
    assert b.parameters.defaults == {}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"context_window": "128k"}, "ModelMetadata.context_window must be an integer, not str"),
        ({"context_window": 0}, "ModelMetadata.context_window must be >= 1"),
        ({"max_output_tokens": True}, "ModelMetadata.max_output_tokens must be an integer, not bool"),
        ({"input_media": frozenset({"smell"})}, "ModelMetadata.input_media may hold only"),
        ({"aliases": "gpt"}, "ModelMetadata.aliases must be a tuple of strings, not str"),
        ({"capabilities": {"tools": True}}, "ModelMetadata.capabilities must be a Capabilities"),
        ({"deprecation_date": "soon"}, "ModelMetadata.deprecation_date must be a date"),
        ({"name": ""}, "must not be empty"),
    ],
)
def test_bad_metadata_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        ModelMetadata(**{"name": "m", "provider": "p", **kwargs})


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Capabilities(tools="yes"), "Capabilities.tools must be True or False, not str"),  # type: ignore[arg-type]
        (lambda: Pricing(output_per_1m=-1), "Pricing.output_per_1m must be >= 0"),
        (lambda: Pricing(per_image="1"), "Pricing.per_image must be a number, not str"),  # type: ignore[arg-type]
        (lambda: ParameterRules(temperature_range=(2.0, 1.0)), "low <= high"),
        (lambda: ParameterRules(defaults=[]), "ParameterRules.defaults must be a mapping"),  # type: ignore[arg-type]
    ],
)
def test_bad_parts_name_the_field(build: Any, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        build()


def test_errors_never_quote_the_value() -> None:
    canary = "sk-canary-in-the-wrong-field-1234"
    with pytest.raises(ConfigurationError) as info:
        ModelMetadata(name="m", provider="p", context_window=canary)  # type: ignore[arg-type]
    assert canary not in str(info.value) and canary not in repr(info.value)


def test_from_mapping_builds_nested_parts_and_rejects_unknown_fields() -> None:
    meta = ModelMetadata.from_mapping(
        {"name": "m", "provider": "p", "capabilities": {"tools": True}, "pricing": {"input_per_1m": 1}}
    )
    assert meta.capabilities == Capabilities(tools=True) and meta.pricing.input_per_1m == 1.0
    with pytest.raises(ConfigurationError, match=r"unknown ModelMetadata field\(s\) \['context'\]") as info:
        ModelMetadata.from_mapping({"name": "m", "provider": "p", "context": 1})
    assert "context_window" in str(info.value)  # the hint lists the allowed fields
    with pytest.raises(ConfigurationError, match=r"unknown ModelMetadata.capabilities field\(s\) \['tool'\]"):
        ModelMetadata.from_mapping({"name": "m", "provider": "p", "capabilities": {"tool": True}})
    with pytest.raises(ConfigurationError, match="ModelMetadata needs provider"):
        ModelMetadata.from_mapping({"name": "m"})
    with pytest.raises(ConfigurationError, match="must be a mapping"):
        ModelMetadata.from_mapping(["name", "m"])  # type: ignore[arg-type]


def test_replace_checks_again_and_rejects_unknown_fields() -> None:
    azure = META.replace(provider="azure")
    assert (azure.qualified_name, azure.aliases, META.provider) == ("azure/m", ("m-1",), "p")
    assert META.capabilities.replace(vision=True).vision
    with pytest.raises(ConfigurationError, match="context_window must be >= 1"):
        META.replace(context_window=0)
    with pytest.raises(ConfigurationError, match=r"unknown ModelMetadata field\(s\) \['provder'\]"):
        META.replace(provder="x")


def test_equality_and_catalogue_copies() -> None:
    assert ModelMetadata(name="m", provider="p") == ModelMetadata(name="m", provider="p")
    assert azure_metadata("gpt-4o") == OPENAI_CATALOGUE["gpt-4o"].replace(provider="azure")
    assert azure_metadata("gpt-4o") != OPENAI_CATALOGUE["gpt-4o"]


def test_cost_is_unchanged() -> None:
    pricing = Pricing(input_per_1m=2.0, cached_input_per_1m=0.5, output_per_1m=8.0)
    usage = Usage(input_tokens=1_000, output_tokens=500, cached_input_tokens=400)
    assert pricing.cost(usage) == pytest.approx((600 * 2.0 + 400 * 0.5 + 500 * 8.0) / 1e6)
    assert Pricing(input_per_1m=2.0).cost(usage) == pytest.approx(1_000 * 2.0 / 1e6)
