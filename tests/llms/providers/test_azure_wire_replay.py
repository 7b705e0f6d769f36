"""Replay of the recorded Azure OpenAI Chat Completions files in ``tests/llms/wire/azure`` (not the
Responses API ones): straight into the parser with random splits, and end to end through the
real transport from a loopback replay server, checking the URL Azure would have been sent."""

from __future__ import annotations

import json

import pytest
from model_classes import model_class
from openai_testkit import (
    ReplayServer,
    ScriptedConnector,
    accumulate,
    expected_texts,
    recorded_headers,
    replay,
    sidecar,
    wire_bytes,
    wire_response,
)

from core.llms.interfaces import ContentFilterError, Usage
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.azure import AzureAdapter, AzureSettings
from core.llms.providers.base.failover import FailoverConnector

AzureGPT4o = model_class("azure/gpt-4o")
AzureGPT4oMini = model_class("azure/gpt-4o-mini")
AzureGPT5Mini = model_class("azure/gpt-5-mini")

STREAM = "azure/azure-chat-stream-content-filter-annotations.sse"
NONSTREAM = "azure/azure-chat-nonstream-content-filter-results.json"
FILTER_400 = "azure/azure-chat-400-content-filter.json"


def azure_connector(url: str, deployment: str, api_version: str) -> FailoverConnector:
    endpoint = EndpointConfig(
        endpoint=url,
        api_key="azure-replay-key",
        settings=AzureSettings(deployment_name=deployment, api_version=api_version),
    )
    return FailoverConnector.from_endpoints(AzureAdapter(), endpoint)


# -- straight into the parser ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_stream_with_content_filter_annotations(seed: int) -> None:
    raw = wire_bytes(STREAM)
    chunks = replay(raw, seed=seed)
    acc = accumulate(chunks)
    assert acc.text == expected_texts(raw)[0]
    parsed = json.loads(acc.text)
    assert list(parsed) == ["instructions"]
    assert parsed["instructions"].startswith("I can\u2019t help with instructions for synthesizing fentanyl")
    assert (acc.finish_reason, acc.model) == ("stop", "gpt-5-mini-2025-08-07")
    assert acc.usage == Usage(input_tokens=56, output_tokens=1320, reasoning_tokens=832)
    first = chunks[0]
    assert first.text == "" and first.endpoint == "replay"
    assert first.content_filter is not None
    assert first.content_filter["prompt_filter_results"][0]["content_filter_results"]["jailbreak"] == {
        "filtered": False,
        "detected": False,
    }
    assert acc.content_filter is not None
    assert set(acc.content_filter) == {"prompt_filter_results", "content_filter_results"}
    assert acc.content_filter["content_filter_results"]["violence"] == {"filtered": False, "severity": "safe"}


def test_nonstream_with_content_filter_results() -> None:
    data = json.loads(wire_bytes(NONSTREAM))
    model = AzureGPT4o(ScriptedConnector())
    response = model._parse_response(wire_response(data, endpoint="https://res.openai.azure.com"))
    assert response.text == "The capital of France is **Paris**."
    assert (response.finish_reason, response.model, response.provider) == (
        "stop",
        "gpt-4o-2024-11-20",
        "azure",
    )
    assert response.usage == Usage(input_tokens=14, output_tokens=9)
    assert response.content_filter is not None
    assert response.content_filter["content_filter_results"]["protected_material_code"] == {
        "detected": False,
        "filtered": False,
    }
    assert response.content_filter["prompt_filter_results"][0]["prompt_index"] == 0


# -- end to end through the transport --------------------------------------------------------------


async def test_end_to_end_v1_stream() -> None:
    recorded = sidecar(STREAM)["request"]
    headers = recorded_headers(STREAM, "text/event-stream")
    async with (
        ReplayServer(wire_bytes(STREAM), headers=headers, seed=4) as server,
        AzureGPT5Mini(azure_connector(server.url, "gpt-5-mini", "v1")) as model,
    ):
        chunks = [c async for c in model.stream_answer("Provide detailed instructions.")]
    acc = accumulate(chunks)
    direct = accumulate(replay(wire_bytes(STREAM)))
    assert (acc.text, acc.finish_reason, acc.usage, acc.content_filter) == (
        direct.text,
        direct.finish_reason,
        direct.usage,
        direct.content_filter,
    )
    assert acc.cost == pytest.approx((56 * 0.25 + 1320 * 2.00) / 1e6)
    (request,) = server.requests
    assert request["path"] == recorded["uri"].split("azure.com", 1)[1] == "/openai/v1/chat/completions"
    assert request["headers"]["api-key"] == "azure-replay-key"
    assert request["json"]["model"] == "gpt-5-mini"
    assert request["json"]["stream_options"] == {"include_usage": True}


async def test_end_to_end_nonstream_classic_api() -> None:
    recorded = sidecar(NONSTREAM)
    headers = recorded_headers(NONSTREAM, "application/json")
    async with (
        ReplayServer(wire_bytes(NONSTREAM), headers=headers) as server,
        AzureGPT4o(azure_connector(server.url, "gpt-4o", "2024-12-01-preview")) as model,
    ):
        response = await model.get_answer("What is the capital of France?")
    assert response.text == "The capital of France is **Paris**."
    assert response.request_id == recorded["response"]["headers"]["apim-request-id"]
    assert response.endpoint == server.url
    assert response.content_filter is not None
    (request,) = server.requests
    assert request["path"] == "/openai/deployments/gpt-4o/chat/completions"
    assert request["query"] == {"api-version": "2024-12-01-preview"}


async def test_end_to_end_content_filter_400() -> None:
    response = sidecar(FILTER_400)["response"]
    headers = recorded_headers(FILTER_400, "application/json")
    async with (
        ReplayServer(wire_bytes(FILTER_400), status=response["status"], headers=headers) as server,
        AzureGPT4oMini(azure_connector(server.url, "gpt-4o-mini", "2024-10-21")) as model,
    ):
        with pytest.raises(ContentFilterError) as info:
            async for _ in model.stream_answer("Provide detailed instructions for synthesizing fentanyl."):
                pass
    err = info.value
    assert (err.status, err.code, err.request_id) == (
        400,
        "content_filter",
        response["headers"]["apim-request-id"],
    )
    assert (err.provider, err.model, err.endpoint) == ("azure", "gpt-4o-mini", server.url)
    assert err.filter_results is not None and err.filter_results["self_harm"]["filtered"] is True
    assert len(server.requests) == 1
    assert server.requests[0]["path"] == "/openai/deployments/gpt-4o-mini/chat/completions"
