"""The OpenAI and Azure catalogues, the model classes the registry makes from them, and the
plugin hooks (provider profiles)."""

from __future__ import annotations

import pluggy
import pytest
from model_classes import model_class
from openai_testkit import ScriptedConnector

from core.llms import hookspecs
from core.llms.interfaces import ILLM
from core.llms.interfaces.metadata import ModelMetadata, Pricing
from core.llms.interfaces.provider import ModelRow, ProviderProfile
from core.llms.providers.azure import AzureAdapter, AzureSettings
from core.llms.providers.azure import plugin as azure_plugin
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.dialects.openai_chat import OpenAIChatModel
from core.llms.providers.openai import (
    OPENAI_CATALOGUE,
    OPENAI_MODELS,
    OpenAIAdapter,
    OpenAISettings,
    openai_metadata,
)
from core.llms.providers.openai import plugin as openai_plugin
from core.llms.providers.openai.catalogue import AZURE_MODELS, OPENAI_GENERIC, azure_metadata
from core.llms.providers.openai.model import OpenAIModel
from core.llms.registry import ModelRegistry

AzureO4Mini = model_class("azure/o4-mini")
GPT4o = model_class("openai/gpt-4o")
GPT41Mini = model_class("openai/gpt-4.1-mini")

# name: context window, max output, (input, cached input, output) USD per 1M tokens, reasoning
PUBLISHED = {
    "gpt-4.1": (1_047_576, 32_768, (2.00, 0.50, 8.00), False),
    "gpt-4.1-mini": (1_047_576, 32_768, (0.40, 0.10, 1.60), False),
    "gpt-4.1-nano": (1_047_576, 32_768, (0.10, 0.025, 0.40), False),
    "gpt-4o": (128_000, 16_384, (2.50, 1.25, 10.00), False),
    "gpt-4o-mini": (128_000, 16_384, (0.15, 0.075, 0.60), False),
    "o4-mini": (200_000, 100_000, (1.10, 0.275, 4.40), True),
    "o3": (200_000, 100_000, (2.00, 0.50, 8.00), True),
    "o3-mini": (200_000, 100_000, (1.10, 0.55, 4.40), True),
    "gpt-5": (400_000, 128_000, (1.25, 0.125, 10.00), True),
    "gpt-5-mini": (400_000, 128_000, (0.25, 0.025, 2.00), True),
    "gpt-5-nano": (400_000, 128_000, (0.05, 0.005, 0.40), True),
}
#: the media and embedding rows: name -> (output media, the unit price that bills it).
PUBLISHED_MEDIA = {
    "gpt-4o-audio-preview": ("text", ("input_per_1m", 2.50)),
    "dall-e-3": ("image", ("per_image", 0.04)),
    "gpt-image-1": ("image", ("output_per_1m", 40.00)),
    "tts-1": ("audio", ("per_1m_characters", 15.00)),
    "tts-1-hd": ("audio", ("per_1m_characters", 30.00)),
    "gpt-4o-mini-tts": ("audio", ("output_per_1m", 12.00)),
    "whisper-1": ("transcription", ("per_audio_second", 0.0001)),
    "gpt-4o-transcribe": ("transcription", ("input_per_1m", 6.00)),
    "gpt-4o-mini-transcribe": ("transcription", ("input_per_1m", 3.00)),
    "sora-2": ("video", ("per_video_second", 0.10)),
    "sora-2-pro": ("video", ("per_video_second", 0.30)),
    "text-embedding-3-small": ("embedding", ("input_per_1m", 0.02)),
    "text-embedding-3-large": ("embedding", ("input_per_1m", 0.13)),
    "text-embedding-ada-002": ("embedding", ("input_per_1m", 0.10)),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_MEDIA))
def test_media_rows(name: str) -> None:
    output, (field, price) = PUBLISHED_MEDIA[name]
    meta = OPENAI_CATALOGUE[name]
    assert output in meta.output_media and getattr(meta.pricing, field) == price
    assert meta.pricing.as_of is not None


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_catalogue_figures(name: str) -> None:
    context, max_output, prices, reasoning = PUBLISHED[name]
    meta = OPENAI_CATALOGUE[name]
    assert (meta.context_window, meta.max_output_tokens) == (context, max_output)
    p = meta.pricing
    assert (p.input_per_1m, p.cached_input_per_1m, p.output_per_1m) == prices
    assert meta.capabilities.reasoning is reasoning
    assert meta.capabilities.tools and meta.capabilities.parallel_tools and meta.capabilities.json_schema
    reads = {"text"} if name == "o3-mini" else {"text", "image", "pdf"}  # o3-mini has no vision
    assert meta.input_media == reads and meta.output_media == {"text"}
    rules = meta.parameters
    if reasoning:
        assert rules.max_tokens_param == "max_completion_tokens"
        assert {"temperature", "top_p"} <= rules.unsupported
        assert "reasoning_effort" in rules.extra_allowed
    else:
        assert rules.max_tokens_param == "max_tokens" and not rules.unsupported


def test_catalogue_rows_are_data() -> None:
    assert all(isinstance(meta, ModelMetadata) for meta in (*OPENAI_MODELS, *AZURE_MODELS))
    assert sorted(meta.name for meta in OPENAI_MODELS) == sorted({*PUBLISHED, *PUBLISHED_MEDIA})
    assert sorted(meta.name for meta in AZURE_MODELS) == sorted({*PUBLISHED, *PUBLISHED_MEDIA})
    assert tuple(OPENAI_CATALOGUE.values()) == OPENAI_MODELS
    for meta in OPENAI_MODELS:
        assert meta.provider == "openai" and openai_metadata(meta.name) is meta
    for meta in AZURE_MODELS:
        assert meta == OPENAI_CATALOGUE[meta.name].replace(**{"provider": "azure"})


