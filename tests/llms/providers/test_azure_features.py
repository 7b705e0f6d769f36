"""Azure OpenAI specifics: the API version of each operation (deployment routes and the v1 API),
content-filter annotations on responses and stream chunks, a blocked prompt's categories, the
serving region, backups with their own deployment and Entra ID credential, AZURE_OPENAI_KEY."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import pytest
from model_classes import model_class
from multidict import CIMultiDict
from openai_testkit import ReplayServer, accumulate, delta_chunk, sidecar, sse_of, usage_chunk, wire_bytes

from core.llms import create_llm
from core.llms.interfaces import ContentFilterError
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.azure import DEFAULT_API_VERSIONS, AzureAdapter, AzureSettings
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.dialects.openai_chat.adapter import OPERATION_PATHS
from core.llms.simulator import Fault, Simulator

AzureGPT4oMini = model_class("azure/gpt-4o-mini")

KEY = "azure-features-key-0123"
RES = "https://res.openai.azure.com"
ADAPTER = AzureAdapter()


def endpoint(api_version: str | None = None, url: str = RES, **fields: Any) -> EndpointConfig:
    return EndpointConfig(
        endpoint=url,
        api_key=KEY,
        settings=AzureSettings(deployment_name="dep", api_version=api_version),
        **fields,
    )


def url_of(ep: EndpointConfig, operation: str) -> str:
    return ADAPTER.url(ep, operation, "dep")


# -- the API version of each operation ------------------------------------------------------------

DEPLOYMENT_ROUTES = {
    "chat": ("/chat/completions", "2024-10-21"),
    "embeddings": ("/embeddings", "2024-10-21"),
    "images": ("/images/generations", "2025-04-01-preview"),
    "image_edits": ("/images/edits", "2025-04-01-preview"),
    "speech": ("/audio/speech", "2025-03-01-preview"),
    "speech_events": ("/audio/speech", "2025-03-01-preview"),
    "transcriptions": ("/audio/transcriptions", "2025-03-01-preview"),
    "translations": ("/audio/translations", "2025-03-01-preview"),
}
V1_ROUTES = {"responses": "/responses", "videos": "/videos"}
#: the Batch API's operations, on the resource (no deployment), with chat's default version.
RESOURCE_ROUTES = {"files": "/files", "file_content": "/files", "batches": "/batches"}


def test_every_operation_has_a_route() -> None:
    assert set(DEPLOYMENT_ROUTES) | set(V1_ROUTES) | set(RESOURCE_ROUTES) == set(OPERATION_PATHS)
    assert dict(DEFAULT_API_VERSIONS) == {op: version for op, (_, version) in DEPLOYMENT_ROUTES.items()}


@pytest.mark.parametrize("operation", sorted(RESOURCE_ROUTES))
def test_batch_operations_are_on_the_resource(operation: str) -> None:
    path = RESOURCE_ROUTES[operation]
    assert url_of(endpoint(), operation) == f"{RES}/openai{path}?api-version=2024-10-21"
    preview = url_of(endpoint("2025-01-01-preview"), operation)
    assert preview == f"{RES}/openai{path}?api-version=2025-01-01-preview"
    assert url_of(endpoint("v1"), operation) == f"{RES}/openai/v1{path}"


@pytest.mark.parametrize("operation", sorted(DEPLOYMENT_ROUTES))
def test_default_api_version_per_operation(operation: str) -> None:
    path, version = DEPLOYMENT_ROUTES[operation]
    assert url_of(endpoint(), operation) == f"{RES}/openai/deployments/dep{path}?api-version={version}"


@pytest.mark.parametrize("operation", sorted(DEPLOYMENT_ROUTES))
def test_an_explicit_api_version_wins_on_deployment_routes(operation: str) -> None:
    path, _ = DEPLOYMENT_ROUTES[operation]
    assert url_of(endpoint("2025-01-01-preview"), operation) == (
        f"{RES}/openai/deployments/dep{path}?api-version=2025-01-01-preview"
    )


@pytest.mark.parametrize("api_version", [None, "2024-10-21", "2025-04-01-preview", "v1"])
@pytest.mark.parametrize("operation", sorted(V1_ROUTES))
def test_responses_and_videos_are_always_on_the_v1_api(operation: str, api_version: str | None) -> None:
    assert url_of(endpoint(api_version), operation) == f"{RES}/openai/v1{V1_ROUTES[operation]}"


@pytest.mark.parametrize("operation", sorted(OPERATION_PATHS))
def test_v1_api_version_puts_every_operation_on_v1(operation: str) -> None:
    assert url_of(endpoint("v1"), operation) == f"{RES}/openai/v1{OPERATION_PATHS[operation]}"


def test_job_paths_and_endpoint_queries_stay_in_place() -> None:
    ep = endpoint(url=f"{RES}/openai?team=a")
    assert url_of(ep, "videos") == f"{RES}/openai/v1/videos?team=a"
    assert (
        url_of(ep, "embeddings") == f"{RES}/openai/deployments/dep/embeddings?team=a&api-version=2024-10-21"
    )


@pytest.mark.parametrize(
    ("operation", "path", "query"),
    [
        ("embeddings", "/openai/deployments/dep/embeddings", {"api-version": "2024-10-21"}),
        ("images", "/openai/deployments/dep/images/generations", {"api-version": "2025-04-01-preview"}),
        ("speech", "/openai/deployments/dep/audio/speech", {"api-version": "2025-03-01-preview"}),
        ("responses", "/openai/v1/responses", {}),
        ("videos", "/openai/v1/videos", {}),
    ],
)
async def test_operations_on_the_wire(operation: str, path: str, query: dict[str, str]) -> None:
    """What the connector sends: the URL of the operation, and the deployment as the body's model."""
    async with ReplayServer(b"{}", headers={"Content-Type": "application/json"}) as server:
        connector = FailoverConnector.from_endpoints(ADAPTER, endpoint(url=server.url))
        async with connector:
            request = WireRequest(operation, {"model": "gpt-image-1", "input": "x"}, model="gpt-image-1")
            await connector.send(request)
    (sent,) = server.requests
    assert (sent["path"], sent["query"]) == (path, query)
    assert sent["json"]["model"] == "dep"  # the v1 API finds the deployment there
    assert sent["headers"]["api-key"] == KEY


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


