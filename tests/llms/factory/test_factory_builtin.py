"""create_llm and LLMFactory with the built-in providers (openai, azure) and the default registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from plugins.support import SECRET

from core.llms.factory import LLMFactory, create_llm
from core.llms.interfaces.errors import ConfigurationError, UnknownModelError
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.registry import default_registry


def endpoints(llm: BaseLLM) -> list[tuple[str, str | None, str | None]]:
    assert isinstance(llm.connector, FailoverConnector)
    return [
        (c.endpoint.endpoint, c.endpoint.deployment_name, c.endpoint.api_version)
        for c in llm.connector.connectors
    ]


def test_openai_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-7")
    llm = create_llm("openai/gpt-4.1-mini")
    assert llm.metadata.qualified_name == "openai/gpt-4.1-mini"
    assert type(llm).__module__.startswith("core.llms.providers.openai")
    assert isinstance(llm.connector, FailoverConnector)
    [conn] = llm.connector.connectors
    assert conn.endpoint.endpoint == "https://api.openai.com/v1" and conn.endpoint.organization == "org-7"
    assert SECRET not in repr(llm)


def test_openai_needs_a_key() -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        create_llm("openai/gpt-4.1-mini")


def test_azure_with_backups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    llm = create_llm(
        "azure/gpt-4.1-mini",
        endpoint="https://east.example.azure.com",
        deployment_name="mini",
        api_version="2024-10-21",
        backups=[{"endpoint": "https://west.example.azure.com"}, {"deployment_name": "mini-2"}],
    )
    assert endpoints(llm) == [
        ("https://east.example.azure.com", "mini", "2024-10-21"),
        ("https://west.example.azure.com", "mini", "2024-10-21"),
        ("https://east.example.azure.com", "mini-2", "2024-10-21"),
    ]


def test_azure_missing_deployment_names_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://east.example.azure.com")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    with pytest.raises(ConfigurationError) as info:
        create_llm("azure/gpt-4.1-mini")
    text = str(info.value)
    assert "azure/gpt-4.1-mini needs deployment_name" in text and "AZURE_OPENAI_DEPLOYMENT" in text
    assert SECRET not in text
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "mini")
    assert endpoints(create_llm("azure/gpt-4.1-mini")) == [
        ("https://east.example.azure.com", "mini", "2024-10-21")
    ]


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
    assert endpoints(chat)[1] == ("https://west.example.azure.com", "mini", "2024-10-21")
    assert factory["openai"].metadata.qualified_name == "openai/gpt-4.1-nano"
