"""AzureAdapter: deployment / api-version URLs (per endpoint), v1 API, api-key and Entra ID auth,
request ids, and the recorded content-filter 400."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict
from openai_testkit import ScriptedConnector, sidecar, wire_bytes

from core.llms.interfaces import ConfigurationError, ContentFilterError
from core.llms.providers.azure import AzureAdapter, AzureGPT41Mini
from core.llms.providers.base.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector

ADAPTER = AzureAdapter()
EP = EndpointConfig(
    endpoint="https://myres.openai.azure.com",
    api_key="azure-SECRET-key",
    deployment_name="gpt-4o-mini",
    api_version="2024-10-21",
)


def test_classic_url() -> None:
    assert ADAPTER.url(EP, "chat") == (
        "https://myres.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    )
    # an endpoint given with its /openai suffix, and a deployment needing escaping
    odd = EP.replace(**{"endpoint": "https://myres.openai.azure.com/openai", "deployment_name": "my dep/1"})
    assert ADAPTER.url(odd, "embeddings") == (
        "https://myres.openai.azure.com/openai/deployments/my%20dep%2F1/embeddings?api-version=2024-10-21"
    )


def test_v1_url() -> None:
    v1 = EP.replace(**{"api_version": "v1"})
    assert ADAPTER.url(v1, "chat") == "https://myres.openai.azure.com/openai/v1/chat/completions"


def test_backups_get_their_own_deployment_and_version() -> None:
    backup = EP.derive({"endpoint": "https://other.openai.azure.com", "deployment_name": "mini-eu"})
    assert ADAPTER.url(backup, "chat") == (
        "https://other.openai.azure.com/openai/deployments/mini-eu/chat/completions?api-version=2024-10-21"
    )


@pytest.mark.parametrize(
    ("update", "missing"),
    [
        ({"deployment_name": None}, "deployment_name"),
        ({"api_version": None}, "api_version"),
        ({"deployment_name": None, "api_version": None}, "deployment_name or api_version"),
    ],
)
def test_missing_fields_are_a_configuration_error(update: dict[str, None], missing: str) -> None:
    endpoint = EP.replace(**update)
    with pytest.raises(ConfigurationError) as info:
        ADAPTER.url(endpoint, "chat")
    assert info.value.message == f"Azure OpenAI endpoint https://myres.openai.azure.com has no {missing}"
    assert info.value.endpoint == "https://myres.openai.azure.com"
    with pytest.raises(ConfigurationError):
        AzureAdapter.validate(endpoint)
    AzureAdapter.validate(EP)


async def test_auth_api_key_or_entra_token() -> None:
    assert await ADAPTER.auth_headers(EP) == {"api-key": "azure-SECRET-key"}

    async def entra() -> str:
        return "eyJ-token"

    with_token = EP.replace(**{"token_provider": entra})
    assert await ADAPTER.auth_headers(with_token) == {"Authorization": "Bearer eyJ-token"}
    sync_token = EP.replace(**{"token_provider": lambda: "sync-token", "api_key": None})
    assert await ADAPTER.auth_headers(sync_token) == {"Authorization": "Bearer sync-token"}


def test_request_id_prefers_apim() -> None:
    headers = CIMultiDict({"apim-request-id": "apim-1", "x-request-id": "x-1"})
    assert ADAPTER.request_id(headers) == "apim-1"
    assert ADAPTER.request_id(CIMultiDict({"X-Request-Id": "x-2"})) == "x-2"


def test_recorded_content_filter_400() -> None:
    name = "azure/azure-chat-400-content-filter.json"
    response = sidecar(name)["response"]
    error = ADAPTER.map_error(
        response["status"],
        CIMultiDict(response["headers"]),
        wire_bytes(name),
        "https://myres.openai.azure.com",
    )
    assert isinstance(error, ContentFilterError)
    assert error.status == 400 and error.code == "content_filter"
    assert error.request_id == "db0de38c-2b39-4969-97e0-32d64495d921"
    assert error.filter_results is not None
    assert error.filter_results["self_harm"] == {"filtered": True, "severity": "medium"}
    assert error.filter_results["jailbreak"] == {"filtered": False, "detected": False}
    assert "content management policy" in error.message


async def test_model_sends_the_primary_deployment_as_model() -> None:
    connector = FailoverConnector.from_endpoints(ADAPTER, EP.replace(**{"api_version": "v1"}))
    async with connector:
        request, _ = AzureGPT41Mini(connector)._prepare("hi", {}, False)
    assert request.payload["model"] == "gpt-4o-mini"
    # without endpoint information the catalogue name is used
    request, _ = AzureGPT41Mini(ScriptedConnector())._prepare("hi", {}, False)
    assert request.payload["model"] == "gpt-4.1-mini"


def test_repr_never_shows_keys() -> None:
    connector = FailoverConnector.from_endpoints(ADAPTER, EP)
    model = AzureGPT41Mini(connector)
    assert (
        repr(model)
        == "AzureGPT41Mini(model='azure/gpt-4.1-mini', endpoints=['https://myres.openai.azure.com'])"
    )
    assert "SECRET" not in repr(model) and "SECRET" not in repr(connector)