async def test_create_llm_without_api_version_uses_chats_default(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    async with create_llm("azure/gpt-4o-mini", endpoint=sim.url, api_key=KEY) as llm:
        await llm.get_answer("hi")
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "2025-01-01-preview")
    async with create_llm("azure/gpt-4o-mini", endpoint=sim.url, api_key=KEY) as llm:
        await llm.get_answer("hi")
    async with create_llm("azure/gpt-4o-mini", endpoint=sim.url, api_key=KEY, api_version="v1") as llm:
        await llm.get_answer("hi")
    first, from_env, v1 = sim.requests
    assert (first.path, first.query) == (
        "/openai/deployments/gpt-4o-mini/chat/completions",
        {"api-version": "2024-10-21"},
    )
    assert from_env.query == {"api-version": "2025-01-01-preview"}
    assert (v1.path, v1.query, v1.json["model"]) == ("/openai/v1/chat/completions", {}, "gpt-4o-mini")


# -- content filter -------------------------------------------------------------------------------


async def test_filter_annotations_on_responses_and_stream_chunks(sim: Simulator) -> None:
    async with create_llm("azure/gpt-4o-mini", endpoint=sim.url, api_key=KEY) as llm:
        response = await llm.get_answer("annotate me")
        chunks = [c async for c in llm.stream_answer("annotate me too")]
    assert response.content_filter is not None
    assert set(response.content_filter) == {"prompt_filter_results", "content_filter_results"}
    assert response.content_filter["prompt_filter_results"][0]["content_filter_results"]["hate"] == {
        "filtered": False,
        "severity": "safe",
    }
    assert response.content_filter["content_filter_results"]["protected_material_code"]["detected"] is False
    # streams: the prompt's verdicts on the first chunk, the completion's on the text chunks
    assert chunks[0].content_filter is not None and set(chunks[0].content_filter) == {"prompt_filter_results"}
    annotated = [c for c in chunks if c.content_filter and "content_filter_results" in c.content_filter]
    assert annotated and all("prompt_filter_results" in c.content_filter for c in annotated)  # type: ignore[operator]


