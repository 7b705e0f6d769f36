"""create_llm and LLMFactory with the built-in providers (openai, azure) and the default registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from plugins.support import SECRET

from core.llms.factory import LLMFactory, create_llm
from core.llms.interfaces.errors import ConfigurationError, UnknownModelError
from core.llms.providers.azure.settings import AzureSettings
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.dialects.openai_chat.model import OpenAIChatModel
from core.llms.providers.openai.settings import OpenAISettings
from core.llms.registry import default_registry

EAST = "https://east.example.azure.com"
WEST = "https://west.example.azure.com"


def endpoints(llm: BaseLLM) -> list[tuple[str, str | None, str | None]]:
    """(URL, deployment, API version) of each Azure endpoint, primary first."""
    assert isinstance(llm.connector, FailoverConnector)
    out: list[tuple[str, str | None, str | None]] = []
    for c in llm.connector.connectors:
        assert isinstance(c.endpoint.settings, AzureSettings)
        out.append(
            (c.endpoint.endpoint, c.endpoint.settings.deployment_name, c.endpoint.settings.api_version)
        )
    return out


def served(llm: BaseLLM) -> list[tuple[str, str | None, str]]:
    """(display name, model id sent, chat URL) of each endpoint, primary first."""
    assert isinstance(llm.connector, FailoverConnector)
    return [
        (c.name, c.served_model, c.adapter.url(c.endpoint, "chat", c.served_model or llm.metadata.model_id))
        for c in llm.connector.connectors
    ]


def test_openai_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-7")
    llm = create_llm("openai/gpt-4.1-mini")
    assert llm.metadata.qualified_name == "openai/gpt-4.1-mini"
    # the catalogue row's own class, made from the OpenAI Chat Completions dialect
    assert type(llm) is default_registry().resolve("openai/gpt-4.1-mini")[1]
    assert isinstance(llm, OpenAIChatModel)
    assert isinstance(llm.connector, FailoverConnector)
    [conn] = llm.connector.connectors
    assert conn.endpoint.endpoint == "https://api.openai.com/v1"
    assert conn.endpoint.settings == OpenAISettings(organization="org-7")
    assert SECRET not in repr(llm)


def test_openai_organization_keyword() -> None:
    llm = create_llm("openai/gpt-4.1-mini", api_key=SECRET, organization="org-1")
    assert isinstance(llm.connector, FailoverConnector)
    [conn] = llm.connector.connectors
    assert conn.endpoint.settings == OpenAISettings(organization="org-1")
    assert conn.endpoint.settings.project is None


def test_openai_settings_default_to_empty() -> None:
    llm = create_llm("openai/gpt-4.1-mini", api_key=SECRET)
    assert isinstance(llm.connector, FailoverConnector)
    [conn] = llm.connector.connectors
    assert conn.endpoint.settings == OpenAISettings(organization=None, project=None)


def test_openai_has_no_azure_fields() -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm("openai/gpt-4.1-mini", api_key=SECRET, deployment_name="mini")
    text = str(info.value)
    assert "unknown endpoint field(s) ['deployment_name'] for openai/gpt-4.1-mini" in text
    assert "organization" in text and "project" in text and SECRET not in text


def test_openai_needs_a_key() -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        create_llm("openai/gpt-4.1-mini")


def test_azure_with_backups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    llm = create_llm(
        "azure/gpt-4.1-mini",
        endpoint=EAST,
        deployment_name="mini",
        api_version="2024-10-21",
        backups=[{"endpoint": WEST}, {"deployment_name": "mini-2"}],
    )
    assert type(llm) is default_registry().resolve("azure/gpt-4.1-mini")[1]
    assert isinstance(llm, OpenAIChatModel)
    assert endpoints(llm) == [
        (EAST, "mini", "2024-10-21"),
        (WEST, "mini", "2024-10-21"),
        (EAST, "mini-2", "2024-10-21"),
    ]


def test_azure_backups_each_with_their_own_deployment_and_model_id() -> None:
    llm = create_llm(
        "azure/gpt-4.1-mini",
        api_key=SECRET,
        endpoint=EAST,
        deployment_name="mini-east",
        api_version="2024-10-21",
        backups=[
            {"endpoint": WEST, "deployment_name": "mini-west", "api_version": "2025-01-01-preview"},
            {"model_id": "mini-ft"},
            {"endpoint": WEST, "deployment_name": "mini-v1", "api_version": "v1"},
        ],
    )
    assert endpoints(llm) == [
        (EAST, "mini-east", "2024-10-21"),
        (WEST, "mini-west", "2025-01-01-preview"),
        (EAST, "mini-east", "2024-10-21"),
        (WEST, "mini-v1", "v1"),
    ]
    assert isinstance(llm.connector, FailoverConnector)
    assert [c.endpoint.model_id for c in llm.connector.connectors] == [None, None, "mini-ft", None]
    assert served(llm) == [
        (EAST, "mini-east", f"{EAST}/openai/deployments/mini-east/chat/completions?api-version=2024-10-21"),
        (
            WEST,
            "mini-west",
            f"{WEST}/openai/deployments/mini-west/chat/completions?api-version=2025-01-01-preview",
        ),
        (
            f"{EAST} (mini-ft)",
            "mini-ft",
            f"{EAST}/openai/deployments/mini-ft/chat/completions?api-version=2024-10-21",
        ),
        (f"{WEST} (mini-v1)", "mini-v1", f"{WEST}/openai/v1/chat/completions"),
    ]


def test_azure_deployment_defaults_to_the_model_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", EAST)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    # azure/<deployment>: the name given fills the deployment when nothing else names one
    assert endpoints(create_llm("azure/gpt-4.1-mini")) == [(EAST, "gpt-4.1-mini", "2024-10-21")]
    # a deployment outside the catalogue: generic metadata, the name is the deployment
    llm = create_llm("azure/my-team-deployment")
    assert llm.metadata.qualified_name == "azure/my-team-deployment"
    assert endpoints(llm) == [(EAST, "my-team-deployment", "2024-10-21")]
    assert served(llm)[0][2] == (
        f"{EAST}/openai/deployments/my-team-deployment/chat/completions?api-version=2024-10-21"
    )
    # backups inherit the deployment taken from the name
    llm = create_llm("azure/gpt-4.1-mini", backups=[{"endpoint": WEST}])
    assert endpoints(llm) == [(EAST, "gpt-4.1-mini", "2024-10-21"), (WEST, "gpt-4.1-mini", "2024-10-21")]


def test_azure_deployment_env_and_keyword_win_over_the_model_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", EAST)
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "2024-06-01")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "mini")
    assert endpoints(create_llm("azure/gpt-4.1-mini")) == [(EAST, "mini", "2024-06-01")]
    assert endpoints(create_llm("azure/gpt-4.1-mini", deployment_name="given")) == [
        (EAST, "given", "2024-06-01")
    ]
    # OPENAI_API_VERSION comes before AZURE_OPENAI_API_VERSION
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    assert endpoints(create_llm("azure/gpt-4.1-mini")) == [(EAST, "mini", "2024-10-21")]


def test_azure_deployment_is_the_name_given_even_when_it_is_an_alias() -> None:
    llm = create_llm("azure/gpt-4.1-2025-04-14", api_key=SECRET, endpoint=EAST, api_version="2024-10-21")
    assert endpoints(llm) == [(EAST, "gpt-4.1-2025-04-14", "2024-10-21")]


def test_azure_without_api_version_uses_each_operations_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", EAST)
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "mini")
    monkeypatch.delenv("OPENAI_API_VERSION", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_VERSION", raising=False)
    # no api_version and no environment variable: each operation's default (chat: 2024-10-21)
    assert endpoints(create_llm("azure/gpt-4.1-mini")) == [(EAST, "mini", None)]
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    assert endpoints(create_llm("azure/gpt-4.1-mini")) == [(EAST, "mini", "2024-10-21")]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"deployment_name": 3},
            "invalid settings of azure/gpt-4.1-mini: AzureSettings.deployment_name must be a string, not int",
        ),
        (
            {"api_version": " "},
            "invalid settings of azure/gpt-4.1-mini: AzureSettings.api_version must not be empty",
        ),
        (
            {"backups": [{"deployment_name": None}]},
            "invalid backups[0] of azure/gpt-4.1-mini: AzureSettings.deployment_name must be a string",
        ),
        (
            {"backups": [{"endpoint": WEST}, {"api_version": ""}]},
            "invalid backups[1] of azure/gpt-4.1-mini: AzureSettings.api_version must not be empty",
        ),
        (
            {"backups": [{"organization": "org-1"}]},
            "unknown endpoint field(s) ['organization'] in backups[0] of azure/gpt-4.1-mini",
        ),
    ],
)
def test_azure_settings_are_checked(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm(
            "azure/gpt-4.1-mini",
            api_key=SECRET,
            endpoint=EAST,
            **{"api_version": "2024-10-21", **fields},  # type: ignore[arg-type]
        )
    assert message in str(info.value) and SECRET not in str(info.value)


def test_bare_name_shared_by_openai_and_azure_is_ambiguous() -> None:
    with pytest.raises(UnknownModelError) as info:
        create_llm("gpt-4.1-mini")
    assert "azure/gpt-4.1-mini" in str(info.value) and "openai/gpt-4.1-mini" in str(info.value)


def test_default_registry_lists_builtin_providers() -> None:
    names = {p.name for p in default_registry().providers()}
    assert {"openai", "azure"} <= names


def test_config_file_with_builtin_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZ_KEY", SECRET)
    path = tmp_path / "llms.toml"
    path.write_text(
        """
