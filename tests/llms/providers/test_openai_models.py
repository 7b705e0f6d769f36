"""The OpenAI and Azure catalogues, model classes and plugin hooks."""

from __future__ import annotations

import pluggy
import pytest
from openai_testkit import ScriptedConnector

from core.llms import hookspecs
from core.llms.interfaces import ILLM
from core.llms.interfaces.metadata import ModelMetadata
from core.llms.providers.azure import AZURE_MODELS, AzureAdapter, AzureChatModel, AzureO4Mini
from core.llms.providers.azure import plugin as azure_plugin
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.openai import (
    OPENAI_CATALOGUE,
    OPENAI_MODELS,
    GPT4o,
    GPT41Mini,
    OpenAIAdapter,
    OpenAIChatModel,
    azure_metadata,
)
from core.llms.providers.openai import plugin as openai_plugin
from core.llms.registry import ModelRegistry, ProviderSpec

# name: context window, max output, (input, cached input, output) USD per 1M tokens, reasoning
PUBLISHED = {
    "gpt-4.1": (1_047_576, 32_768, (2.00, 0.50, 8.00), False),
    "gpt-4.1-mini": (1_047_576, 32_768, (0.40, 0.10, 1.60), False),
    "gpt-4.1-nano": (1_047_576, 32_768, (0.10, 0.025, 0.40), False),
    "gpt-4o": (128_000, 16_384, (2.50, 1.25, 10.00), False),
    "gpt-4o-mini": (128_000, 16_384, (0.15, 0.075, 0.60), False),
    "o4-mini": (200_000, 100_000, (1.10, 0.275, 4.40), True),
    "o3": (200_000, 100_000, (2.00, 0.50, 8.00), True),
    "gpt-5": (400_000, 128_000, (1.25, 0.125, 10.00), True),
    "gpt-5-mini": (400_000, 128_000, (0.25, 0.025, 2.00), True),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_catalogue_figures(name: str) -> None:
    context, max_output, prices, reasoning = PUBLISHED[name]
    meta = OPENAI_CATALOGUE[name]
    assert (meta.context_window, meta.max_output_tokens) == (context, max_output)
    p = meta.pricing
    assert (p.input_per_1m, p.cached_input_per_1m, p.output_per_1m) == prices
    assert meta.capabilities.reasoning is reasoning
    assert meta.capabilities.tools and meta.capabilities.parallel_tools and meta.capabilities.json_schema
    assert meta.input_media == {"text", "image", "pdf"} and meta.output_media == {"text"}
    rules = meta.parameters
    if reasoning:
        assert rules.max_tokens_param == "max_completion_tokens"
        assert {"temperature", "top_p"} <= rules.unsupported
        assert "reasoning_effort" in rules.extra_allowed
    else:
        assert rules.max_tokens_param == "max_tokens" and not rules.unsupported


def test_model_classes_are_data() -> None:
    assert sorted(cls.metadata.name for cls in OPENAI_MODELS) == sorted(PUBLISHED)
    assert sorted(cls.metadata.name for cls in AZURE_MODELS) == sorted(PUBLISHED)
    for cls in OPENAI_MODELS:
        assert issubclass(cls, OpenAIChatModel) and issubclass(cls, BaseLLM)
        assert cls.metadata.provider == "openai"
        assert {k for k in vars(cls) if not k.startswith("_")} == {"metadata"}
        assert isinstance(cls(ScriptedConnector()), ILLM)
    for cls in AZURE_MODELS:
        assert issubclass(cls, AzureChatModel) and issubclass(cls, OpenAIChatModel)
        assert cls.metadata == OPENAI_CATALOGUE[cls.metadata.name].replace(**{"provider": "azure"})
        assert isinstance(cls(ScriptedConnector()), ILLM)


def test_azure_metadata_reuses_the_catalogue() -> None:
    meta = azure_metadata("o4-mini")
    assert isinstance(meta, ModelMetadata)
    assert (meta.provider, meta.qualified_name) == ("azure", "azure/o4-mini")
    assert meta.pricing == OPENAI_CATALOGUE["o4-mini"].pricing
    assert OPENAI_CATALOGUE["o4-mini"].provider == "openai"


def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(openai_plugin)
    pm.register(azure_plugin)
    return pm


def test_plugin_hooks_register_providers_and_models() -> None:
    pm = plugin_manager()
    specs = {spec.name: spec for batch in pm.hook.llms_register_providers() for spec in batch}
    assert set(specs) == {"openai", "azure"}
    openai, azure = specs["openai"], specs["azure"]
    assert isinstance(openai, ProviderSpec)
    assert isinstance(openai.adapter_factory(), OpenAIAdapter)
    assert (openai.default_endpoint, openai.api_key_env) == ("https://api.openai.com/v1", ("OPENAI_API_KEY",))
    assert isinstance(azure.adapter_factory(), AzureAdapter)
    assert azure.default_endpoint is None
    assert azure.required_fields == ("deployment_name", "api_version")
    assert azure.field_env["deployment_name"] == ("AZURE_OPENAI_DEPLOYMENT",)
    assert azure.field_env["api_version"][0] == "OPENAI_API_VERSION"
    models = [cls for batch in pm.hook.llms_register_models() for cls in batch]
    assert len(models) == len(OPENAI_MODELS) + len(AZURE_MODELS)


def test_registry_resolves_both_providers() -> None:
    registry = ModelRegistry.from_plugins(plugin_manager())
    spec, cls = registry.resolve("openai/gpt-4.1-mini")
    assert spec.name == "openai" and cls is GPT41Mini
    spec, cls = registry.resolve("azure/o4-mini")
    assert spec.name == "azure" and cls is AzureO4Mini
    assert registry.resolve("openai/gpt-4o-2024-08-06")[1] is GPT4o