FILTERED = {"filtered": True, "severity": "high"}
SAFE = {"filtered": False, "severity": "safe"}
COMPLETION_VERDICTS = {"hate": SAFE, "self_harm": SAFE, "sexual": FILTERED, "violence": SAFE}
PROMPT_VERDICTS = [{"prompt_index": 0, "content_filter_results": {"hate": SAFE, "sexual": SAFE}}]


def filtered_stream() -> bytes:
    """Azure's stream of a completion its filter stopped: text, then a finish chunk with an empty
    delta carrying the verdict that fired."""
    return sse_of(
        {"choices": [], "id": "", "model": "", "object": "", "prompt_filter_results": PROMPT_VERDICTS},
        delta_chunk({"content": "Once upon"}, content_filter_results={"hate": SAFE, "sexual": SAFE}),
        delta_chunk({}, finish_reason="content_filter", content_filter_results=COMPLETION_VERDICTS),
        usage_chunk(),
    )


async def test_completion_stopped_by_the_filter_streamed() -> None:
    headers = {"Content-Type": "text/event-stream", "x-ms-region": "Sweden Central"}
    async with ReplayServer(filtered_stream(), headers=headers, seed=1) as server:
        llm = create_llm("azure/gpt-4o-mini", endpoint=server.url, api_key=KEY)
        async with llm:
            chunks = [c async for c in llm.stream_answer("tell a story")]
    acc = accumulate(chunks)
    assert (acc.text, acc.finish_reason) == ("Once upon", "content_filter")
    # the chunk that said why is kept: the category that fired, with the prompt's verdicts
    assert acc.content_filter == {
        "content_filter_results": COMPLETION_VERDICTS,
        "prompt_filter_results": PROMPT_VERDICTS,
    }


async def test_completion_stopped_by_the_filter_not_streamed() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Once upon"},
                "finish_reason": "content_filter",
                "content_filter_results": COMPLETION_VERDICTS,
            }
        ],
        "prompt_filter_results": PROMPT_VERDICTS,
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    headers = {"Content-Type": "application/json", "x-ms-region": "Sweden Central"}
    async with ReplayServer(json.dumps(body).encode(), headers=headers) as server:
        llm = create_llm("azure/gpt-4o-mini", endpoint=server.url, api_key=KEY)
        async with llm:
            response = await llm.get_answer("tell a story")
    assert response.finish_reason == "content_filter"
    assert response.content_filter is not None
    assert response.content_filter["content_filter_results"]["sexual"] == FILTERED
    assert response.region == "Sweden Central"


async def test_blocked_prompt_carries_the_categories_that_fired(sim: Simulator) -> None:
    async with create_llm("azure/gpt-4o-mini", endpoint=sim.url, api_key=KEY) as llm:
        with pytest.raises(ContentFilterError) as plain:
            await llm.get_answer("please [[content_filter]] this")
        with pytest.raises(ContentFilterError) as streamed:
            async for _ in llm.stream_answer("stream [[content_filter]] too"):
                pass
    for error in (plain.value, streamed.value):
        assert error.categories == {"self_harm": {"filtered": True, "severity": "medium"}}
        assert error.filter_results is not None and error.filter_results["jailbreak"]["detected"] is False
        assert (error.status, error.code) == (400, "content_filter")
    assert sim.request_count == 2  # never retried


def test_recorded_blocked_prompt_categories() -> None:
    name = "azure/azure-chat-400-content-filter.json"
    response = sidecar(name)["response"]
    error = ADAPTER.map_error(response["status"], CIMultiDict(response["headers"]), wire_bytes(name), RES)
    assert isinstance(error, ContentFilterError)
    assert error.categories == {"self_harm": {"filtered": True, "severity": "medium"}}
    # no verdicts sent (OpenAI's content_policy_violation): no categories
    assert ContentFilterError("blocked").categories == {}
    assert ContentFilterError("blocked", filter_results={"hate": "odd"}).categories == {}


# -- region ---------------------------------------------------------------------------------------


async def test_region_and_request_id_are_kept(sim: Simulator) -> None:
    async with create_llm("azure/gpt-4o-mini", endpoint=sim.url, api_key=KEY) as llm:
        response = await llm.get_answer("where are you?")
    assert response.region == "Simulated"  # the simulator's x-ms-region
    assert response.request_id == "00000000-0000-4000-8000-000000000001"  # apim-request-id first


