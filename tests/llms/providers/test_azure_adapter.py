"""AzureAdapter: deployment / api-version URLs (per endpoint, from AzureSettings), v1 API,
api-key and Entra ID auth, request ids, the endpoint's model, and the recorded content-filter
400."""

from __future__ import annotations

import json

import pytest
from model_classes import model_class
from multidict import CIMultiDict
from openai_testkit import ScriptedConnector, sidecar, wire_bytes

from core.llms.interfaces import ConfigurationError, ContentFilterError
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.provider import EndpointModel
from core.llms.providers.azure import V1_API_VERSION, AzureAdapter, AzureSettings
from core.llms.providers.base.connector import Connector, encode_json
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.openai import OpenAISettings

AzureGPT41Mini = model_class("azure/gpt-4.1-mini")

ADAPTER = AzureAdapter()
EP = EndpointConfig(
    endpoint="https://myres.openai.azure.com",
    api_key="azure-SECRET-key",
    settings=AzureSettings(deployment_name="gpt-4o-mini", api_version="2024-10-21"),
)


def url(endpoint: EndpointConfig, operation: str = "chat") -> str:
    """The URL the connector builds: the adapter's, for the model the endpoint serves."""
    model = ADAPTER.endpoint_model(endpoint)
    assert model is not None
    return ADAPTER.url(endpoint, operation, model)


def test_classic_url() -> None:
    assert url(EP) == (
        "https://myres.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    )
    # an endpoint given with its /openai suffix, and a deployment needing escaping
    odd = EP.derive({"endpoint": "https://myres.openai.azure.com/openai", "deployment_name": "my dep/1"})
    assert url(odd, "embeddings") == (
        "https://myres.openai.azure.com/openai/deployments/my%20dep%2F1/embeddings?api-version=2024-10-21"
    )


def test_classic_url_names_the_model_it_is_given() -> None:
    # the connector passes the model id it sends: a per-call model= becomes the deployment
    assert ADAPTER.url(EP, "chat", "other-dep") == (
        "https://myres.openai.azure.com/openai/deployments/other-dep/chat/completions?api-version=2024-10-21"
    )


def test_v1_url() -> None:
    v1 = EP.derive({"api_version": "v1"})
    assert V1_API_VERSION == "v1"
    assert url(v1) == "https://myres.openai.azure.com/openai/v1/chat/completions"
    # on the v1 API the deployment travels in the body, never in the URL
    assert ADAPTER.url(v1, "chat", "other-dep") == "https://myres.openai.azure.com/openai/v1/chat/completions"


def test_backups_get_their_own_deployment_and_version() -> None:
    backup = EP.derive({"endpoint": "https://other.openai.azure.com", "deployment_name": "mini-eu"})
    assert backup.settings == AzureSettings(deployment_name="mini-eu", api_version="2024-10-21")
    assert url(backup) == (
        "https://other.openai.azure.com/openai/deployments/mini-eu/chat/completions?api-version=2024-10-21"
    )
    assert url(EP.derive({"api_version": "2025-01-01-preview"})) == (
        "https://myres.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions"
        "?api-version=2025-01-01-preview"
    )


def test_endpoint_model_is_the_model_id_or_the_deployment() -> None:
    assert isinstance(ADAPTER, EndpointModel)
    assert ADAPTER.endpoint_model(EP) == "gpt-4o-mini"
    assert ADAPTER.endpoint_model(EP.replace(model_id="pinned-dep")) == "pinned-dep"
    # what the connector sends the endpoint as
    assert Connector(EP, ADAPTER).served_model == "gpt-4o-mini"
    assert Connector(EP.replace(model_id="pinned-dep"), ADAPTER).served_model == "pinned-dep"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"deployment_name": None}, "AzureSettings.deployment_name must be a string, not NoneType"),
        ({"api_version": 3}, "AzureSettings.api_version must be a string, not int"),
        ({"deployment_name": "  "}, "AzureSettings.deployment_name must not be empty"),
        ({"api_version": ""}, "AzureSettings.api_version must not be empty"),
    ],
)
def test_bad_settings_are_a_configuration_error(settings: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"deployment_name": "d", "api_version": "2024-10-21", **settings}
    with pytest.raises(ConfigurationError) as info:
        AzureSettings(**fields)  # type: ignore[arg-type]
    assert info.value.message == message
    # a backup setting it is refused the same way, naming the backup
    with pytest.raises(ConfigurationError) as info:
        EP.derive(settings)
    assert info.value.message == f"invalid backup endpoint: {message}"


def test_deployment_is_required_api_version_is_not() -> None:
    with pytest.raises(TypeError):
        AzureSettings(api_version="v1")  # type: ignore[call-arg]
    # no api_version: each operation is called with its own default
    assert AzureSettings(deployment_name="d").api_version is None
    assert AzureSettings(deployment_name="d", api_version=None) == AzureSettings(deployment_name="d")


@pytest.mark.parametrize(
    "settings", [None, OpenAISettings(organization="org")], ids=["no-settings", "other-provider"]
)
def test_missing_settings_are_a_configuration_error(settings: object) -> None:
    endpoint = EP.replace(settings=settings)
    expected = "Azure OpenAI endpoint https://myres.openai.azure.com has no deployment_name or api_version"
    for call in (
        lambda: ADAPTER.url(endpoint, "chat", "gpt-4o-mini"),
        lambda: ADAPTER.endpoint_model(endpoint),
        lambda: AzureAdapter.settings_of(endpoint),
        lambda: FailoverConnector.from_endpoints(ADAPTER, endpoint),
    ):
        with pytest.raises(ConfigurationError) as info:
            call()
        assert info.value.message == expected
        assert info.value.endpoint == "https://myres.openai.azure.com"
        assert info.value.hint is not None and "deployment_name=" in info.value.hint
    assert AzureAdapter.settings_of(EP) is EP.settings


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
    connector = FailoverConnector.from_endpoints(ADAPTER, EP.derive({"api_version": "v1"}))
    async with connector:
        request, _ = AzureGPT41Mini(connector)._prepare("hi", {}, False)
        # the request names the catalogue model; the endpoint's connector sends its deployment
        assert (request.model, request.model_fixed) == ("gpt-4.1-mini", False)
        assert request.payload["model"] == "gpt-4.1-mini"
        (conn,) = connector.connectors
        assert conn.served_model == "gpt-4o-mini"
        sent = json.loads(conn.body_for(request, encode_json(request.payload)))
        assert sent["model"] == "gpt-4o-mini"
        assert {k: v for k, v in sent.items() if k != "model"} == {
            k: v for k, v in request.payload.items() if k != "model"
        }
    # without endpoint information the catalogue name is used
    request, _ = AzureGPT41Mini(ScriptedConnector())._prepare("hi", {}, False)
    assert request.payload["model"] == "gpt-4.1-mini"


def test_repr_never_shows_keys() -> None:
    connector = FailoverConnector.from_endpoints(ADAPTER, EP)
    model = AzureGPT41Mini(connector)
    assert (
        repr(model) == "OpenAIModel(model='azure/gpt-4.1-mini', endpoints=['https://myres.openai.azure.com'])"
    )
    assert "SECRET" not in repr(model) and "SECRET" not in repr(connector)
    assert "SECRET" not in repr(EP)