[defaults]
api_key = "${AZ_KEY}"
api_version = "2024-10-21"

[models.chat]
model = "azure/gpt-4.1-mini"
endpoint = "https://east.example.azure.com"
deployment_name = "mini"
backups = [{ endpoint = "https://west.example.azure.com" }]

[models.openai]
model = "openai/gpt-4.1-nano"
"""
    )
    factory = LLMFactory.from_config(path)
    chat = factory["chat"]
    assert chat.metadata.qualified_name == "azure/gpt-4.1-mini"
    assert endpoints(chat) == [(EAST, "mini", "2024-10-21"), (WEST, "mini", "2024-10-21")]
    openai = factory["openai"]
    assert openai.metadata.qualified_name == "openai/gpt-4.1-nano"
    # the shared api_version is Azure's: the OpenAI model ignores it
    assert isinstance(openai.connector, FailoverConnector)
    [conn] = openai.connector.connectors
    assert conn.endpoint.settings == OpenAISettings()
    assert conn.endpoint.api_key is not None and conn.endpoint.api_key.get_secret_value() == SECRET


def test_config_file_shared_keys_of_each_provider(tmp_path: Path) -> None:
    path = tmp_path / "llms.toml"
    path.write_text(
        """
[defaults]
api_key = "k"
api_version = "2024-10-21"
organization = "org-1"

