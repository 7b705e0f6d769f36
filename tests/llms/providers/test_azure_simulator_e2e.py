"""Azure OpenAI models end to end against the simulator: deployments, api-version, api-key and
Entra ID auth, the v1 API, content filtering and failover between deployments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import accumulate

from core.llms.interfaces import ILLM, ConfigurationError, ContentFilterError
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.azure import AzureAdapter, AzureSettings
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy
from core.llms.simulator import Fault, Simulator

AzureGPT4oMini = model_class("azure/gpt-4o-mini")
AzureGPT41Mini = model_class("azure/gpt-4.1-mini")
AzureO4Mini = model_class("azure/o4-mini")

KEY = "azure-sim-key"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


def azure(url: str, *backups: dict[str, Any], **fields: Any) -> FailoverConnector:
    """A connector for the primary endpoint ``url`` (deployment ``mini-prod``, api-version
    2024-10-21 unless ``fields`` say otherwise) and ``backups`` (partial endpoint settings,
    which may name their own deployment and api-version)."""
    settings = {"deployment_name": "mini-prod", "api_version": "2024-10-21"}
    settings.update({k: fields.pop(k) for k in list(fields) if k in settings})
    config = EndpointConfig(
        **{"endpoint": url, "api_key": KEY, "settings": AzureSettings(**settings), **fields}
    )
    return FailoverConnector.from_endpoints(AzureAdapter(), config, list(backups), FAST)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


async def test_deployment_api_version_and_api_key(sim: Simulator) -> None:
    async with AzureGPT41Mini(azure(sim.url)) as model:
        assert isinstance(model, ILLM)
        response = await model.get_answer("hello azure")
    assert response.text == "Simulated answer to: hello azure"
    assert (response.provider, response.model) == ("azure", "mini-prod")
    assert response.endpoint == sim.url
    assert response.request_id is not None and response.request_id.startswith("00000000-0000-4000-8000-")
    assert response.content_filter is not None and "prompt_filter_results" in response.content_filter
    (request,) = sim.requests
    assert request.path == "/openai/deployments/mini-prod/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}
    assert request.headers["api-key"] == KEY and "authorization" not in request.headers


async def test_v1_api_sends_the_deployment_as_model(sim: Simulator) -> None:
    async with AzureO4Mini(azure(sim.url, api_version="v1", deployment_name="o4-mini-dep")) as model:
        messages = [{"role": "system", "content": "terse"}, {"role": "user", "content": "hi"}]
        chunks = [c async for c in model.stream_answer(messages, max_tokens=100)]
    assert accumulate(chunks).text == "Simulated answer to: hi"
    (request,) = sim.requests
    assert request.path == "/openai/v1/chat/completions"
    assert request.json["model"] == "o4-mini-dep"
    assert request.json["messages"][0]["role"] == "developer"
    assert request.json["max_completion_tokens"] == 100


async def test_entra_id_token_provider(sim: Simulator) -> None:
    calls: list[int] = []

    async def token() -> str:
        calls.append(1)
        return KEY

    async with AzureGPT41Mini(azure(sim.url, api_key=None, token_provider=token)) as model:
        await model.get_answer("one")
        await model.get_answer("two")
    assert len(calls) == 2  # asked on every request, so a refreshed token is used
    assert sim.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert "api-key" not in sim.requests[0].headers


async def test_stream_annotations_and_usage(sim: Simulator) -> None:
    async with AzureGPT4oMini(azure(sim.url)) as model:
        chunks = [c async for c in model.stream_answer("filter me gently")]
    acc = accumulate(chunks)
    assert acc.text == "Simulated answer to: filter me gently"
    assert acc.usage is not None and acc.cost is not None
    assert acc.content_filter is not None and "prompt_filter_results" in acc.content_filter


async def test_content_filter_400(sim: Simulator) -> None:
    async with AzureGPT4oMini(azure(sim.url)) as model:
        with pytest.raises(ContentFilterError) as info:
            await model.get_answer("please [[content_filter]] this")
        with pytest.raises(ContentFilterError):
            async for _ in model.stream_answer("stream [[content_filter]] too"):
                pass
    err = info.value
    assert err.status == 400 and err.code == "content_filter"
    assert err.filter_results and any(v.get("filtered") for v in err.filter_results.values())
    assert (err.provider, err.model, err.endpoint) == ("azure", "gpt-4o-mini", sim.url)
    assert sim.request_count == 2  # never retried


async def test_missing_deployment_is_a_configuration_error(sim: Simulator) -> None:
    # an Azure endpoint without its settings is refused when the connector is built: no request
    config = EndpointConfig(endpoint=sim.url, api_key=KEY)
    with pytest.raises(ConfigurationError, match="has no deployment_name or api_version"):
        FailoverConnector.from_endpoints(AzureAdapter(), config, [], FAST)
    with pytest.raises(ConfigurationError, match="deployment_name must be a string"):
        azure(sim.url, deployment_name=None)
    assert sim.request_count == 0


async def test_failover_to_a_backup_with_its_own_deployment() -> None:
    async with Simulator(api_key=KEY) as broken, Simulator(api_key=KEY) as healthy:
        broken.set_default_fault(Fault(status=503))
        backup = {"endpoint": healthy.url, "deployment_name": "mini-dr", "api_version": "2025-01-01-preview"}
        async with AzureGPT4oMini(azure(broken.url, backup)) as model:
            response = await model.get_answer("still there?")
        assert response.endpoint == healthy.url
        assert response.text == "Simulated answer to: still there?"
        (request,) = healthy.requests
        assert request.path == "/openai/deployments/mini-dr/chat/completions"
        assert request.query == {"api-version": "2025-01-01-preview"}
        assert request.headers["api-key"] == KEY  # inherited from the primary
