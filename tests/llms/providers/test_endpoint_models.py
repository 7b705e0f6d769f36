"""The model id each endpoint is sent, end to end against the simulator: Azure v1-API backups with
a deployment each, ``model_id=`` on an OpenAI backup, a per-call ``model=`` that holds on every
endpoint, and open model names (fine-tunes, Azure deployments outside the catalogue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import model_classes
import pytest
from model_classes import model_class
from openai_testkit import accumulate

from core.llms import create_llm
from core.llms.interfaces import InvalidInputError
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.metadata import Pricing
from core.llms.providers.azure import V1_API_VERSION, AzureAdapter, AzureSettings
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.openai import OPENAI_CATALOGUE, OpenAIAdapter
from core.llms.simulator import Fault, Simulator

AzureGPT4oMini = model_class("azure/gpt-4o-mini")
GPT4oMini = model_class("openai/gpt-4o-mini")

KEY = "sim-key"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)
V1_PATH = "/openai/v1/chat/completions"
#: environment variables the factory reads for these providers: cleared so the tests see only
#: what they pass.
PROVIDER_ENV = (
    "AZURE_OPENAI_DEPLOYMENT",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def azure_v1(url: str, deployment: str, *backups: dict[str, Any]) -> FailoverConnector:
    primary = EndpointConfig(
        endpoint=url,
        api_key=KEY,
        settings=AzureSettings(deployment_name=deployment, api_version=V1_API_VERSION),
    )
    return FailoverConnector.from_endpoints(AzureAdapter(), primary, list(backups), FAST)


def openai(url: str, *backups: dict[str, Any], **fields: Any) -> FailoverConnector:
    primary = EndpointConfig(endpoint=f"{url}/v1", api_key=KEY, **fields)
    return FailoverConnector.from_endpoints(OpenAIAdapter(), primary, list(backups), FAST)


# -- Azure v1 API: each backup its own deployment ------------------------------------------------


async def test_azure_v1_backup_sends_its_own_deployment(sim: Simulator) -> None:
    # primary and backup on the same resource, different deployments: the 503 fails over at once
    sim.enqueue(Fault(status=503))
    connector = azure_v1(sim.url, "mini-prod", {"deployment_name": "mini-dr"})
    assert [c.served_model for c in connector.connectors] == ["mini-prod", "mini-dr"]
    # same URL: the backup is named after the deployment it serves
    assert connector.endpoints == [sim.url, f"{sim.url} (mini-dr)"]
    async with AzureGPT4oMini(connector) as model:
        response = await model.get_answer("still there?")
    assert response.text == "Simulated answer to: still there?"
    assert response.model == "mini-dr"
    primary, backup = sim.requests
    assert primary.path == backup.path == V1_PATH
    assert primary.query == backup.query == {}  # no api-version on the v1 API
    assert primary.json["model"] == "mini-prod"
    assert backup.json["model"] == "mini-dr"
    # nothing else in the body differs
    assert {k: v for k, v in primary.json.items() if k != "model"} == {
        k: v for k, v in backup.json.items() if k != "model"
    }
    assert response.endpoint == f"{sim.url} (mini-dr)"


async def test_azure_v1_backups_on_other_resources_stream() -> None:
    async with (
        Simulator(api_key=KEY) as broken,
        Simulator(api_key=KEY) as second,
        Simulator(api_key=KEY) as third,
    ):
        broken.set_default_fault(Fault(status=503))
        second.set_default_fault(Fault(status=503))
        connector = azure_v1(
            broken.url,
            "dep-a",
            {"endpoint": second.url, "deployment_name": "dep-b"},
            {"endpoint": third.url, "deployment_name": "dep-c"},
        )
        async with AzureGPT4oMini(connector) as model:
            chunks = [c async for c in model.stream_answer("over to you")]
        assert accumulate(chunks).text == "Simulated answer to: over to you"
        assert chunks[0].endpoint == third.url
        assert [r.json["model"] for r in broken.requests] == ["dep-a"]
        assert [r.json["model"] for r in second.requests] == ["dep-b"]
        assert [r.json["model"] for r in third.requests] == ["dep-c"]
        assert {r.path for r in (*broken.requests, *second.requests, *third.requests)} == {V1_PATH}
        assert third.requests[0].json["stream"] is True


async def test_azure_v1_backups_through_the_factory(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503), Fault(status=503))
    async with create_llm(
        "azure/gpt-4o-mini",
        endpoint=sim.url,
        api_key=KEY,
        deployment_name="mini-prod",
        api_version="v1",
        backups=[{"deployment_name": "mini-eu"}, {"model_id": "mini-us"}],
        retry=FAST,
        registry=model_classes.test_registry(),
    ) as model:
        response = await model.get_answer("third time lucky")
    assert response.text == "Simulated answer to: third time lucky"
    assert [r.json["model"] for r in sim.requests] == ["mini-prod", "mini-eu", "mini-us"]
    assert {r.path for r in sim.requests} == {V1_PATH}


async def test_azure_classic_backup_deployment_and_version_in_the_url(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    async with create_llm(
        "azure/gpt-4o-mini",
        endpoint=sim.url,
        api_key=KEY,
        deployment_name="mini-prod",
        api_version="2024-10-21",
        backups=[{"deployment_name": "mini-eu", "api_version": "2025-01-01-preview"}],
        retry=FAST,
        registry=model_classes.test_registry(),
    ) as model:
        await model.get_answer("hi")
    primary, backup = sim.requests
    assert (primary.path, primary.query) == (
        "/openai/deployments/mini-prod/chat/completions",
        {"api-version": "2024-10-21"},
    )
    assert (backup.path, backup.query) == (
        "/openai/deployments/mini-eu/chat/completions",
        {"api-version": "2025-01-01-preview"},
    )


# -- OpenAI: model_id on one endpoint --------------------------------------------------------------


async def test_model_id_on_an_openai_backup_goes_to_that_endpoint_only(sim: Simulator) -> None:
    fine_tune = "ft:gpt-4o-mini:acme::backup1"
    sim.enqueue(Fault(status=503))
    async with GPT4oMini(openai(sim.url, {"model_id": fine_tune})) as model:
        response = await model.get_answer("who answers?")
        assert response.model == fine_tune
        # the primary healthy again: the catalogue id, not the backup's
        await model.get_answer("and now?")
    assert [r.json["model"] for r in sim.requests] == ["gpt-4o-mini", fine_tune, "gpt-4o-mini"]
    assert {r.path for r in sim.requests} == {"/v1/chat/completions"}


async def test_model_id_on_the_primary(sim: Simulator) -> None:
    async with GPT4oMini(openai(sim.url, model_id="gpt-4o-mini-2024-07-18")) as model:
        chunks = [c async for c in model.stream_answer("dated")]
    assert accumulate(chunks).text == "Simulated answer to: dated"
    (request,) = sim.requests
    assert request.json["model"] == "gpt-4o-mini-2024-07-18"


# -- a per-call model= ----------------------------------------------------------------------------


#: core bug (see the report): ``OpenAIBaseLLM._build_payload`` drops ``model`` with the transport
#: parameters before reading it, so the body keeps the catalogue id; the connector leaves a
#: ``model_fixed`` body as it is.
async def test_per_call_model_is_sent_on_every_endpoint(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    async with GPT4oMini(openai(sim.url, {"model_id": "backup-model"}, model_id="primary-model")) as model:
        response = await model.get_answer("pinned", model="gpt-4o-mini-2024-07-18")
        assert response.text == "Simulated answer to: pinned"
        # without model= each endpoint sends its own again
        await model.get_answer("free")
    assert [r.json["model"] for r in sim.requests] == [
        "gpt-4o-mini-2024-07-18",
        "gpt-4o-mini-2024-07-18",
        "primary-model",
    ]


async def test_per_call_model_on_the_azure_v1_api_is_the_body_model_everywhere(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    async with AzureGPT4oMini(azure_v1(sim.url, "mini-prod", {"deployment_name": "mini-dr"})) as model:
        await model.get_answer("pinned", model="canary")
    assert [r.json["model"] for r in sim.requests] == ["canary", "canary"]


async def test_per_call_model_overrides_the_endpoints_own(sim: Simulator) -> None:
    # what holds today: no endpoint swaps its own id in for the caller's (the failing part of
    # test_per_call_model_is_sent_on_every_endpoint is the body's value itself)
    sim.enqueue(Fault(status=503))
    async with GPT4oMini(openai(sim.url, {"model_id": "backup-model"}, model_id="primary-model")) as model:
        await model.get_answer("pinned", model="gpt-4o-mini-2024-07-18")
        await model.get_answer("free")
    sent = [r.json["model"] for r in sim.requests]
    assert "backup-model" not in sent[:2] and "primary-model" not in sent[:2]
    assert sent[0] == sent[1]
    assert sent[2] == "primary-model"


async def test_per_call_model_on_azure_names_the_deployment_everywhere(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    primary = EndpointConfig(
        endpoint=sim.url,
        api_key=KEY,
        settings=AzureSettings(deployment_name="mini-prod", api_version="2024-10-21"),
    )
    connector = FailoverConnector.from_endpoints(
        AzureAdapter(), primary, [{"deployment_name": "mini-dr"}], FAST
    )
    async with AzureGPT4oMini(connector) as model:
        chunks = [c async for c in model.stream_answer("pinned", model="canary")]
    assert accumulate(chunks).text == "Simulated answer to: pinned"
    assert [r.path for r in sim.requests] == ["/openai/deployments/canary/chat/completions"] * 2


async def test_per_call_model_must_be_a_non_empty_string(sim: Simulator) -> None:
    async with GPT4oMini(openai(sim.url)) as model:
        for bad in ("", "  ", 42):
            with pytest.raises(InvalidInputError, match="model= must be a non-empty model id string"):
                await model.get_answer("hi", model=bad)
    assert sim.request_count == 0


# -- open model names --------------------------------------------------------------------------


async def test_fine_tune_name_takes_the_base_models_limits_without_a_price(sim: Simulator) -> None:
    name = "ft:gpt-4o-mini:org::abc"
    async with create_llm(
        f"openai/{name}", endpoint=f"{sim.url}/v1", api_key=KEY, registry=model_classes.test_registry()
    ) as model:
        meta = model.metadata
        base = OPENAI_CATALOGUE["gpt-4o-mini"]
        assert (meta.name, meta.provider, meta.qualified_name) == (name, "openai", f"openai/{name}")
        assert (meta.context_window, meta.max_output_tokens) == (128_000, 16_384)
        assert (meta.context_window, meta.max_output_tokens) == (base.context_window, base.max_output_tokens)
        assert meta.capabilities == base.capabilities and meta.parameters == base.parameters
        assert meta.pricing == Pricing() and meta.aliases == ()
        response = await model.get_answer("tuned?")
        chunks = [c async for c in model.stream_answer("tuned stream?")]
    assert response.text == "Simulated answer to: tuned?"
    assert response.usage is not None and response.usage.input_tokens > 0
    assert response.cost is None
    acc = accumulate(chunks)
    assert acc.usage is not None and acc.cost is None
    assert [r.json["model"] for r in sim.requests] == [name, name]


async def test_azure_deployment_name_from_the_model_name(sim: Simulator) -> None:
    async with create_llm(
        "azure/my-deployment",
        endpoint=sim.url,
        api_key=KEY,
        api_version="2024-10-21",
        registry=model_classes.test_registry(),
    ) as model:
        assert model.metadata.qualified_name == "azure/my-deployment"
        assert model.metadata.pricing == Pricing()
        response = await model.get_answer("whose deployment?")
    assert response.text == "Simulated answer to: whose deployment?"
    assert response.cost is None
    (request,) = sim.requests
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}


async def test_azure_given_deployment_wins_over_the_model_name(sim: Simulator) -> None:
    async with create_llm(
        "azure/gpt-4o-mini",
        endpoint=sim.url,
        api_key=KEY,
        deployment_name="prod-mini",
        api_version="2024-10-21",
        registry=model_classes.test_registry(),
    ) as model:
        response = await model.get_answer("priced")
    assert response.cost is not None and response.cost > 0  # a catalogue model keeps its price
    (request,) = sim.requests
    assert request.path == "/openai/deployments/prod-mini/chat/completions"