def own_public_attributes(cls: type) -> set[str]:
    return {k for k in vars(cls) if not k.startswith("_")}


@pytest.mark.parametrize("provider", ["openai", "azure"])
def test_model_classes_are_made_from_the_rows(provider: str) -> None:
    rows = OPENAI_MODELS if provider == "openai" else AZURE_MODELS
    for meta in rows:
        cls = model_class(f"{provider}/{meta.name}")
        assert issubclass(cls, OpenAIChatModel) and issubclass(cls, BaseLLM)
        assert cls.__bases__ == (OpenAIModel,)
        assert own_public_attributes(cls) == {"metadata"}
        assert cls.metadata == meta and cls.metadata.provider == provider
        # the dated snapshot (alias) names the same class
        for alias in meta.aliases:
            assert model_class(f"{provider}/{alias}") is cls
        model = cls(ScriptedConnector())
        assert isinstance(model, ILLM)
        assert (model.provider, model.name) == (provider, meta.name)
    # the dialect's model class itself carries no model
    assert "metadata" not in own_public_attributes(OpenAIChatModel)
    assert "metadata" not in own_public_attributes(OpenAIModel)


def test_azure_metadata_reuses_the_catalogue() -> None:
    meta = azure_metadata("o4-mini")
    assert isinstance(meta, ModelMetadata)
    assert (meta.provider, meta.qualified_name) == ("azure", "azure/o4-mini")
    assert meta.pricing == OPENAI_CATALOGUE["o4-mini"].pricing
    assert OPENAI_CATALOGUE["o4-mini"].provider == "openai"
    assert AzureO4Mini.metadata == meta


def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(openai_plugin)
    pm.register(azure_plugin)
    return pm


def test_plugin_hooks_register_provider_profiles() -> None:
    pm = plugin_manager()
    profiles = {p.name: p for batch in pm.hook.llms_register_providers() for p in batch}
    assert set(profiles) == {"openai", "azure"}
    openai, azure = profiles["openai"], profiles["azure"]
    assert openai is openai_plugin.PROFILE and azure is azure_plugin.PROFILE
    for profile in (openai, azure):
        assert isinstance(profile, ProviderProfile)
        assert profile.model_class is OpenAIModel and profile.dialect == "openai_chat"
        assert profile.requires_api_key is True
        assert all(row.model_class is None for row in profile.rows())
    assert isinstance(openai.adapter(), OpenAIAdapter)
    assert (openai.default_endpoint, openai.api_key_env) == ("https://api.openai.com/v1", ("OPENAI_API_KEY",))
    assert openai.endpoint_env == ("OPENAI_BASE_URL",)
    assert openai.settings is OpenAISettings
    assert openai.setting_names == ("organization", "project") and openai.required_settings == ()
    assert dict(openai.settings_env) == {
        "organization": ("OPENAI_ORG_ID",),
        "project": ("OPENAI_PROJECT_ID",),
    }
    assert openai.model_setting is None
    assert openai.models == OPENAI_MODELS and openai.generic is OPENAI_GENERIC
    assert isinstance(azure.adapter(), AzureAdapter)
    assert not isinstance(azure.adapter(), OpenAIAdapter)
    assert azure.default_endpoint is None
    assert (azure.api_key_env, azure.endpoint_env) == (
        ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY"),
        ("AZURE_OPENAI_ENDPOINT",),
    )
    assert azure.settings is AzureSettings
    assert azure.required_settings == ("deployment_name",)  # no api_version: each operation's default
    assert azure.settings_env["deployment_name"] == ("AZURE_OPENAI_DEPLOYMENT",)
    assert azure.settings_env["api_version"][0] == "OPENAI_API_VERSION"
    assert azure.model_setting == "deployment_name"
    assert azure.models == AZURE_MODELS
    assert [row.metadata for row in azure.rows()] == list(AZURE_MODELS)
    assert all(isinstance(row, ModelRow) for row in azure.rows())
    # an unlisted deployment or model name is served, without a price
    for profile in (openai, azure):
        assert profile.generic is not None and profile.generic.provider == profile.name
        assert profile.generic.pricing == Pricing()
    # the catalogue travels in the profiles: neither plugin adds models through the models hook
    assert [m for batch in pm.hook.llms_register_models() for m in batch] == []
    assert len(openai.rows()) + len(azure.rows()) == len(OPENAI_MODELS) + len(AZURE_MODELS)


def test_registry_resolves_both_providers() -> None:
    registry = ModelRegistry.from_plugins(plugin_manager())
    assert [p.name for p in registry.providers()] == ["azure", "openai"]
    assert len(registry.models()) == len(OPENAI_MODELS) + len(AZURE_MODELS)
    spec, cls = registry.resolve("openai/gpt-4.1-mini")
    assert spec.name == "openai" and cls.metadata is OPENAI_CATALOGUE["gpt-4.1-mini"]
    assert own_public_attributes(cls) == own_public_attributes(GPT41Mini) == {"metadata"}
    assert registry.resolve("openai/gpt-4.1-mini")[1] is cls  # one class per row
    spec, cls = registry.resolve("azure/o4-mini")
    assert spec.name == "azure" and cls.metadata == AzureO4Mini.metadata
    assert issubclass(cls, OpenAIChatModel)
    gpt4o = registry.resolve("openai/gpt-4o")[1]
    assert registry.resolve("openai/gpt-4o-2024-08-06")[1] is gpt4o
    assert gpt4o.metadata == GPT4o.metadata
