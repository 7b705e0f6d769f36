"""The Bedrock catalogue and profile: published figures per row, names (friendly, Bedrock ids,
cross-region profile ids, ARNs), media rows, and what ``create_llm`` builds (region endpoints,
backups in other regions, settings from the environment)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from security.support import PLAIN_KEY, assert_no_key_fragment, everything_shown

from core.llms import create_llm
from core.llms.interfaces.errors import ConfigurationError, InvalidInputError
from core.llms.interfaces.metadata import ModelMetadata
from core.llms.providers.bedrock.catalogue import (
    BEDROCK_MODELS,
    CHAT_MODELS,
    MEDIA_MODELS,
    PRICES_AS_OF,
    PROFILE_ONLY,
)
from core.llms.providers.bedrock.model import BedrockModel
from core.llms.providers.bedrock.plugin import PROFILE
from core.llms.providers.bedrock.settings import BedrockSettings
from core.llms.registry import default_registry

#: Bedrock id: (friendly name, context window, max output, input / cached input / output USD per 1M)
PUBLISHED: dict[str, tuple[str, int, int, tuple[float, float | None, float]]] = {
    "anthropic.claude-sonnet-4-5-20250929-v1:0": ("claude-sonnet-4-5", 200_000, 64_000, (3.00, 0.30, 15.00)),
    "anthropic.claude-sonnet-4-20250514-v1:0": ("claude-sonnet-4", 200_000, 64_000, (3.00, 0.30, 15.00)),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": ("claude-3-7-sonnet", 200_000, 64_000, (3.00, 0.30, 15.00)),
    "anthropic.claude-haiku-4-5-20251001-v1:0": ("claude-haiku-4-5", 200_000, 64_000, (1.00, 0.10, 5.00)),
    "anthropic.claude-3-5-haiku-20241022-v1:0": ("claude-3-5-haiku", 200_000, 8_192, (0.80, 0.08, 4.00)),
    "amazon.nova-premier-v1:0": ("nova-premier", 1_000_000, 32_000, (2.50, 0.625, 12.50)),
    "amazon.nova-pro-v1:0": ("nova-pro", 300_000, 10_000, (0.80, 0.20, 3.20)),
    "amazon.nova-lite-v1:0": ("nova-lite", 300_000, 10_000, (0.06, 0.015, 0.24)),
    "amazon.nova-micro-v1:0": ("nova-micro", 128_000, 10_000, (0.035, 0.00875, 0.14)),
    "meta.llama3-3-70b-instruct-v1:0": ("llama3-3-70b", 128_000, 8_192, (0.72, None, 0.72)),
    "mistral.mistral-large-2407-v1:0": ("mistral-large", 128_000, 8_192, (3.00, None, 9.00)),
    "cohere.command-r-plus-v1:0": ("command-r-plus", 128_000, 4_096, (3.00, None, 15.00)),
    "openai.gpt-oss-120b-1:0": ("gpt-oss-120b", 128_000, 32_768, (0.15, None, 0.60)),
    "openai.gpt-oss-20b-1:0": ("gpt-oss-20b", 128_000, 32_768, (0.07, None, 0.30)),
}
REASONING = {
    "claude-sonnet-4-5",
    "claude-sonnet-4",
    "claude-3-7-sonnet",
    "claude-haiku-4-5",
    "gpt-oss-120b",
    "gpt-oss-20b",
}
#: Bedrock id: (output, price field, price)
MEDIA: dict[str, tuple[str, str, float]] = {
    "amazon.titan-embed-text-v2:0": ("embedding", "input_per_1m", 0.02),
    "cohere.embed-english-v3": ("embedding", "input_per_1m", 0.10),
    "cohere.embed-multilingual-v3": ("embedding", "input_per_1m", 0.10),
    "amazon.nova-canvas-v1:0": ("image", "per_image", 0.04),
    "amazon.titan-image-generator-v2:0": ("image", "per_image", 0.01),
    "amazon.nova-reel-v1:1": ("video", "per_video_second", 0.08),
}


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


def by_id(model_id: str) -> ModelMetadata:
    [row] = [m for m in BEDROCK_MODELS if m.model_id == model_id]
    return row


@pytest.mark.parametrize("model_id", sorted(PUBLISHED))
def test_chat_rows_match_the_published_figures(model_id: str) -> None:
    name, context, max_output, (input_price, cached, output_price) = PUBLISHED[model_id]
    row = by_id(model_id)
    assert (row.name, row.provider, row.wire_name) == (name, "bedrock", model_id)
    assert model_id in row.aliases
    assert (row.context_window, row.max_output_tokens) == (context, max_output)
    assert (row.pricing.input_per_1m, row.pricing.cached_input_per_1m, row.pricing.output_per_1m) == (
        input_price,
        cached,
        output_price,
    )
    assert row.pricing.as_of == PRICES_AS_OF and row.output_media == {"text"}
    assert row.capabilities.tools and row.capabilities.streaming
    assert row.capabilities.reasoning is (name in REASONING)
    assert row.parameters.temperature_range == (0.0, 1.0)


def test_claude_rows_take_images_and_documents() -> None:
    for row in CHAT_MODELS:
        if row.family != "claude":
            continue
        assert "pdf" in row.input_media and row.capabilities.pdf
        assert ("image" in row.input_media) is (row.name != "claude-3-5-haiku")  # 3.5 Haiku reads no images
    assert by_id("anthropic.claude-sonnet-4-20250514-v1:0").pricing.cache_write_input_per_1m == 3.75


def test_nova_micro_is_text_only_and_the_others_see() -> None:
    assert by_id("amazon.nova-micro-v1:0").input_media == {"text"}
    for model_id in ("amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-premier-v1:0"):
        assert {"text", "image", "pdf", "video"} <= by_id(model_id).input_media


@pytest.mark.parametrize("model_id", sorted(MEDIA))
def test_media_rows(model_id: str) -> None:
    output, field, price = MEDIA[model_id]
    row = by_id(model_id)
    assert row.output_media == {output} and getattr(row.pricing, field) == price
    assert row.pricing.as_of == PRICES_AS_OF and not row.capabilities.streaming


def test_every_row_is_named_once_and_dated() -> None:
    assert {m.model_id for m in BEDROCK_MODELS} == set(PUBLISHED) | set(MEDIA)
    assert len(BEDROCK_MODELS) == len(CHAT_MODELS) + len(MEDIA_MODELS) == len(PUBLISHED) + len(MEDIA)
    assert {m.model_id for m in CHAT_MODELS} >= PROFILE_ONLY
    assert all(m.pricing.as_of is not None and m.pricing.as_of <= date.today() for m in BEDROCK_MODELS)


def test_non_reasoning_models_refuse_reasoning_parameters() -> None:
    llm = create_llm("bedrock/nova-pro", region="us-east-1", api_key="k" * 20)
    with pytest.raises(InvalidInputError, match="reasoning_effort"):
        llm._merge_parameters({"reasoning_effort": "high"})
    claude = create_llm("bedrock/claude-sonnet-4", region="us-east-1", api_key="k" * 20)
    assert claude._merge_parameters({"reasoning_effort": "high"}) == {"reasoning_effort": "high"}


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["bedrock/claude-sonnet-4", "bedrock/anthropic.claude-sonnet-4-20250514-v1:0"]
)
def test_friendly_names_and_bedrock_ids_name_the_same_row(name: str) -> None:
    cls = default_registry().resolve(name)[1]
    assert issubclass(cls, BedrockModel) and cls.metadata.qualified_name == "bedrock/claude-sonnet-4"


@pytest.mark.parametrize("prefix", ["us.", "eu.", "apac.", "global."])
def test_cross_region_profile_ids_take_the_models_limits_without_a_price(prefix: str) -> None:
    name = f"{prefix}anthropic.claude-sonnet-4-5-20250929-v1:0"
    meta = default_registry().metadata(f"bedrock/{name}")
    assert meta.name == name and meta.model_id == name  # sent as given
    assert (meta.context_window, meta.max_output_tokens) == (200_000, 64_000)
    assert meta.capabilities.reasoning and "image" in meta.input_media and meta.family == "claude"
    assert not meta.pricing.known


def test_arns_and_unknown_ids_are_served_with_the_generic_template() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"
    meta = default_registry().metadata(f"bedrock/{arn}")
    assert meta.model_id == arn and not meta.pricing.known and meta.capabilities.tools


# -- the profile and create_llm ----------------------------------------------------------------------


def test_profile() -> None:
    assert PROFILE.name == "bedrock" and PROFILE.model_class is BedrockModel
    assert PROFILE.settings is BedrockSettings and PROFILE.dialect == "bedrock_converse"
    assert PROFILE.required_settings == ("region",) and not PROFILE.requires_api_key
    assert PROFILE.endpoint_settings == ("region",)
    assert PROFILE.endpoint_for({"region": "eu-west-3"}) == "https://bedrock-runtime.eu-west-3.amazonaws.com"
    assert PROFILE.endpoint_for({}) is None
    assert PROFILE.settings_env["region"] == ("AWS_REGION", "AWS_DEFAULT_REGION")
    assert PROFILE.settings_env["bedrock_api_key"] == ("AWS_BEARER_TOKEN_BEDROCK",)
    assert default_registry().provider("bedrock") is PROFILE


def test_region_picks_the_endpoint_and_backups_in_other_regions_get_theirs() -> None:
    llm = create_llm("bedrock/claude-sonnet-4", region="us-east-1", backups=[{"region": "us-west-2"}])
    primary, backup = (c.endpoint for c in llm._connector.connectors)
    assert primary.endpoint == "https://bedrock-runtime.us-east-1.amazonaws.com"
    assert backup.endpoint == "https://bedrock-runtime.us-west-2.amazonaws.com"
    assert (primary.settings.region, backup.settings.region) == ("us-east-1", "us-west-2")


def test_an_explicit_endpoint_is_inherited_by_a_backup_that_changes_only_the_region() -> None:
    llm = create_llm(
        "bedrock/nova-pro",
        region="us-east-1",
        endpoint="https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com",
        backups=[{"region": "us-west-2"}, {"region": "eu-west-1", "endpoint": "https://gw.example"}],
    )
    endpoints = [c.endpoint for c in llm._connector.connectors]
    assert [e.endpoint for e in endpoints] == [
        "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com",
        "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com",
        "https://gw.example",
    ]
    assert [e.settings.region for e in endpoints] == ["us-east-1", "us-west-2", "eu-west-1"]


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_PROFILE", "team")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "ABSK" + PLAIN_KEY)
    llm = create_llm("bedrock/nova-lite")
    [endpoint] = [c.endpoint for c in llm._connector.connectors]
    assert endpoint.endpoint == "https://bedrock-runtime.eu-central-1.amazonaws.com"
    assert endpoint.settings.profile == "team"
    assert endpoint.settings.bedrock_api_key.get_secret_value() == "ABSK" + PLAIN_KEY
    assert_no_key_fragment(repr(llm), repr(endpoint))
    monkeypatch.setenv("AWS_REGION", "ap-south-1")  # wins over AWS_DEFAULT_REGION
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:4566")
    [endpoint] = [c.endpoint for c in create_llm("bedrock/nova-lite")._connector.connectors]
    assert (endpoint.endpoint, endpoint.settings.region) == ("http://127.0.0.1:4566", "ap-south-1")


def test_a_missing_region_names_the_setting_and_its_variables() -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm("bedrock/claude-sonnet-4", aws_secret_access_key=PLAIN_KEY, aws_access_key_id="AKIA0")
    assert "bedrock/claude-sonnet-4 needs region" in info.value.message
    assert "AWS_REGION" in (info.value.hint or "") and "AWS_DEFAULT_REGION" in (info.value.hint or "")
    assert_no_key_fragment(*everything_shown(info.value))


def test_keywords_are_routed_into_the_settings_and_typos_are_caught() -> None:
    llm = create_llm(
        "bedrock/claude-sonnet-4",
        region="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/app",
        cross_region="global",
        aws_access_key_id="AKIA0",
        aws_secret_access_key=PLAIN_KEY,
    )
    settings = llm._connector.connectors[0].endpoint.settings
    assert settings.roles == ("arn:aws:iam::123456789012:role/app",) and settings.cross_region == "global"
    with pytest.raises(ConfigurationError, match="did you mean region"):
        create_llm("bedrock/claude-sonnet-4", regoin="us-east-1")