async def test_no_region_without_the_header() -> None:
    body = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
    }
    async with ReplayServer(
        json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    ) as server:
        llm = create_llm("azure/gpt-4o-mini", endpoint=server.url, api_key=KEY)
        async with llm:
            response = await llm.get_answer("hi")
    assert response.text == "hi" and response.region is None


# -- backups with their own deployment, region and credential ------------------------------------


class AccessToken(NamedTuple):
    token: str
    expires_on: int


class Credential:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)


async def test_backup_with_its_own_entra_credential_and_deployment_after_a_503() -> None:
    backup_token = "Zp4Qw8Lr2Nv6Tx0Ky3Hb7Jd1Fg5Sm9Ac"
    async with Simulator(api_key=KEY) as primary, Simulator(api_key=backup_token) as backup:
        primary.set_default_fault(Fault(status=503))
        credential = Credential(backup_token)
        llm = create_llm(
            "azure/gpt-4o-mini",
            endpoint=primary.url,
            api_key=KEY,
            deployment_name="mini-east",
            backups=[{"endpoint": backup.url, "deployment_name": "mini-dr", "credential": credential}],
            retry={"max_retries": 0},
        )
        async with llm:
            first = await llm.get_answer("still there?")
            second = await llm.get_answer("and now?")
        assert first.endpoint == second.endpoint == backup.url
        assert first.text == "Simulated answer to: still there?"
        assert first.region == "Simulated"
        # the primary was tried with its key and its deployment
        assert primary.requests[0].path == "/openai/deployments/mini-east/chat/completions"
        assert primary.requests[0].headers["api-key"] == KEY
        # the backup: its own deployment and its own Entra token (never the primary's key)
        assert [r.path for r in backup.requests] == ["/openai/deployments/mini-dr/chat/completions"] * 2
        for request in backup.requests:
            assert request.headers["authorization"] == f"Bearer {backup_token}"
            assert "api-key" not in request.headers
        assert credential.calls == 1


async def test_primary_and_backup_each_with_their_own_credential() -> None:
    east, west = Credential("East-tok-4Rk9Vb2Xq7Lm0Pz"), Credential("West-tok-8Hn3Cy6Wd1Gs5Tj")
    async with Simulator(api_key=east.token) as primary, Simulator(api_key=west.token) as backup:
        primary.set_default_fault(Fault(status=500))
        llm = create_llm(
            "azure/gpt-4o-mini",
            endpoint=primary.url,
            credential=east,
            backups=[{"endpoint": backup.url, "token_provider": west, "api_version": "v1"}],
            retry={"max_retries": 0},
        )
        async with llm:
            await llm.get_answer("hi")
        assert primary.requests[0].headers["authorization"] == f"Bearer {east.token}"
        (request,) = backup.requests
        assert request.headers["authorization"] == f"Bearer {west.token}"
        assert (request.path, request.json["model"]) == ("/openai/v1/chat/completions", "gpt-4o-mini")
        assert (east.calls, west.calls) == (1, 1)


# -- AZURE_OPENAI_KEY -----------------------------------------------------------------------------


async def test_azure_openai_key_is_read(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("AZURE_OPENAI_KEY", KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", sim.url)
    async with create_llm("azure/gpt-4o-mini") as llm:
        await llm.get_answer("hi")
    assert sim.requests[0].headers["api-key"] == KEY
    # AZURE_OPENAI_API_KEY comes first
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "the-api-key-variable")
    (connector,) = create_llm("azure/gpt-4o-mini").connector.connectors  # type: ignore[attr-defined]
    assert connector.endpoint.api_key.get_secret_value() == "the-api-key-variable"


async def test_model_class_direct_use_keeps_working(sim: Simulator) -> None:
    config = EndpointConfig(endpoint=sim.url, api_key=KEY, settings=AzureSettings(deployment_name="mini"))
    async with AzureGPT4oMini(FailoverConnector.from_endpoints(AzureAdapter(), config)) as model:
        response = await model.get_answer("hi")
    assert response.region == "Simulated"
    assert sim.requests[0].query == {"api-version": "2024-10-21"}