[models.chat]
model = "azure/gpt-4.1-mini"
endpoint = "https://east.example.azure.com"

[models.openai]
model = "openai/gpt-4.1-nano"
organization = "org-2"

[models.openai-shared]
model = "openai/gpt-4.1-mini"
"""
    )
    factory = LLMFactory.from_config(path)
    assert endpoints(factory["chat"]) == [(EAST, "gpt-4.1-mini", "2024-10-21")]  # deployment from the name
    for alias, organization in (("openai", "org-2"), ("openai-shared", "org-1")):
        llm = factory[alias]
        assert isinstance(llm.connector, FailoverConnector)
        assert [c.endpoint.settings for c in llm.connector.connectors] == [
            OpenAISettings(organization=organization)
        ]


@pytest.mark.parametrize("order", [("chat", "openai"), ("openai", "chat")])
def test_config_file_with_a_misspelt_shared_key_fails(tmp_path: Path, order: tuple[str, str]) -> None:
    entries = {
        "chat": '[models.chat]\nmodel = "azure/gpt-4.1-mini"\nendpoint = "https://east.example.azure.com"\n',
        "openai": '[models.openai]\nmodel = "openai/gpt-4.1-nano"\n',
    }
    path = tmp_path / "llms.toml"
    path.write_text(
        '[defaults]\napi_key = "k"\napi_verison = "2024-10-21"\n\n' + "\n".join(entries[a] for a in order)
    )
    with pytest.raises(ConfigurationError) as info:
        LLMFactory.from_config(path)
    text = str(info.value)
    first = order[0]
    model = {"chat": "azure/gpt-4.1-mini", "openai": "openai/gpt-4.1-nano"}[first]
    assert f"{path}: models.{first}: unknown endpoint field(s) ['api_verison'] for {model}" in text
    if first == "chat":  # the Azure model has api_version: the hint names it
        assert "did you mean api_version (not api_verison)?" in text
